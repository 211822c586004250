"""One read side: for each staff view the API and the screen render the same view object, so they state the same
facts — the inbox, the task page, the case page and the dashboard's overdue list (as the applicant's view does,
tests/web/test_more_screens.py). Every colour comes from the one supervision rule; nobody's view costs a
statement per row."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from tests.conftest import APPLICANT, ENTERPRISE_FORM, handed_in
from workflow import clock, services
from workflow.models import Case, HumanTask, HumanTaskState

pytestmark = pytest.mark.django_db


def open_task(case, department):
    return HumanTask.objects.get(case=case, department_id=department, state=HumanTaskState.OPEN)


def new_case(users, *, accept=True):
    opened = services.case_open(
        user=users["window1"],
        one_thing_key="enterprise_start",
        applicant=APPLICANT,
        form=dict(ENTERPRISE_FORM),
        materials=handed_in(),
    )
    if accept:
        services.case_accept(user=users["window1"], case_no=opened.case.case_no)
    return Case.objects.get(pk=opened.case.pk)


def api(users, username) -> APIClient:
    client = APIClient()
    client.force_authenticate(users[username])
    return client


def text(response) -> str:
    return html.unescape(re.sub(r"\s+", " ", response.content.decode()))


def rows_of(page: str) -> dict[int, str]:
    """The screen's task rows (inbox, overdue list): task id → the row's text."""
    return {int(m[1]): re.sub(r"<[^>]+>", " ", m[2]) for m in re.finditer(r'data-task="(\d+)">(.*?)</tr>', page)}


def row_classes(page: str) -> dict[int, str]:
    return {int(m[2]): m[1] for m in re.finditer(r'<tr class="lv-([a-z]+)" data-task="(\d+)">', page)}


@pytest.fixture
def supervised(users):
    """Four tax tasks, one per supervision state: in time, yellow (the task overdue), red (its case past its
    promised date), paused (a special procedure runs), with one claimed — and one case still at the window."""
    today = timezone.localdate()
    normal, yellow, red, paused = (new_case(users) for _ in range(4))
    HumanTask.objects.filter(pk=open_task(normal, "tax").pk).update(
        due_date=today + dt.timedelta(days=20), warning_date=today + dt.timedelta(days=15)
    )
    HumanTask.objects.filter(pk=open_task(yellow, "tax").pk).update(
        due_date=today - dt.timedelta(days=1), warning_date=today - dt.timedelta(days=3)
    )
    Case.objects.filter(pk=red.pk).update(promised_due_date=today - dt.timedelta(days=1))
    HumanTask.objects.filter(pk=open_task(red, "tax").pk).update(due_date=today + dt.timedelta(days=2))
    HumanTask.objects.filter(pk=open_task(paused, "tax").pk).update(due_date=today + dt.timedelta(days=1))
    services.case_procedure_start(user=users["tax1"], case_no=paused.case_no, kind="hearing", reason="依申请听证")
    services.human_task_claim(user=users["tax1"], task_id=open_task(normal, "tax").pk)
    new_case(users, accept=False)
    return {"normal": normal, "yellow": yellow, "red": red, "paused": paused}


def test_the_inbox_states_the_same_facts_in_the_api_and_on_the_screen(web_client, users, supervised):
    results = api(users, "tax1").get("/api/tasks").json()["results"]
    page = web_client("tax1").get("/tasks/")
    rows, classes = rows_of(text(page)), row_classes(page.content.decode())

    assert [r["id"] for r in results] == list(rows)  # one order
    states = {case_key: open_task(case, "tax") for case_key, case in supervised.items()}
    assert {key: next(r["supervision"] for r in results if r["id"] == task.pk) for key, task in states.items()} == {
        "normal": "normal",
        "yellow": "yellow",
        "red": "red",
        "paused": "paused",
    }
    for row in results:
        task = HumanTask.objects.select_related("case").get(pk=row["id"])
        assert row["supervision"] == clock.task_supervision(task)  # the one rule
        shown = rows[row["id"]]
        assert classes[row["id"]] == row["supervision"]
        for fact in (row["case_no"], row["one_thing_name"], row["name"], row["supervision_label"]):
            assert fact in shown, (fact, shown)
        assert (row["due_date"][5:] if row["due_date"] else "—") in shown
        assert (row["assignee_name"] or "未认领") in shown
        assert row["one_thing"] == "enterprise_start"  # a key, like a case's
        assert isinstance(row["allowed_actions"], list)
    # the documented order: the earliest due date first, undated last, then the oldest, then the id
    dated = [r["due_date"] for r in results if r["due_date"]]
    assert dated == sorted(dated) and all(r["due_date"] is None for r in results[len(dated) :])


def test_the_task_page_states_the_same_facts_in_the_api_and_on_the_screen(web_client, users, supervised):
    task = open_task(supervised["yellow"], "tax")
    services.human_task_complete(
        user=users["market1"],
        task_id=open_task(supervised["yellow"], "market_regulation").pk,
        decision="need_correction",
        opinion="市场监管：住所证明不清晰",
        corrections=[{"item": "address", "reason": "住所证明不清晰"}],
    )
    body = api(users, "tax1").get(f"/api/tasks/{task.pk}").json()
    page = text(web_client("tax1").get(f"/tasks/{task.pk}/"))

    assert body["supervision"] == "yellow" and body["supervision_label"] in page
    for field in body["fields_for_review"]:
        assert field["title"] in page
    own = page.split("本部门审查字段")[1].split("申请表其他字段")[0]
    assert all(f["title"] in own for f in body["fields_for_review"] if f["needed_by_me"])
    for material in body["materials"]:
        assert material["name"] in page and isinstance(material["deferrable"], bool)
    for other in body["other_departments"]:
        assert other["department_name"] in page and other["progress_label"] in page
        assert (other["decision"], other["opinion"]) == (None, None)  # progress only
    assert "住所证明不清晰" not in page and "住所证明不清晰" not in str(body)
    actions = set(body["allowed_actions"])
    assert {"claim", "complete", "reassign", "start_procedure", "request_extension"} <= actions
    assert ("提交决定" in page) == ("complete" in actions)
    assert ("认领" in page) == ("claim" in actions)
    assert ("转办给本部门同事" in page) == ("reassign" in actions)
    assert ("启动特别程序" in page) == ("start_procedure" in actions)
    # another reviewer of the department who is not the assignee: the same rule hides the buttons
    services.human_task_claim(user=users["tax1"], task_id=task.pk)
    claimed = api(users, "supervisor1").get(f"/api/tasks/{task.pk}").json()
    assert "complete" not in claimed["allowed_actions"] and "unclaim" in claimed["allowed_actions"]
    assert "提交决定" not in text(web_client("supervisor1").get(f"/tasks/{task.pk}/"))


@pytest.mark.parametrize("username", ["market1", "window1", "supervisor1"])
def test_the_case_page_states_the_same_facts_in_the_api_and_on_the_screen(web_client, users, username):
    case = new_case(users)
    for department, reviewer, decision in (
        ("market_regulation", "market1", "approve"),
        ("tax", "tax1", "approve"),
        ("public_security", "police1", "reject"),
    ):
        services.human_task_complete(
            user=users[reviewer],
            task_id=open_task(case, department).pk,
            decision=decision,
            opinion=f"{department} 的意见",
        )
    body = api(users, username).get(f"/api/cases/{case.case_no}").json()
    page = text(web_client(username).get(f"/cases/{case.case_no}/"))

    assert body["status_label"] in page and body["outcome_label"] in page
    for row in body["departments"]:
        assert row["department_name"] in page and row["progress_label"] in page
        if row["decision_label"]:
            assert row["decision_label"] in page and row["opinion"] in page
    for event in body["events"]:
        assert event["label"] in page
    own = "market_regulation" if username == "market1" else None
    for lane in ("market_regulation", "tax", "public_security"):
        seen = own is None or lane == own
        assert (f"{lane} 的意见" in page) == seen and (f"{lane} 的意见" in str(body)) == seen
        result = next(r for r in body["results"] if r["department"] == lane)
        assert (result["opinion"] is not None) == seen  # the unified result masks the same way
    actions = set(body["allowed_actions"])
    # 办结 needs a proven delivery: the window is offered the handover (一窗通取), and the page shows its form
    assert "conclude" not in actions
    handover = 'action="/cases/' + case.case_no + "/handover/"
    assert ("hand_over" in actions) == (username == "window1") == (handover in page)
    assert body["delivery"]["where"] in page and str(body["trips"]["count"]) in page
    assert ("补发查询码" in page) == ("reissue_query_code" in actions)


def test_the_dashboards_overdue_list_is_the_apis_overdue_inbox(web_client, users, supervised):
    api_rows = api(users, "supervisor1").get("/api/tasks?overdue=true").json()["results"]
    page = web_client("supervisor1").get("/dashboard/")
    rows = rows_of(text(page))
    overdue = {open_task(supervised["yellow"], "tax").pk, open_task(supervised["red"], "tax").pk}
    assert overdue <= {r["id"] for r in api_rows}
    assert [r["id"] for r in api_rows] == list(rows)
    for row in api_rows:
        assert row["supervision"] in ("yellow", "red")
        assert row["supervision_label"] in rows[row["id"]] and row["case_no"] in rows[row["id"]]
    assert open_task(supervised["paused"], "tax").pk not in rows  # a paused clock is not overdue


# --------------------------------------------------------------------------- no statement per row


def _statements(call) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = call()
        assert response.status_code == 200
    return len(queries.captured_queries)


def test_the_inbox_costs_the_same_statements_for_one_task_or_many(web_client, users):
    new_case(users)
    screen, client = web_client("tax1"), api(users, "tax1")
    client.get("/api/tasks"), screen.get("/tasks/")  # warm the shared caches (halls, sessions)
    few = (_statements(lambda: client.get("/api/tasks")), _statements(lambda: screen.get("/tasks/")))
    for _ in range(4):
        case = new_case(users)
        services.human_task_claim(user=users["tax1"], task_id=open_task(case, "tax").pk)
    many = (_statements(lambda: client.get("/api/tasks")), _statements(lambda: screen.get("/tasks/")))
    assert many == few, (few, many)


def test_the_case_page_costs_the_same_statements_for_a_short_or_a_long_history(web_client, users):
    short = new_case(users)
    long = new_case(users)
    for department, reviewer in (("market_regulation", "market1"), ("tax", "tax1")):
        services.human_task_claim(user=users[reviewer], task_id=open_task(long, department).pk)
        services.human_task_complete(user=users[reviewer], task_id=open_task(long, department).pk, decision="approve")
    plain = new_case(users)  # no pause: its page does not read the pauses (case_facts.VIEW_NAMES)
    for case in (short, long):
        services.case_procedure_start(user=users["police1"], case_no=case.case_no, kind="hearing", reason="听证")
    for username in ("window1", "police1"):
        screen, client = web_client(username), api(users, username)
        screen.get("/")  # the session's first renewal (web/idle_sessions.py) is not the page's cost
        counts = [
            (
                _statements(lambda case=case, client=client: client.get(f"/api/cases/{case.case_no}")),
                _statements(lambda case=case, screen=screen: screen.get(f"/cases/{case.case_no}/")),
            )
            for case in (short, long, plain)
        ]
        assert counts[0] == counts[1], (username, counts)
        assert counts[2] == (counts[0][0] - 1, counts[0][1] - 1), (username, counts)
