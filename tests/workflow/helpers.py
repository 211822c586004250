"""Driving cases through the service layer, the way the API does."""

from __future__ import annotations

import bpmn
from tests.conftest import APPLICANT, ENTERPRISE_FORM, REVIEWER_OF, handed_in
from workflow import services
from workflow.models import Case, HumanTask, HumanTaskState
from workflow.services.engine import model_for


def open_case(users, **form_changes):
    return services.case_open(
        user=users["window1"],
        one_thing_key="enterprise_start",
        applicant=APPLICANT,
        form={**ENTERPRISE_FORM, **form_changes},
        materials=handed_in(),
    )


def open_and_accept(users) -> Case:
    opened = open_case(users)
    services.case_accept(user=users["window1"], case_no=opened.case.case_no, materials=handed_in())
    return Case.objects.get(pk=opened.case.pk)


def open_task(case: Case, department: str) -> HumanTask:
    return HumanTask.objects.get(case=case, lane=department, state=HumanTaskState.OPEN)


def decide(users, case: Case, department: str, decision: str = "approve"):
    extra = {}
    if decision != "approve":
        extra["opinion"] = "请补充材料" if decision == "need_correction" else "不符合法定条件"
    if decision == "need_correction":
        extra["corrections"] = [{"item": "address", "reason": "住所证明不清晰"}]
    return services.human_task_complete(
        user=users[REVIEWER_OF[department]], task_id=open_task(case, department).pk, decision=decision, **extra
    )


def restored(case: Case) -> bpmn.ProcessInstance:
    """The case's process instance as stored in the database right now."""
    case = Case.objects.select_related("process_version").get(pk=case.pk)
    return bpmn.ProcessInstance.restore(model_for(case.process_version), case.process_state)


def open_lanes(case: Case) -> list[str]:
    return sorted(HumanTask.objects.filter(case=case, state=HumanTaskState.OPEN).values_list("lane", flat=True))
