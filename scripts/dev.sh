#!/usr/bin/env bash
# Set up and run OneThing on a fresh Debian machine: `scripts/dev.sh demo` or `scripts/dev.sh test`.
# Idempotent: each step checks before it installs.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3.11}
VENV=.venv
APT_PACKAGES=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-wqy-microhei fonts-wqy-zenhei fonts-hanazono poppler-utils)

log() { printf '\033[1;34m==> %s\033[0m\n' "$*"; }

as_root() {
  if [[ $(id -u) -eq 0 ]]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    echo "需要 root 权限安装系统软件包：$*" >&2; return 1; fi
}

setup_system() {
  local missing=()
  for pkg in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  if ((${#missing[@]})); then
    log "installing Debian packages: ${missing[*]}"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

setup_python() {
  command -v "$PYTHON" >/dev/null || PYTHON=python3
  if [[ ! -x $VENV/bin/python ]]; then
    log "creating virtualenv $VENV"
    "$PYTHON" -m venv "$VENV"
  fi
  local stamp=$VENV/.installed-$(sha256sum pyproject.toml | cut -c1-16)
  if [[ ! -f $stamp ]]; then
    log "installing Python packages"
    "$VENV/bin/pip" install -q --upgrade pip
    "$VENV/bin/pip" install -q -e ".[dev]"
    rm -f "$VENV"/.installed-* && touch "$stamp"
  fi
}

VENDOR=web/static/web/vendor

setup_frontend() {
  # The case page's BPMN diagram uses bpmn-js from npm, pinned by web/static_src/package-lock.json and copied
  # into web/static/web/vendor/ (neither folder is committed; the bpmn.io licence and watermark are kept).
  local src=web/static_src stamp
  stamp=$VENDOR/.installed-$({ cat "$src/package-lock.json"; declare -f setup_frontend; } | sha256sum | cut -c1-16)
  [[ -f $stamp ]] && return 0
  if ! command -v npm >/dev/null; then
    echo "npm 未安装：办件页面的流程图将不显示，其余页面不受影响" >&2
    return 0
  fi
  log "installing bpmn-js from npm (web/static_src)"
  (cd "$src" && npm ci --no-audit --no-fund --silent)
  mkdir -p "$VENDOR/bpmn-js"
  cp "$src/node_modules/bpmn-js/dist/bpmn-navigated-viewer.production.min.js" \
    "$src/node_modules/bpmn-js/dist/assets/diagram-js.css" "$src/node_modules/bpmn-js/dist/assets/bpmn-js.css" \
    "$src/node_modules/bpmn-js/LICENSE" "$VENDOR/bpmn-js/"
  rm -f "$VENDOR"/.installed-* && touch "$stamp"
}

setup_browser() {
  # The screens' Playwright tests drive Debian's Chromium. Never `playwright install`: it downloads a browser.
  [[ -x /usr/bin/chromium ]] && return 0
  log "installing Chromium for the browser tests"
  { as_root apt-get update -qq && DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq chromium >/dev/null; } \
    || echo "Chromium 未安装：浏览器测试（tests/web/test_e2e.py）将被跳过" >&2
}

start_services() {
  # This machine kind starts them before a session; CI and fresh machines may need them started.
  if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
    log "starting PostgreSQL"
    as_root pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start
  fi
  if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
    log "starting Redis"
    as_root redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
      --dir /var/lib/redis --logfile /var/log/redis/ci.log
  fi
  if ! (exec 3<>/dev/tcp/127.0.0.1/5672) 2>/dev/null; then
    log "starting RabbitMQ"
    as_root rabbitmq-server -detached
  fi
  for _ in $(seq 60); do
    if pg_isready -q -h 127.0.0.1 -p 5432; then
      psql -h 127.0.0.1 -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'onething'" | grep -q 1 \
        || createdb -h 127.0.0.1 -U postgres onething
    fi
    pg_isready -q -h 127.0.0.1 -p 5432 && redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 \
      && (exec 3<>/dev/tcp/127.0.0.1/5672) 2>/dev/null && return 0
    sleep 1
  done
  echo "PostgreSQL, Redis or RabbitMQ did not come up" >&2
  return 1
}

test_env() {
  export DATABASE_URL=${TEST_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/onething}
  export REDIS_URL=${TEST_REDIS_URL:-redis://127.0.0.1:6379/1}
  export CELERY_BROKER_URL=${TEST_CELERY_BROKER_URL:-amqp://guest:guest@127.0.0.1:5672//}
  export CELERY_TASK_ALWAYS_EAGER=0
  export DJANGO_SETTINGS_MODULE=config.settings_test
}

cmd_demo() {
  setup_system
  setup_python
  setup_frontend
  export DJANGO_DEBUG=${DJANGO_DEBUG:-1}
  export ONETHING_KIOSKS=${ONETHING_KIOSKS:-kiosk-01:demo-kiosk-key}  # the demo kiosk (/apply/kiosk/…)
  mkdir -p var
  log "migrating the SQLite database (var/onething.sqlite3)"
  "$VENV/bin/python" manage.py migrate --noinput -v0
  log "loading demo data"
  "$VENV/bin/python" manage.py load_demo
  "$VENV/bin/python" manage.py make_dev_certificate
  local addr=${ONETHING_ADDR:-127.0.0.1:8000}
  # The QR codes and printed links on notices and licences point to the address the demo serves on.
  export ONETHING_PUBLIC_BASE_URL=${ONETHING_PUBLIC_BASE_URL:-http://$addr}
  cat <<TXT

OneThing 一件事 is running on http://$addr/
  The hall's screens (window1 …):  http://$addr/          applicant status page: http://$addr/status/
  Licence check (证照核验):         http://$addr/licences/  (number + the 核验码 printed on the licence)
  Apply online (phone):            http://$addr/apply/    (the SMS code is printed in this terminal)
  Self-service kiosk (1080×1920):  http://$addr/apply/kiosk/?device=kiosk-01&key=demo-kiosk-key
  API documentation (Swagger UI):  http://$addr/api/docs/
  OpenAPI schema:                  http://$addr/api/schema/
  Django admin (user admin):       http://$addr/admin/
  Log in to the API:  curl -s -X POST http://$addr/api/auth/login -H 'Content-Type: application/json' \\
                        -d '{"username": "window1", "password": "onething-demo"}'
  A whole case, step by step: README.md → "Walkthrough".

TXT
  exec "$VENV/bin/python" manage.py runserver "$addr" --noreload
}

cmd_test() {
  setup_system
  setup_python
  setup_frontend
  setup_browser
  start_services
  test_env
  mkdir -p var
  log "ruff"
  "$VENV/bin/ruff" check .
  "$VENV/bin/ruff" format --check .
  log "import contracts"
  "$VENV/bin/lint-imports"
  log "migrations are up to date"
  "$VENV/bin/python" manage.py makemigrations --check --dry-run
  log "OpenAPI schema is valid and current"
  "$VENV/bin/python" manage.py spectacular --validate --fail-on-warn --file var/openapi.yaml
  diff -u docs/openapi.yaml var/openapi.yaml
  log "pytest (PostgreSQL, Redis, RabbitMQ)"
  "$VENV/bin/python" -m pytest "$@"
}

cmd_prod() {
  # Production-like, on this machine: gunicorn + a Celery worker + Celery beat (Procfile, run by honcho) against
  # PostgreSQL, Redis and RabbitMQ. Every setting can be overridden from the environment (docs/configuration.md).
  setup_system
  setup_python
  start_services
  # Two roles (docs/security.md → "The audit trail"): the owner migrates and grants; the app connects as a role that
  # owns nothing, so it cannot disable the audit trail's triggers, truncate or alter tables.
  export MIGRATE_DATABASE_URL=${MIGRATE_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/onething}
  export DATABASE_URL=${DATABASE_URL:-postgresql://onething_app@127.0.0.1:5432/onething}
  export REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379/0}
  export CELERY_BROKER_URL=${CELERY_BROKER_URL:-amqp://guest:guest@127.0.0.1:5672//}
  export CELERY_TASK_ALWAYS_EAGER=0
  export DJANGO_SETTINGS_MODULE=${DJANGO_SETTINGS_MODULE:-config.settings}
  mkdir -p var
  log "creating the database if it is missing, then migrating it"
  "$VENV/bin/python" - <<'PY'
import os
from urllib.parse import unquote, urlparse

import psycopg

url = urlparse(os.environ["MIGRATE_DATABASE_URL"])
name = unquote(url.path.lstrip("/")) or "onething"
server = {"host": url.hostname or "127.0.0.1", "port": url.port or 5432, "user": unquote(url.username or "postgres")}
if url.password:
    server["password"] = unquote(url.password)
with psycopg.connect(dbname="postgres", autocommit=True, **server) as conn:
    if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is None:
        conn.execute(f'CREATE DATABASE "{name}"')
PY
  "$VENV/bin/python" manage.py migrate --noinput -v0   # as the owner (MIGRATE_DATABASE_URL)
  if [[ $DATABASE_URL != "$MIGRATE_DATABASE_URL" ]]; then
    log "granting the application role its rights (grant_app_role, as the owner)"
    "$VENV/bin/python" manage.py grant_app_role --create --password-env ONETHING_APP_DB_PASSWORD
  else
    echo "DATABASE_URL is the owner's: the app could disable the audit trail's triggers (docs/security.md)" >&2
  fi
  if [[ ${ONETHING_LOAD_DEMO:-1} == 1 ]]; then
    if [[ ${ONETHING_DEMO_USERS:-0} == 1 ]]; then
      log "loading demo data with the demo users (their published password: never on a real hall's server)"
      "$VENV/bin/python" manage.py load_demo
    else
      log "loading the demo catalogue without users (ONETHING_LOAD_DEMO=0 to skip; ONETHING_DEMO_USERS=1 adds them)"
      "$VENV/bin/python" manage.py load_demo --no-users
      echo "No demo users: create an administrator with  $VENV/bin/python manage.py createsuperuser" >&2
    fi
  fi
  log "starting web (gunicorn), worker and beat (Celery) with honcho: Ctrl-C stops all three"
  export PATH="$PWD/$VENV/bin:$PATH"
  exec "$VENV/bin/honcho" start -f Procfile
}

cmd_schema() {
  setup_python
  mkdir -p var
  "$VENV/bin/python" manage.py spectacular --validate --fail-on-warn --file docs/openapi.yaml
}

cmd_bench() {
  # The benchmarks (bench/, issue 8): fresh onething_bench_* databases, prints a table, writes docs/performance.md.
  # `make bench ARGS=--quick` for a smoke run; the full run loads a district's year (a few minutes).
  setup_system
  setup_python
  "$VENV/bin/pip" install -q -e ".[bench]"  # the peer of section 6 (viewflow), a bench-only extra
  start_services
  "$VENV/bin/python" -m bench "$@"
}

case "${1:-}" in
  demo) shift; cmd_demo "$@" ;;
  prod) shift; cmd_prod "$@" ;;
  test) shift; cmd_test "$@" ;;
  schema) shift; cmd_schema "$@" ;;
  bench) shift; cmd_bench "$@" ;;
  services) start_services ;;
  setup) setup_system; setup_python; setup_frontend ;;
  *) echo "usage: $0 demo|prod|test [pytest args]|schema|bench [--quick]|services|setup" >&2; exit 2 ;;
esac
