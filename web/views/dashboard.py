"""效能监督: indicators, charts (inline SVG, drawn on the server), the yellow/red list and a CSV export."""

from __future__ import annotations

import datetime as dt

from django.http import StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone

from workflow import selectors
from workflow.labels import CaseStatus
from workflow.selectors import statistics

from ..access import SUPERVISORS, staff_view

PERIODS = {"30": ("近 30 天", 30), "90": ("近 90 天", 90), "365": ("近一年", 365), "all": ("全部", None)}
DEFAULT_PERIOD = "365"
OVERDUE_SHOWN = 100  # the longest overdue first; the inbox's 超期 filter (GET /api/tasks?overdue=true) has them all
STATUS_COLOURS = {
    CaseStatus.RECEIVED: "#8a94a6",
    CaseStatus.IN_REVIEW: "#2f6fb3",
    CaseStatus.CORRECTION_REQUIRED: "#d97706",
    CaseStatus.APPROVED: "#2e8b57",
    CaseStatus.REJECTED: "#b42318",
    CaseStatus.NOT_ACCEPTED: "#6b7280",
    CaseStatus.CONCLUDED: "#15603a",
}


def _period(request) -> tuple[str, statistics.Period]:
    """The cases received from the day N days ago (local midnight) on: what ``GET /api/statistics?since=``
    with that date answers."""
    key = request.GET.get("period", DEFAULT_PERIOD)
    if key not in PERIODS:
        key = DEFAULT_PERIOD
    days = PERIODS[key][1]
    return key, statistics.Period.of_days(since=timezone.localdate() - dt.timedelta(days=days) if days else None)


def bars(rows: list[tuple[str, int, str]], *, width: int = 560, bar: int = 22, gap: int = 8, label: int = 190) -> dict:
    """A horizontal bar chart as numbers for an inline SVG: (label, value, colour) per row."""
    top = max((value for _, value, _ in rows), default=0) or 1
    span = width - label - 60
    out = []
    for index, (text, value, colour) in enumerate(rows):
        y = index * (bar + gap)
        out.append(
            {
                "label": text,
                "value": value,
                "colour": colour,
                "y": y,
                "text_y": y + bar * 0.7,
                "width": max(round(span * value / top), 2 if value else 0),
                "value_x": label + max(round(span * value / top), 2 if value else 0) + 6,
            }
        )
    return {"rows": out, "width": width, "height": max(len(rows) * (bar + gap) - gap, bar), "bar": bar, "x": label}


def stacked(rows: list[dict], parts: list[tuple[str, str, str]], *, width: int = 560, label: int = 190) -> dict:
    """Horizontal stacked bars: ``parts`` are (key, label, colour); each row gets its segments."""
    top = max((sum(row[key] for key, _, _ in parts) for row in rows), default=0) or 1
    span = width - label - 60
    bar, gap = 22, 8
    out = []
    for index, row in enumerate(rows):
        y = index * (bar + gap)
        x = label
        segments = []
        for key, text, colour in parts:
            w = round(span * row[key] / top)
            if row[key]:
                segments.append({"x": x, "width": max(w, 2), "colour": colour, "title": f"{text} {row[key]}"})
            x += w
        total = sum(row[key] for key, _, _ in parts)
        out.append(
            {
                "label": row["name"],
                "y": y,
                "text_y": y + bar * 0.7,
                "segments": segments,
                "total": total,
                "value_x": x + 6,
            }
        )
    return {
        "rows": out,
        "width": width,
        "height": max(len(rows) * (bar + gap) - gap, bar),
        "bar": bar,
        "x": label,
        "legend": [{"label": text, "colour": colour} for _, text, colour in parts],
    }


@staff_view(*SUPERVISORS)
def dashboard(request):
    key, period = _period(request)
    board = statistics.statistics(user=request.user, period=period)
    status_chart = bars([(row.label, row.count, STATUS_COLOURS.get(row.status, "#8a94a6")) for row in board.by_status])
    one_thing_chart = stacked(
        [
            {
                "name": row.name,
                "concluded": row.counts.concluded,
                "in_progress": row.counts.in_progress,
                "not_accepted": row.counts.not_accepted,
            }
            for row in board.one_things
        ],
        [
            ("concluded", "已办结", "#15603a"),
            ("in_progress", "在办", "#2f6fb3"),
            ("not_accepted", "不予受理", "#9ca3af"),
        ],
    )
    department_chart = stacked(
        [
            {
                "name": row.name,
                "approve": row.approve,
                "need_correction": row.need_correction,
                "reject": row.reject,
                "open": row.open,
            }
            for row in board.departments
        ],
        [
            ("approve", "准予", "#2e8b57"),
            ("need_correction", "需补正", "#d97706"),
            ("reject", "不予许可", "#b42318"),
            ("open", "待办", "#2f6fb3"),
        ],
    )
    return render(
        request,
        "web/dashboard.html",
        {
            "board": board,
            # 黄牌 / 红牌: the one supervision rule, as the inbox and the API colour them.
            "overdue": selectors.overdue_tasks(user=request.user, limit=OVERDUE_SHOWN),
            "overdue_count": selectors.overdue_count(user=request.user),
            "period": key,
            "periods": [(k, label) for k, (label, _) in PERIODS.items()],
            "status_chart": status_chart,
            "one_thing_chart": one_thing_chart,
            "department_chart": department_chart,
            "provisional_cases": selectors.open_cases_with_provisional_dates(user=request.user),
            "sms_counts": selectors.sms_counts(user=request.user),
        },
    )


@staff_view(*SUPERVISORS)
def dashboard_export(request):
    """Every case of the period, one row each, as CSV (UTF-8 with BOM so that Excel reads the Chinese)."""
    key, period = _period(request)
    body = statistics.case_csv(user=request.user, period=period)
    stamp = timezone.localdate().strftime("%Y%m%d")
    response = StreamingHttpResponse(body, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="onething-cases-{key}-{stamp}.csv"'
    return response
