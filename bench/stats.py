"""The year's statistics for the supervisor — proposed as a selector for ``workflow/selectors.py``.

``year_statistics(start=..., end=...)`` answers, for the cases opened in [start, end): how many per one-thing
and status, the completion rate (办结率: cases in a final state) and the on-time rate (按时办结率: concluded on
or before the promised date), the average handling time, and each department's review tasks by outcome with
its open and overdue ones. Two queries, each one pass over its table (the case counts and the rates come
from the same grouped pass, with conditional aggregates); both can be index-only scans of the covering
indexes ``case_opened_stats`` and ``task_created_stats`` (migration 0006). No per-row Python.
"""

from __future__ import annotations

import datetime

from django.db.models import Count, F, Q, Sum

FINAL_STATES = ("concluded", "not_accepted", "withdrawn")


def year_statistics(*, start: datetime.datetime, end: datetime.datetime, today: datetime.date | None = None) -> dict:
    from workflow.models import Case, HumanTask, OneThing

    cases = Case.objects.filter(opened_at__gte=start, opened_at__lt=end)
    keys = dict(OneThing.objects.values_list("id", "key"))
    by_one_thing: dict[str, dict[str, int]] = {}
    totals = {"total": 0, "final": 0, "on_time": 0, "with_promise": 0, "handled": 0}
    handling_sum = None
    # One pass: the counts per one-thing and status, and per group what the rates need; summed here.
    for row in (
        cases.order_by()
        .values("one_thing_id", "status")
        .annotate(
            n=Count("opened_at"),  # a column of the index, never null: the scan stays index-only
            on_time=Count("opened_at", filter=Q(status="concluded", concluded_at__date__lte=F("promised_due_date"))),
            with_promise=Count("opened_at", filter=Q(status="concluded", promised_due_date__isnull=False)),
            handled=Count("concluded_at"),
            handling=Sum(F("concluded_at") - F("opened_at")),
        )
    ):
        by_one_thing.setdefault(keys[row["one_thing_id"]], {})[row["status"]] = row["n"]
        totals["total"] += row["n"]
        totals["final"] += row["n"] if row["status"] in FINAL_STATES else 0
        for name in ("on_time", "with_promise", "handled"):
            totals[name] += row[name]
        if row["handling"] is not None:
            handling_sum = row["handling"] if handling_sum is None else handling_sum + row["handling"]
    totals["handling"] = handling_sum / totals["handled"] if handling_sum is not None and totals["handled"] else None
    today = today or datetime.datetime.now(tz=datetime.UTC).date()
    tasks = HumanTask.objects.filter(created_at__gte=start, created_at__lt=end, department__isnull=False)
    by_department: dict[str, dict[str, int]] = {}
    for row in (
        tasks.order_by()
        .values("department_id")
        .annotate(
            total=Count("created_at"),
            open=Count("created_at", filter=Q(state="open")),
            overdue=Count("created_at", filter=Q(state="open", due_date__lt=today)),
            approved=Count("created_at", filter=Q(decision="approve")),
            rejected=Count("created_at", filter=Q(decision="reject")),
            corrections=Count("created_at", filter=Q(decision="need_correction")),
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
