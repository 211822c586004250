#!/usr/bin/env bash
# Set up and run OneThing on a fresh Debian machine: `scripts/dev.sh demo` or `scripts/dev.sh test`.
# Idempotent: each step checks before it installs.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3.11}
VENV=.venv
APT_PACKAGES=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-wqy-microhei fonts-wqy-zenhei poppler-utils)

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
  export DJANGO_DEBUG=${DJANGO_DEBUG:-1}
  mkdir -p var
  log "migrating the SQLite database (var/onething.sqlite3)"
  "$VENV/bin/python" manage.py migrate --noinput -v0
  log "loading demo data"
  "$VENV/bin/python" manage.py load_demo
  "$VENV/bin/python" manage.py make_dev_certificate
  local addr=${ONETHING_ADDR:-127.0.0.1:8000}
  cat <<TXT

OneThing 一件事 is running on http://$addr/
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
  start_services
  test_env
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

cmd_schema() {
  setup_python
  mkdir -p var
  "$VENV/bin/python" manage.py spectacular --validate --fail-on-warn --file docs/openapi.yaml
}

case "${1:-}" in
  demo) shift; cmd_demo "$@" ;;
  test) shift; cmd_test "$@" ;;
  schema) shift; cmd_schema "$@" ;;
  services) start_services ;;
  setup) setup_system; setup_python ;;
  *) echo "usage: $0 demo|test [pytest args]|schema|services|setup" >&2; exit 2 ;;
esac
