"""Every read, scoped to who is asking."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, F, QuerySet

from . import query_codes
from .access import role_of, staff_of
from .errors import NotFound, PermissionDenied
from .models import Case, CaseEvent, HumanTask, HumanTaskState, OneThing, StaffRole

_CASE_LIGHT = ("process_state", "process_version__compiled", "process_version__bpmn_xml")


def one_thing_list() -> QuerySet[OneThing]:
    return OneThing.objects.filter(is_active=True, current_version__isnull=False).select_related("lead_department")


def _visible_tasks(user) -> QuerySet[HumanTask]:
    staff = staff_of(user)
    if staff is None:
        raise PermissionDenied()
    tasks = HumanTask.objects.all()
    if staff.role == StaffRole.REVIEWER:
        tasks = tasks.filter(department_id=staff.department_id)
    elif staff.role == StaffRole.WINDOW:
        tasks = tasks.filter(lane="window")
    return tasks


def task_list(
    *,
    user,
    state: str | None = HumanTaskState.OPEN,
    one_thing: str | None = None,
    assignee: str | None = None,
    due_before: dt.date | None = None,
    due_after: dt.date | None = None,
) -> QuerySet[HumanTask]:
    """A reviewer's department inbox, the earliest due first (tasks without a due date last); window staff
    see the window's tasks; supervisors see all.

    ``assignee``: "me" (claimed by me), "none" (unclaimed) or a username; ``due_before`` / ``due_after``:
    inclusive bounds on the task's due date.
    """
    tasks = (
        _visible_tasks(user)
        .select_related("case", "case__one_thing", "department", "assignee")
        .defer(*(f"case__{name}" for name in ("process_state", "form_data")))
    )
    if state:
        tasks = tasks.filter(state=state)
    if one_thing:
        tasks = tasks.filter(case__one_thing__key=one_thing)
    if assignee == "me":
        tasks = tasks.filter(assignee=user)
    elif assignee == "none":
        tasks = tasks.filter(assignee__isnull=True)
    elif assignee:
        tasks = tasks.filter(assignee__username=assignee)
    if due_before:
        tasks = tasks.filter(due_date__lte=due_before)
    if due_after:
        tasks = tasks.filter(due_date__gte=due_after)
    return tasks.order_by(F("due_date").asc(nulls_last=True), "created_at", "id")


def task_counts(*, user, one_thing: str | None = None) -> dict[str, int]:
    """How many of my visible tasks are in each state (for the inbox tabs)."""
    tasks = _visible_tasks(user)
    if one_thing:
        tasks = tasks.filter(case__one_thing__key=one_thing)
    counts = dict.fromkeys(HumanTaskState.values, 0)
    counts.update(dict(tasks.values("state").annotate(n=Count("id")).values_list("state", "n")))
    return counts


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


def task_view(*, user, task_id: int) -> dict:
    """Everything a reviewer needs on one screen: the form with this department's fields first, the
    materials it needs, the other departments' progress (state only, never their opinions), the timeline."""
    task = task_get(user=user, task_id=task_id)
    case = Case.objects.select_related("one_thing").defer(*_CASE_LIGHT).get(pk=task.case_id)
    merged = case.one_thing.merged_form or {}
    properties = (merged.get("schema") or {}).get("properties", {})
    provenance = merged.get("provenance", {})
    mine = [name for name in properties if any(p["department"] == task.lane for p in provenance.get(name, []))]
    order = mine + [name for name in properties if name not in mine]
    fields = [
        {
            "name": name,
            "title": properties[name].get("title", name),
            "value": case.form_data.get(name),
            "needed_by_me": name in mine,
            "needed_by": sorted({p["department"] for p in provenance.get(name, [])}),
        }
        for name in order
        if name in case.form_data or name in mine
    ]
    materials = [
        m for m in merged.get("materials", []) if any(n.get("department") == task.lane for n in m.get("needed_by", []))
    ]
    others = [
        {"department": t.lane, "department_name": t.department.name, "task": t.name, "state": t.state}
        for t in case_tasks(case)
        if t.department_id and t.lane != task.lane
    ]
    return {"task": task, "case": case, "fields": fields, "materials": materials, "others": others}
