"""结果送达 over HTTP: the choice at intake and its change, 一窗通取 with the 送达回证, mailing with the carriers'
webhook (bad secret, replays, returned) and the import command, electronic delivery by the first download; 办结
only once delivery is proven; the trips ledger."""

from __future__ import annotations

import base64
import datetime as dt
import json

import pytest
from django.core.management import CommandError, call_command

from api.delivery import signature_of
from tests.api.helpers import accept, assert_error, case_body, decide, field_errors, get, post, post_raw
from tests.conftest import APPLICANT, DEPARTMENTS, handed_in
from tests.upload_samples import pdf, png
from workflow.models import Case, CaseEvent, Document

ADDRESS = {"recipient": "王䶮", "phone": "13800138000", "address": "北京市朝阳区示范路 1 号 3 单元 101"}
SECRET = "carrier-shared-secret"


@pytest.fixture
def window(client_for):
    return client_for("window1")


def _open(window, **extra) -> dict:
    response = post(window, "/api/cases", {**case_body(), **extra})
    assert response.status_code == 201, response.json()
    return response.json()


def _approve(users, window, **extra) -> dict:
    body = _open(window, **extra)
    ref = accept(users, _Ref(body))
    for department in DEPARTMENTS:
        decide(users, ref, department)
    return get(window, f"/api/cases/{body['case_no']}").json()


class _Ref:
    def __init__(self, body: dict):
        self.case_no, self.query_code = body["case_no"], body["query_code"]
        self.pk = Case.objects.get(case_no=self.case_no).pk

    def task_id(self, lane: str) -> int:
        return Case.objects.get(pk=self.pk).tasks.filter(lane=lane, state="open").get().pk


def _handover_body(case: dict, **changes) -> dict:
    return {
        "recipient": {"kind": "applicant", "id_number": APPLICANT["id_number"]},
        "identity_method": "id_card_onsite",
        "items": case["delivery"]["handover_items"],
        "signature": {"method": "pad", "content_base64": base64.b64encode(png()).decode()},
        **changes,
    }


def test_delivery_is_chosen_at_intake_and_changeable_until_the_result_leaves(window, users):
    errors = field_errors(post(window, "/api/cases", {**case_body(), "delivery": {"method": "post"}}))
    assert "delivery.address" in errors or "address" in errors
    body = _open(window, delivery={"method": "post", "address": ADDRESS})
    assert body["delivery"]["method"] == "post" and body["delivery"]["address"] == ADDRESS
    assert body["delivery"]["where"] == "办理结果形成后将邮寄送达" and body["delivery"]["may_change"]
    changed = post(window, f"/api/cases/{body['case_no']}/delivery", {"method": "electronic"})
    assert changed.status_code == 200 and changed.json()["delivery"]["method"] == "electronic"
    event = CaseEvent.objects.filter(case__case_no=body["case_no"], kind="delivery_changed").get()
    assert event.data["from"] == "post" and event.data["to"] == "electronic"
    assert_error(post(window, f"/api/cases/{body['case_no']}/delivery", {"method": "drone"}), 400, "invalid")


def test_conclude_is_refused_until_delivery_is_proven(window, users):
    case = _approve(users, window)
    assert case["status"] == "approved" and "conclude" not in case["allowed_actions"]
    assert "hand_over" in case["allowed_actions"]
    assert_error(post(window, f"/api/cases/{case['case_no']}/conclude"), 409, "delivery_not_proven")
    assert Case.objects.get(case_no=case["case_no"]).status == "approved"


def test_handover_at_the_window_checks_identity_and_items_signs_and_concludes(window, users, issuing):
    case = _approve(users, window)
    no = case["case_no"]
    assert case["delivery"]["handover_items"] == [
        "办结通知书",
        "营业执照正本",
        "营业执照副本",
        "企业公章",
        "财务专用章",
        "发票专用章",
        "税务UKey",
        "首批发票",
    ]
    # Someone else's document, an item not ticked, an agent without a letter: each refused, nothing changes.
    wrong = _handover_body(case, recipient={"kind": "applicant", "id_number": "11010519491231002X"})
    assert "recipient.id_number" in field_errors(post(window, f"/api/cases/{no}/handover", wrong))
    short = _handover_body(case, items=case["delivery"]["handover_items"][:-1])
    assert "首批发票" in field_errors(post(window, f"/api/cases/{no}/handover", short))["items"][0]
    agent = _handover_body(case, recipient={"kind": "agent", "name": "李四", "id_number": "11010519491231002X"})
    assert "authorisation_letter" in field_errors(post(window, f"/api/cases/{no}/handover", agent))
    not_png = _handover_body(case, signature={"method": "pad", "content_base64": base64.b64encode(pdf()).decode()})
    assert "signature" in field_errors(post(window, f"/api/cases/{no}/handover", not_png))
    assert Case.objects.get(case_no=no).status == "approved"

    with issuing.committed():
        done = post(window, f"/api/cases/{no}/handover", _handover_body(case))
    assert done.status_code == 200, done.json()
    body = done.json()
    assert body["status"] == "concluded" and body["delivery"]["status"] == "handed_over"
    assert body["delivery"]["proven"] and body["delivery"]["where"] == "办理结果已在窗口当面交付"
    assert body["trips"]["count"] == 2 and [v["reason"] for v in body["trips"]["visits"]] == ["submission", "pickup"]
    kinds = [e["kind"] for e in body["events"]]
    assert kinds[-3:] == ["visit", "handed_over", "conclude"]
    # The 送达回证: issued once, signed, with the recipient and what was handed over.
    issuing.run()
    receipts = Document.objects.filter(case__case_no=no, kind="delivery_receipt")
    assert receipts.count() == 1 and receipts.get().signed
    from workflow import services

    assert services.document_issue(case_id=receipts.get().case_id, key="delivery_receipt").pk == receipts.get().pk
    assert Document.objects.filter(case__case_no=no, kind="delivery_receipt").count() == 1
    from workflow.documents import verify_pdf

    content = receipts.get().file.read()
    assert verify_pdf(content).valid
    # A second handover of a concluded case is refused.
    assert_error(post(window, f"/api/cases/{no}/handover", _handover_body(case)), 409)


def test_an_agent_with_an_authorisation_letter_opens_and_collects(window, users):
    agent = {"name": "李四", "id_number": "11010519491231002X", "phone": "13900139000"}
    refused = field_errors(post(window, "/api/cases", {**case_body(), "agent": agent}))
    assert "授权委托书" in refused["materials"][0]
    body = {**case_body(), "agent": agent}
    body["materials"] = [*body["materials"], "authorisation_letter"]
    response = post(window, "/api/cases", body)
    assert response.status_code == 201, response.json()
    opened = response.json()
    assert opened["agent"]["name"] == "李四" and opened["trips"]["visits"][0]["by"] == "agent"
    ref = accept(users, _Ref(opened))
    # The papers name the agent beside the applicant (帮办代办); the trail's opening says so too.
    from workflow import notices
    from workflow.documents.render import render_html

    receipt = notices.notice_for(Case.objects.get(pk=ref.pk), "acceptance_receipt")
    html = render_html(receipt.kind, receipt.context)
    assert "王䶮" in html and "李四（经办人，凭申请人授权委托书）" in html
    case = get(window, f"/api/cases/{opened['case_no']}").json()
    assert "经办人李四凭授权委托书代为办理" in case["events"][0]["label"]
    for department in DEPARTMENTS:
        decide(users, ref, department)
    case = get(window, f"/api/cases/{opened['case_no']}").json()
    # The registered agent collects without bringing a second letter.
    recipient = {"kind": "agent", "name": "李四", "id_number": "11010519491231002X"}
    done = post(window, f"/api/cases/{opened['case_no']}/handover", _handover_body(case, recipient=recipient))
    assert done.status_code == 200, done.json()
    event = CaseEvent.objects.get(case__case_no=opened["case_no"], kind="handed_over")
    assert event.data["recipient"] == {"kind": "agent", "name": "李四", "id_type": "resident_id"}


def _webhook(client, body: dict, secret: str = SECRET):
    raw = json.dumps(body).encode()
    return post_raw(client, "/api/delivery/webhook", raw, HTTP_X_ONETHING_SIGNATURE=signature_of(raw, secret))


def test_post_with_the_carriers_webhook_bad_secret_replays_and_returns(window, users, settings, client_for):
    client = client_for(None)
    settings.ONETHING_DELIVERY_WEBHOOK_SECRET = SECRET
    case = _approve(users, window, delivery={"method": "post", "address": ADDRESS})
    no = case["case_no"]
    assert case["delivery"]["handover_items"] == [] and "mail" in case["allowed_actions"]
    assert_error(post(window, f"/api/cases/{no}/handover", _handover_body(case)), 409)
    mailed = post(window, f"/api/cases/{no}/mail", {"carrier": "中国邮政EMS", "waybill": "EMS1234567890"})
    assert mailed.status_code == 200 and mailed.json()["delivery"]["status"] == "sent"
    assert_error(post(window, f"/api/cases/{no}/delivery", {"method": "pickup"}), 409)

    at = dt.datetime(2026, 12, 7, 10, 0, tzinfo=dt.UTC).isoformat()
    returned = {"waybill": "EMS1234567890", "status": "returned", "occurred_at": at}
    assert_error(_webhook(client, returned, secret="wrong"), 403, "permission_denied")
    raw = json.dumps(returned).encode()
    assert_error(post_raw(client, "/api/delivery/webhook", raw), 403)
    assert Case.objects.get(case_no=no).delivery_status == "sent"

    first = _webhook(client, returned)
    assert first.status_code == 200 and first.json() == {
        "case_no": no,
        "applied": True,
        "delivery_status": "returned",
    }
    replay = _webhook(client, returned)
    assert replay.json()["applied"] is False
    assert CaseEvent.objects.filter(case__case_no=no, kind="post_status").count() == 1
    # Returned reopens the choice: the applicant picks it up at the window instead.
    reopened = get(window, f"/api/cases/{no}").json()["delivery"]
    assert reopened["may_change"] and reopened["status"] == "returned"
    again = post(window, f"/api/cases/{no}/delivery", {"method": "post", "address": ADDRESS})
    assert again.json()["delivery"]["status"] == ""
    post(window, f"/api/cases/{no}/mail", {"carrier": "中国邮政EMS", "waybill": "EMS1234567891"})
    delivered = {"waybill": "EMS1234567891", "status": "delivered", "occurred_at": at}
    assert _webhook(client, delivered).json()["delivery_status"] == "delivered"
    concluded = Case.objects.get(case_no=no)
    assert concluded.status == "concluded" and concluded.trips == 1  # no trip for a mailed result
    assert _webhook(client, delivered).json()["applied"] is False


def test_the_import_command_applies_each_row_once(window, users, tmp_path):
    case = _approve(users, window, delivery={"method": "post", "address": ADDRESS})
    post(window, f"/api/cases/{case['case_no']}/mail", {"carrier": "顺丰速运", "waybill": "SF1000000001"})
    path = tmp_path / "status.csv"
    path.write_text(
        "waybill,status,occurred_at\n"
        "SF1000000001,sent,2026-12-07T09:00:00+08:00\n"
        "SF1000000001,delivered,2026-12-07T15:00:00+08:00\n"
        "SF1000000001,delivered,2026-12-07T15:00:00+08:00\n",
        encoding="utf-8",
    )
    call_command("import_delivery_status", str(path))
    assert Case.objects.get(case_no=case["case_no"]).status == "concluded"
    path.write_text("waybill,status,occurred_at\nNOSUCHBILL1,delivered,2026-12-07T15:00:00+08:00\n")
    with pytest.raises(CommandError):
        call_command("import_delivery_status", str(path))


def test_electronic_delivery_is_proven_by_the_first_download(window, users, issuing, client_for):
    client = client_for(None)
    body = _open(window, delivery={"method": "electronic"})
    with issuing.committed():
        ref = accept(users, _Ref(body))
        for department in DEPARTMENTS:
            decide(users, ref, department)
    issuing.run()
    lookup = {"case_no": body["case_no"], "query_code": body["query_code"]}
    status = post(client, "/api/status", lookup).json()
    assert status["delivery"]["where"] == "办理结果已可在办件查询页下载（电子送达），待申请人下载"
    notice = next(d for d in status["documents"] if d["kind"] == "conclusion_notice")
    receipt = next(d for d in status["documents"] if d["kind"] == "acceptance_receipt")
    post(client, f"/api/status/documents/{receipt['id']}/download", lookup)  # not a result: no proof
    assert Case.objects.get(case_no=body["case_no"]).status == "approved"
    assert post(client, f"/api/status/documents/{notice['id']}/download", lookup).status_code == 200
    case = Case.objects.get(case_no=body["case_no"])
    assert case.status == "concluded" and case.delivery_status == "downloaded" and case.trips == 1
    post(client, f"/api/status/documents/{notice['id']}/download", lookup)
    assert CaseEvent.objects.filter(case=case, kind="result_downloaded").count() == 1
    status = post(client, "/api/status", lookup).json()
    assert status["delivery"]["where"] == "办理结果已由申请人下载（电子送达）"


def test_a_correction_at_the_window_is_a_second_trip(window, users):
    body = _open(window, delivery={"method": "electronic"})
    ref = accept(users, _Ref(body))
    decide(users, ref, "market_regulation")
    decide(users, ref, "public_security", "need_correction")
    decide(users, ref, "tax")
    changes = {"form": {"address": "北京市朝阳区新址 2 号", "seal_count": 3}}
    corrected = post(window, f"/api/cases/{body['case_no']}/correction", changes)
    assert corrected.status_code == 200, corrected.json()
    trips = corrected.json()["trips"]
    assert trips["count"] == 2 and [v["reason"] for v in trips["visits"]] == ["submission", "correction"]
    assert Case.objects.get(case_no=body["case_no"]).trips == 2


def _seal_only() -> str:
    """A one-thing of one 即办件 its department delegated to the window (公章刻制备案)."""
    from workflow.services import ItemLink, one_thing_compose

    one_thing_compose(
        key="seal_only",
        name="公章刻制一件事",
        lead_department="public_security",
        items=[ItemLink("000105402000", None, ())],
        promised_limit_days=0,
        generate_process=True,
    )
    return "seal_only"


def test_an_immediate_item_is_decided_and_handed_over_in_one_visit(window, users):
    key = _seal_only()
    from workflow.models import OneThing

    asked = OneThing.objects.get(key=key).merged_form["schema"]["properties"]
    body = {**case_body(one_thing=key), "materials": handed_in(key)}
    body["form"] = {name: value for name, value in body["form"].items() if name in asked}
    opened = post(window, "/api/cases", body)
    assert opened.status_code == 201, opened.json()
    case = opened.json()
    assert case["on_the_spot_items"] == ["公章刻制备案"]
    no = case["case_no"]
    accepted = post(window, f"/api/cases/{no}/accept", {"decide_on_the_spot": True})
    assert accepted.status_code == 200, accepted.json()
    case = accepted.json()
    assert case["status"] == "approved" and case["delivery"]["handover_items"] == [
        "办结通知书",
        "企业公章",
        "财务专用章",
        "发票专用章",
    ]
    decided = CaseEvent.objects.get(case__case_no=no, kind="task_completed", department="public_security")
    assert decided.data["on_the_spot"] is True and decided.actor.username == "window1"
    done = post(window, f"/api/cases/{no}/handover", _handover_body(case, same_visit=True))
    assert done.status_code == 200, done.json()
    assert done.json()["status"] == "concluded" and done.json()["trips"]["count"] == 1
    concluded = CaseEvent.objects.get(case__case_no=no, kind="conclude")
    assert concluded.data == {"status": "concluded", "delivery": "pickup", "one_visit": True}


def test_on_the_spot_decides_only_what_was_delegated(window, users):
    body = _open(window)
    accepted = post(window, f"/api/cases/{body['case_no']}/accept", {"decide_on_the_spot": True}).json()
    assert accepted["status"] == "in_review"
    progress = {row["department"]: row["progress"] for row in accepted["departments"]}
    assert progress == {"market_regulation": "reviewing", "public_security": "done", "tax": "reviewing"}
    from tests.workflow.test_pinned_compositions import FULL_RESTAURANT

    restaurant = {**case_body(one_thing="restaurant_start"), "materials": handed_in("restaurant_start")}
    restaurant["form"] = dict(FULL_RESTAURANT)
    opened = post(window, "/api/cases", restaurant)
    assert opened.status_code == 201, opened.json()
    no = opened.json()["case_no"]
    assert opened.json()["on_the_spot_items"] == []
    assert_error(post(window, f"/api/cases/{no}/accept", {"decide_on_the_spot": True}), 409, "conflict")
    assert Case.objects.get(case_no=no).status == "received"  # nothing half-done


def test_an_online_case_delivered_electronically_has_no_trip(users, issuing, client_for):
    from tests.conftest import ENTERPRISE_FORM
    from workflow import services

    opened = services.case_open(
        user=users["window1"],
        one_thing_key="enterprise_start",
        applicant=APPLICANT,
        form=dict(ENTERPRISE_FORM),
        materials=handed_in(),
        channel="online",
        delivery={"method": "electronic"},
    )
    ref = _Ref({"case_no": opened.case.case_no, "query_code": opened.query_code})
    with issuing.committed():
        accept(users, ref)
        for department in DEPARTMENTS:
            decide(users, ref, department)
    issuing.run()
    client = client_for(None)
    lookup = {"case_no": ref.case_no, "query_code": ref.query_code}
    notice = next(d for d in post(client, "/api/status", lookup).json()["documents"] if d["kind"] == "e_licence")
    assert post(client, f"/api/status/documents/{notice['id']}/download", lookup).status_code == 200
    case = Case.objects.get(pk=ref.pk)
    assert case.status == "concluded" and case.trips == 0
    assert not CaseEvent.objects.filter(case=case, kind="visit").exists()
    assert post(client, "/api/status", lookup).json()["trips"] == 0
