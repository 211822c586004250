"""PostgreSQL restarted during traffic: requests fail cleanly, nothing acknowledged is lost, the app recovers.

The machine's shared PostgreSQL is never touched: the test makes a private throwaway cluster (initdb into a
temporary directory, its own port, run as the ``postgres`` user when the test runs as root, since initdb
refuses root), serves the app on it with gunicorn (persistent connections, as in production), sends bounded
loopback traffic (opening cases, reading cases), kills PostgreSQL with ``pg_ctl stop -m immediate`` (a crash:
no shutdown checkpoint, WAL replay on start) and starts it again while the traffic goes on.

It then holds the app to three promises:
- every response is a success or a clean ``503 {"code": "database_unavailable", ...}`` — no 500, no reset;
- every case whose opening was answered 201 exists afterwards;
- requests succeed again after the restart without restarting the app (CONN_HEALTH_CHECKS drops the dead
  connection; the next request reconnects).
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import APPLICANT, ENTERPRISE_FORM

ROOT = Path(__file__).resolve().parent.parent
CLIENTS = 4
MAX_REQUESTS_PER_CLIENT = 600  # bounded: the loop also stops when the scenario is over

_SETUP = """
import sys
import django
from django.conf import settings

django.setup()


class NoMigrations(dict):  # the schema from the models, as the test suite builds it (--nomigrations)
    def __contains__(self, item):
        return True

    def __getitem__(self, item):
        return None


settings.MIGRATION_MODULES = NoMigrations()
from django.core.management import call_command
from rest_framework.authtoken.models import Token

from workflow.demo import load_demo

call_command("migrate", run_syncdb=True, verbosity=0, interactive=False)
load_demo(password="restart-test")
from django.contrib.auth import get_user_model

token, _ = Token.objects.get_or_create(user=get_user_model().objects.get(username="window1"))
sys.stdout.write(token.key)
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _postgres_bin() -> Path | None:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    found = candidates[0] if candidates else shutil.which("initdb")
    return Path(found).parent if found else None


class PrivateCluster:
    def __init__(self, bindir: Path, folder: Path, port: int):
        self.bindir, self.folder, self.port = bindir, folder, port
        self.data = folder / "data"
        self.log = folder / "postgres.log"
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            try:
                owner = pwd.getpwnam("postgres")
            except KeyError:
                pytest.skip("running as root and there is no postgres user to run initdb as")
            if not shutil.which("runuser"):
                pytest.skip("running as root and runuser is not available")
            self.as_user = ["runuser", "-u", "postgres", "--"]
            os.chmod(folder, 0o755)
            os.chown(folder, owner.pw_uid, owner.pw_gid)

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run([*self.as_user, *args], capture_output=True, text=True, timeout=120, check=check)

    def init(self) -> None:
        self._run(str(self.bindir / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c max_connections=40"
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "start")

    def crash(self) -> None:
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def stop(self) -> None:
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop", check=False)

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def sql(self, database: str, statement: str) -> str:
        result = self._run(
            str(self.bindir / "psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", database,
            "-At", "-c", statement,
        )  # fmt: skip
        return result.stdout


@pytest.fixture(scope="module")
def cluster():
    bindir = _postgres_bin()
    if bindir is None or not (bindir / "pg_ctl").exists():
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
    folder = Path(tempfile.mkdtemp(prefix="onething-pg-"))
    private = PrivateCluster(bindir, folder, _free_port())
    try:
        private.init()
        private.start()
        private.sql("postgres", "CREATE DATABASE onething")
        yield private
    finally:
        private.stop()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def app(cluster):
    """gunicorn serving the app on the private cluster; yields (base URL, window token)."""
    env = {
        **os.environ,
        "DATABASE_URL": cluster.url("onething"),
        "DJANGO_SETTINGS_MODULE": "config.settings_test",
        "CELERY_BROKER_URL": "memory://",
        "CELERY_TASK_ALWAYS_EAGER": "1",
        "ONETHING_ISSUE_DOCUMENTS": "0",
    }
    token = subprocess.run(
        [sys.executable, "-c", _SETUP], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=True
    ).stdout.strip()
    port = _free_port()
    log = (cluster.folder / "gunicorn.log").open("w")
    env |= {"DJANGO_SETTINGS_MODULE": "config.settings", "DJANGO_DEBUG": "0", "DB_CONN_MAX_AGE": "600"}
    server = subprocess.Popen(
        [
            *(sys.executable, "-m", "gunicorn", "config.wsgi:application"),
            *("-b", f"127.0.0.1:{port}", "-w", "2", "--timeout", "60", "--graceful-timeout", "5"),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log,  # never a pipe nobody reads: a full pipe blocks every worker's next log line
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            with contextlib.suppress(OSError):
                if _request(base, token, "GET", "/api/auth/me")[0] == 200:
                    break
            time.sleep(0.2)
        else:
            pytest.fail("gunicorn did not come up")
        yield base, token
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def _request(base: str, token: str, method: str, path: str, body: dict | None = None) -> tuple[int, dict | None]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        base + path,
        data=data,
        method=method,
        headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, {"unparsable": raw[:200].decode(errors="replace")}


@pytest.mark.slow
def test_a_postgresql_restart_during_traffic_fails_cleanly_loses_nothing_and_recovers(cluster, app):
    base, token = app
    body = {"one_thing": "enterprise_start", "applicant": APPLICANT, "form": ENTERPRISE_FORM}
    results: list[tuple[float, str, int, dict | None]] = []
    lock = threading.Lock()
    done = threading.Event()

    def client() -> None:
        mine: list[str] = []
        for i in range(MAX_REQUESTS_PER_CLIENT):
            if done.is_set():
                return
            try:
                if i % 2 == 0 or not mine:
                    kind, outcome = "open", _request(base, token, "POST", "/api/cases", body)
                    if outcome[0] == 201:
                        mine.append(outcome[1]["case_no"])
                else:
                    kind, outcome = "read", _request(base, token, "GET", f"/api/cases/{mine[-1]}")
            except OSError as error:  # a reset or a timeout: the server did not answer cleanly
                kind, outcome = "error", (-1, {"error": repr(error)})
            with lock:
                results.append((time.monotonic() - started, kind, *outcome))
            if outcome[0] == 503:
                time.sleep(0.05)  # a client backs off a little before retrying

    started = time.monotonic()
    threads = [threading.Thread(target=client, daemon=True) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    time.sleep(2)
    crashed_at = time.monotonic() - started
    cluster.crash()  # mid-traffic: every pooled connection dies with the server
    time.sleep(1.5)  # an outage the clients run into
    cluster.start()
    restarted_at = time.monotonic() - started
    time.sleep(3)
    done.set()
    for thread in threads:
        thread.join(timeout=60)

    timeline = f"crash at {crashed_at:.1f}s, restarted at {restarted_at:.1f}s: " + " ".join(
        f"{at:.1f}:{kind}:{status}" for at, kind, status, _ in results
    )
    statuses = [status for _, _, status, _ in results]
    failures = [(kind, status, reply) for _, kind, status, reply in results if status not in (200, 201, 503)]
    assert failures == [], (failures[:5], timeline)
    unavailable = [reply for _, _, status, reply in results if status == 503]
    assert unavailable, "the restart happened mid-traffic, so some requests must have met it"
    assert all(reply["code"] == "database_unavailable" and reply["message"] for reply in unavailable), unavailable[:3]

    acknowledged = [reply["case_no"] for _, kind, status, reply in results if kind == "open" and status == 201]
    stored = set(cluster.sql("onething", "SELECT case_no FROM workflow_case").split())
    assert set(acknowledged) <= stored, sorted(set(acknowledged) - stored)[:5]
    assert len(set(acknowledged)) == len(acknowledged)

    after = [status for at, _, status, _ in results if at > restarted_at + 1]
    assert after and all(status in (200, 201) for status in after), timeline
    assert statuses.count(201) > 0 and statuses.count(200) > 0
    status, reply = _request(base, token, "POST", "/api/cases", body)
    assert status == 201, reply


def test_a_database_error_in_a_view_is_a_clean_503():
    """The mapping itself, without a cluster: what every view answers while PostgreSQL is away."""
    from django.db import InterfaceError, OperationalError

    from api.exception_handler import exception_handler

    for error in (OperationalError("server closed the connection unexpectedly"), InterfaceError("connection closed")):
        response = exception_handler(error, {})

        assert response.status_code == 503
        assert response.data == {"code": "database_unavailable", "message": "数据库暂时不可用，请稍后重试"}
        assert response["Retry-After"] == "5"
