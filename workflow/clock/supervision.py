"""The one supervision rule (督办): normal, warning, yellow (the task is overdue), red (its case is past its
promised date), paused — for a task and for a case; and what the case views show about the clock."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from .. import calendar as cal
from .. import case_facts
from ..calendar import CalendarUnknown, WorkingCalendar
from ..models import Case, DeadlineExtension, HumanTask, HumanTaskState
from .calendar_cache import working_calendar
from .deadlines import case_pauses
from .phases import HELD, RUNNING, Supervision


def today() -> dt.date:
    return timezone.localdate()


def stopped_before(case: Case, due: dt.date | None) -> bool:
    """The clock is stopped and the deadline had not passed when it stopped."""
    return case.paused_since is not None and (due is None or cal.local_date(case.paused_since) <= due)


def task_supervision(task: HumanTask, *, case: Case | None = None, on: dt.date | None = None) -> str | None:
    """normal / warning / yellow (the task is overdue) / red (its case is) / paused; None without a limit.
    ``case``: the task's case when the caller has it loaded already."""
    if task.state != HumanTaskState.OPEN or task.due_date is None:
        return None
    on = on or today()
    case = case or task.case
    if _case_overdue(case, on):
        return Supervision.RED
    if case.status in HELD or stopped_before(case, task.due_date):
        return Supervision.PAUSED
    if on > task.due_date:
        return Supervision.YELLOW
    if task.warning_date is not None and on >= task.warning_date:
        return Supervision.WARNING
    return Supervision.NORMAL


def _case_overdue(case: Case, on: dt.date) -> bool:
    due = case.promised_due_date
    return case.status in RUNNING and due is not None and on > due and not stopped_before(case, due)


def case_supervision(case: Case, tasks: Iterable[HumanTask] = (), *, on: dt.date | None = None) -> str | None:
    """The case's state: red past its promised date, else yellow if an open department task is overdue,
    else warning near its promised date; paused while stopped; None once it has a result."""
    if case.status in HELD:
        return Supervision.PAUSED
    if case.status not in RUNNING:
        return None
    on = on or today()
    if _case_overdue(case, on):
        return Supervision.RED
    if stopped_before(case, case.promised_due_date):
        return Supervision.PAUSED
    for task in tasks:
        if task.department_id and task.state == HumanTaskState.OPEN and task.due_date and on > task.due_date:
            return Supervision.YELLOW
    if case.warning_date is not None and on >= case.warning_date:
        return Supervision.WARNING
    return Supervision.NORMAL


def supervision_label(state: str | None) -> str:
    return Supervision(state).label if state else ""


def tasks_overdue(tasks: models.QuerySet, *, on: dt.date | None = None) -> models.QuerySet:
    """Open tasks that are yellow (past their own date) or red (their case past its promised date)."""
    on = on or today()
    task_late = Q(case__status__in=RUNNING, due_date__lt=on) & (
        Q(case__paused_since__isnull=True) | Q(case__paused_since__date__gt=F("due_date"))
    )
    case_late = Q(case__status__in=RUNNING, case__promised_due_date__lt=on) & (
        Q(case__paused_since__isnull=True) | Q(case__paused_since__date__gt=F("case__promised_due_date"))
    )
    return tasks.filter(Q(state=HumanTaskState.OPEN) & (task_late | case_late))


def working_days_used(case: Case, pauses: Iterable[tuple], *, calendar: WorkingCalendar | None = None) -> int | None:
    """Working days the case clock has run: from acceptance to the decision (or now), pauses excluded."""
    if case.accepted_at is None:
        return None
    end = case.decided_at or case.concluded_at
    if end is None:
        end = timezone.now() if case.status in RUNNING else case.updated_at
    try:
        return (calendar or working_calendar()).working_days_used(case.accepted_at, end, list(pauses))
    except CalendarUnknown:
        return None


def case_clock(case: Case, tasks: Iterable[HumanTask] = ()) -> dict:
    """Everything the case views show about the clock; two queries plus the calendar."""
    pauses = [] if case_facts.known_none(case, "page_has_pauses") else case_pauses(case)
    state = case_supervision(case, tasks)
    extensions = (
        []
        if case_facts.known_none(case, "page_has_extensions")
        else list(
            DeadlineExtension.objects.filter(case_id=case.pk).select_related("approved_by").order_by("approved_at")
        )
    )
    return {
        "accepted_at": case.accepted_at,
        "promised_due_date": case.promised_due_date,
        "promised_due_date_provisional": case.promised_due_date_provisional,
        "statutory_due_date": case.statutory_due_date,
        "statutory_due_date_provisional": case.statutory_due_date_provisional,
        "working_days_used": working_days_used(case, [p.span for p in pauses]),
        "paused": case.status in HELD or (case.paused_since is not None and case.status in RUNNING),
        "supervision": state,
        "supervision_label": supervision_label(state),
        "deemed_accepted": case.deemed_accepted_at is not None,
        "pauses": [
            {
                "id": p.pk,
                "kind": p.kind,
                "kind_label": p.get_kind_display(),
                "reason": p.reason,
                "department": p.department_id or "",
                "started_at": p.started_at,
                "ended_at": p.ended_at,
            }
            for p in pauses
        ],
        "extensions": [
            {
                "days": e.days,
                "reason": e.reason,
                "approved_by": e.approved_by.get_full_name() or e.approved_by.get_username(),
                "approved_at": e.approved_at,
            }
            for e in extensions
        ],
    }
