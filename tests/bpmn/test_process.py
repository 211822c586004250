"""Scenarios on the shipped enterprise_start model.

Every step goes through a save/restore round trip (see ``Case`` in conftest.py), and each round trip
asserts that dump → restore → dump gives identical text, so these tests also cover persistence.
"""

from __future__ import annotations

import itertools
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bpmn import ProcessInstance, TaskNotReady
from bpmn.sandbox import SAFE_ENGINE

DEPARTMENTS = ("market_regulation", "public_security", "tax")
REVIEW_TASKS = {f"review_{department}" for department in DEPARTMENTS}
ORDERS = list(itertools.permutations(DEPARTMENTS))
PAIRS = list(itertools.combinations(DEPARTMENTS, 2))


def order_id(order) -> str:
    return ">".join(order)


# --- the happy path -------------------------------------------------------------------------------


def test_window_task_is_the_only_ready_task_after_start(new_case):
    case = new_case()

    task = case.only_ready()
    assert (task.element_id, task.lane) == ("window_accept", "window")
    assert not case.is_completed
    assert case.data["outcome"] is None


def test_accepting_opens_the_three_department_reviews_at_once(accepted_case):
    case = accepted_case()

    assert case.ready_lanes() == sorted(DEPARTMENTS)
    assert {task.element_id for task in case.ready()} == REVIEW_TASKS
    assert case.data["review_round"] == 1


@pytest.mark.parametrize("order", ORDERS, ids=order_id)
def test_every_completion_order_of_the_departments_concludes_approved(accepted_case, order):
    case = accepted_case()

    for position, department in enumerate(order):
        case.review(department, "approve")
        if position < len(order) - 1:
            assert not case.is_completed
            assert case.ready_departments() == set(order[position + 1 :])

    assert case.is_completed
    assert case.outcome == "approved"
    assert case.opened_element_ids() == sorted(REVIEW_TASKS | {"window_accept"})
    assert case.data["reviews"] == dict.fromkeys(DEPARTMENTS, "approve")
    assert case.data["review_round"] == 1
    assert case.completed_count("review_join") == 1
    assert case.ready() == []


# --- corrections ----------------------------------------------------------------------------------


@pytest.mark.parametrize("department", DEPARTMENTS)
def test_correction_by_one_department_reopens_only_that_department(accepted_case, department):
    case = accepted_case()
    case.review_all({d: "need_correction" if d == department else "approve" for d in DEPARTMENTS})

    task = case.only_ready()
    assert (task.element_id, task.lane) == ("correct_application", "applicant")
    assert case.data["reviews"][department] == "need_correction"

    corrected_form = {"company_name": "测试有限公司", "capital": 200, "seal_count": 2}
    case.correct(form=corrected_form, correction={"items": [department], "note": "已补充材料"})

    assert case.ready_lanes() == [department]
    assert case.only_ready().element_id == f"review_{department}"
    assert case.data["review_round"] == 2

    case.review(department, "approve")

    assert case.is_completed
    assert case.outcome == "approved"
    assert case.data["review_round"] == 2
    assert case.data["form"] == corrected_form
    assert case.data["correction"] == {"items": [department], "note": "已补充材料"}
    assert case.data["reviews"] == dict.fromkeys(DEPARTMENTS, "approve")
    assert case.completed_count("review_join") == 2
    reopened = [task.element_id for task in case.opened.values()].count(f"review_{department}")
    assert reopened == 2
    assert [task.element_id for task in case.opened.values()].count("correct_application") == 1


@pytest.mark.parametrize("order", ORDERS, ids=order_id)
@pytest.mark.parametrize("pair", PAIRS, ids=order_id)
def test_two_corrections_reopen_those_two_and_a_third_round_only_the_one_that_asked_again(accepted_case, pair, order):
    case = accepted_case()
    case.review_all({d: "need_correction" if d in pair else "approve" for d in order})
    case.correct()

    assert case.ready_departments() == set(pair)
    assert len(case.ready()) == 2

    again, satisfied = pair
    case.review_all({d: "need_correction" if d == again else "approve" for d in order if d in pair})
    case.correct()

    assert case.ready_lanes() == [again]
    assert case.data["review_round"] == 3

    case.review(again, "approve")

    assert case.outcome == "approved"
    assert case.data["review_round"] == 3
    assert case.completed_count("review_join") == 3
    opened = [task.element_id for task in case.opened.values()]
    assert opened.count(f"review_{again}") == 3
    assert opened.count(f"review_{satisfied}") == 2
    assert opened.count("correct_application") == 2


# --- rejection and refusal ------------------------------------------------------------------------


@pytest.mark.parametrize("others", ["approve", "need_correction"])
@pytest.mark.parametrize("rejecting", DEPARTMENTS)
def test_a_rejection_concludes_rejected_without_a_correction_round(accepted_case, rejecting, others):
    case = accepted_case()
    case.review(rejecting, "reject")

    # A rejection does not cut the round short: the join still waits for the other departments.
    assert not case.is_completed
    assert case.ready_departments() == set(DEPARTMENTS) - {rejecting}

    case.review_all({d: others for d in DEPARTMENTS if d != rejecting})

    assert case.is_completed
    assert case.outcome == "rejected"
    assert "correct_application" not in case.opened_element_ids()
    assert case.completed_count("review_join") == 1
    assert case.data["review_round"] == 1


@pytest.mark.parametrize("rejecting", DEPARTMENTS)
def test_a_rejection_in_the_correction_round_concludes_rejected(accepted_case, rejecting):
    case = accepted_case()
    case.review_all({d: "need_correction" if d == rejecting else "approve" for d in DEPARTMENTS})
    assert case.completed_count("review_join") == 1
    case.correct()

    case.review(rejecting, "reject")

    assert case.outcome == "rejected"
    assert case.completed_count("review_join") == 2
    assert case.data["review_round"] == 2
    assert case.data["reviews"] == {**dict.fromkeys(DEPARTMENTS, "approve"), rejecting: "reject"}


def test_refusal_at_the_window_concludes_not_accepted_without_department_tasks(new_case):
    case = new_case()
    case.refuse("缺少股东身份证明")

    assert case.is_completed
    assert case.outcome == "not_accepted"
    assert case.opened_element_ids() == ["window_accept"]
    assert case.data["intake"] == {"decision": "refuse", "reasons": "缺少股东身份证明"}
    assert case.data["review_round"] == 0
    assert case.completed_count("review_join") == 0


# --- refusing bad task ids ------------------------------------------------------------------------


def test_completing_an_already_completed_task_raises_task_not_ready(new_case):
    case = new_case()
    window_task = case.only_ready()
    case.accept()
    before = case.instance.dump()

    with pytest.raises(TaskNotReady):
        case.instance.complete(window_task.id, {"intake": {"decision": "refuse"}})

    assert case.instance.dump() == before


@pytest.mark.parametrize(
    "task_id",
    [str(uuid.uuid4()), "not-a-task-id", "", "0" * 32],
    ids=["random-uuid", "garbage", "empty", "zeros"],
)
def test_completing_an_unknown_task_raises_task_not_ready(new_case, task_id):
    case = new_case()
    before = case.instance.dump()

    with pytest.raises(TaskNotReady):
        case.instance.complete(task_id, {"intake": {"decision": "accept"}})

    assert case.instance.dump() == before


def test_completing_a_task_that_is_not_a_human_task_raises_task_not_ready(accepted_case):
    case = accepted_case()
    case.review("tax", "approve")
    waiting_join = next(task for task in case.instance._workflow.get_tasks() if task.task_spec.bpmn_id == "review_join")

    with pytest.raises(TaskNotReady):
        case.instance.complete(str(waiting_join.id), {})


def test_a_task_of_a_concluded_case_is_not_ready(new_case):
    case = new_case()
    window_task = case.only_ready()
    case.refuse()

    with pytest.raises(TaskNotReady):
        case.instance.complete(window_task.id, {"intake": {"decision": "accept"}})


# --- sandbox --------------------------------------------------------------------------------------


def test_started_and_restored_instances_run_under_the_sandbox(enterprise_model, new_case):
    case = new_case()
    assert case.instance._workflow.script_engine is SAFE_ENGINE  # restored by Case after start

    started = ProcessInstance.start(enterprise_model, case.data)
    restored = ProcessInstance.restore(enterprise_model, started.dump())

    assert started._workflow.script_engine is SAFE_ENGINE
    assert restored._workflow.script_engine is SAFE_ENGINE


# --- property -------------------------------------------------------------------------------------

DECISIONS = st.sampled_from(["approve", "need_correction", "reject"])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_random_review_rounds_either_conclude_or_wait_for_exactly_the_unapproved(accepted_case, data):
    case = accepted_case()
    approved: set[str] = set()
    reviews: dict[str, str] = {}

    for round_no in range(1, 5):
        open_departments = set(DEPARTMENTS) - approved
        assert case.ready_departments() == open_departments
        assert {task.lane for task in case.ready()} == open_departments  # nothing else is ready
        assert case.data["review_round"] == round_no

        order = data.draw(st.permutations(sorted(open_departments)), label=f"round {round_no} order")
        for position, department in enumerate(order):
            decision = data.draw(DECISIONS, label=f"round {round_no} {department}")
            case.review(department, decision)
            reviews[department] = decision
            if decision == "approve":
                approved.add(department)
            assert not case.ready_departments() & approved, "a department that approved was asked again"
            if position < len(order) - 1:
                assert not case.is_completed
                assert case.ready_departments() == set(order[position + 1 :])

        assert case.completed_count("review_join") == round_no
        assert case.data["reviews"] == reviews
        if "reject" in reviews.values():
            assert case.is_completed
            assert case.outcome == "rejected"
            return
        if approved == set(DEPARTMENTS):
            assert case.is_completed
            assert case.outcome == "approved"
            return
        assert not case.is_completed
        task = case.only_ready()
        assert (task.element_id, task.lane) == ("correct_application", "applicant")

        case.correct(correction={"round": round_no})
        reviews = {department: "approve" for department in approved}
        assert case.data["reviews"] == reviews, "the correction round should forget non-approvals"

    # Four rounds without a conclusion: the case waits for exactly the departments still open.
    assert not case.is_completed
    assert case.ready_departments() == set(DEPARTMENTS) - approved
    assert case.data["review_round"] == 5


def test_a_tasks_single_value_is_read_as_its_data_holds_it_and_is_a_copy(new_case):
    instance = new_case().instance
    task = instance.ready_tasks()[0]
    data = instance.task_data(task.id)
    assert instance.task_value(task.id, "form") == data["form"] and instance.task_value(task.id, "absent", 7) == 7
    instance.task_value(task.id, "form")["changed"] = True  # a copy: the instance's data stays as it was
    assert "changed" not in instance.task_data(task.id)["form"]
    with pytest.raises(TaskNotReady):
        instance.task_value("not-a-task", "form")
