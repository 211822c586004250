"""One permission rule per action: what ``allowed_actions`` offers is exactly what the services accept — for every
staff member, on tasks and cases in several states. And the required-materials rule of acceptance lives in the
service."""

from __future__ import annotations

import pytest
from django.db import transaction

from tests.conftest import APPLICANT, ENTERPRISE_FORM, hand_over, handed_in
from tests.workflow.helpers import decide, open_and_accept, open_case, open_task
from workflow import selectors, services
from workflow.errors import DomainError, ValidationFailed
from workflow.models import SPECIAL_PROCEDURES, Case, CaseEvent, ClockPause, Staff
from workflow.selectors import Action, Viewer

pytestmark = pytest.mark.django_db

STAFF = ("window1", "window2", "market1", "tax1", "tax2", "police1", "supervisor1")


@pytest.fixture
def tax2(users, django_user_model):
    user = django_user_model.objects.create_user("tax2", first_name="税务 王二")
    Staff.objects.create(user=user, role="reviewer", department_id="tax")
    users["tax2"] = user
    return user


def _accepted_by_service(call) -> bool:
    """Whether the service does it (rolled back either way)."""
    try:
        with transaction.atomic():
            call()
            raise _RollBack
    except _RollBack:
        return True
    except DomainError:
        return False


class _RollBack(Exception):
    pass


TASK_CALLS = {
    Action.CLAIM: lambda user, task: services.human_task_claim(user=user, task_id=task.pk),
    Action.UNCLAIM: lambda user, task: services.human_task_unclaim(user=user, task_id=task.pk),
    Action.COMPLETE: lambda user, task: services.human_task_complete(user=user, task_id=task.pk, decision="approve"),
    Action.REASSIGN: lambda user, task: services.human_task_reassign(
        user=user, task_id=task.pk, to_username="tax1" if user.username != "tax1" else "tax2", reason="请假"
    ),
}


@pytest.mark.parametrize("claimed_by", [None, "tax1", "tax2"])
def test_the_task_actions_offered_are_the_ones_the_services_accept(users, tax2, claimed_by):
    case = open_and_accept(users)
    task = open_task(case, "tax")
    if claimed_by:
        services.human_task_claim(user=users[claimed_by], task_id=task.pk)
    for username in STAFF:
        if username not in users:
            continue
        user = users[username]
        task.refresh_from_db()
        try:
            row = selectors.task_row_get(user=user, task_id=task.pk)
        except DomainError:
            row = None  # not visible to them: every action is refused
        offered = set(row.allowed_actions) if row else set()
        for action, call in TASK_CALLS.items():
            done = _accepted_by_service(lambda call=call, user=user: call(user, task))
            assert (action in offered) == done, (username, claimed_by, action, offered)


CASE_CALLS = {
    Action.ACCEPT: lambda user, case: services.case_accept(user=user, case_no=case.case_no, materials=handed_in()),
    Action.REFUSE: lambda user, case: services.case_refuse(user=user, case_no=case.case_no, reasons="不符合条件"),
    Action.CONCLUDE: lambda user, case: services.case_conclude(user=user, case_no=case.case_no),
    Action.HAND_OVER: lambda user, case: hand_over(user, case.case_no),
    Action.WITHDRAW: lambda user, case: services.case_withdraw(case_no=case.case_no, reason="不办了", actor=user),
    Action.REISSUE_QUERY_CODE: lambda user, case: services.case_query_code_reissue(user=user, case_no=case.case_no),
    Action.START_PROCEDURE: lambda user, case: services.case_procedure_start(
        user=user, case_no=case.case_no, kind="hearing", reason="听证"
    ),
    Action.REQUEST_EXTENSION: lambda user, case: services.case_extension_request(
        user=user, case_no=case.case_no, days=1, reason="需要现场核查"
    ),
    Action.END_PROCEDURE: lambda user, case: services.case_procedure_end(
        user=user, case_no=case.case_no, pause_id=_running_procedure_id(case)
    ),
}


def _running_procedure_id(case) -> int:
    pause = ClockPause.objects.filter(case=case, ended_at=None, kind__in=SPECIAL_PROCEDURES).first()
    return pause.pk if pause else 0


@pytest.mark.parametrize("state", ["received", "in_review", "hearing", "approved", "concluded"])
def test_the_case_actions_offered_are_the_ones_the_services_accept(users, state):
    case = open_case(users).case if state == "received" else open_and_accept(users)
    if state == "hearing":  # a procedure is running: only then is end_procedure offered
        services.case_procedure_start(user=users["market1"], case_no=case.case_no, kind="testing", reason="检测")
    if state in ("approved", "concluded"):
        for department in ("market_regulation", "public_security", "tax"):
            decide(users, case, department)
    if state == "concluded":
        hand_over(users["window1"], case.case_no)  # the proof of delivery concludes it
    case = Case.objects.get(pk=case.pk)
    for username in ("window1", "market1", "police1", "supervisor1"):
        user = users[username]
        try:
            view = selectors.case_view(user=user, case=selectors.case_get(user=user, case_no=case.case_no))
            offered = set(view.allowed_actions)
        except DomainError:
            offered = set()
        for action, call in CASE_CALLS.items():
            done = _accepted_by_service(lambda call=call, user=user: call(user, Case.objects.get(pk=case.pk)))
            assert (action in offered) == done, (username, state, action, offered)


def test_acceptance_needs_every_required_material_and_records_what_was_handed_in(users):
    opened = services.case_open(
        user=users["window1"], one_thing_key="enterprise_start", applicant=APPLICANT, form=dict(ENTERPRISE_FORM)
    )
    case_no = opened.case.case_no
    with pytest.raises(ValidationFailed) as missing:
        services.case_accept(user=users["window1"], case_no=case_no, materials=["premises_proof"])
    assert "公司章程" in missing.value.field_errors["materials"][0]
    with pytest.raises(ValidationFailed) as unknown:
        services.case_accept(user=users["window1"], case_no=case_no, materials=["no_such_material"])
    assert "no_such_material" in unknown.value.field_errors["materials"][0]
    assert Case.objects.get(case_no=case_no).status == "received"  # nothing half-done

    services.case_accept(user=users["window1"], case_no=case_no, materials=handed_in())
    accepted = CaseEvent.objects.get(case__case_no=case_no, kind="task_completed", department="window")
    assert set(accepted.data["materials"]) == set(handed_in())
    view = selectors.case_view(user=users["window1"], case=selectors.case_get(user=users["window1"], case_no=case_no))
    assert set(view.materials_received) == set(handed_in())


def test_materials_recorded_at_opening_count_at_acceptance(users):
    opened = open_case(users)  # everything handed in at the window, recorded with the opening
    services.case_accept(user=users["window1"], case_no=opened.case.case_no)
    assert Case.objects.get(pk=opened.case.pk).status == "in_review"


def test_the_opinion_masking_rule_is_one():
    viewer = Viewer(user=None, staff=Staff(role="reviewer", department_id="tax"))
    assert viewer.sees_decisions_of("tax")
    assert not viewer.sees_decisions_of("market_regulation") and not viewer.sees_decisions_of("window")
    assert Viewer(user=None, staff=Staff(role="window")).sees_decisions_of("market_regulation")
    assert Viewer.applicant().sees_decisions_of("market_regulation")
