"""The two hooks the engine's write path calls (see the package docstring): ``on_transition`` and ``on_persist``."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from .. import calendar as cal
from ..calendar import CalendarUnknown, WorkingCalendar
from ..compositions import composition_of
from ..models import Case, ClockPause, DueTimer, HumanTask, PauseKind, TimerKind
from ..step import Step
from .calendar_cache import working_calendar
from .deadlines import case_pauses, set_case_deadlines, set_task_deadlines
from .limits import Limits, limits_of
from .pauses import resume_clock, stop_clock
from .phases import DEEMED_ACCEPTANCE_BASIS


class _Scratch:
    """Per-step memo, so a step loads the calendar and the limits at most once."""

    def __init__(self, case: Case):
        self.case = case
        self._calendar: WorkingCalendar | None = None
        self._limits: Limits | None = None

    @property
    def calendar(self) -> WorkingCalendar:
        if self._calendar is None:
            self._calendar = working_calendar()
        return self._calendar

    @property
    def limits(self) -> Limits:
        if self._limits is None:
            self._limits = limits_of(composition_of(self.case))
        return self._limits


def _scratch(step: Step) -> _Scratch:
    if step.clock_memo is None:
        step.clock_memo = _Scratch(step.case)
    return step.clock_memo


def on_transition(step: Step, name: str) -> None:
    """The case just took lifecycle edge ``name`` inside a persist step (see the module docstring)."""
    case, now = step.case, timezone.now()
    if name == "accept":
        _accept(step, now)
    elif name in STOPPING_EDGES:
        # 补正: the combined notice is out; the clock stops until the applicant resubmits.
        kind, reason = STOPPING_EDGES[name]
        stop_clock(case, kind=kind, reason=reason, at=now, actor=step.actor)
    elif name in RESUMING_EDGES:
        scratch = _scratch(step)
        resume_clock(
            case, kind=RESUMING_EDGES[name], at=now, actor=step.actor, calendar=scratch.calendar, limits=scratch.limits
        )
    elif name in ("approve", "reject", "refuse"):
        case.decided_at = now
        if case.paused_since is not None:
            # A decision ends every stop still open (say, an expert review that was never closed).
            ClockPause.objects.filter(case_id=case.pk, ended_at__isnull=True).update(ended_at=now)
            case.paused_since = None


# Lifecycle edges that stop and resume the clock, with the pause they open or close.
STOPPING_EDGES = {
    "require_correction": (PauseKind.CORRECTION, "一次性告知补正"),
    "suspend": (PauseKind.MATERIAL_PROMISE, "容缺承诺材料逾期未补交"),
}
RESUMING_EDGES = {"resubmit": PauseKind.CORRECTION, "resume": PauseKind.MATERIAL_PROMISE}


def _accept(step: Step, now: dt.datetime) -> None:
    case, scratch = step.case, _scratch(step)
    if case.accepted_at is None:
        try:
            late = scratch.calendar.is_deemed_accepted(case.opened_at, None, now)
        except CalendarUnknown:
            late = False  # the calendar cannot tell yet: the clock counts from the acceptance itself
        if late:
            # Accepted after the 5-day notice period: by law it counts as accepted from receipt.
            case.accepted_at = case.opened_at
            record_deemed_acceptance(step.event, case, now, calendar=scratch.calendar)
        else:
            case.accepted_at = now
    set_case_deadlines(case, calendar=scratch.calendar, limits=scratch.limits, now=now)


def record_deemed_acceptance(event, case: Case, now: dt.datetime, *, calendar: WorkingCalendar) -> None:
    """The case counts as accepted from receipt (Art. 32); recorded once, with its legal basis."""
    if case.deemed_accepted_at is not None:
        return
    case.deemed_accepted_at = now
    event(
        "deemed_accepted",
        legal_basis=DEEMED_ACCEPTANCE_BASIS,
        received_at=case.opened_at.isoformat(),
        notice_due=calendar.correction_notice_due(case.opened_at).isoformat(),
    )


def on_persist(step: Step, new_rows: list[HumanTask]) -> None:
    """Before the new task rows are inserted: their limits and due dates; then the waiting BPMN timers."""
    case, now = step.case, timezone.now()
    timed = []
    for row in new_rows:
        if row.department_id:
            row.limit_days = _scratch(step).limits.for_department(row.department_id)
            timed.append((row, now))
        elif row.lane == "window" and case.accepted_at is None and case.opened_at is not None:
            # 受理 or refuse — or the case counts as accepted (Art. 32): within 5 working days of receipt.
            row.limit_days = cal.CORRECTION_NOTICE_DAYS
            timed.append((row, case.opened_at))
    if timed:
        scratch = _scratch(step)
        pauses = [p.span for p in case_pauses(case)] if case.paused_since else []
        for row, start in timed:
            set_task_deadlines(row, calendar=scratch.calendar, start=start, pauses=pauses, now=now)
    _register_timers(step)


def _register_timers(step: Step) -> None:
    """Store the instance's waiting timers as due rows; drop rows of timers no longer waited for."""
    instance = step.instance
    if instance is None or not instance.has_timers:
        return
    case = step.case
    rows = {
        f"{timer.id}@{timer.due_at.isoformat()}": DueTimer(
            case=case,
            kind=TimerKind.BPMN_TIMER,
            key=f"{timer.id}@{timer.due_at.isoformat()}",
            element_id=timer.element_id,
            name=timer.name[:200],
            due_at=timer.due_at,
        )
        for timer in instance.waiting_timers()
    }
    DueTimer.objects.filter(case_id=case.pk, kind=TimerKind.BPMN_TIMER, fired_at__isnull=True).exclude(
        key__in=list(rows)
    ).delete()
    if rows:
        DueTimer.objects.bulk_create(list(rows.values()), ignore_conflicts=True)
