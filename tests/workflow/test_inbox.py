"""Departments at work: inboxes, claims, reassignment and decisions with results."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.workflow.helpers import decide, open_and_accept, open_task
from workflow import selectors, services
from workflow.errors import NotFound, PermissionDenied, TaskClaimedByOther, ValidationFailed
from workflow.models import CaseEvent, HumanTask, Staff, StaffRole

pytestmark = pytest.mark.django_db


@pytest.fixture
def tax2(users, django_user_model):
    user = django_user_model.objects.create_user("tax2", password="x", first_name="税务 钱二")
    Staff.objects.create(user=user, role=StaffRole.REVIEWER, department_id="tax")
    return user


def test_the_inbox_filters_by_one_thing_and_assignee_and_counts_per_state(users):
    first, second = open_and_accept(users), open_and_accept(users)
    services.human_task_claim(user=users["tax1"], task_id=open_task(first, "tax").pk)
    decide(users, second, "tax")
    tax1 = users["tax1"]
    assert selectors.task_list(user=tax1).count() == 1
    assert [t.case_id for t in selectors.task_list(user=tax1, assignee="me")] == [first.pk]
    assert selectors.task_list(user=tax1, assignee="none").count() == 0
    assert selectors.task_list(user=tax1, one_thing="newborn").count() == 0
    assert selectors.task_counts(user=tax1) == {"open": 1, "completed": 1, "cancelled": 0}
    assert selectors.task_counts(user=users["supervisor1"])["open"] == 5  # the other departments' too


def test_a_claimed_task_is_decided_only_by_its_assignee(users, tax2):
    case = open_and_accept(users)
    task = open_task(case, "tax")
    services.human_task_claim(user=users["tax1"], task_id=task.pk)
    with pytest.raises(TaskClaimedByOther):
        services.human_task_claim(user=tax2, task_id=task.pk)
    with pytest.raises(TaskClaimedByOther):
        services.human_task_complete(user=tax2, task_id=task.pk, decision="approve")
    services.human_task_complete(user=users["tax1"], task_id=task.pk, decision="approve")
    assert HumanTask.objects.get(pk=task.pk).completed_by == users["tax1"]


def test_reassignment_needs_a_reason_and_a_reviewer_of_the_same_department(users, tax2):
    case = open_and_accept(users)
    task = open_task(case, "tax")
    services.human_task_claim(user=users["tax1"], task_id=task.pk)
    with pytest.raises(ValidationFailed) as no_reason:
        services.human_task_reassign(user=users["tax1"], task_id=task.pk, to_username="tax2", reason=" ")
    assert "reason" in no_reason.value.field_errors
    with pytest.raises(ValidationFailed) as wrong_department:
        services.human_task_reassign(user=users["tax1"], task_id=task.pk, to_username="market1", reason="出差")
    assert "to" in wrong_department.value.field_errors
    services.human_task_reassign(user=users["tax1"], task_id=task.pk, to_username="tax2", reason="出差，转同事办理")
    assert HumanTask.objects.get(pk=task.pk).assignee == tax2
    event = CaseEvent.objects.get(case=case, kind="task_reassigned")
    assert event.data["to"] == "tax2" and event.data["reason"] == "出差，转同事办理"


def test_unclaiming_is_for_the_assignee_or_a_supervisor(users, tax2):
    case = open_and_accept(users)
    task = open_task(case, "tax")
    services.human_task_claim(user=users["tax1"], task_id=task.pk)
    with pytest.raises(PermissionDenied):
        services.human_task_unclaim(user=tax2, task_id=task.pk)
    services.human_task_unclaim(user=users["supervisor1"], task_id=task.pk)
    assert HumanTask.objects.get(pk=task.pk).assignee is None


def test_another_departments_task_cannot_be_claimed_or_seen(users):
    case = open_and_accept(users)
    with pytest.raises(NotFound):
        services.human_task_claim(user=users["tax1"], task_id=open_task(case, "market_regulation").pk)
    with pytest.raises(NotFound):
        selectors.task_page(user=users["tax1"], task_id=open_task(case, "market_regulation").pk)


def test_the_task_view_puts_this_departments_fields_first_and_hides_other_opinions(users):
    case = open_and_accept(users)
    decide(users, case, "market_regulation", "need_correction")
    page = selectors.task_page(user=users["tax1"], task_id=open_task(case, "tax").pk)
    mine = [f.name for f in page.fields if f.needed_by_me]
    assert [f.name for f in page.fields][: len(mine)] == mine
    assert "invoice_needed" in mine and "seal_count" not in mine
    assert {m.code for m in page.materials} >= {"legal_rep_id_card"}
    assert {o.department: o.progress for o in page.other_departments} == {
        "market_regulation": "done",
        "public_security": "reviewing",
    }
    assert all(o.opinion is None and o.decision is None for o in page.other_departments)


def test_an_approval_records_the_items_result_and_refuses_nonsense(users):
    case = open_and_accept(users)
    task = open_task(case, "market_regulation")
    with pytest.raises(ValidationFailed) as wrong:
        services.human_task_complete(
            user=users["market1"],
            task_id=task.pk,
            decision="approve",
            result={"licence_no": "91110105MA01", "valid_from": "2026-12-01", "valid_to": "2026-01-01"},
        )
    assert "result.valid_to" in wrong.value.field_errors
    services.human_task_complete(
        user=users["market1"],
        task_id=task.pk,
        decision="approve",
        result={"licence_no": "91110105MA01ABCD2X", "valid_from": "2026-12-01"},
    )
    assert HumanTask.objects.get(pk=task.pk).result["licence_no"] == "91110105MA01ABCD2X"


def test_the_inbox_puts_the_earliest_due_first_and_filters_by_due_date(users):
    import datetime as dt

    first, second, third = (open_and_accept(users) for _ in range(3))
    HumanTask.objects.filter(case=first, lane="tax").update(due_date=dt.date(2026, 12, 10))
    HumanTask.objects.filter(case=second, lane="tax").update(due_date=dt.date(2026, 12, 1))
    HumanTask.objects.filter(case=third, lane="tax").update(due_date=None)
    order = [t.case_id for t in selectors.task_list(user=users["tax1"])]
    assert order == [second.pk, first.pk, third.pk]
    due_soon = selectors.task_list(user=users["tax1"], due_before=dt.date(2026, 12, 5))
    assert [t.case_id for t in due_soon] == [second.pk]


def test_recently_decided_lists_the_departments_decisions_newest_first_with_their_labels(users):
    first, second = open_and_accept(users), open_and_accept(users)
    decide(users, first, "tax")
    decide(users, second, "tax", decision="reject")
    rows = selectors.recent_completed_tasks(user=users["tax1"])
    assert [(r.case_no, r.decision, r.decision_label) for r in rows] == [
        (second.case_no, "reject", "不予许可"),
        (first.case_no, "approve", "准予"),
    ]
    assert rows[0].one_thing_name == first.one_thing.name and rows[0].completed_at is not None
    assert selectors.recent_completed_tasks(user=users["police1"]) == []  # another department's decisions: none


def test_the_inbox_counts_its_tasks_without_joining_what_its_rows_read(users):
    """The rows read their case's, one-thing's, department's and users' columns as values; the paginator's count
    of a supervisor's open tasks joins none of them (at a year's size that join cost more than the page)."""
    open_and_accept(users)
    rows = selectors.inbox(user=users["supervisor1"])
    with CaptureQueriesContext(connection) as counted:
        assert rows.count() == 3  # the departments' open tasks
    assert [" JOIN " in query["sql"] for query in counted.captured_queries] == [False]
    assert {row.case_no for row in rows[:20]} == {row.case_no for row in rows}
