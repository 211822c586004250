"""The task page's and the case page's extra panels (转办, the clock, 特别程序, 延期, 撤回, 查询码), each an
inclusion tag so that the pages include them with one line and their views stay as they are."""

from __future__ import annotations

from django import template
from django_fsm import can_proceed

from workflow import clock, selectors
from workflow.access import staff_of
from workflow.lifecycle import CaseStatus
from workflow.models import SPECIAL_PROCEDURES, ExtensionRequestState, HumanTaskState, StaffRole

from .. import queries
from ..views.clock import PROCEDURE_CHOICES
from ..views.reassign import MAY_REASSIGN

register = template.Library()

EXTENDABLE = (CaseStatus.IN_REVIEW, CaseStatus.CORRECTION_REQUIRED)


def _clock(case) -> dict:
    """The case's clock for the panels, pauses and requests with department names."""
    names = queries.department_names()
    data = clock.case_clock(case, selectors.case_tasks(case))
    pauses = [{**p, "department_name": names.get(p["department"], "综合窗口")} for p in data["pauses"]]
    requests = selectors.case_extension_requests(case)
    return {
        **data,
        "pauses": pauses,
        "open_procedures": [p for p in pauses if p["ended_at"] is None and p["kind"] in SPECIAL_PROCEDURES],
        "requests": requests,
        "pending_request": next((r for r in requests if r.state == ExtensionRequestState.PENDING), None),
    }


def _base(context) -> dict:
    request = context["request"]
    return {"request": request, "user": request.user, "csrf_token": context.get("csrf_token"), "next": request.path}


@register.inclusion_tag("web/_task_tools.html", takes_context=True)
def task_tools(context, task, case):
    """On the task page: 转办 for whoever may hand the task on, and the clock with the department's own
    special procedures and extension requests (a reviewer of the task's department while the task is open)."""
    out = _base(context)
    staff = staff_of(out["user"])
    is_open = task.state == HumanTaskState.OPEN
    mine = staff is not None and staff.role == StaffRole.REVIEWER and staff.department_id == task.lane
    may_reassign = (
        is_open
        and staff is not None
        and staff.role in MAY_REASSIGN
        and (staff.role != StaffRole.REVIEWER or (mine and task.assignee_id in (None, out["user"].pk)))
    )
    candidates = queries.reassign_candidates(task, exclude=(out["user"].pk, task.assignee_id)) if may_reassign else []
    acts = mine and is_open
    data = _clock(case)
    return {
        **out,
        "task": task,
        "case": case,
        "clock": data,
        "candidates": candidates,
        "may_reassign": may_reassign,
        "may_start": acts and case.status == CaseStatus.IN_REVIEW,
        "may_extend": acts and case.status in EXTENDABLE and case.accepted_at is not None,
        "may_end": [p for p in data["open_procedures"] if acts and p["department"] == task.lane],
        "procedure_choices": PROCEDURE_CHOICES,
    }


@register.inclusion_tag("web/_case_tools.html", takes_context=True)
def case_tools(context, case):
    """On the case page: the clock for every staff member; for the window also 撤回 (keyed in for the
    applicant), 补发查询码, special procedures and extension requests (the services allow the window)."""
    out = _base(context)
    staff = staff_of(out["user"])
    is_window = staff is not None and staff.role == StaffRole.WINDOW
    data = _clock(case)
    return {
        **out,
        "case": case,
        "clock": data,
        "is_window": is_window,
        "may_withdraw": is_window and can_proceed(case.withdraw),
        "may_start": is_window and case.status == CaseStatus.IN_REVIEW,
        "may_extend": is_window and case.status in EXTENDABLE and case.accepted_at is not None,
        "may_end": data["open_procedures"] if is_window else [],
        "procedure_choices": PROCEDURE_CHOICES,
    }
