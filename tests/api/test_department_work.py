"""The departments' daily work over HTTP: inbox filters and counts, claims, reassignment, the task page,
approval results, the unified result and withdrawal."""

import datetime as dt

from django.contrib.auth import get_user_model
from django.utils import timezone
from rest_framework.test import APIClient

from tests.api.helpers import assert_error, decide, get, post
from workflow.models import Staff, StaffRole


def test_the_inbox_answers_with_counts_per_state_and_filters(client_for, accepted_case):
    body = get(client_for("tax1"), "/api/tasks?assignee=none&one_thing=enterprise_start").json()
    assert body["counts"]["open"] >= 1
    assert accepted_case.case_no in {t["case_no"] for t in body["results"]}
    assert get(client_for("tax1"), "/api/tasks?one_thing=newborn").json()["results"] == []


def test_claiming_a_claimed_task_is_409_task_claimed(client_for, accepted_case):
    second = get_user_model().objects.create_user("tax2", password="x")
    Staff.objects.create(user=second, role=StaffRole.REVIEWER, department_id="tax")
    tax2 = APIClient()
    tax2.force_authenticate(second)
    task_id = accepted_case.task_id("tax")
    claimed = post(client_for("tax1"), f"/api/tasks/{task_id}/claim")
    assert claimed.status_code == 200 and claimed.json()["assignee"] == "tax1"
    assert_error(post(tax2, f"/api/tasks/{task_id}/claim"), 409, "task_claimed")
    assert_error(post(tax2, f"/api/tasks/{task_id}/complete", {"decision": "approve"}), 409, "task_claimed")
    moved = post(client_for("tax1"), f"/api/tasks/{task_id}/reassign", {"to": "tax2", "reason": "休假"})
    assert moved.json()["assignee"] == "tax2"
    assert post(tax2, f"/api/tasks/{task_id}/unclaim").json()["assignee"] is None


def test_the_task_page_has_the_departments_fields_first_and_the_others_progress(client_for, accepted_case):
    body = get(client_for("police1"), f"/api/tasks/{accepted_case.task_id('public_security')}").json()
    first = body["fields_for_review"][0]
    assert first["needed_by_me"] is True
    assert {"seal_count", "enterprise_name"} <= {f["name"] for f in body["fields_for_review"] if f["needed_by_me"]}
    assert {o["department"] for o in body["other_departments"]} == {"market_regulation", "tax"}
    assert body["timeline"][0]["kind"] == "opened"


def test_an_approval_with_a_licence_number_shows_in_the_unified_result(client_for, users, accepted_case):
    market = accepted_case.task_id("market_regulation")
    response = post(
        client_for("market1"),
        f"/api/tasks/{market}/complete",
        {"decision": "approve", "result": {"licence_no": "91110105MA01ABCD2X", "valid_from": "2026-12-01"}},
    )
    assert response.json()["result"] == {"licence_no": "91110105MA01ABCD2X", "valid_from": "2026-12-01"}
    decide(users, accepted_case, "public_security")
    decide(users, accepted_case, "tax")
    case = get(client_for("window1"), f"/api/cases/{accepted_case.case_no}").json()
    results = {r["department"]: r for r in case["results"]}
    assert results["market_regulation"]["licence_no"] == "91110105MA01ABCD2X"
    assert all(r["decision"] == "approve" for r in results.values())
    status = post(
        client_for(None), "/api/status", {"case_no": accepted_case.case_no, "query_code": accepted_case.query_code}
    ).json()
    assert {r["licence_no"] for r in status["results"]} >= {"91110105MA01ABCD2X"}


def test_a_result_with_a_refusal_or_bad_dates_is_400(client_for, accepted_case):
    task = accepted_case.task_id("tax")
    bad = post(
        client_for("tax1"), f"/api/tasks/{task}/complete", {"decision": "approve", "result": {"valid_from": "x"}}
    )
    assert "result.valid_from" in assert_error(bad, 400, "invalid")["errors"]
    refused = post(
        client_for("tax1"),
        f"/api/tasks/{task}/complete",
        {"decision": "reject", "opinion": "不符合条件", "result": {"licence_no": "X"}},
    )
    assert "result" in assert_error(refused, 400, "invalid")["errors"]


def test_the_applicant_withdraws_with_the_query_code(client_for, accepted_case):
    body = {"case_no": accepted_case.case_no, "query_code": accepted_case.query_code, "reason": "不再开办"}
    response = post(client_for(None), "/api/status/withdraw", body)
    assert response.status_code == 200 and response.json()["status"] == "withdrawn"
    assert_error(post(client_for(None), "/api/status/withdraw", body), 409, "invalid_transition")
    wrong = post(client_for(None), "/api/status/withdraw", {**body, "query_code": "WRONG234"})
    assert_error(wrong, 404, "not_found")


def test_the_window_accepts_with_a_promised_material_and_records_its_arrival(client_for, received_case):
    window = client_for("window1")
    due = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    while dt.date.fromisoformat(due).weekday() >= 5:  # a working day, so the limit check passes
        due = (dt.date.fromisoformat(due) + dt.timedelta(days=1)).isoformat()
    accepted = post(
        window,
        f"/api/cases/{received_case.case_no}/accept",
        {"promises": [{"material": "shareholder_certificate", "due_date": due}]},
    )
    assert accepted.status_code == 200 and accepted.json()["status"] == "in_review"
    kept = post(window, f"/api/cases/{received_case.case_no}/promises/shareholder_certificate/fulfil")
    assert kept.status_code == 200
    assert_error(post(window, f"/api/cases/{received_case.case_no}/promises/shareholder_certificate/fulfil"), 404)


def test_a_key_material_cannot_be_promised(client_for, received_case):
    response = post(
        client_for("window1"),
        f"/api/cases/{received_case.case_no}/accept",
        {"promises": [{"material": "legal_rep_id_card", "due_date": "2026-12-31"}]},
    )
    assert "promises.0.material" in assert_error(response, 400, "invalid")["errors"]
