"""Several OS processes act on the same cases at the same instant: nothing is lost, nothing happens twice."""

from __future__ import annotations

import multiprocessing as mp
import traceback

import pytest
from django.db import connections

from tests.conftest import DEPARTMENTS, REVIEWER_OF
from tests.workflow.helpers import open_and_accept, open_case, restored
from workflow import services
from workflow.errors import TaskAlreadyCompleted
from workflow.lifecycle import CaseStatus
from workflow.models import Case, CaseEvent, HumanTask, HumanTaskState, Staff, StaffRole

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
CONTEXT = mp.get_context("fork")


def _run_in_processes(target, args_list):
    """Fork one process per args tuple; each gets (barrier, results, *args). Returns the results."""
    connections.close_all()  # never share the parent's database socket with a child
    barrier, results = CONTEXT.Barrier(len(args_list)), CONTEXT.Queue()
    processes = [CONTEXT.Process(target=_child, args=(target, barrier, results, *args)) for args in args_list]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=120)
        assert process.exitcode == 0, f"child exited with {process.exitcode}"
    return [results.get(timeout=5) for _ in processes]


def _child(target, barrier, results, *args):
    connections.close_all()
    try:
        results.put(target(barrier, *args))
    except BaseException:
        results.put(("crashed", traceback.format_exc()))
    finally:
        connections.close_all()


def _complete_department_tasks(barrier, username, department, case_ids):
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.get(username=username)
    outcomes = []
    for case_id in case_ids:
        task_id = HumanTask.objects.get(case_id=case_id, lane=department, state=HumanTaskState.OPEN).pk
        barrier.wait(timeout=60)  # all departments decide this case at the same instant
        services.human_task_complete(user=user, task_id=task_id, decision="approve")
        outcomes.append("ok")
    return outcomes


def test_parallel_departments_deciding_at_the_same_instant_lose_nothing_and_join_once(users):
    cases = [open_and_accept(users) for _ in range(4)]
    case_ids = [case.pk for case in cases]
    results = _run_in_processes(
        _complete_department_tasks,
        [(REVIEWER_OF[department], department, case_ids) for department in DEPARTMENTS],
    )
    assert results == [["ok"] * len(cases)] * len(DEPARTMENTS)
    for case in cases:
        case = Case.objects.get(pk=case.pk)
        assert case.status == CaseStatus.APPROVED, case.case_no
        assert case.version == 1 + len(DEPARTMENTS)  # one save for the acceptance, one per decision
        decided = HumanTask.objects.filter(case=case, department__isnull=False)
        assert sorted(decided.values_list("lane", "state", "decision")) == [
            (department, HumanTaskState.COMPLETED, "approve") for department in DEPARTMENTS
        ]
        assert CaseEvent.objects.filter(case=case, kind="approve").count() == 1
        workflow = restored(case)._workflow
        joins = [t for t in workflow.get_tasks() if t.task_spec.bpmn_id == "review_join" and t.state == 64]
        assert len(joins) == 1  # the join fired exactly once (64 = COMPLETED)


def _complete_one_task(barrier, username, task_id):
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.get(username=username)
    barrier.wait(timeout=60)
    try:
        services.human_task_complete(user=user, task_id=task_id, decision="approve")
        return "won"
    except TaskAlreadyCompleted:
        return "409"


def test_two_reviewers_deciding_the_same_task_at_once_one_wins_the_other_gets_a_conflict(users, django_user_model):
    second = django_user_model.objects.create_user("tax2", password="x")
    Staff.objects.create(user=second, role=StaffRole.REVIEWER, department_id="tax")
    case = open_and_accept(users)
    task_id = HumanTask.objects.get(case=case, lane="tax", state=HumanTaskState.OPEN).pk
    results = _run_in_processes(_complete_one_task, [("tax1", task_id), ("tax2", task_id)])
    assert sorted(results) == ["409", "won"]
    assert CaseEvent.objects.filter(case=case, kind="task_completed", department="tax").count() == 1


def _open_cases(barrier, count):
    from django.contrib.auth import get_user_model

    users = {"window1": get_user_model().objects.get(username="window1")}
    barrier.wait(timeout=60)
    return [open_case(users).case.case_no for _ in range(count)]


def test_case_numbers_drawn_concurrently_are_unique_and_gapless(users):
    results = _run_in_processes(_open_cases, [(5,)] * 4)
    numbers = [number for batch in results for number in batch]
    assert len(set(numbers)) == 20
    assert sorted(int(n[-6:]) for n in numbers) == list(range(1, 21))


def _claim(barrier, username, task_id):
    from django.contrib.auth import get_user_model

    from workflow.errors import TaskClaimedByOther

    user = get_user_model().objects.get(username=username)
    barrier.wait(timeout=60)
    try:
        services.human_task_claim(user=user, task_id=task_id)
        return (username, "won")
    except TaskClaimedByOther:
        return (username, "409")


def test_two_reviewers_claiming_the_same_task_at_once_one_wins_the_other_gets_a_conflict(users, django_user_model):
    second = django_user_model.objects.create_user("tax2", password="x")
    Staff.objects.create(user=second, role=StaffRole.REVIEWER, department_id="tax")
    case = open_and_accept(users)
    task_id = HumanTask.objects.get(case=case, lane="tax", state=HumanTaskState.OPEN).pk
    results = dict(_run_in_processes(_claim, [("tax1", task_id), ("tax2", task_id)]))
    assert sorted(results.values()) == ["409", "won"]
    [winner] = [username for username, outcome in results.items() if outcome == "won"]
    assert HumanTask.objects.get(pk=task_id).assignee.username == winner
    assert CaseEvent.objects.filter(case=case, kind="task_claimed").count() == 1


def test_a_review_that_waited_for_the_case_while_its_task_was_decided_gets_a_conflict(users, django_user_model):
    """The review's one statement reads its task from the snapshot taken before it waited for the case's lock;
    the engine's state, read as locked, tells that the task was decided meanwhile (409, nothing written twice)."""
    import threading

    from django.db import transaction

    from tests.workflow.test_clock_worker import wait_for_a_lock_waiter

    second = django_user_model.objects.create_user("tax2", password="x")
    Staff.objects.create(user=second, role=StaffRole.REVIEWER, department_id="tax")
    case = open_and_accept(users)
    task_id = HumanTask.objects.get(case=case, lane="tax", state=HumanTaskState.OPEN).pk
    decided, release, outcome = threading.Event(), threading.Event(), {}

    def first_reviewer():  # decides, then holds the case's lock until released
        try:
            with transaction.atomic():
                services.human_task_complete(user=users["tax1"], task_id=task_id, decision="approve")
                decided.set()
                release.wait(timeout=60)
        finally:
            connections.close_all()

    def second_reviewer():
        try:
            services.human_task_complete(user=second, task_id=task_id, decision="reject", opinion="材料不全")
            outcome["result"] = "won"
        except TaskAlreadyCompleted:
            outcome["result"] = "409"
        finally:
            connections.close_all()

    holder = threading.Thread(target=first_reviewer)
    holder.start()
    assert decided.wait(timeout=30)
    waiter = threading.Thread(target=second_reviewer)
    waiter.start()
    try:
        wait_for_a_lock_waiter("the second review to wait for the case")
    finally:
        release.set()
        holder.join(timeout=30)
    waiter.join(timeout=30)
    assert outcome == {"result": "409"}
    task = HumanTask.objects.get(pk=task_id)
    assert (task.state, task.decision, task.completed_by_id) == (HumanTaskState.COMPLETED, "approve", users["tax1"].pk)
    assert CaseEvent.objects.filter(case=case, kind="task_completed", department="tax").count() == 1
