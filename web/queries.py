"""The supervisor's dashboard statistics and its CSV export (to be replaced by the one statistics module).

Read-only. Every other read the screens need is a selector (``workflow.selectors``); the dashboard's overdue
list is ``selectors.overdue_tasks`` (the one supervision rule).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q
from django.utils import timezone

from workflow import calendar, halls, selectors
from workflow.access import staff_of
from workflow.errors import ValidationFailed
from workflow.labels import OUTCOME_LABELS
from workflow.lifecycle import CaseStatus
from workflow.models import Case, Decision, HumanTask, HumanTaskState, OneThing

# --------------------------------------------------------------------------- the supervisor's dashboard


@dataclass
class Dashboard:
    since: dt.datetime | None
    total: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    per_one_thing: list[dict] = field(default_factory=list)
    per_department: list[dict] = field(default_factory=list)
    completion_rate: float | None = None
    immediate_share: float | None = None
    reduction_rate: float | None = None
    avg_working_days: float | None = None
    avg_promised_days: float | None = None
    overdue: list[dict] = field(default_factory=list)
    calendar_gaps: set[int] = field(default_factory=set)


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _scoped(queryset, user, prefix: str = ""):
    """收受分离: a supervisor bound to a hall sees the cases that hall accepted or decides; others see all."""
    if user is None:
        return queryset
    scope = halls.case_scope(staff_of(user), prefix)
    return queryset if scope is None else queryset.filter(scope)


def dashboard(*, since: dt.datetime | None = None, user=None) -> Dashboard:
    cases = _scoped(Case.objects.all(), user)
    if since is not None:
        cases = cases.filter(opened_at__gte=since)
    board = Dashboard(since=since)
    status_counts = Counter(dict(cases.order_by().values_list("status").annotate(n=Count("id"))))
    board.by_status = {status.value: status_counts.get(status.value, 0) for status in CaseStatus}
    board.total = sum(status_counts.values())

    concluded = status_counts.get(CaseStatus.CONCLUDED, 0)
    accepted = board.total - status_counts.get(CaseStatus.RECEIVED, 0) - status_counts.get(CaseStatus.NOT_ACCEPTED, 0)
    board.completion_rate = _ratio(concluded, accepted)

    # Time used: working days from receipt to conclusion (the calendar's (a, b] convention: same day = 0).
    cal = calendar.WorkingCalendar()
    used: list[int] = []
    promised: list[int] = []
    by_one_thing_used: dict[str, list[int]] = defaultdict(list)
    rows = cases.filter(status=CaseStatus.CONCLUDED, concluded_at__isnull=False).values_list(
        "one_thing__key", "opened_at", "concluded_at", "one_thing__promised_limit_days"
    )
    for key, opened_at, concluded_at, limit in rows.iterator():
        try:
            days = cal.working_days_between(opened_at, concluded_at)
        except calendar.CalendarUnknown as exc:
            board.calendar_gaps.add(exc.year)
            continue
        used.append(days)
        promised.append(limit)
        by_one_thing_used[key].append(days)
    board.immediate_share = _ratio(sum(1 for d in used if d == 0), len(used))
    board.avg_working_days = sum(used) / len(used) if used else None
    board.avg_promised_days = sum(promised) / len(promised) if promised else None

    per_status = defaultdict(Counter)
    for key, status, n in cases.order_by().values_list("one_thing__key", "status").annotate(n=Count("id")):
        per_status[key][status] = n
    rates = []
    for one_thing in OneThing.objects.filter(Q(is_active=True) | Q(key__in=list(per_status))).order_by("key"):
        counts = per_status.get(one_thing.key, Counter())
        try:
            rate = float(calendar.reduction_rate(one_thing.promised_limit_days, calendar.JOINT_LIMIT_DAYS))
        except ValidationFailed:  # a promised limit longer than the statutory one: shown as unknown
            rate = None
        if rate is not None:
            rates.append(rate)
        days = by_one_thing_used.get(one_thing.key, [])
        total = sum(counts.values())
        one_accepted = total - counts[CaseStatus.RECEIVED] - counts[CaseStatus.NOT_ACCEPTED]
        board.per_one_thing.append(
            {
                "key": one_thing.key,
                "name": one_thing.name,
                "total": total,
                "in_review": counts[CaseStatus.IN_REVIEW] + counts[CaseStatus.CORRECTION_REQUIRED],
                "concluded": counts[CaseStatus.CONCLUDED],
                "not_accepted": counts[CaseStatus.NOT_ACCEPTED],
                "completion_rate": _ratio(counts[CaseStatus.CONCLUDED], one_accepted),
                "promised_days": one_thing.promised_limit_days,
                "avg_working_days": sum(days) / len(days) if days else None,
                "reduction_rate": rate,
            }
        )
    board.reduction_rate = sum(rates) / len(rates) if rates else None

    tasks = _scoped(HumanTask.objects.filter(department__isnull=False), user, "case__")
    if since is not None:
        tasks = tasks.filter(case__opened_at__gte=since)
    per_department: dict[str, Counter] = defaultdict(Counter)
    for name, state, decision, n in (
        tasks.order_by().values_list("department__name", "state", "decision").annotate(n=Count("id"))
    ):
        per_department[name][state] += n
        if decision:
            per_department[name][decision] += n
    board.per_department = [
        {
            "name": name,
            "open": counts[HumanTaskState.OPEN],
            "completed": counts[HumanTaskState.COMPLETED],
            "approve": counts[Decision.APPROVE],
            "need_correction": counts[Decision.NEED_CORRECTION],
            "reject": counts[Decision.REJECT],
            "total": counts[HumanTaskState.OPEN] + counts[HumanTaskState.COMPLETED],
        }
        for name, counts in sorted(per_department.items())
    ]

    # 黄牌 / 红牌: the one supervision rule (workflow.clock), as the inbox and the API colour them.
    board.overdue = selectors.overdue_tasks(user=user) if user is not None else []
    return board


def case_rows_for_export(*, since: dt.datetime | None = None, user=None) -> Iterable[list[Any]]:
    """One row per case for the CSV export (no personal data beyond the case number)."""
    cases = (
        _scoped(Case.objects.select_related("one_thing"), user)
        .defer("process_state", "form_data")
        .order_by("opened_at")
    )
    if since is not None:
        cases = cases.filter(opened_at__gte=since)
    cal = calendar.WorkingCalendar()
    rounds = dict(
        HumanTask.objects.filter(case__in=cases, lane="applicant")
        .values_list("case_id")
        .annotate(n=Count("id"))
        .values_list("case_id", "n")
    )
    for case in cases.iterator(chunk_size=500):
        try:
            used = cal.working_days_between(case.opened_at, case.concluded_at) if case.concluded_at else ""
        except calendar.CalendarUnknown:
            used = ""
        limit = case.one_thing.promised_limit_days
        yield [
            case.case_no,
            case.one_thing.name,
            case.get_status_display(),
            OUTCOME_LABELS.get(case.outcome, ""),
            timezone.localtime(case.opened_at).strftime("%Y-%m-%d %H:%M"),
            timezone.localtime(case.concluded_at).strftime("%Y-%m-%d %H:%M") if case.concluded_at else "",
            used,
            limit,
            ("是" if used > limit else "否") if used != "" else "",
            rounds.get(case.pk, 0),
        ]


CSV_HEADER = ["办件编号", "一件事", "状态", "办理结果", "收件时间", "办结时间", "用时（工作日）", "承诺时限（工作日）"]
CSV_HEADER += ["是否超期", "补正次数"]
