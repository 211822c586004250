"""Applying online through the applicant API (docs/api.md "Applicant"): drafts saved and resumed, uploads through
the window's sniffing and limits, the pre-check's one list and estimated date, one submission per idempotency key,
the case in the window's 预审 list with the existing paths, the legal clock counting from submission."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.api.applicant_helpers import MOTHER, WANG, sign_in
from tests.api.helpers import assert_error, field_errors
from tests.conftest import ENTERPRISE_FORM, handed_in
from tests.upload_samples import pdf
from tests.workflow.clock_helpers import at
from workflow import selectors, services
from workflow.models import Case, CaseEvent, MaterialFile, SmsMessage

pytestmark = pytest.mark.django_db

PARTIAL = {k: v for k, v in ENTERPRISE_FORM.items() if k not in ("business_scope", "address", "registered_capital")}


def new_draft(client, form=None, **extra) -> dict:
    body = {"one_thing": "enterprise_start", "applicant": {"name": "王䶮"}, "form": form or PARTIAL, **extra}
    if "applicant" in extra and "name" not in extra["applicant"]:
        body["applicant"] = extra["applicant"]
    answer = client.post("/api/applicant/drafts", body, format="json")
    assert answer.status_code == 201, answer.content
    return answer.json()


def upload(client, draft_id: int, code: str, content: bytes | None = None, name: str = "scan.pdf"):
    file = SimpleUploadedFile(name, content if content is not None else pdf(), content_type="application/pdf")
    return client.post(f"/api/applicant/drafts/{draft_id}/files", {"material_code": code, "file": file})


def test_a_draft_is_saved_resumed_by_code_and_prechecked_into_one_list(users):
    wang = sign_in(WANG)
    draft = new_draft(wang)
    assert draft["draft_code"] and draft["channel"] == "online" and draft["case_no"] is None
    # Signed in again later (a new session): resumed by its code, and listed among his drafts.
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(minutes=2)):
        again = sign_in(WANG)
        resumed = again.post("/api/applicant/drafts/resume", {"draft_code": draft["draft_code"].lower()}, format="json")
        assert resumed.json()["id"] == draft["id"]
        assert [d["id"] for d in again.get("/api/applicant/drafts").json()] == [draft["id"]]

    check = wang.post(f"/api/applicant/drafts/{draft['id']}/precheck").json()
    assert check["ok"] is False
    fields = {p["target"]: p for p in check["problems"] if p["kind"] == "field"}
    assert {"business_scope", "address", "registered_capital"} <= set(fields)
    assert all("请" in p["message"] or "填写" in p["message"] for p in fields.values())
    # departments by code, their names beside them (docs/api.md "Vocabulary")
    assert "market_regulation" in fields["business_scope"]["departments"]
    assert "区市场监督管理局" in fields["business_scope"]["department_names"]
    assert all(len(p["departments"]) == len(p["department_names"]) for p in check["problems"])
    assert {i["department"] for i in check["items"]} == {"market_regulation", "public_security", "tax"}
    materials = {p["target"] for p in check["problems"] if p["kind"] == "material"}
    assert materials == {m for m in handed_in() if m in materials} and materials  # every required one is listed
    assert check["estimated_completion_date"] and check["promised_limit_days"] >= 1
    assert [i["name"] for i in check["items"]]

    # Completed and uploaded: the pre-check has nothing left.
    patched = wang.patch(f"/api/applicant/drafts/{draft['id']}", {"form": ENTERPRISE_FORM}, format="json")
    assert patched.status_code == 200 and patched.json()["form"]["address"] == ENTERPRISE_FORM["address"]
    for code in materials:
        assert upload(wang, draft["id"], code).status_code == 201
    check = wang.post(f"/api/applicant/drafts/{draft['id']}/precheck").json()
    assert check["ok"] is True, check["problems"]
    assert sorted(check["uploaded"]) == sorted(materials)


def test_uploads_go_through_the_windows_sniffing_and_limits(users, settings):
    wang = sign_in(WANG)
    draft = new_draft(wang)
    code = handed_in()[0]
    disguised = upload(wang, draft["id"], code, b"<html><script>alert(1)</script></html>", "licence.pdf")
    assert_error(disguised, 400, "file_type_not_allowed")
    assert_error(upload(wang, draft["id"], "no_such_material"), 400)
    settings.ONETHING_UPLOAD_MAX_BYTES = 1000
    assert_error(upload(wang, draft["id"], code), 413)
    assert MaterialFile.objects.filter(draft_id=draft["id"]).count() == 0


def test_a_submission_is_one_case_in_the_windows_queue_whatever_the_taps(users, client_for):
    wang = sign_in(WANG)
    draft = new_draft(wang, form=ENTERPRISE_FORM)
    for code in handed_in():
        upload(wang, draft["id"], code)
    key = str(uuid.uuid4())
    first = wang.post(f"/api/applicant/drafts/{draft['id']}/submit", {"idempotency_key": key}, format="json")
    assert first.status_code == 201, first.content
    body = first.json()
    assert body["query_code"] and body["replayed"] is False and body["channel"] == "online"
    assert body["channel_label"] == "网上"  # a code field comes with its label (docs/api.md "Vocabulary")
    # A double tap: the same key answers the same case, without the query code again.
    second = wang.post(f"/api/applicant/drafts/{draft['id']}/submit", headers={"Idempotency-Key": key})
    assert second.status_code == 200 and second.json()["case_no"] == body["case_no"]
    assert second.json()["query_code"] is None and second.json()["replayed"] is True
    assert_error(
        wang.post(f"/api/applicant/drafts/{draft['id']}/submit", {"idempotency_key": "other"}, format="json"), 409
    )
    assert_error(wang.patch(f"/api/applicant/drafts/{draft['id']}", {"form": {}}, format="json"), 409)
    assert Case.objects.filter(applicant_id_number=WANG["id_number"]).count() == 1

    case = Case.objects.get(case_no=body["case_no"])
    assert (case.channel, case.opened_by_id, case.status, case.applicant_phone) == (
        "online",
        None,
        "received",
        WANG["phone"],
    )
    assert set(case.files.values_list("material_code", flat=True)) == set(handed_in())
    opened = CaseEvent.objects.get(case=case, kind="opened")
    assert opened.actor_label == "申请人" and opened.data["identity"] == {"method": "sms"}
    # The query code works for the status lookup, like a window's receipt; the one-thing by key and name.
    status = client_for(None).post(
        "/api/status", {"case_no": case.case_no, "query_code": body["query_code"]}, format="json"
    )
    assert status.status_code == 200
    assert {k: status.json()[k] for k in ("one_thing", "one_thing_name", "channel", "channel_label")} == {
        "one_thing": "enterprise_start",
        "one_thing_name": "企业开办一件事",
        "channel": "online",
        "channel_label": "网上",
    }
    # It waits in the window's 预审 list; the window accepts it with the existing path (materials from the files).
    assert case.case_no in [c.case_no for c in selectors.window_worklist(user=users["window1"]).received]
    window = client_for("window1").get(f"/api/cases/{case.case_no}").json()
    assert window["channel_label"] == "网上"
    services.case_accept(user=users["window1"], case_no=case.case_no)
    assert SmsMessage.objects.filter(case=case, template="accepted").count() == 1
    # My cases shows it.
    [mine] = wang.get("/api/applicant/cases").json()
    assert mine["case_no"] == case.case_no and (mine["outcome"], mine["outcome_label"]) == ("", "")


def test_anothers_draft_and_draft_code_are_unreachable(users):
    wang, mother = sign_in(WANG), sign_in(MOTHER)
    draft = new_draft(wang)
    assert_error(mother.get(f"/api/applicant/drafts/{draft['id']}"), 404)
    assert_error(mother.patch(f"/api/applicant/drafts/{draft['id']}", {"form": {}}, format="json"), 404)
    assert_error(mother.post(f"/api/applicant/drafts/{draft['id']}/precheck"), 404)
    assert_error(
        mother.post(f"/api/applicant/drafts/{draft['id']}/submit", {"idempotency_key": "k"}, format="json"), 404
    )
    assert_error(mother.post("/api/applicant/drafts/resume", {"draft_code": draft["draft_code"]}, format="json"), 404)
    assert_error(upload(mother, draft["id"], handed_in()[0]), 404)
    assert mother.get("/api/applicant/drafts").json() == []


def test_a_bad_submission_is_refused_with_the_windows_messages_and_changes_nothing(users):
    wang = sign_in(WANG)
    draft = new_draft(wang, form={**ENTERPRISE_FORM, "registered_capital": -5})
    answer = wang.post(f"/api/applicant/drafts/{draft['id']}/submit", {"idempotency_key": "k1"}, format="json")
    assert_error(answer, 400, "invalid")
    assert "form.registered_capital" in answer.json()["errors"]
    assert Case.objects.count() == 0
    assert_error(wang.post(f"/api/applicant/drafts/{draft['id']}/submit", {}, format="json"), 400)


def test_deemed_acceptance_counts_from_the_online_submission(users):
    with time_machine.travel(at("2026-11-02", 9), tick=False) as clock_:
        wang = sign_in(WANG)
        draft = new_draft(wang, form=ENTERPRISE_FORM)
        body = wang.post(f"/api/applicant/drafts/{draft['id']}/submit", {"idempotency_key": "k"}, format="json").json()
        submitted = Case.objects.get(case_no=body["case_no"]).opened_at
        clock_.move_to(at("2026-11-10", 10))  # the 5 working days (Tue … Mon) have passed with no notice
        services.deemed_acceptance_sweep()
    case = Case.objects.get(case_no=body["case_no"])
    assert case.deemed_accepted_at is not None and case.accepted_at == submitted
    assert submitted == at("2026-11-02", 9)


def test_prefill_marks_fields_a_held_licence_answers(users):
    from tests.workflow.statistics_helpers import conclude, decide, open_and_accept

    services.one_thing_compose(  # a one-thing that needs the business licence without issuing it
        key="seal_and_tax",
        name="印章与税务一件事",
        lead_department="public_security",
        items=[services.ItemLink("000105402000"), services.ItemLink("000112103000")],
        promised_limit_days=2,
        generate_process=True,
    )
    case_no = open_and_accept(users)  # WANG's enterprise: approved, its 营业执照 issued to him
    for department in ("market_regulation", "public_security", "tax"):
        decide(users, case_no, department)
    conclude(users, case_no)
    wang = sign_in(WANG)
    draft = wang.post("/api/applicant/drafts", {"one_thing": "seal_and_tax", "form": {}}, format="json").json()
    prefilled = {p["field"]: p for p in draft["prefilled"]}
    assert prefilled, "the licence answers some of the restaurant's fields"
    for row in prefilled.values():
        assert row["licence_name"] and row["licence_no"]
        assert row["value"] == Case.objects.get(case_no=case_no).form_data[row["field"]]
    check = wang.post(f"/api/applicant/drafts/{draft['id']}/precheck").json()
    assert any(r["material_code"] == "business_licence" for r in check["reused"])
    assert "business_licence" not in {p["target"] for p in check["problems"]}


def test_a_kiosk_submission_records_its_channel_and_identity_method(users, settings):
    from rest_framework.test import APIClient

    settings.ONETHING_KIOSKS = {"kiosk-07": "k"}
    card = {"kiosk": "kiosk-07", "key": "k", "id_number": WANG["id_number"], "name": "王䶮"}
    token = APIClient().post("/api/applicant/identity/kiosk", card, format="json").json()["token"]
    kiosk = APIClient()
    kiosk.credentials(HTTP_AUTHORIZATION=f"Applicant {token}")
    draft = new_draft(kiosk, form=ENTERPRISE_FORM, applicant={"phone": WANG["phone"]})
    assert (draft["channel"], draft["applicant_name"]) == ("kiosk", "王䶮")
    body = kiosk.post(f"/api/applicant/drafts/{draft['id']}/submit", {"idempotency_key": "kiosk-1"}, format="json")
    case = Case.objects.get(case_no=body.json()["case_no"])
    assert case.channel == "kiosk" and case.applicant_name == "王䶮"
    assert CaseEvent.objects.get(case=case, kind="opened").data["identity"] == {
        "method": "id_card_reader",
        "kiosk": "kiosk-07",
    }


ADDRESS = {"recipient": "王䶮", "phone": "13800138000", "address": "北京市朝阳区示范路 1 号 3 单元 101"}


def _delivery_errors(response) -> dict:
    return {k: v for k, v in field_errors(response).items() if k.startswith("delivery")}


def test_the_delivery_is_chosen_in_the_draft_and_changeable_by_the_applicant_until_the_result(users, client_for):
    from tests.workflow.statistics_helpers import decide

    wang = sign_in(WANG)
    draft = new_draft(wang)
    assert draft["delivery"] == {"method": "pickup", "method_label": "窗口领取", "address": None}  # not chosen
    # The same checks and Chinese messages as the window's intake (POST /api/cases).
    window = client_for("window1")
    for bad in ({"method": "post"}, {"method": "drone"}, {"method": "post", "address": {**ADDRESS, "phone": "12"}}):
        mine = _delivery_errors(wang.patch(f"/api/applicant/drafts/{draft['id']}", {"delivery": bad}, format="json"))
        at_window = _delivery_errors(window.post("/api/cases", {"delivery": bad}, format="json"))
        assert mine and mine == at_window, (bad, mine, at_window)
    assert wang.get(f"/api/applicant/drafts/{draft['id']}").json()["delivery"]["method"] == "pickup"
    chosen = wang.patch(
        f"/api/applicant/drafts/{draft['id']}",
        {"form": ENTERPRISE_FORM, "delivery": {"method": "post", "address": ADDRESS}},
        format="json",
    )
    assert chosen.status_code == 200
    assert chosen.json()["delivery"] == {"method": "post", "method_label": "邮寄送达", "address": ADDRESS}
    for code in handed_in():
        upload(wang, draft["id"], code)
    body = wang.post(f"/api/applicant/drafts/{draft['id']}/submit", {"idempotency_key": "d1"}, format="json").json()
    case = Case.objects.get(case_no=body["case_no"])
    assert (case.delivery_method, case.delivery_address) == ("post", ADDRESS)
    # Before the result the applicant changes it (the window's rule and checks); another person's case is 404.
    path = f"/api/applicant/cases/{case.case_no}/delivery"
    assert "change_delivery" in wang.get(f"/api/applicant/cases/{case.case_no}").json()["allowed_actions"]
    assert "address" in field_errors(wang.post(path, {"method": "post"}, format="json"))  # as POST …/delivery
    assert field_errors(wang.post(path, {"method": "drone"}, format="json"))
    assert_error(sign_in(MOTHER).post(path, {"method": "electronic"}, format="json"), 404)
    changed = wang.post(path, {"method": "electronic"}, format="json")
    assert changed.status_code == 200 and changed.json()["delivery"]["method"] == "electronic"
    event = CaseEvent.objects.get(case=case, kind="delivery_changed")
    assert event.data["from"] == "post" and event.data["to"] == "electronic" and event.actor_label == "申请人"
    # Once the result is formed, only the window changes it.
    services.case_accept(user=users["window1"], case_no=case.case_no)
    for department in ("market_regulation", "public_security", "tax"):
        decide(users, case.case_no, department)
    assert "change_delivery" not in wang.get(f"/api/applicant/cases/{case.case_no}").json()["allowed_actions"]
    assert_error(wang.post(path, {"method": "pickup"}, format="json"), 409)
    assert [m.template for m in SmsMessage.objects.filter(case=case).order_by("id")] == ["accepted", "download"]
