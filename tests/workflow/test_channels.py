"""申办渠道: each case records how it came in (窗口 / 网上 / 自助终端); the statistics count cases, 网上申办率 and
即办件 by channel, and the API, the dashboard and the CSV state the same numbers."""

from __future__ import annotations

import csv
import io

import pytest
from django.test import Client

from tests.conftest import APPLICANT, ENTERPRISE_FORM, handed_in
from tests.workflow.clock_helpers import day
from tests.workflow.statistics_helpers import build_week
from workflow import services
from workflow.errors import ValidationFailed
from workflow.models import Case, Channel
from workflow.selectors import statistics

pytestmark = pytest.mark.django_db


def test_case_open_records_the_channel_window_by_default(users):
    window = services.case_open(
        user=users["window1"], one_thing_key="enterprise_start", applicant=APPLICANT, form=ENTERPRISE_FORM
    ).case
    kiosk = services.case_open(
        user=users["window1"],
        one_thing_key="enterprise_start",
        applicant=APPLICANT,
        form=ENTERPRISE_FORM,
        materials=handed_in(),
        channel=Channel.KIOSK,
    ).case
    assert Case.objects.get(pk=window.pk).channel == "window"
    assert Case.objects.get(pk=kiosk.pk).channel == "kiosk"
    assert kiosk.events.get(kind="opened").data["channel"] == "kiosk"
    with pytest.raises(ValidationFailed) as error:
        services.case_open(
            user=users["window1"],
            one_thing_key="enterprise_start",
            applicant=APPLICANT,
            form=ENTERPRISE_FORM,
            channel="fax",
        )
    assert "channel" in error.value.field_errors


def test_the_case_api_and_page_show_the_channel(users, client_for):
    case = services.case_open(
        user=users["window1"],
        one_thing_key="enterprise_start",
        applicant=APPLICANT,
        form=ENTERPRISE_FORM,
        channel=Channel.ONLINE,
    ).case
    body = client_for("window1").get(f"/api/cases/{case.case_no}").json()
    assert (body["channel"], body["channel_label"]) == ("online", "网上")
    screen = Client()
    screen.force_login(users["window1"])
    page = screen.get(f"/cases/{case.case_no}/").content.decode()
    assert 'data-testid="case-channel">网上</span>' in page


@pytest.fixture
def week(users):
    cases = build_week(users)
    # A (a 即办件) and G (waiting) came in online, C (with its correction pause) at a kiosk; the rest at the window.
    Case.objects.filter(case_no__in=[cases["A"], cases["G"]]).update(channel=Channel.ONLINE)
    Case.objects.filter(case_no=cases["C"]).update(channel=Channel.KIOSK)
    return cases


def test_cases_online_rate_and_immediate_items_by_channel(users, week):
    board = statistics.statistics(user=users["supervisor1"], today=day("2026-11-06"))
    rows = {row.channel: row for row in board.channels}
    assert [row.channel for row in board.channels] == ["window", "online", "kiosk"]
    assert [row.label for row in board.channels] == ["窗口", "网上", "自助终端"]
    # window: B H D E F N; online: A G; kiosk: C
    window, online, kiosk = rows["window"], rows["online"], rows["kiosk"]
    assert (window.received, window.accepted, window.concluded, window.timed, window.immediate) == (6, 5, 2, 2, 0)
    assert (online.received, online.accepted, online.concluded, online.timed, online.immediate) == (2, 1, 1, 1, 1)
    assert (kiosk.received, kiosk.accepted, kiosk.concluded, kiosk.timed, kiosk.immediate) == (1, 1, 1, 1, 0)
    assert (window.immediate_share, online.immediate_share, kiosk.immediate_share) == (0.0, 1.0, 0.0)
    assert (window.share, online.share, kiosk.share) == (0.6667, 0.2222, 0.1111)
    # 网上申办率 = (online + kiosk) ÷ received = 3 ÷ 9
    assert board.online_application_rate == 0.3333
    # The channels add up to the hall.
    assert sum(row.received for row in board.channels) == board.counts.received
    assert sum(row.immediate for row in board.channels) == board.counts.immediate


def test_the_api_the_dashboard_and_the_csv_count_channels_alike(users, client_for, week):
    body = client_for("supervisor1").get("/api/statistics").json()
    assert body["online_application_rate"] == 0.3333
    api = {row["channel"]: row for row in body["channels"]}
    assert (api["online"]["received"], api["online"]["immediate"], api["kiosk"]["received"]) == (2, 1, 1)
    screen = Client()
    screen.force_login(users["supervisor1"])
    page = screen.get("/dashboard/?period=all").content.decode()
    assert "网上申办率" in page and "33.3%" in page
    assert '<tr data-channel="online"><td>网上</td><td>2</td><td>22.2%</td>' in page
    export = b"".join(screen.get("/dashboard/cases.csv?period=all").streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(export)))
    column = rows[0].index("申办渠道")
    by_case = {row[0]: row[column] for row in rows[1:]}
    assert by_case[week["A"]] == "网上" and by_case[week["C"]] == "自助终端" and by_case[week["B"]] == "窗口"
