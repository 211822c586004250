"""Reads routed to a read replica (docs/scaling.md): two web processes and two Celery workers against one database,
with ``DATABASE_REPLICA_URL`` set.

The "replica" here is a second alias on the same server and database, told apart by its libpq
``application_name`` and made read-only (``default_transaction_read_only``), so that PostgreSQL itself shows which
alias each process used (``pg_stat_activity``) and refuses any write that would go to the replica. The processes
use persistent connections (as in production), so each alias a process has used stays visible as one backend.

What it holds (workflow/replica.py): the status lookup and the statistics read from the replica; opening and
accepting a case, the inbox and the case page never touch it; the workers (which issue the documents after the
web's commits) write to the primary.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection, connections
from rest_framework.authtoken.models import Token

from tests.api.helpers import case_body
from tests.workflow.test_clock_worker import Worker, drop_other_sessions, wait_for
from workflow.models import Document

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not settings.CELERY_BROKER_URL.startswith("amqp://") or settings.CELERY_TASK_ALWAYS_EAGER,
        reason="needs RabbitMQ: CELERY_BROKER_URL=amqp://… and CELERY_TASK_ALWAYS_EAGER=0",
    ),
]
ROOT = Path(__file__).resolve().parent.parent
RUN = uuid.uuid4().hex[:8]
PRIMARY, REPLICA = f"onething-primary-{RUN}", f"onething-replica-{RUN}"


def database_url(**options) -> str:
    db = connection.settings_dict
    query = "&".join(f"{key}={quote(value)}" for key, value in options.items())
    return f"postgresql://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}?{query}"


ENVIRONMENT = {
    "DJANGO_SETTINGS_MODULE": "config.settings",
    "DJANGO_DEBUG": "0",
    "DB_CONN_MAX_AGE": "600",
    "CELERY_TASK_ALWAYS_EAGER": "0",
}


def replica_environment() -> dict:
    return {
        "DATABASE_URL": database_url(application_name=PRIMARY),
        "DATABASE_REPLICA_URL": database_url(application_name=REPLICA, options="-c default_transaction_read_only=on"),
    }


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Web:
    """gunicorn with one sync worker: one process, one connection per alias."""

    def __init__(self, queue: str, log: Path):
        self.port, self.log = free_port(), log
        env = {**os.environ, **ENVIRONMENT, **replica_environment(), "CELERY_TASK_DEFAULT_QUEUE": queue}
        command = [sys.executable, "-m", "gunicorn", "config.wsgi:application", "-w", "1"]
        command += ["-b", f"127.0.0.1:{self.port}", "--timeout", "120"]
        with log.open("wb") as out:
            self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        wait_for(self.up, 60, "gunicorn start")

    def up(self) -> bool:
        assert self.process.poll() is None, self.log.read_text(errors="replace")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{self.port}/api/one-things", timeout=5)
        except urllib.error.HTTPError:
            return True  # answering (401 without a token)
        except OSError:
            return False
        return True

    def call(self, method: str, path: str, token: str | None = None, body: dict | None = None):
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}",
            method=method,
            data=json.dumps(body).encode() if body is not None else None,
            headers={"Content-Type": "application/json", **({"Authorization": f"Token {token}"} if token else {})},
        )
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, error.read()[:500]

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def backends(application_name: str) -> list[tuple[int, str]]:
    """(pid, start of its last statement) of this run's connections under that name."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid, query_start::text FROM pg_stat_activity WHERE application_name = %s ORDER BY pid",
            [application_name],
        )
        return cursor.fetchall()


@pytest.fixture
def queue():
    from config.celery import app as celery_app

    name = f"onething-replica-test-{RUN}"
    yield name
    with celery_app.connection_for_write() as conn:
        conn.default_channel.queue_delete(name)


def test_status_lookups_and_statistics_read_the_replica_and_nothing_else_does(users, queue, tmp_path, monkeypatch):
    tokens = {name: Token.objects.create(user=users[name]).key for name in ("window1", "supervisor1", "tax1")}
    for name, value in replica_environment().items():
        monkeypatch.setenv(name, value)  # the workers' settings too (Worker copies the environment)
    monkeypatch.setenv("DJANGO_SETTINGS_MODULE", "config.settings")
    monkeypatch.setenv("DB_CONN_MAX_AGE", "600")
    monkeypatch.setenv("ONETHING_PRIVATE_MEDIA_ROOT", str(tmp_path / "private"))
    for name, file in (("KEY", "signing-key.pem"), ("CERT", "signing-cert.pem"), ("TRUST_ROOTS", "root-ca.pem")):
        monkeypatch.setenv(f"ONETHING_SIGNING_{name}", str(tmp_path / "signing" / file))
    made = subprocess.run(
        [sys.executable, "manage.py", "make_dev_certificate", "-v", "0"], cwd=ROOT, capture_output=True, text=True
    )
    assert made.returncode == 0, made.stderr[-2000:]
    webs, workers = [], []
    try:
        webs = [Web(queue, tmp_path / f"web{n}.log") for n in (1, 2)]
        workers = [Worker(queue, tmp_path / f"worker{n}.log") for n in (1, 2)]
        first, second = webs

        # Writes and staff reads: opened on one web process, accepted on the other; inbox and case page.
        status, opened = first.call("POST", "/api/cases", tokens["window1"], case_body())
        assert status == 201, opened
        case_no, query_code = opened["case_no"], opened["query_code"]
        status, accepted = second.call("POST", f"/api/cases/{case_no}/accept", tokens["window1"], {})
        assert status == 200, accepted
        for web in webs:
            assert web.call("GET", "/api/tasks", tokens["tax1"])[0] == 200
            assert web.call("GET", f"/api/cases/{case_no}", tokens["window1"])[0] == 200
        assert backends(REPLICA) == [], "a write or a staff read went to the replica"
        assert len(backends(PRIMARY)) >= 2

        # The applicant's status lookup on the first process: its reads come from the replica.
        status, looked_up = first.call("POST", "/api/status", None, {"case_no": case_no, "query_code": query_code})
        assert status == 200 and looked_up["case_no"] == case_no, looked_up
        assert len(backends(REPLICA)) == 1
        # The statistics on the second: its own replica connection, and the numbers are the data's.
        status, board = second.call("GET", "/api/statistics", tokens["supervisor1"])
        assert status == 200 and board["counts"]["received"] >= 1, board
        replica = backends(REPLICA)
        assert len(replica) == 2

        # Staff reads and writes afterwards leave the replica connections untouched.
        for web in webs:
            assert web.call("GET", "/api/tasks", tokens["tax1"])[0] == 200
        tax_task = next(task["id"] for task in accepted["tasks"] if task["lane"] == "tax")
        assert second.call("POST", f"/api/tasks/{tax_task}/claim", tokens["tax1"], {})[0] == 200
        assert backends(REPLICA) == replica

        # The workers issued the case's documents after the web's commits: written to the primary.
        wait_for(lambda: Document.objects.filter(case__case_no=case_no).exists(), 180, "the receipt from a worker")
        assert backends(REPLICA) == replica
    finally:
        for web in webs:
            web.stop()
        for worker in workers:
            worker.kill()
        connections.close_all()
        drop_other_sessions()
