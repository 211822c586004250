"""The year's statistics for the supervisor — proposed as a selector for ``workflow/selectors.py``.

``year_statistics(start=..., end=...)`` answers, for the cases opened in [start, end): how many per one-thing
and status, the completion rate (办结率: cases in a final state) and the on-time rate (按时办结率: concluded on
or before the promised date), the average handling time, and each department's review tasks by outcome with
its open and overdue ones. Three queries, each one pass over its table; no per-row Python.
"""

from __future__ import annotations

import datetime

from django.db.models import Avg, Count, F, Q

FINAL_STATES = ("concluded", "not_accepted", "withdrawn")


def year_statistics(*, start: datetime.datetime, end: datetime.datetime, today: datetime.date | None = None) -> dict:
    from workflow.models import Case, HumanTask, OneThing

    cases = Case.objects.filter(opened_at__gte=start, opened_at__lt=end)
    keys = dict(OneThing.objects.values_list("id", "key"))
    by_one_thing: dict[str, dict[str, int]] = {}
    for row in cases.order_by().values("one_thing_id", "status").annotate(n=Count("id")):
        by_one_thing.setdefault(keys[row["one_thing_id"]], {})[row["status"]] = row["n"]

    totals = cases.order_by().aggregate(
        total=Count("id"),
        final=Count("id", filter=Q(status__in=FINAL_STATES)),
        concluded=Count("id", filter=Q(status="concluded")),
        on_time=Count("id", filter=Q(status="concluded", concluded_at__date__lte=F("promised_due_date"))),
        with_promise=Count("id", filter=Q(status="concluded", promised_due_date__isnull=False)),
        handling=Avg(F("concluded_at") - F("opened_at"), filter=Q(concluded_at__isnull=False)),
    )
    today = today or datetime.datetime.now(tz=datetime.UTC).date()
    tasks = HumanTask.objects.filter(created_at__gte=start, created_at__lt=end, department__isnull=False)
    by_department: dict[str, dict[str, int]] = {}
    for row in (
        tasks.order_by()
        .values("department_id")
        .annotate(
            total=Count("id"),
            open=Count("id", filter=Q(state="open")),
            overdue=Count("id", filter=Q(state="open", due_date__lt=today)),
            approved=Count("id", filter=Q(decision="approve")),
            rejected=Count("id", filter=Q(decision="reject")),
            corrections=Count("id", filter=Q(decision="need_correction")),
        )
    ):
        by_department[row.pop("department_id")] = row

    total = totals["total"] or 0
    handling = totals["handling"]
    return {
        "cases": total,
        "by_one_thing": by_one_thing,
        "completion_rate": totals["final"] / total if total else None,
        "on_time_rate": totals["on_time"] / totals["with_promise"] if totals["with_promise"] else None,
        "average_handling_hours": handling.total_seconds() / 3600 if handling is not None else None,
        "by_department": by_department,
    }
