"""The statistics API (docs/statistics.md): who may read it, its period, and parity — the API, the supervisor's
dashboard and its CSV export state the same numbers for the same cases."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import pytest
from django.test import Client
from django.utils import timezone

from tests.api.helpers import assert_error, field_errors, get
from tests.workflow.statistics_helpers import build_week

pytestmark = pytest.mark.django_db

ENDPOINTS = ["/api/statistics", "/api/statistics/one-things", "/api/statistics/departments", "/api/statistics/ratings"]


@pytest.fixture
def week(users):
    return build_week(users)


def percent(value) -> str:  # the screens' ``percent`` filter
    return "—" if value is None else f"{value * 100:.1f}%"


def days(value) -> str:  # the screens' ``days`` filter
    return "—" if value is None else f"{value:.2f}"


def test_statistics_are_for_supervisors_and_administrators(users, client_for):
    for path in ENDPOINTS:
        assert get(client_for("supervisor1"), path).status_code == 200, path
        assert get(client_for("admin"), path).status_code == 200, path
        for username in ("window1", "market1", "police1"):
            assert_error(get(client_for(username), path), 403, "permission_denied")
        assert_error(get(client_for(None), path), 401, "not_authenticated")


def test_a_bad_period_is_a_400_with_field_errors(users, client_for):
    supervisor = client_for("supervisor1")
    assert "since" in field_errors(get(supervisor, "/api/statistics?since=2026-13-01"))
    assert "until" in field_errors(get(supervisor, "/api/statistics/one-things?since=2026-11-03&until=2026-11-02"))
    assert "until" in field_errors(get(supervisor, "/api/statistics/ratings?until=yesterday"))
    assert "until" in field_errors(get(supervisor, "/api/statistics/departments?until=9999-12-31"))
    assert "since" in field_errors(get(supervisor, "/api/statistics?since=0001-01-01"))


def test_a_supervisor_bound_to_a_hall_sees_only_that_halls_cases(users, client_for, week):
    from workflow.models import Hall

    assert get(client_for("supervisor1"), "/api/statistics").json()["counts"]["received"] == 9
    staff = users["supervisor1"].staff
    staff.hall = Hall.objects.get(code="120101")  # the demo's other hall: none of the week's cases is its
    staff.save()
    body = get(client_for("supervisor1"), "/api/statistics").json()
    assert body["hall"] == {"code": "120101", "name": "和平区政务服务中心"}
    assert body["counts"]["received"] == 0 and body["departments"] == [] and body["ratings"]["ratings"] == 0
    one_things = get(client_for("supervisor1"), "/api/statistics/one-things").json()
    assert sum(row["counts"]["received"] for row in one_things) == 0
    assert get(client_for("admin"), "/api/statistics").json()["counts"]["received"] == 9


def test_the_period_selects_cases_by_receipt_day(users, client_for, week):
    supervisor = client_for("supervisor1")
    monday = get(supervisor, "/api/statistics?since=2026-11-02&until=2026-11-02").json()
    assert (monday["since"], monday["until"]) == ("2026-11-02", "2026-11-02")
    assert (monday["counts"]["received"], monday["counts"]["concluded"]) == (5, 4)
    from_tuesday = get(supervisor, "/api/statistics?since=2026-11-03").json()
    assert (from_tuesday["until"], from_tuesday["counts"]["received"]) == (None, 4)
    ratings = get(supervisor, "/api/statistics/ratings?since=2026-11-03").json()
    assert ratings["ratings"] == 0 and ratings["good_rate"] is None
    everything = get(supervisor, "/api/statistics").json()
    assert (everything["since"], everything["until"], everything["counts"]["received"]) == (None, None, 9)
    assert get(supervisor, "/api/statistics?since=&until=").json() == everything  # empty: open


def _kpis(html: str) -> dict[str, str]:
    return dict(re.findall(r'<div class="kpi[^"]*"><span>(.*?)</span><strong>(.*?)</strong>', html))


def _one_thing_rows(html: str) -> dict[str, list[str]]:
    table = html[html.index("<h2>各一件事指标</h2>") :]
    table = table[: table.index("</table>")]
    rows = re.findall(r"<tr><td>(.*?)</td></tr>", table)
    return {cells[0]: cells[1:] for cells in (row.split("</td><td>") for row in rows)}


def test_the_api_the_dashboard_and_the_csv_state_the_same_numbers(users, client_for, week):
    api = get(client_for("supervisor1"), "/api/statistics").json()
    counts, indicators = api["counts"], api["indicators"]
    screen = Client()
    screen.force_login(users["supervisor1"])
    page = screen.get("/dashboard/?period=all")
    html = page.content.decode()

    # The dashboard's indicator tiles.
    kpis = _kpis(html)
    assert kpis["办件总数"] == str(counts["received"])
    assert kpis["办结率"] == percent(indicators["completion_rate"]) == "57.1%"
    assert kpis["即办件占比"] == percent(indicators["immediate_share"]) == "25.0%"
    assert kpis["时限压减率"] == percent(indicators["reduction_rate"]) == "84.8%"
    assert kpis["平均办理用时"] == days(indicators["average_working_days"]) == "1.25"
    assert kpis["按时办结率"] == percent(indicators["on_time_rate"]) == "50.0%"
    assert kpis["好评率"] == percent(indicators["good_rate"]) == percent(api["ratings"]["good_rate"]) == "66.7%"
    assert kpis["差评整改工单（未完成）"] == str(api["ratings"]["rectifications"]["open"])
    # 跑动: every case of the week was submitted at the window and collected there (two trips each)
    assert kpis["零跑动率"] == percent(indicators["zero_trip_rate"]) == "0.0%"
    assert kpis["最多跑一次率"] == percent(indicators["at_most_one_trip_rate"]) == "0.0%"
    assert indicators["average_trips"] == 2.0 and counts["trips"] == 2 * counts["concluded"]
    assert [row["concluded"] for row in api["halls"]] == [counts["concluded"]]

    # The dashboard's table, one row per one-thing, against GET /api/statistics/one-things.
    table = _one_thing_rows(html)
    one_things = get(client_for("supervisor1"), "/api/statistics/one-things").json()
    assert one_things == api["one_things"]
    for row in one_things:
        c, i = row["counts"], row["indicators"]
        assert table[row["name"]] == [
            str(c["received"]),
            str(c["accepted"]),
            str(c["in_progress"]),
            str(c["concluded"]),
            str(c["not_accepted"]),
            percent(i["completion_rate"]),
            percent(i["immediate_share"]),
            str(row["promised_limit_days"]),
            days(i["average_working_days"]),
            percent(i["on_time_rate"]),
            percent(i["reduction_rate"]),
            percent(i["good_rate"]),
            percent(i["zero_trip_rate"]),
            percent(i["at_most_one_trip_rate"]),
        ], row["key"]

    # The departments' chart, against GET /api/statistics/departments.
    departments = get(client_for("supervisor1"), "/api/statistics/departments").json()
    assert departments == api["departments"]
    chart = {row["label"]: row["total"] for row in page.context["department_chart"]["rows"]}
    assert chart == {
        row["name"]: row["open"] + row["approve"] + row["need_correction"] + row["reject"] for row in departments
    }
    assert get(client_for("supervisor1"), "/api/statistics/ratings").json() == api["ratings"]

    # The CSV: one row per case; the indicators recomputed from its columns.
    export = screen.get("/dashboard/cases.csv?period=all")
    rows = list(csv.DictReader(io.StringIO(b"".join(export.streaming_content).decode("utf-8-sig"))))
    assert len(rows) == counts["received"]
    concluded = [row for row in rows if row["状态"] == "已办结" and row["受理时间"]]
    accepted = [row for row in rows if row["受理时间"]]
    assert (len(accepted), len(concluded)) == (counts["accepted"], counts["concluded"])
    used = [int(row["用时（工作日）"]) for row in concluded]
    assert sum(used) == counts["working_days"] and len(used) == counts["timed"]
    assert round(sum(used) / len(used), 2) == indicators["average_working_days"]
    assert sum(1 for n in used if n == 0) == counts["immediate"]
    assert sum(1 for row in concluded if row["是否超期"] == "否") == counts["on_time"]
    assert sum(int(row["跑动次数"]) for row in concluded) == counts["trips"]
    assert sum(1 for row in concluded if row["跑动次数"] == "0") == counts["zero_trips"]
    assert {row["状态"] for row in rows} == {s["label"] for s in api["by_status"] if s["count"]}


def test_the_dashboard_period_is_the_apis_since(users, client_for, week):
    from time_machine import travel

    with travel(dt.datetime(2026, 11, 20, 9, tzinfo=timezone.get_default_timezone()), tick=False):
        screen = Client()
        screen.force_login(users["supervisor1"])
        board = screen.get("/dashboard/?period=30").context["board"]
        api = get(client_for("supervisor1"), "/api/statistics?since=2026-10-21").json()
        narrow = get(client_for("supervisor1"), "/api/statistics?since=2026-11-03").json()
    assert board.period.first_day == dt.date(2026, 10, 21)
    assert board.counts.received == api["counts"]["received"] == 9 != narrow["counts"]["received"]
