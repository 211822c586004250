"""The clock with a real Celery worker on the recommended broker (RabbitMQ), against the test database.

Each run gets its own queue, so these tests never take (or leave) messages of another run or of a hall's
workers. The worker is a separate process (`celery -A config worker -c 1`, prefetch 1, acks late) with
DATABASE_URL pointing at pytest's test database; the tests commit their rows (``transaction=True``) so the
worker sees them.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection, connections, transaction

from config.celery import app as celery_app
from tests.workflow.clock_helpers import deploy_timer_model, open_timer_case
from workflow.models import Case, CaseEvent, DueTimer, HumanTask, HumanTaskState
from workflow.tasks.clock import fire_due_timer, sweep_due_timers

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not settings.CELERY_BROKER_URL.startswith("amqp://") or settings.CELERY_TASK_ALWAYS_EAGER,
        reason="needs RabbitMQ: CELERY_BROKER_URL=amqp://… and CELERY_TASK_ALWAYS_EAGER=0",
    ),
]
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def queue():
    """A queue of this test's own: the test publishes to it and its workers consume only it."""
    name = f"onething-clock-test-{uuid.uuid4().hex[:12]}"
    previous = celery_app.conf.task_default_queue
    celery_app.conf.task_default_queue = name
    yield name
    celery_app.conf.task_default_queue = previous
    with celery_app.connection_for_write() as conn:
        conn.default_channel.queue_delete(name)


@pytest.fixture
def no_documents(settings):
    settings.ONETHING_ISSUE_DOCUMENTS = False  # the timer model's steps queue no PDFs to our worker


class Worker:
    """`celery -A config worker` in its own process group, logging to a file."""

    def __init__(self, queue: str, log: Path):
        db = connection.settings_dict
        url = f"postgresql://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
        env = {
            **os.environ,
            "DATABASE_URL": url,  # pytest's test database, not the one in the environment
            "DJANGO_SETTINGS_MODULE": "config.settings_test",
            "CELERY_TASK_DEFAULT_QUEUE": queue,
            "CELERY_TASK_ALWAYS_EAGER": "0",
            "ONETHING_ISSUE_DOCUMENTS": "0",
        }
        command = [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", queue, "-c", "1"]
        command += ["--prefetch-multiplier", "1", "--without-gossip", "--without-mingle", "--without-heartbeat"]
        command += ["-n", f"{log.stem}@%h", "-l", "INFO"]
        self.log = log
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        wait_for(lambda: " ready." in self.text() or self.process.poll() is not None, 60, "worker start")
        assert self.process.poll() is None, self.text()

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def kill(self, sig=signal.SIGKILL) -> None:
        """The whole worker: its main process and its pool child (one process group)."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, sig)
            self.process.wait(timeout=30)


def wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


@contextmanager
def row_held(model, pk):
    """Another transaction holds the row's lock until the caller sets the yielded event (then it is joined)."""
    locked, release = threading.Event(), threading.Event()

    def hold():
        try:
            with transaction.atomic():
                model.objects.select_for_update().get(pk=pk)
                locked.set()
                release.wait(timeout=60)
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold)
    holder.start()
    assert locked.wait(timeout=10)
    try:
        yield release
    finally:
        release.set()
        holder.join(timeout=30)


def wait_for_a_lock_waiter(what: str) -> None:
    """Until some session of this database waits on a lock: the worker has started its task and blocks."""
    with connection.cursor() as cursor:

        def waits_on_a_lock() -> bool:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            return cursor.fetchone()[0] > 0

        wait_for(waits_on_a_lock, 60, what)


def drop_other_sessions() -> None:
    """Leave no connection of a killed worker on the test database (the teardown flush needs it alone)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


@pytest.fixture
def workers(tmp_path):
    started: list[Worker] = []

    def start(queue: str) -> Worker:
        worker = Worker(queue, tmp_path / f"worker{len(started) + 1}.log")
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.kill()  # its messages are acknowledged by now; SIGTERM's warm shutdown only costs time
    connections.close_all()
    drop_other_sessions()


def escalations(case: Case) -> int:
    return HumanTask.objects.filter(case=case, element_id="escalated_review").count()


def test_two_racing_sweeps_fire_each_due_timer_exactly_once(users, queue, workers, no_documents):
    deploy_timer_model()
    cases = [open_timer_case(users) for _ in range(6)]
    timers = list(DueTimer.objects.filter(case__in=cases).values_list("pk", flat=True))
    assert len(timers) == 6
    time.sleep(1.1)  # the model's "PT1S" boundary timers are due
    worker = workers(queue)

    barrier, claimed, errors = threading.Barrier(2), [], []

    def sweep():
        try:
            barrier.wait(timeout=10)
            claimed.append(sweep_due_timers())  # the beat task's body, in this thread's own transaction
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert sum(claimed) == len(timers)  # each row claimed by exactly one of the two sweeps

    # A duplicate message per timer on top (what a redelivery would look like): still one effect each.
    for timer_id in timers:
        fire_due_timer.delay(timer_id)
    wait_for(lambda: worker.text().count("succeeded in") >= 2 * len(timers), 60, "all firings")

    assert not DueTimer.objects.filter(pk__in=timers, fired_at__isnull=True).exists()
    for case in cases:
        assert escalations(case) == 1, case.case_no
        assert CaseEvent.objects.filter(case=case, kind="timer_fired").count() == 1
        assert HumanTask.objects.get(case=case, element_id="review").state == HumanTaskState.CANCELLED
    outcomes = re.findall(r"fire_due_timer\[[^\]]+\] succeeded in [^:]+: '(\w+)'", worker.text())
    assert sorted(set(outcomes)) == ["already_fired", "fired"] and outcomes.count("fired") == len(timers)


def test_a_worker_killed_mid_task_loses_nothing(users, queue, workers, no_documents):
    deploy_timer_model()
    case = open_timer_case(users)
    [timer] = DueTimer.objects.filter(case=case)
    time.sleep(1.1)

    # A long step on the same case holds its row lock: the worker's firing waits for it, mid-task.
    with row_held(Case, case.pk) as release:
        first = workers(queue)
        message = fire_due_timer.delay(timer.pk)
        wait_for_a_lock_waiter("the worker to start the task")
        assert f"fire_due_timer[{message.id}] received" in first.text()
        first.kill()  # SIGKILL to the main process and the pool child: nothing is acknowledged

        second = workers(queue)
        release.set()
    wait_for(lambda: DueTimer.objects.filter(pk=timer.pk, fired_at__isnull=False).exists(), 60, "the redelivery")

    assert f"fire_due_timer[{message.id}] received" in second.text()  # RabbitMQ redelivered it at once
    assert "succeeded" not in first.text()
    assert escalations(case) == 1
    assert CaseEvent.objects.filter(case=case, kind="timer_fired").count() == 1
    wait_for(lambda: f"fire_due_timer[{message.id}] succeeded" in second.text(), 10, "the worker's log")
