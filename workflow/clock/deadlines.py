"""Due dates of cases and tasks: computed by the calendar from a start, a limit and the pauses."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Sum
from django.utils import timezone

from .. import calendar as cal
from ..calendar import CalendarUnknown, WorkingCalendar
from ..models import Case, ClockPause, DeadlineExtension, HumanTask, HumanTaskState
from .limits import Limits, warning_days

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Deadlines:
    due: dt.date
    warning: dt.date
    provisional: bool = False  # 预计: counted through a year without an official holiday arrangement


def deadlines(
    calendar: WorkingCalendar, start: dt.datetime, limit: int, pauses: Iterable[tuple] = (), *, now=None
) -> Deadlines:
    pauses = list(pauses)
    due = calendar.deadline(start, limit, pauses, now=now)
    return Deadlines(
        due=due,
        warning=calendar.deadline(start, warning_days(limit), pauses, now=now),
        provisional=calendar.provisional_between(start, due),
    )


def case_pauses(case: Case) -> list[ClockPause]:
    return list(ClockPause.objects.filter(case_id=case.pk).order_by("started_at", "id"))


def extension_days(case: Case) -> int:
    return DeadlineExtension.objects.filter(case_id=case.pk).aggregate(total=Sum("days"))["total"] or 0


def set_case_deadlines(
    case: Case,
    *,
    calendar: WorkingCalendar,
    limits: Limits,
    pauses: Iterable[tuple] = (),
    extension: int = 0,
    now: dt.datetime | None = None,
) -> None:
    """Fill the case's due dates (in memory) from its acceptance; leaves them empty if the calendar cannot
    answer yet (the clock sweep fills them in once an administrator enters the year)."""
    if case.accepted_at is None:
        return
    pauses = list(pauses)
    # Each date on its own: a 5-day promise is known when a 45-day statutory limit runs into next year.
    try:
        promised = deadlines(calendar, case.accepted_at, limits.promised + extension, pauses, now=now)
        case.promised_due_date, case.warning_date = promised.due, promised.warning
        case.promised_due_date_provisional = promised.provisional
    except CalendarUnknown as exc:
        logger.warning("办件 %s 的承诺期限暂无法计算：%s", case.case_no, exc.message)
    try:
        case.statutory_due_date = calendar.deadline(case.accepted_at, limits.statutory + extension, pauses, now=now)
        case.statutory_due_date_provisional = calendar.provisional_between(case.accepted_at, case.statutory_due_date)
    except CalendarUnknown as exc:
        logger.warning("办件 %s 的法定期限暂无法计算：%s", case.case_no, exc.message)


def set_task_deadlines(
    task: HumanTask, *, calendar: WorkingCalendar, start: dt.datetime, pauses: Iterable[tuple] = (), now=None
) -> bool:
    """Fill the task's due dates (in memory) from its limit; False if the calendar cannot answer yet."""
    if task.limit_days is None:
        return False
    try:
        found = deadlines(calendar, start, task.limit_days, pauses, now=now)
    except CalendarUnknown as exc:
        logger.warning("任务 %s 的期限暂无法计算：%s", task.engine_task_id, exc.message)
        return False
    found_fields = (found.due, found.warning, found.provisional)
    changed = (task.due_date, task.warning_date, task.due_date_provisional) != found_fields
    task.due_date, task.warning_date, task.due_date_provisional = found.due, found.warning, found.provisional
    return changed


def task_start(task: HumanTask, case: Case) -> dt.datetime:
    """The window's first task runs from receipt (its limit is the 5-day notice); others from opening."""
    if task.lane == "window" and task.limit_days == cal.CORRECTION_NOTICE_DAYS and case.opened_at:
        return case.opened_at
    return task.created_at or timezone.now()


# The task columns set_task_deadlines fills.
TASK_DUE_FIELDS = ["due_date", "warning_date", "due_date_provisional"]


def refresh_open_tasks(case: Case, *, calendar: WorkingCalendar, pauses: list[tuple], now=None) -> int:
    """Recompute the due dates of the case's open tasks after a pause ended; one bulk update."""
    tasks = list(case.tasks.filter(state=HumanTaskState.OPEN, limit_days__isnull=False))
    changed = [
        t for t in tasks if set_task_deadlines(t, calendar=calendar, start=task_start(t, case), pauses=pauses, now=now)
    ]
    if changed:
        HumanTask.objects.bulk_update(changed, TASK_DUE_FIELDS)
    return len(changed)


CLOCK_FIELDS = (
    "accepted_at",
    "decided_at",
    "promised_due_date",
    "statutory_due_date",
    "warning_date",
    "promised_due_date_provisional",
    "statutory_due_date_provisional",
    "paused_since",
    "deemed_accepted_at",
)


def row_fields(case: Case) -> dict:
    """The clock's columns of the case row, for the write path's single UPDATE."""
    return {name: getattr(case, name) for name in CLOCK_FIELDS}
