"""The legal clock over HTTP: due dates and supervision in inboxes, case detail and public status; special
procedures, extensions, notifications; 时限压减率 on the one-thing."""

from __future__ import annotations

import pytest
import time_machine

from tests.api.helpers import accept, assert_error, decide, get, open_case, post
from tests.workflow.clock_helpers import at, set_limits
from workflow import services

pytestmark = pytest.mark.django_db

CLOCK_FIELDS = {
    "accepted_at",
    "promised_due_date",
    "statutory_due_date",
    "working_days_used",
    "paused",
    "supervision",
    "supervision_label",
    "deemed_accepted",
    "pauses",
}


def test_the_one_thing_detail_has_its_reduction_rate(client_for):
    body = get(client_for("window1"), "/api/one-things/enterprise_start").json()
    assert body["statutory_limit_days"] == 45 and body["promised_limit_days"] == 1
    assert body["reduction_rate"] == 0.8556  # the mean of its items': (2/3 + 1 + 9/10) / 3
    assert {item["code"]: item["reduction_rate"] for item in body["item_limits"]}["000112103000"] == 0.9


def test_inbox_items_show_due_date_and_supervision_and_filter_overdue(users, client_for):
    set_limits(one_thing_days=10, market_days=5)
    with time_machine.travel(at("2026-09-28"), tick=False) as traveller:
        ref = accept(users, open_case(users))
        client = client_for("market1")
        [item] = get(client, "/api/tasks").json()["results"]
        assert (item["due_date"], item["limit_days"], item["supervision"]) == ("2026-10-10", 5, "normal")
        assert get(client, "/api/tasks?overdue=true").json()["results"] == []

        traveller.move_to(at("2026-10-12"))
        [item] = get(client, "/api/tasks?overdue=true").json()["results"]
        assert (item["supervision"], item["supervision_label"]) == ("yellow", "黄牌：部门任务超期")
        assert item["case_no"] == ref.case_no


def test_case_detail_and_public_status_show_the_clock(users, client_for):
    with time_machine.travel(at("2026-09-28"), tick=False) as traveller:
        ref = accept(users, open_case(users))
        response = post(
            client_for("police1"),
            f"/api/cases/{ref.case_no}/procedures",
            {"kind": "testing", "reason": "印章样式需检测"},
        )
        assert response.status_code == 201, response.content
        detail = response.json()
        assert set(detail) >= CLOCK_FIELDS
        assert detail["paused"] is True and detail["supervision"] == "paused"
        assert detail["promised_due_date"] == "2026-09-29" and detail["statutory_due_date"] == "2026-12-04"
        [pause] = detail["pauses"]
        assert (pause["kind"], pause["kind_label"], pause["ended_at"]) == ("testing", "检验、检测、检疫", None)

        status = post(client_for(None), "/api/status", {"case_no": ref.case_no, "query_code": ref.query_code})
        body = status.json()
        assert set(body) >= CLOCK_FIELDS and body["paused"] is True
        assert "extensions" not in body  # approvers are staff; the applicant sees the event instead
        assert any(row["kind"] == "procedure_started" for row in body["timeline"])

        traveller.move_to(at("2026-10-08"))
        ended = post(client_for("window1"), f"/api/cases/{ref.case_no}/procedures/{pause['id']}/end")
        assert ended.status_code == 200, ended.content
        # Stopped 9-29, 9-30 and 10-08: the one-day promise moves to 10-09.
        assert ended.json()["promised_due_date"] == "2026-10-09"
        assert ended.json()["statutory_due_date"] == "2026-12-09"
        assert ended.json()["paused"] is False


def test_extension_over_http(users, client_for):
    ref = accept(users, open_case(users))
    path = f"/api/cases/{ref.case_no}/extensions"
    # nobody records another person's approval (issue 18): the window and reviewers ask for it instead
    for someone in ("tax1", "window1"):
        refused = post(client_for(someone), path, {"days": 3, "reason": "需实地核查", "approver": "supervisor1"})
        assert_error(refused, 403, "permission_denied")
    assert_error(post(client_for("supervisor1"), path, {"days": 3, "reason": "x", "approver": "admin"}), 400)
    response = post(client_for("supervisor1"), path, {"days": 3, "reason": "需实地核查"})
    assert response.status_code == 201, response.content
    [extension] = response.json()["extensions"]
    assert extension["days"] == 3 and extension["approved_by"]


def test_an_extension_request_waits_for_a_supervisor_over_http(users, client_for):
    ref = accept(users, open_case(users))
    path = f"/api/cases/{ref.case_no}/extension-requests"
    assert_error(post(client_for("tax1"), path, {"days": 0, "reason": "需实地核查"}), 400)
    assert_error(post(client_for("health1"), path, {"days": 2, "reason": "需实地核查"}), 404)
    asked = post(client_for("tax1"), path, {"days": 2, "reason": "需实地核查"})
    assert asked.status_code == 201, asked.content
    request_id = asked.json()["id"]
    assert (asked.json()["state"], asked.json()["department"]) == ("pending", "tax")
    assert_error(post(client_for("market1"), path, {"days": 1, "reason": "再延"}), 409)  # one waiting per case

    assert_error(get(client_for("tax1"), "/api/extension-requests"), 403)
    assert_error(get(client_for("supervisor1"), "/api/extension-requests?state=maybe"), 400)
    [waiting] = get(client_for("supervisor1"), "/api/extension-requests").json()["results"]
    assert (waiting["id"], waiting["case_no"], waiting["days"]) == (request_id, ref.case_no, 2)

    decision = f"/api/extension-requests/{request_id}/decision"
    assert_error(post(client_for("tax1"), decision, {"approve": True}), 403)
    assert_error(post(client_for("supervisor1"), decision, {"approve": False}), 400)  # a refusal needs a reason
    assert_error(post(client_for("supervisor1"), "/api/extension-requests/999999/decision", {"approve": True}), 404)
    approved = post(client_for("supervisor1"), decision, {"approve": True, "note": "同意"})
    assert approved.status_code == 200, approved.content
    assert (approved.json()["state"], approved.json()["decided_by"]) == ("approved", "supervisor1")
    assert_error(post(client_for("supervisor1"), decision, {"approve": True}), 409)
    [extension] = get(client_for("tax1"), f"/api/cases/{ref.case_no}").json()["extensions"]
    assert extension["days"] == 2
    assert get(client_for("supervisor1"), "/api/extension-requests").json()["results"] == []
    [done] = get(client_for("supervisor1"), "/api/extension-requests?state=approved").json()["results"]
    assert done["id"] == request_id


def test_notifications_reach_their_department_only(users, client_for):
    set_limits(one_thing_days=10, market_days=5)
    with time_machine.travel(at("2026-09-28"), tick=False) as traveller:
        ref = accept(users, open_case(users))
        decide(users, ref, "tax", "approve")
        traveller.move_to(at("2026-10-12"))
        services.supervision_sweep()
    market = get(client_for("market1"), "/api/notifications").json()["results"]
    assert {n["kind"] for n in market} == {"task_overdue"}  # the warning day had passed unswept
    assert all(n["department"] == "market_regulation" for n in market)
    assert get(client_for("tax1"), "/api/notifications").json()["results"] == []
    supervisor = get(client_for("supervisor1"), "/api/notifications").json()["results"]
    assert {n["kind"] for n in supervisor} == {"task_overdue"}
    assert_error(get(client_for(None), "/api/notifications"), 401)
