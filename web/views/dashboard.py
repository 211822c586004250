"""效能监督: indicators, charts (inline SVG, drawn on the server), the yellow/red list and a CSV export."""

from __future__ import annotations

import csv
import datetime as dt

from django.http import StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone

from workflow import provisional, ratings
from workflow.access import staff_of
from workflow.lifecycle import CaseStatus

from .. import queries
from ..access import SUPERVISORS, staff_view

PERIODS = {"30": ("近 30 天", 30), "90": ("近 90 天", 90), "365": ("近一年", 365), "all": ("全部", None)}
DEFAULT_PERIOD = "365"
STATUS_COLOURS = {
    CaseStatus.RECEIVED: "#8a94a6",
    CaseStatus.IN_REVIEW: "#2f6fb3",
    CaseStatus.CORRECTION_REQUIRED: "#d97706",
    CaseStatus.APPROVED: "#2e8b57",
    CaseStatus.REJECTED: "#b42318",
    CaseStatus.NOT_ACCEPTED: "#6b7280",
    CaseStatus.CONCLUDED: "#15603a",
}


def _period(request) -> tuple[str, dt.datetime | None]:
    key = request.GET.get("period", DEFAULT_PERIOD)
    if key not in PERIODS:
        key = DEFAULT_PERIOD
    days = PERIODS[key][1]
    return key, (timezone.now() - dt.timedelta(days=days)) if days else None


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
    period, since = _period(request)
    board = queries.dashboard(since=since, user=request.user)
    status_chart = bars(
        [(CaseStatus(status).label, n, STATUS_COLOURS.get(status, "#8a94a6")) for status, n in board.by_status.items()]
    )
    one_thing_chart = stacked(
        board.per_one_thing,
        [("concluded", "已办结", "#15603a"), ("in_review", "在办", "#2f6fb3"), ("not_accepted", "不予受理", "#9ca3af")],
    )
    department_chart = stacked(
        board.per_department,
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
            "hall": getattr(staff_of(request.user), "hall", None),
            "period": period,
            "periods": [(key, label) for key, (label, _) in PERIODS.items()],
            "status_chart": status_chart,
            "one_thing_chart": one_thing_chart,
            "department_chart": department_chart,
            "joint_limit": queries.calendar.JOINT_LIMIT_DAYS,
            "ratings": ratings.rating_statistics(user=request.user),
            "provisional_cases": provisional.open_cases_with_provisional_dates(user=request.user),
        },
    )


class _Echo:
    def write(self, value):
        return value


@staff_view(*SUPERVISORS)
def dashboard_export(request):
    """Every case of the period, one row each, as CSV (UTF-8 with BOM so that Excel reads the Chinese)."""
    period, since = _period(request)
    writer = csv.writer(_Echo())

    def lines():
        yield "\ufeff"
        yield writer.writerow(queries.CSV_HEADER)
        for row in queries.case_rows_for_export(since=since, user=request.user):
            yield writer.writerow(row)

    stamp = timezone.localdate().strftime("%Y%m%d")
    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="onething-cases-{period}-{stamp}.csv"'
    return response
