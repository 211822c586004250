"""The SMS outbox's exactly-once with a real Celery worker on RabbitMQ, SIGKILLed mid-task, against the local fake
of Tencent Cloud SMS (tests/sms_fake.py): the redelivered message sends the row once, and a duplicate sends
nothing. Same worker harness as the clock's (tests/workflow/test_clock_worker.py)."""

from __future__ import annotations

import threading

import pytest
from django.conf import settings
from django.db import connection, connections, transaction

from tests.sms_fake import FakeTencentSms
from tests.workflow.statistics_helpers import open_and_accept
from tests.workflow.test_clock_worker import queue, wait_for, workers  # noqa: F401 - fixtures
from workflow.models import SmsMessage, SmsState
from workflow.tasks.sms import send_sms

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not settings.CELERY_BROKER_URL.startswith("amqp://") or settings.CELERY_TASK_ALWAYS_EAGER,
        reason="needs RabbitMQ: CELERY_BROKER_URL=amqp://… and CELERY_TASK_ALWAYS_EAGER=0",
    ),
]


@pytest.fixture
def fake(monkeypatch):
    server = FakeTencentSms().start()
    conf = server.settings()
    # The worker reads its settings from the environment it is started with.
    monkeypatch.setenv("ONETHING_SMS_BACKEND", "tencent")
    monkeypatch.setenv("ONETHING_SMS_TENCENT_SECRET_ID", conf["secret_id"])
    monkeypatch.setenv("ONETHING_SMS_TENCENT_SECRET_KEY", conf["secret_key"])
    monkeypatch.setenv("ONETHING_SMS_TENCENT_SDK_APP_ID", conf["sdk_app_id"])
    monkeypatch.setenv("ONETHING_SMS_TENCENT_SIGN_NAME", conf["sign_name"])
    monkeypatch.setenv("ONETHING_SMS_TENCENT_ENDPOINT", conf["endpoint"])
    monkeypatch.setenv("ONETHING_SMS_TENCENT_TEMPLATES", ",".join(f"{k}:{v}" for k, v in conf["templates"].items()))
    yield server
    server.stop()


def test_a_worker_killed_mid_send_sends_the_row_exactly_once(users, queue, workers, fake):  # noqa: F811
    case_no = open_and_accept(users)
    message = SmsMessage.objects.get(case__case_no=case_no, template="accepted")

    # Another transaction holds the row: the worker's claim waits on it, mid-task.
    locked, release = threading.Event(), threading.Event()

    def hold_the_row():
        try:
            with transaction.atomic():
                SmsMessage.objects.select_for_update().get(pk=message.pk)
                locked.set()
                release.wait(timeout=60)
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold_the_row)
    holder.start()
    assert locked.wait(timeout=10)

    first = workers(queue)
    sent = send_sms.delay(message.pk)
    with connection.cursor() as cursor:

        def waits_on_the_lock() -> bool:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            return cursor.fetchone()[0] > 0

        wait_for(waits_on_the_lock, 60, "the worker to start the task")
    first.kill()  # SIGKILL, main process and pool child: the message is not acknowledged

    second = workers(queue)
    release.set()
    holder.join(timeout=30)
    wait_for(lambda: SmsMessage.objects.filter(pk=message.pk, state=SmsState.SENT).exists(), 60, "the redelivery")
    assert f"send_sms[{sent.id}] received" in second.text()  # RabbitMQ redelivered it at once
    assert "succeeded" not in first.text()

    # A duplicate message (a retry, a second queueing) sends nothing more.
    again = send_sms.delay(message.pk)
    wait_for(lambda: f"send_sms[{again.id}] succeeded" in second.text(), 30, "the duplicate")
    assert "'already_sent'" in second.text()
    assert fake.rejected == []
    assert [r["SessionContext"] for r in fake.requests] == [message.idempotency_key]
    message.refresh_from_db()
    assert (message.state, message.attempts, message.provider) == ("sent", 1, "tencent")
