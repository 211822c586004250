"""The SMS outbox (docs/configuration.md "SMS"): rows written in the event's transaction, one per (case, event,
recipient); sent once after commit by the task's body; Tencent Cloud SMS's signed API against a local fake that
checks every signature; an outage leaves rows pending and visible to the supervisor, then sends them once."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from tests.conftest import APPLICANT, ENTERPRISE_FORM, REVIEWER_OF, hand_over, handed_in
from tests.sms_fake import FakeTencentSms
from tests.workflow.statistics_helpers import decide, open_and_accept, open_case
from workflow import services
from workflow.errors import ValidationFailed
from workflow.models import Case, SmsMessage, SmsState
from workflow.services.sms import sms_deliver, sms_sweep
from workflow.sms.providers import ConsoleProvider

pytestmark = pytest.mark.django_db


@pytest.fixture
def fake(settings):
    server = FakeTencentSms().start()
    settings.ONETHING_SMS_BACKEND = "tencent"
    settings.ONETHING_SMS_TENCENT = server.settings()
    yield server
    server.stop()


def rows(case_no: str) -> list[SmsMessage]:
    return list(SmsMessage.objects.filter(case__case_no=case_no).order_by("id"))


def test_each_sms_event_writes_one_row_with_its_key_and_no_secrets(users):
    case_no = open_and_accept(users)
    assert [r.template for r in rows(case_no)] == ["accepted"]
    for department in REVIEWER_OF:
        decide(users, case_no, department)
    hand_over(users["window1"], case_no)  # the proof of delivery concludes the case
    messages = rows(case_no)
    assert [r.template for r in messages] == ["accepted", "pickup", "concluded"]
    case = Case.objects.get(case_no=case_no)
    for message in messages:
        assert message.recipient == APPLICANT["phone"] and message.state == SmsState.PENDING
        assert message.idempotency_key == f"sms:{case_no}:{message.event_id}:{APPLICANT['phone']}"
        assert APPLICANT["id_number"] not in message.body and case_no not in message.body
        assert case_no[-6:] in message.body and "企业开办" in message.body
    assert "已受理" in messages[0].body and "前办结" in messages[0].body
    assert "准予许可" in messages[2].body
    assert "携带本人身份证件到" in messages[1].body and "授权委托书" not in messages[1].body
    assert case.events.filter(kind__in=["accept", "approve", "conclude"]).count() == 3


ADDRESS = {"recipient": "王䶮", "phone": "13800138000", "address": "北京市东城区东华门街道正义路 2 号"}


def _decided(users, **extra) -> str:
    """A case opened with ``extra`` (delivery, agent), accepted and approved by every department."""
    opened = services.case_open(
        user=users["window1"],
        one_thing_key="enterprise_start",
        applicant=APPLICANT,
        form=ENTERPRISE_FORM,
        materials=[*handed_in("enterprise_start"), *extra.pop("materials", [])],
        **extra,
    )
    case_no = opened.case.case_no
    services.case_accept(user=users["window1"], case_no=case_no)
    for department in REVIEWER_OF:
        decide(users, case_no, department)
    return case_no


def _no_secrets(message: SmsMessage, case_no: str) -> None:
    assert APPLICANT["id_number"] not in message.body and case_no not in message.body
    assert case_no[-6:] in message.body and "企业开办" in message.body


def test_the_result_sms_follows_the_delivery_chosen(users):
    # 窗口领取 with an agent: where, and what the applicant or the agent brings.
    agent = {"name": "李四", "id_number": "11010519491231002X"}
    case_no = _decided(users, agent=agent, materials=["authorisation_letter"])
    [pickup] = [r for r in rows(case_no) if r.template == "pickup"]
    assert "授权委托书" in pickup.body and "窗口领取" in pickup.body and "11010519491231002X" not in pickup.body
    _no_secrets(pickup, case_no)
    # 邮寄送达: nothing at the decision; the carrier and waybill once the mailing is recorded.
    case_no = _decided(users, delivery={"method": "post", "address": ADDRESS})
    assert [r.template for r in rows(case_no)] == ["accepted"]
    services.case_mail(user=users["window1"], case_no=case_no, carrier="中国邮政EMS", waybill="EMS1234567890")
    [mailed] = [r for r in rows(case_no) if r.template == "mailed"]
    assert "中国邮政EMS" in mailed.body and "EMS1234567890" in mailed.body and "领取" not in mailed.body
    _no_secrets(mailed, case_no)
    # 电子送达: the result can be downloaded on the status page.
    case_no = _decided(users, delivery={"method": "electronic"})
    assert [r.template for r in rows(case_no)] == ["accepted", "download"]
    [download] = rows(case_no)[1:]
    assert "下载" in download.body and "领取" not in download.body
    _no_secrets(download, case_no)


def test_a_returned_mailing_changed_to_pickup_sends_the_pickup_sms(users):
    case_no = _decided(users, delivery={"method": "post", "address": ADDRESS})
    services.case_mail(user=users["window1"], case_no=case_no, carrier="顺丰速运", waybill="SF1000000009")
    services.delivery_status_update(
        waybill="SF1000000009", status="returned", occurred_at=timezone.now(), source="test"
    )
    services.case_delivery_change(user=users["window1"], case_no=case_no, method="pickup")
    assert [r.template for r in rows(case_no)] == ["accepted", "mailed", "pickup"]
    # A change before the result sends nothing: the result SMS follows the choice when the result comes.
    case_no = open_and_accept(users)
    services.case_delivery_change(user=users["window1"], case_no=case_no, method="electronic")
    assert [r.template for r in rows(case_no)] == ["accepted"]


def test_the_correction_sms_says_what_to_bring(users):
    case_no = open_and_accept(users)
    decide(users, case_no, "market_regulation")
    decide(users, case_no, "tax")
    decide(users, case_no, "public_security", "need_correction")
    [message] = [r for r in rows(case_no) if r.template == "correction"]
    assert "需要补正" in message.body and "印章" in message.body


def test_a_failed_step_writes_no_row(users):
    case_no = open_case(users)
    Case.objects.filter(case_no=case_no).update(applicant_phone="13900000000")
    with pytest.raises(ValidationFailed):
        services.case_refuse(user=users["window1"], case_no=case_no, reasons=" ")
    assert rows(case_no) == []


def test_console_sends_each_row_once(users):
    case_no = open_and_accept(users)
    [message] = rows(case_no)
    before = len(ConsoleProvider.outbox)
    assert sms_deliver(message_id=message.pk) == "sent"
    assert sms_deliver(message_id=message.pk) == "already_sent"  # a redelivered or duplicate task
    assert len(ConsoleProvider.outbox) == before + 1
    message.refresh_from_db()
    assert (message.state, message.provider, message.attempts) == ("sent", "console", 1)


def test_tencent_sends_a_signed_request_the_fake_accepts(users, fake):
    case_no = open_and_accept(users)
    [message] = rows(case_no)
    assert sms_deliver(message_id=message.pk) == "sent"
    assert fake.rejected == []
    [request] = fake.requests
    assert request["PhoneNumberSet"] == ["+8613800138000"] and request["TemplateId"] == "2001"
    assert request["SmsSdkAppId"] == "1400000000" and request["SessionContext"] == message.idempotency_key
    assert request["TemplateParamSet"] == message.params
    message.refresh_from_db()
    assert (message.state, message.provider, message.provider_message_id) == ("sent", "tencent", "serial-1")


def test_a_wrong_key_is_refused_by_the_fake_and_the_row_fails_visibly(users, fake, settings):
    settings.ONETHING_SMS_TENCENT = {**fake.settings(), "secret_key": "not-the-key"}
    case_no = open_and_accept(users)
    [message] = rows(case_no)
    assert sms_deliver(message_id=message.pk) == "failed"
    assert len(fake.rejected) == 1 and fake.requests == []
    message.refresh_from_db()
    assert message.state == "failed" and "SignatureFailure" in message.last_error


def test_an_outage_leaves_rows_pending_visible_and_sends_them_once_later(users, fake, client_for):
    fake.down = True
    case_no = open_and_accept(users)
    [message] = rows(case_no)
    assert sms_deliver(message_id=message.pk) == "retry_later"
    message.refresh_from_db()
    assert message.state == "pending" and message.attempts == 1 and "503" in message.last_error
    assert message.next_attempt_at > timezone.now()
    assert sms_deliver(message_id=message.pk) == "not_due"  # backoff: a duplicate message does not hammer
    # The supervisor sees it, in the API and on the screen.
    listed = client_for("supervisor1").get("/api/sms?state=pending").json()
    assert [row["id"] for row in listed["results"]] == [message.pk]
    assert listed["results"][0]["last_error"] and listed["results"][0]["state_label"] == "待发送"
    screen = Client()
    screen.force_login(users["supervisor1"])
    page = screen.get("/sms/").content.decode()
    assert "待发送" in page and case_no in page
    assert client_for("window1").get("/api/sms").status_code == 403
    # The provider is back; the sweep finds the row due and it goes out once.
    fake.down = False
    SmsMessage.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now() - dt.timedelta(seconds=1))
    assert sms_sweep() == 1  # (dispatch is off in tests: the sweep's queueing is a no-op; run the task body)
    assert sms_deliver(message_id=message.pk) == "sent"
    assert sms_deliver(message_id=message.pk) == "already_sent"
    assert len(fake.requests) == 1


def test_a_row_left_sending_is_never_resent_by_itself(users, fake, client_for, settings):
    case_no = open_and_accept(users)
    [message] = rows(case_no)
    # A sender claimed it and died mid-call: maybe sent.
    SmsMessage.objects.filter(pk=message.pk).update(
        state=SmsState.SENDING, claimed_at=timezone.now() - dt.timedelta(hours=1), attempts=1
    )
    assert sms_deliver(message_id=message.pk) == "in_flight"
    sms_sweep()
    message.refresh_from_db()
    assert message.state == "uncertain" and fake.requests == []
    # The supervisor checks with the applicant and resends it.
    answer = client_for("supervisor1").post(f"/api/sms/{message.pk}/resend")
    assert answer.status_code == 200 and answer.json()["state"] == "pending"
    assert sms_deliver(message_id=message.pk) == "sent" and len(fake.requests) == 1
    assert client_for("supervisor1").post(f"/api/sms/{message.pk}/resend").status_code == 409
