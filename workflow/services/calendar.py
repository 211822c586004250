"""The working-day calendar's one write on cases: recompute provisional due dates once a year is entered.

A provisional (预计) date was counted through a year whose official holiday arrangement was not known
(``workflow.calendar``). When that arrangement is entered — ``manage.py import_calendar``, or a `CalendarYear`
saved as complete in the admin — every provisional date of the open cases and tasks is counted again on the
official calendar. Each case whose dates or provisional marks change gets a ``due_dates_recomputed`` event with
the old and new dates; when a date moves **earlier**, the staff responsible for it are notified (the case's
dates: the window and the lead department; a task's date: its department, or the window for the window's task).
See docs/clock.md "Provisional dates".

The limits are not read from the catalogue (it may have changed since the case was accepted, and a case is a
legal record): a task keeps its own ``limit_days``, and a case date's limit (with its extensions) is read back
from the stored date itself — the working days it stands for on the calendar as it was before the entry, i.e.
with the entered years still provisional (``WorkingCalendar.limit_of``) — and counted again on the calendar as
it is now. Dates that are not provisional are left as they are.

One transaction per case, not one for the run: each case is locked, recomputed, saved with its trail event and
notifications, and committed on its own, as every other write does. A single transaction over a hall's open
cases would hold every case lock (blocking the window and the departments) for the whole run and undo
everything for one bad case. The run is idempotent — a case already recomputed has nothing left to change —
so an interrupted run is finished by running it again (the same import, or the admin's save).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Collection
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from .. import calendar as cal
from .. import clock
from ..models import Case, HumanTask, HumanTaskState, NotificationKind, StaffRole
from ..provisional import carries_provisional_dates
from .clock import _notify, _save_clock, _write_events
from .engine import lock_case

logger = logging.getLogger(__name__)

CASE_DATES = (("promised_due_date", "承诺办结期限"), ("statutory_due_date", "法定办结期限"))


@dataclass
class Recomputed:
    """What a run did."""

    cases: int = 0  # open cases with a provisional date, looked at
    changed: int = 0  # cases whose dates or provisional marks changed (each has a trail event)
    earlier: int = 0  # of those, cases with a date that moved earlier (their staff notified)
    later: int = 0  # of those, cases with a date that moved later
    still_provisional: int = 0  # cases still carrying a provisional date (a year not entered yet)
    notifications: list[int] = field(default_factory=list)  # ids of the notifications to deliver


class _BeforeEntry:
    """The calendar's source as it was before ``years`` were entered: those years not declared, no days."""

    def __init__(self, source, years: Collection[int]):
        self.source, self.years = source, frozenset(years)

    def load_year(self, year: int) -> cal.YearSchedule:
        if year in self.years:
            return cal.YearSchedule(declared=False, overrides={})
        return self.source.load_year(year)


def due_dates_recompute(*, years: Collection[int], reason: str, now: dt.datetime | None = None) -> Recomputed:
    """Count every provisional due date of the open cases and tasks again, now that ``years`` are entered.
    ``reason`` goes into the trail and the notices (e.g. "2027 年节假日安排已导入"). Not atomic as a whole:
    one transaction per case (module doc)."""
    now = now or timezone.now()
    report = Recomputed()
    calendar = clock.working_calendar()
    before = cal.WorkingCalendar(source=_BeforeEntry(calendar.source, years))
    case_ids = list(
        Case.objects.exclude(status__in=clock.FINISHED)
        .filter(carries_provisional_dates())
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for case_id in case_ids:
        with transaction.atomic():
            _recompute_case(case_id, calendar=calendar, before=before, reason=reason, now=now, report=report)
    return report


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


def _moved(old: dt.date | None, new: dt.date | None) -> int:
    """-1 earlier, 1 later, 0 the same."""
    if old is None or new is None or old == new:
        return 0
    return -1 if new < old else 1


def _recompute_case(
    case_id: int,
    *,
    calendar: cal.WorkingCalendar,
    before: cal.WorkingCalendar,
    reason: str,
    now: dt.datetime,
    report: Recomputed,
) -> None:
    case = lock_case(case_id=case_id)
    if case.status in clock.FINISHED:
        return
    report.cases += 1
    pauses = [p.span for p in clock.case_pauses(case)]
    # An open pause is not counted in the stored dates (they move when it ends, docs/clock.md): count it as
    # ending where it began, so that only the calendar's change shows here.
    at = case.paused_since or now
    old = {name: (getattr(case, name), getattr(case, f"{name}_provisional")) for name, _ in CASE_DATES}
    tasks = list(
        case.tasks.filter(state=HumanTaskState.OPEN, limit_days__isnull=False, due_date_provisional=True)
        .select_related("department")
        .order_by("created_at", "id")
    )
    old_tasks = {task.pk: (task.due_date, task.due_date_provisional) for task in tasks}
    try:
        for name, _ in CASE_DATES:
            due, provisional = old[name]
            if not provisional or due is None or case.accepted_at is None:
                continue
            limit = before.limit_of(case.accepted_at, due, pauses, now=at)
            found = clock.deadlines(calendar, case.accepted_at, limit, pauses, now=at)
            setattr(case, name, found.due)
            setattr(case, f"{name}_provisional", found.provisional)
            if name == "promised_due_date":
                case.warning_date = found.warning
        for task in tasks:
            clock.set_task_deadlines(task, calendar=calendar, start=clock.task_start(task, case), pauses=pauses, now=at)
    except cal.CalendarUnknown as exc:  # a year before any kept version of the law: nothing to count on
        logger.warning("办件 %s 的预计期限无法重新计算：%s", case.case_no, exc.message)
        return

    case_changes = {
        name: {"from": _iso(old[name][0]), "to": _iso(getattr(case, name)), "provisional": provisional}
        for name, _ in CASE_DATES
        if old[name] != (getattr(case, name), provisional := getattr(case, f"{name}_provisional"))
    }
    moved_tasks = [task for task in tasks if (task.due_date, task.due_date_provisional) != old_tasks[task.pk]]
    task_changes = [
        {
            "id": task.pk,
            "name": task.name,
            "department": task.department_id or task.lane,
            "from": _iso(old_tasks[task.pk][0]),
            "to": _iso(task.due_date),
            "provisional": task.due_date_provisional,
        }
        for task in moved_tasks
    ]
    if (
        case.promised_due_date_provisional
        or case.statutory_due_date_provisional
        or any(task.due_date_provisional for task in tasks)
    ):
        report.still_provisional += 1
    if not case_changes and not task_changes:
        return

    if case_changes:
        _save_clock(case)
    if moved_tasks:
        HumanTask.objects.bulk_update(moved_tasks, clock.TASK_DUE_FIELDS)
    _write_events(
        case,
        clock.SYSTEM_ACTOR,
        ("due_dates_recomputed", "", {"reason": reason, **case_changes, "tasks": task_changes}),
    )
    moves = [_moved(old[name][0], getattr(case, name)) for name in case_changes]
    moves += [_moved(old_tasks[task.pk][0], task.due_date) for task in moved_tasks]
    report.changed += 1
    report.earlier += -1 in moves
    report.later += 1 in moves
    report.notifications += [pk for pk, _ in _notify(_earlier_notes(case, case_changes, task_changes, reason))]


def _day(text: str | None) -> str:
    return f"{dt.date.fromisoformat(text):%Y年%m月%d日}" if text else "—"


def _still(change: dict) -> str:
    return "（仍为预计）" if change["provisional"] else ""


def _earlier(change: dict) -> bool:
    return bool(change["from"] and change["to"] and change["to"] < change["from"])


def _earlier_notes(case: Case, case_changes: dict, task_changes: list[dict], reason: str) -> list[dict]:
    """One notice per recipient for the case's own dates, one per task, for the dates that moved earlier."""
    kind = NotificationKind.DUE_DATE_EARLIER
    notes = []
    earlier = {name: change for name, change in case_changes.items() if _earlier(change)}
    if earlier:
        moves = [
            f"{label}由 {_day(change['from'])} 提前至 {_day(change['to'])}{_still(change)}"
            for name, label in CASE_DATES
            if (change := earlier.get(name))
        ]
        text = f"办件 {case.case_no}（{case.one_thing.name}）因{reason}重新计算期限：{'；'.join(moves)}，请留意。"
        last = max(change["to"] for change in earlier.values())
        recipients = [(StaffRole.WINDOW, None)]
        if case.one_thing.lead_department_id:
            recipients.append((StaffRole.REVIEWER, case.one_thing.lead_department_id))
        for role, department in recipients:
            notes.append(_row(kind, case, None, role, department, text, f"case{case.pk}", last))
    for change in filter(_earlier, task_changes):
        text = (
            f"办件 {case.case_no}「{change['name']}」因{reason}重新计算办理期限：由 {_day(change['from'])} "
            f"提前至 {_day(change['to'])}{_still(change)}，请留意。"
        )
        department = change["department"] if change["department"] != "window" else None
        role = StaffRole.REVIEWER if department else StaffRole.WINDOW
        notes.append(_row(kind, case, change["id"], role, department, text, f"task{change['id']}", change["to"]))
    return notes


def _row(kind, case: Case, task_id, role: str, department: str | None, text: str, subject: str, due: str) -> dict:
    # The new date is part of the key: a later recompute that moves the date earlier again is a new notice.
    return {
        "key": f"{kind}:{subject}:{department or role}:{due}",
        "kind": kind,
        "case_id": case.pk,
        "task_id": task_id,
        "department_id": department,
        "role": role,
        "text": text,
    }
