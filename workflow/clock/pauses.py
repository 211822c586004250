"""Stopping and resuming the case clock (补正, special procedures, 容缺 suspension)."""

from __future__ import annotations

import datetime as dt

from ..calendar import WorkingCalendar
from ..compositions import composition_of
from ..models import Case, ClockPause
from .calendar_cache import working_calendar
from .deadlines import case_pauses, extension_days, refresh_open_tasks, set_case_deadlines
from .limits import Limits, limits_of


def stop_clock(
    case: Case,
    *,
    kind: str,
    at: dt.datetime,
    reason: str = "",
    actor=None,
    department: str | None = None,
    expected_days: int | None = None,
) -> ClockPause:
    """Open a pause; the case's ``paused_since`` changes in memory (the caller saves the case row)."""
    pause = ClockPause.objects.create(
        case=case,
        kind=kind,
        reason=reason,
        expected_days=expected_days,
        department_id=department,
        started_at=at,
        started_by_id=getattr(actor, "pk", None),
    )
    case.paused_since = min(filter(None, [case.paused_since, at]))
    return pause


def resume_clock(
    case: Case,
    *,
    at: dt.datetime,
    kind: str | None = None,
    pause: ClockPause | None = None,
    actor=None,
    calendar: WorkingCalendar | None = None,
    limits: Limits | None = None,
) -> None:
    """Close the open pause(s) of ``kind`` (or ``pause``), then recompute the case's due dates (in memory)
    and its open tasks' (saved): each working day stopped moves a deadline one working day later."""
    open_pauses = ClockPause.objects.filter(case_id=case.pk, ended_at__isnull=True)
    open_pauses = open_pauses.filter(pk=pause.pk) if pause is not None else open_pauses.filter(kind=kind)
    open_pauses.update(ended_at=at, ended_by_id=getattr(actor, "pk", None))
    pauses = case_pauses(case)
    still_open = [p.started_at for p in pauses if p.ended_at is None]
    case.paused_since = min(still_open) if still_open else None
    calendar = calendar or working_calendar()
    spans = [p.span for p in pauses]
    set_case_deadlines(
        case,
        calendar=calendar,
        limits=limits or limits_of(composition_of(case)),
        pauses=spans,
        extension=extension_days(case),
    )
    refresh_open_tasks(case, calendar=calendar, pauses=spans)
