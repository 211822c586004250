"""The legal clock (法定时限 / 承诺时限): deadlines, pauses, supervision states. See docs/clock.md.

Every date here comes from the working-day calendar (`workflow.calendar`). This module holds the rules and
the two hooks the engine's write path calls; the services that stop, extend and sweep live in
`workflow.services.clock`.

- ``on_transition(step, name)`` — from ``engine._apply_lifecycle``, after the case took an edge: acceptance
  starts the case clock (from receipt when the window was late: Art. 32), a correction notice stops it, the
  resubmission resumes it, a decision ends it. It only changes the case in memory (plus the pause row);
  ``persist_step`` writes the case row, including ``row_fields(case)``.
- ``on_persist(step, new_rows)`` — from ``engine.persist_step`` before the new task rows are inserted: gives
  each new task its limit and due dates, and registers the instance's waiting BPMN timers as due rows.

Both stay inside the lifecycle's statement budget: the calendar loads a year in one query, the item limits
are one query at acceptance, and a model without timers costs nothing.

A due date is a *date*: the last working day on which acting is in time (calendar convention). A stored due
date is exact while the clock runs; while a pause is open the real deadline moves one working day later for
each working day stopped, so the supervision state is "paused" unless the deadline had already passed when
the pause began (a late pause cannot save a missed deadline).
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.core.cache import cache
from django.db import connection, models, transaction
from django.db.models import F, Q, Sum
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone

from . import calendar as cal
from . import statistics
from .access import staff_of
from .calendar import CalendarUnknown, WorkingCalendar
from .compositions import Composition, composition_by_id, composition_of
from .errors import PermissionDenied, ValidationFailed
from .lifecycle import TERMINAL_STATES, CaseStatus
from .models import (
    CalendarDay,
    CalendarDayKind,
    CalendarYear,
    Case,
    ClockPause,
    DeadlineExtension,
    DueTimer,
    HumanTask,
    HumanTaskState,
    Notification,
    OneThing,
    PauseKind,
    StaffRole,
    TimerKind,
)

logger = logging.getLogger(__name__)

# 行政许可法 第三十二条第一款第（四）项：逾期不告知补正的，自收到申请材料之日起即为受理。
DEEMED_ACCEPTANCE_BASIS = "《中华人民共和国行政许可法》第三十二条第一款第（四）项"
# Cases whose clock can run (the other statuses have a result, ended, or hold the case).
RUNNING = frozenset({CaseStatus.RECEIVED, CaseStatus.IN_REVIEW, CaseStatus.CORRECTION_REQUIRED})
# Statuses with a result, or ended: the clock is over.
FINISHED = frozenset(TERMINAL_STATES | {CaseStatus.APPROVED, CaseStatus.REJECTED})
# Any other status holds the case (容缺 suspension): the clock is stopped, timers wait.
HELD = frozenset(CaseStatus.values) - RUNNING - FINISHED
SYSTEM_ACTOR = "系统（法定时限）"


class Supervision(models.TextChoices):
    NORMAL = "normal", "正常"
    WARNING = "warning", "临期预警"
    YELLOW = "yellow", "黄牌：部门任务超期"
    RED = "red", "红牌：办件超期"
    PAUSED = "paused", "暂停计时"


# --------------------------------------------------------------------------- calendar


class OneQuerySource:
    """The calendar's override source in one query per year (the default source takes two)."""

    def load_year(self, year: int) -> cal.YearSchedule:
        days, years = CalendarDay._meta.db_table, CalendarYear._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT date, kind, name FROM {days} WHERE date >= %s AND date < %s "
                f"UNION ALL SELECT NULL, '*declared*', '' FROM {years} WHERE year = %s AND complete",
                [dt.date(year, 1, 1), dt.date(year + 1, 1, 1), year],
            )
            rows = cursor.fetchall()
        declared, overrides = False, {}
        for day, kind, name in rows:
            if kind == "*declared*":
                declared = True
                continue
            day = day if isinstance(day, dt.date) else dt.date.fromisoformat(str(day))
            overrides[day] = (kind == CalendarDayKind.WORKDAY, name)
        return cal.YearSchedule(declared=declared, overrides=overrides)


# A year's schedule in the shared cache (Redis in production) for the write path: no query per step. Dropped
# when a CalendarDay or CalendarYear is saved or deleted (admin) and by import_calendar; the timeout bounds
# how long an edit that bypasses both (raw SQL, QuerySet.update) stays unseen.
CALENDAR_CACHE_SECONDS = 300


def _calendar_key(year: int) -> str:
    return f"onething:calendar:{year}"


class CachedSource:
    """OneQuerySource behind the shared cache."""

    def __init__(self, source=None):
        self.source = source or OneQuerySource()

    def load_year(self, year: int) -> cal.YearSchedule:
        key = _calendar_key(year)
        cached = cache.get(key)
        if cached is not None:
            return cal.YearSchedule(*cached)
        schedule = self.source.load_year(year)
        # Set at once, not on commit: what this transaction read is committed data (an edit drops the key
        # again when it commits), and waiting for our commit would widen the window for an edit to slip by.
        cache.set(key, (schedule.declared, dict(schedule.overrides)), CALENDAR_CACHE_SECONDS)
        return schedule


def forget_calendar_year(year: int) -> None:
    """Drop a year's cached schedule now and again once the editing transaction commits (a reader in between
    may have cached the old rows)."""
    key = _calendar_key(year)
    cache.delete(key)
    transaction.on_commit(lambda: cache.delete(key))


@receiver(post_save, sender=CalendarDay, dispatch_uid="calendar_day_saved")
@receiver(post_delete, sender=CalendarDay, dispatch_uid="calendar_day_deleted")
def _calendar_day_changed(sender, instance, **kwargs) -> None:
    day = instance.date if isinstance(instance.date, dt.date) else dt.date.fromisoformat(str(instance.date))
    forget_calendar_year(day.year)


@receiver(post_save, sender=CalendarYear, dispatch_uid="calendar_year_saved")
@receiver(post_delete, sender=CalendarYear, dispatch_uid="calendar_year_deleted")
def _calendar_year_changed(sender, instance, **kwargs) -> None:
    forget_calendar_year(int(instance.year))


def working_calendar() -> WorkingCalendar:
    """A calendar snapshot for one operation, its years from the shared cache (see CachedSource). The
    module-level functions of workflow.calendar read the database directly."""
    return WorkingCalendar(source=CachedSource())


# --------------------------------------------------------------------------- limits


@dataclass(frozen=True)
class Limits:
    """A one-thing's limits in working days: the case's, and each department's promised limit."""

    promised: int
    statutory: int
    extension_cap: int
    departments: dict[str, int] = field(default_factory=dict)
    # The one-thing's items in order: (item id, department code, has a 秒批 decision table). Loaded by the
    # same query, so the engine learns which new reviews may be auto-approved at no extra cost.
    items: tuple[tuple[int, str, bool], ...] = ()

    def for_department(self, code: str) -> int:
        # A lane with no item of its own in the one-thing falls back to the one-thing's promise.
        return self.departments.get(code, self.promised)


def limits_of(composition: Composition) -> Limits:
    """From the case's composition version, no statement. Statutory: 45 (+15) days for joint handling
    (Art. 26) when the one-thing bundles two or more items, else its single item's statutory limit (+10,
    Art. 42). A department's task limit is the longest promised limit among its items: one task decides all
    of them."""
    departments: dict[str, int] = {}
    for item in composition.items:
        departments[item.department] = max(departments.get(item.department, 0), item.promised_limit_days)
    if len(composition.items) == 1:
        statutory, cap = composition.items[0].statutory_limit_days, cal.SINGLE_ITEM_EXTENSION_DAYS
    else:
        statutory, cap = cal.JOINT_LIMIT_DAYS, cal.JOINT_EXTENSION_DAYS
    return Limits(
        promised=composition.promised_limit_days,
        statutory=statutory,
        extension_cap=cap,
        departments=departments,
        items=tuple(
            (item.item_id, item.department, bool(item.auto_approval_dmn.strip())) for item in composition.items
        ),
    )


def warning_share() -> float:
    share = float(getattr(settings, "ONETHING_WARNING_SHARE", 0.2))
    return min(max(share, 0.0), 1.0)


def warning_days(limit: int) -> int:
    """Working days into a limit after which the warning shows: when at most ``share × limit`` (at least
    one) working days remain."""
    return max(limit - max(1, math.ceil(warning_share() * limit)), 0)


# --------------------------------------------------------------------------- deadlines


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


# --------------------------------------------------------------------------- the engine hooks


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


def _scratch(step) -> _Scratch:
    scratch = getattr(step, "_clock", None)
    if scratch is None:
        scratch = step._clock = _Scratch(step.case)
    return scratch


def step_limits(step) -> Limits:
    """The case's limits for this step, loaded at most once per step (shared with the 秒批 check)."""
    return _scratch(step).limits


def _actor_id(step):
    return getattr(step.actor, "pk", None)


def on_transition(step, name: str) -> None:
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


def _accept(step, now: dt.datetime) -> None:
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


def stop_clock(
    case: Case, *, kind: str, at: dt.datetime, reason: str = "", actor=None, department: str | None = None
) -> ClockPause:
    """Open a pause; the case's ``paused_since`` changes in memory (the caller saves the case row)."""
    pause = ClockPause.objects.create(
        case=case,
        kind=kind,
        reason=reason,
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


def on_persist(step, new_rows: list[HumanTask]) -> None:
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


def _register_timers(step) -> None:
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


# --------------------------------------------------------------------------- supervision (reads)


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
    pauses = case_pauses(case)
    state = case_supervision(case, tasks)
    extensions = list(
        DeadlineExtension.objects.filter(case_id=case.pk).select_related("approved_by").order_by("approved_at")
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


# --------------------------------------------------------------------------- 时限压减率


def reduction_rate_or_none(promised: int, statutory: int) -> Decimal | None:
    try:
        return cal.reduction_rate(promised, statutory)
    except ValidationFailed:
        return None


def one_thing_limits(one_thing: OneThing) -> dict:
    """The one-thing's statutory and promised limits, its 时限压减率 and each item's, as new cases get them
    (its current composition version)."""
    if one_thing.current_composition_id is None:  # not openable yet: nothing composed on a BPMN version
        return {
            "statutory_limit_days": cal.JOINT_LIMIT_DAYS,
            "promised_limit_days": one_thing.promised_limit_days,
            "extension_limit_days": cal.JOINT_EXTENSION_DAYS,
            "reduction_rate": statistics.one_thing_reduction_rate(
                statistics.item_limits({one_thing.pk: None}).get(one_thing.pk, ())
            ),
            "items": [],
        }
    composition = composition_by_id(one_thing.current_composition_id)
    limits = limits_of(composition)
    items = statistics.item_limits_of(composition)
    return {
        "statutory_limit_days": limits.statutory,
        "promised_limit_days": limits.promised,
        "extension_limit_days": limits.extension_cap,
        # 时限压减率 of a one-thing: the mean of its items' (docs/statistics.md), not its promise against the 45 days
        "reduction_rate": statistics.one_thing_reduction_rate(items),
        "items": [
            {
                "code": item.code,
                "name": item.name,
                "department": item.department,
                "statutory_limit_days": item.statutory_limit_days,
                "promised_limit_days": item.promised_limit_days,
                "reduction_rate": item.reduction_rate,
            }
            for item in sorted(items, key=lambda item: item.code)
        ],
    }


# --------------------------------------------------------------------------- notifications (reads)


def notifications_for(*, user) -> models.QuerySet[Notification]:
    """A user's supervision notifications: a reviewer's department's, the window's or the supervisors'
    role's; an administrator sees all."""
    staff = staff_of(user)
    if staff is None:
        raise PermissionDenied()
    notes = Notification.objects.select_related("case").only(
        "id", "kind", "case__case_no", "task_id", "department_id", "text", "created_at", "sent_at"
    )
    if staff.role == StaffRole.REVIEWER:
        notes = notes.filter(department_id=staff.department_id)
    elif staff.role != StaffRole.ADMINISTRATOR:
        notes = notes.filter(role=staff.role, department__isnull=True)
    return notes.order_by("-created_at", "-id")
