"""The SMS outbox's exactly-once with a real Celery worker on RabbitMQ, SIGKILLed mid-task, against the local fake
of Tencent Cloud SMS (tests/sms_fake.py): the redelivered message sends the row once, and a duplicate sends
nothing. Same worker harness as the clock's (tests/workflow/test_clock_worker.py)."""

from __future__ import annotations

import pytest
from django.conf import settings

from tests.sms_fake import FakeTencentSms
from tests.workflow.statistics_helpers import open_and_accept
from tests.workflow.test_clock_worker import (  # noqa: F401 - fixtures
    queue,
    row_held,
    wait_for,
    wait_for_a_lock_waiter,
    workers,
)
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
    with row_held(SmsMessage, message.pk) as release:
        first = workers(queue)
        sent = send_sms.delay(message.pk)
        wait_for_a_lock_waiter("the worker to start the task")
        first.kill()  # SIGKILL, main process and pool child: the message is not acknowledged

        second = workers(queue)
        release.set()
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
