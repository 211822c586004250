"""Every read, scoped to who is asking."""

from __future__ import annotations

from django.db.models import QuerySet

from . import query_codes
from .access import role_of, staff_of
from .errors import NotFound, PermissionDenied
from .models import Case, CaseEvent, HumanTask, HumanTaskState, OneThing, StaffRole

_CASE_LIGHT = ("process_state", "process_version__compiled", "process_version__bpmn_xml")


def one_thing_list() -> QuerySet[OneThing]:
    return OneThing.objects.filter(is_active=True, current_version__isnull=False).select_related("lead_department")


def task_list(*, user, state: str | None = HumanTaskState.OPEN) -> QuerySet[HumanTask]:
    """A reviewer's department inbox; window staff see the window's tasks; supervisors see all."""
    staff = staff_of(user)
    if staff is None:
        raise PermissionDenied()
    tasks = HumanTask.objects.select_related("case", "case__one_thing", "department").defer(
        *(f"case__{name}" for name in ("process_state", "form_data"))
    )
    if staff.role == StaffRole.REVIEWER:
        tasks = tasks.filter(department_id=staff.department_id)
    elif staff.role == StaffRole.WINDOW:
        tasks = tasks.filter(lane="window")
    if state:
        tasks = tasks.filter(state=state)
    return tasks.order_by("created_at", "id")


def task_get(*, user, task_id: int) -> HumanTask:
    task = task_list(user=user, state=None).filter(pk=task_id).first()
    if task is None:
        raise NotFound("未找到该任务")
    return task


def case_get(*, user, case_no: str) -> Case:
    """A case for staff: the window and supervisors see every case, a reviewer only cases their
    department has a task on."""
    role = role_of(user)
    if role is None:
        raise PermissionDenied()
    cases = Case.objects.select_related("one_thing", "process_version").defer(*_CASE_LIGHT)
    if role == StaffRole.REVIEWER:
        cases = cases.filter(tasks__department_id=staff_of(user).department_id).distinct()
    case = cases.filter(case_no=case_no).first()
    if case is None:
        raise NotFound("未找到该办件")
    return case


def case_for_applicant(*, case_no: str, query_code: str) -> Case:
    """The case if the query code matches. Unknown case and wrong code are the same answer at the same cost."""
    case = (
        Case.objects.select_related("one_thing", "process_version").defer(*_CASE_LIGHT).filter(case_no=case_no).first()
    )
    stored = case.query_code_hash if case is not None else query_codes.DUMMY_DIGEST
    if not query_codes.matches(query_code, stored) or case is None:
        raise NotFound("办件编号或查询码不正确")
    return case


def case_tasks(case: Case) -> list[HumanTask]:
    return list(case.tasks.select_related("department").order_by("created_at", "id"))


def case_events(case: Case) -> list[CaseEvent]:
    return list(case.events.order_by("created_at", "id"))
