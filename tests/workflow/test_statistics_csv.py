"""The dashboard's CSV export (issue 19): on PostgreSQL the database formats the rows and streams them (COPY);
the csv module writes the same file from ``case_rows`` elsewhere. Both are run here on PostgreSQL and must give
the same bytes, on the statistics' week of cases, with the labels that need quoting, a calendar that lacks the
week's year, a period and a supervisor bound to a hall."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest

from tests.workflow.clock_helpers import at, day
from tests.workflow.statistics_helpers import build_week
from workflow.calendar import CalendarUnknown, StaticSource, WorkingCalendar
from workflow.models import Hall, OneThing
from workflow.selectors import statistics

pytestmark = pytest.mark.django_db


@pytest.fixture
def week(users):
    return build_week(users)


def both(user, **kwargs) -> bytes:
    copied = b"".join(statistics.case_csv(user=user, copy=True, **kwargs))
    written = b"".join(statistics.case_csv(user=user, copy=False, **kwargs))
    assert copied == written
    return copied


def test_the_database_writes_the_csv_modules_bytes(users, week):
    supervisor = users["supervisor1"]
    now = at("2026-11-06", 12)
    body = both(supervisor, now=now)
    assert body.startswith("\ufeff办件编号,一件事,".encode()) and body.endswith(b"\r\n")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))
    assert len(rows) == 1 + len(week)
    by_no = {row[0]: row for row in rows[1:]}
    # the csv module's own reading of what the rows state (tests/workflow/test_statistics.py holds the values)
    expected = {row.case_no: row for row in statistics.case_rows(user=supervisor, now=now)}
    for case_no, row in by_no.items():
        used = expected[case_no].working_days_used
        assert row[8] == ("" if used is None else str(used))
    # a period, and a supervisor bound to a hall that received nothing: the header alone
    both(supervisor, now=now, period=statistics.Period.of_days(day("2026-11-03")))
    staff = supervisor.staff
    staff.hall = Hall.objects.get(code="120101")
    staff.save()
    assert both(supervisor, now=now).count(b"\r\n") == 1


def test_labels_that_need_quoting_and_a_calendar_without_the_year(users, week):
    # A name with a comma, a quote and a line break: quoted alike, the line break inside the quotes kept as it is;
    # another with a backslash, a percent sign and a carriage return.
    OneThing.objects.filter(key="enterprise_start").update(name='企业开办,"一件事"\n（试点）')
    OneThing.objects.filter(key="newborn").update(name="新生儿\\出生 100%\r一件事")
    body = both(users["supervisor1"], now=at("2026-11-06", 12))
    assert b'"\xe4\xbc\x81\xe4\xb8\x9a\xe5\xbc\x80\xe5\x8a\x9e,""' in body  # '"企业开办,""'
    assert '""\n（试点）"'.encode() in body
    lacking = WorkingCalendar(source=StaticSource(declared_years=[2025, 2027]), library=None, provisional=False)
    body = both(users["supervisor1"], now=at("2026-11-06", 12), calendar=lacking)
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))
    used = {row[0]: row[8] for row in rows[1:]}
    # no working days counted where the calendar lacks the year; A, decided the day it was accepted, used none
    assert used[week["A"]] == "0" and used[week["B"]] == "" and set(used.values()) == {"", "0"}


def test_the_running_totals_count_what_between_counts():
    """``WorkingDayCounter.running`` (what the database subtracts) against ``between`` on every pair of a sample
    of days around a year the calendar lacks (2026), both ways round its edges."""
    calendar = WorkingCalendar(
        source=StaticSource({dt.date(2025, 10, 1): False, dt.date(2027, 1, 2): True}, declared_years=[2025, 2027]),
        library=None,
        provisional=False,
    )
    counter = statistics.WorkingDayCounter(calendar)
    base, totals, lacking = counter.running(2025, 2027)
    assert base == dt.date(2024, 12, 31) and len(totals) == 365 + 365 + 365 + 1
    first = dt.date(2025, 1, 1)
    days = [first + dt.timedelta(days=n) for n in range(0, 3 * 365, 11)]
    days += [dt.date(2025, 12, 30), dt.date(2025, 12, 31), dt.date(2026, 1, 1), dt.date(2026, 12, 31)]
    days += [dt.date(2027, 1, 1), dt.date(2027, 1, 2), dt.date(2024, 12, 31)]
    for start in days:
        for end in days:
            if end < start:
                continue
            spent = totals[(end - base).days] - totals[(start - base).days]
            try:
                assert spent == counter.between(start, end), (start, end)
            except CalendarUnknown:
                assert spent >= lacking, (start, end)
            else:
                assert spent < lacking


def test_a_zone_that_changes_its_offset_is_converted_by_its_name(users, week, settings):
    """Where the hall's zone keeps one offset over the export's years (Asia/Shanghai) the database converts times
    by that offset; where it does not (Berlin's summer time), by the zone's name: the same bytes either way."""
    start = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    assert statistics._fixed_offset(start, start + dt.timedelta(days=700)) == dt.timedelta(hours=8)
    settings.TIME_ZONE = "Europe/Berlin"
    assert statistics._fixed_offset(start, start + dt.timedelta(days=700)) is None
    body = both(users["supervisor1"], now=at("2026-11-06", 12))
    assert body.count(b"\r\n") == 1 + len(week)
