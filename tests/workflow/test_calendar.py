"""The working-day calendar and the legal clock's arithmetic (行政许可法 Art. 32, 42, 45, 82).

Pure tests run over ``WorkingCalendar(StaticSource())``: the chinese-calendar data, no database. Tests marked
``django_db`` exercise the administrator's tables and ``manage.py import_calendar``.

Real schedules used (国务院办公厅; chinese-calendar 1.11.0):
- 春节 2026: off Sun 02-15 … Mon 02-23; makeup Saturdays 02-14 and 02-28.
- 国庆+中秋 2025: off Wed 10-01 … Wed 10-08; makeup Sun 09-28 and Sat 10-11.
- 国庆 2026: off Thu 10-01 … Wed 10-07 (中秋 Fri 09-25); makeup Sun 09-20 and Sat 10-10.
- 元旦 2026: off Thu 01-01 … Sat 01-03; makeup Sun 01-04.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from io import StringIO
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from hypothesis import given, settings
from hypothesis import strategies as st

from workflow import calendar as cal
from workflow.calendar import CalendarUnknown, StaticSource, WorkingCalendar
from workflow.errors import DomainError, ValidationFailed
from workflow.models import CalendarDay, CalendarDayKind, CalendarYear

FIXTURES = Path(__file__).parent / "calendar_fixtures"
SHANGHAI = ZoneInfo("Asia/Shanghai")
UTC = dt.UTC
D = dt.date.fromisoformat


def at(text: str) -> dt.datetime:
    """A local (Asia/Shanghai) wall-clock time, aware."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


@pytest.fixture
def pure() -> WorkingCalendar:
    return WorkingCalendar(StaticSource())


# --------------------------------------------------------------------------- the real schedules


@pytest.mark.parametrize(
    ("day", "working", "name"),
    [
        # 春节 2026
        ("2026-02-13", True, ""),
        ("2026-02-14", True, "春节调休上班"),  # Saturday, makeup
        ("2026-02-15", False, "春节"),
        ("2026-02-16", False, "春节"),  # Monday in the holiday
        ("2026-02-20", False, "春节"),  # Friday in the holiday
        ("2026-02-23", False, "春节"),  # Monday, last day off
        ("2026-02-24", True, ""),
        ("2026-02-28", True, "春节调休上班"),  # Saturday, makeup
        ("2026-03-01", False, ""),  # an ordinary Sunday
        # 国庆 + 中秋 2025
        ("2025-09-27", False, ""),  # ordinary Saturday
        ("2025-09-28", True, "国庆节调休上班"),  # Sunday, makeup
        ("2025-10-01", False, "国庆节"),
        ("2025-10-06", False, "中秋节"),  # Monday of Golden Week
        ("2025-10-08", False, "国庆节"),  # Wednesday of Golden Week
        ("2025-10-09", True, ""),
        ("2025-10-11", True, "国庆节调休上班"),  # Saturday, makeup
        ("2025-10-12", False, ""),
        # 国庆 2026
        ("2026-09-20", True, "国庆节调休上班"),  # Sunday, makeup
        ("2026-09-25", False, "中秋节"),  # Friday
        ("2026-10-05", False, "国庆节"),  # Monday of Golden Week
        ("2026-10-07", False, "国庆节"),  # Wednesday of Golden Week
        ("2026-10-08", True, ""),
        ("2026-10-10", True, "国庆节调休上班"),  # Saturday, makeup
        # 元旦 2026
        ("2026-01-02", False, "元旦"),
        ("2026-01-04", True, "元旦调休上班"),  # Sunday, makeup
    ],
)
def test_known_facts_of_the_2025_and_2026_schedules(pure, day, working, name):
    info = pure.day(D(day))
    assert info.working is working
    assert info.name == name
    assert pure.is_working_day(D(day)) is working


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        # 春节 2026, from Thursday 02-12
        ("2026-02-12", 1, "2026-02-13"),
        ("2026-02-12", 2, "2026-02-14"),  # the makeup Saturday counts
        ("2026-02-12", 3, "2026-02-24"),  # nine days off are skipped
        ("2026-02-12", 7, "2026-02-28"),  # the second makeup Saturday
        ("2026-02-12", 8, "2026-03-02"),
        ("2026-02-16", 0, "2026-02-24"),  # n=0 on a holiday: the next working day
        ("2026-02-14", 0, "2026-02-14"),  # n=0 on a working (makeup) day: that day
        ("2026-02-15", 1, "2026-02-24"),  # counting starts the day after, even from a holiday
        # 国庆 2025, from Friday 09-26
        ("2025-09-26", 1, "2025-09-28"),  # the makeup Sunday
        ("2025-09-26", 3, "2025-09-30"),
        ("2025-09-26", 4, "2025-10-09"),
        ("2025-09-26", 6, "2025-10-11"),  # the makeup Saturday
        ("2025-09-26", 7, "2025-10-13"),
        # 国庆 2026
        ("2026-09-18", 1, "2026-09-20"),
        ("2026-09-30", 1, "2026-10-08"),
        ("2026-10-09", 1, "2026-10-10"),
        # across the year: 2025-12-31 → 元旦 off → the makeup Sunday 2026-01-04
        ("2025-12-31", 1, "2026-01-04"),
        ("2025-12-31", 2, "2026-01-05"),
    ],
)
def test_add_working_days_across_the_holidays(pure, start, n, expected):
    assert pure.add_working_days(D(start), n) == D(expected)


def test_working_days_between_counts_the_half_open_interval(pure):
    # (02-13, 02-28]: 02-14 makeup, 02-24 … 02-27, 02-28 makeup
    assert pure.working_days_between(D("2026-02-13"), D("2026-02-28")) == 6
    assert pure.working_days_between(D("2025-09-30"), D("2025-10-08")) == 0  # all of Golden Week
    assert pure.working_days_between(D("2025-09-27"), D("2025-10-12")) == 6  # 09-28/29/30, 10-09/10/11
    assert pure.working_days_between(D("2026-03-02"), D("2026-03-02")) == 0
    with pytest.raises(ValueError, match="早于"):
        pure.working_days_between(D("2026-03-02"), D("2026-03-01"))
    with pytest.raises(ValueError, match="负数"):
        pure.add_working_days(D("2026-03-02"), -1)


@settings(max_examples=200, deadline=None)
@given(start=st.dates(min_value=dt.date(2024, 1, 1), max_value=dt.date(2026, 9, 30)), n=st.integers(1, 40))
def test_add_and_between_are_inverse(start, n):
    calendar = WorkingCalendar(StaticSource())
    end = calendar.add_working_days(start, n)
    assert calendar.is_working_day(end)
    assert calendar.working_days_between(start, end) == n
    assert calendar.working_days_between(start, end - dt.timedelta(days=1)) == n - 1


def test_datetimes_are_converted_to_local_dates_not_utc_dates(pure):
    # 2026-02-13 17:30 UTC is 2026-02-14 01:30 in Shanghai, the makeup Saturday
    received = dt.datetime(2026, 2, 13, 17, 30, tzinfo=UTC)
    assert cal.local_date(received) == D("2026-02-14")
    assert pure.add_working_days(received, 1) == D("2026-02-24")
    assert pure.day(received).name == "春节调休上班"
    with pytest.raises(ValueError, match="时区"):
        pure.add_working_days(dt.datetime(2026, 2, 13, 17, 30), 1)  # noqa: DTZ001 — naive on purpose


# --------------------------------------------------------------------------- unknown and declared years


def test_a_year_without_a_rule_or_a_schedule_raises_a_chinese_error_instead_of_guessing():
    # No version of the holiday law is kept before 2008 and the library starts in 2004: 2003 is unknown.
    with pytest.raises(CalendarUnknown) as caught:
        WorkingCalendar(StaticSource()).is_working_day(D("2003-03-03"))
    error = caught.value
    assert isinstance(error, DomainError)
    assert error.message.startswith("2003 年的工作日历尚未录入")
    assert error.code == "calendar_unknown"
    assert error.http_status == 503
    assert error.extra == {"year": 2003}

    # A strict calendar (provisional=False) treats a year without an official schedule the same way.
    strict = WorkingCalendar(StaticSource(), provisional=False)
    assert strict.knows_year(2027) is False
    assert strict.knows_year(2026) is True
    # a walk that stays inside 2026 is fine; one that needs a 2027 day is not
    assert strict.add_working_days(D("2026-12-25"), 4) == D("2026-12-31")
    with pytest.raises(CalendarUnknown, match="2027 年"):
        strict.add_working_days(D("2026-12-25"), 5)


def test_a_partly_entered_year_is_a_draft_and_follows_the_provisional_rule_even_on_its_entered_days():
    draft = WorkingCalendar(StaticSource({D("2027-02-09"): (False, "春节"), D("2027-02-14"): (True, "春节调休上班")}))
    assert draft.knows_year(2027) is False and draft.is_provisional(2027)
    assert draft.day(D("2027-02-09")) == cal.Day(D("2027-02-09"), True, provisional=True)  # a Tuesday
    assert not draft.is_working_day(D("2027-02-14"))  # a Sunday: the draft's makeup day does not count yet
    assert draft.day(D("2027-02-08")) == cal.Day(D("2027-02-08"), False, "春节", "statutory", provisional=True)


def test_a_declared_year_uses_the_weekend_rule_plus_its_entries():
    declared = WorkingCalendar(
        StaticSource({D("2027-02-08"): (False, "春节"), D("2027-02-14"): (True, "春节调休上班")}, declared_years=[2027])
    )
    assert declared.day(D("2027-02-08")) == cal.Day(D("2027-02-08"), False, "春节", "override")
    assert declared.is_working_day(D("2027-02-14"))  # a Sunday, made a workday
    assert declared.is_working_day(D("2027-03-01"))  # Monday: the rule
    assert not declared.is_working_day(D("2027-03-06"))  # Saturday: the rule


def test_a_declared_year_replaces_the_library_for_that_year():
    # the administrator imported 2026 themselves: the library's 春节 no longer applies unless listed
    declared = WorkingCalendar(StaticSource({D("2026-02-17"): (False, "春节")}, declared_years=[2026]))
    assert declared.is_working_day(D("2026-02-16"))
    assert not declared.is_working_day(D("2026-02-17"))
    assert not declared.is_working_day(D("2026-02-14"))  # the library's makeup Saturday is gone too


def test_without_the_library_only_declared_years_are_official():
    bare = WorkingCalendar(StaticSource(declared_years=[2026]), library=None)
    assert bare.is_working_day(D("2026-02-16"))
    assert bare.day(D("2025-10-01")) == cal.Day(D("2025-10-01"), False, "国庆节", "statutory", provisional=True)
    with pytest.raises(CalendarUnknown):
        WorkingCalendar(StaticSource(declared_years=[2026]), library=None, provisional=False).day(D("2025-10-01"))


# --------------------------------------------------------------------------- deadlines and the stopped clock


def test_a_deadline_without_pauses_is_add_working_days_from_the_local_start_date(pure):
    accepted = at("2026-02-09 10:00")
    assert pure.deadline(accepted, 5) == D("2026-02-14")  # 10, 11, 12, 13 and the makeup Saturday
    assert pure.deadline(accepted, 20) == D("2026-03-13")  # 5 before 春节, 02-24 … 02-28, 03-02 … 03-13
    assert pure.deadline(accepted, 0) == D("2026-02-09")  # 即办件
    with pytest.raises(ValueError, match="时限"):
        pure.deadline(accepted, -1)


def test_a_correction_owed_extends_the_deadline_by_the_working_days_it_covers(pure):
    accepted = at("2026-02-09 10:00")
    # notice 02-10 09:00, materials back 02-12 15:00: (02-10, 02-12] = 11th and 12th stopped
    correction = (at("2026-02-10 09:00"), at("2026-02-12 15:00"))
    assert pure.deadline(accepted, 5, [correction]) == D("2026-02-25")  # 10, 13, 14, 24, 25


def test_overlapping_pauses_are_counted_once(pure):
    accepted = at("2026-02-09 10:00")
    correction = (at("2026-02-10 09:00"), at("2026-02-12 15:00"))
    expert_review = (at("2026-02-11 09:00"), at("2026-02-13 17:00"))
    # merged: (02-10, 02-13] → 11, 12, 13 stopped; counted 10, 14, 24, 25, 26
    assert pure.deadline(accepted, 5, [expert_review, correction]) == D("2026-02-26")


def test_a_pause_over_the_holiday_costs_only_the_working_days_it_covers(pure):
    accepted = at("2026-02-09 10:00")
    hearing = (at("2026-02-13 09:00"), at("2026-02-24 11:00"))  # 11 calendar days, 2 working days (14th, 24th)
    assert pure.deadline(accepted, 5, [hearing]) == D("2026-02-25")  # 10, 11, 12, 13, 25


def test_pauses_that_cost_nothing(pure):
    accepted = at("2026-02-09 10:00")
    same_day = (at("2026-02-10 09:00"), at("2026-02-10 16:00"))
    after_the_deadline = (at("2026-03-02 09:00"), at("2026-03-20 09:00"))
    assert pure.deadline(accepted, 5, [same_day, after_the_deadline]) == D("2026-02-14")
    with pytest.raises(ValueError, match="早于"):
        pure.deadline(accepted, 5, [(at("2026-02-12 09:00"), at("2026-02-10 09:00"))])


def test_an_open_pause_runs_until_now_so_the_deadline_is_provisional(pure):
    accepted = at("2026-02-02 10:00")  # Monday
    testing = (at("2026-02-04 10:00"), None)  # samples sent for testing, no result yet
    assert pure.deadline(accepted, 5, [testing], now=at("2026-02-04 18:00")) == D("2026-02-09")  # nothing stopped yet
    with time_machine.travel(at("2026-02-06 15:00"), tick=False):
        # (02-04, 02-06] stopped: counted 3, 4, 9, 10, 11
        assert pure.deadline(accepted, 5, [testing]) == D("2026-02-11")
    with time_machine.travel(at("2026-02-09 15:00"), tick=False):
        assert pure.deadline(accepted, 5, [testing]) == D("2026-02-12")  # one more working day stopped
    with time_machine.travel(at("2026-02-09 15:00"), tick=False):
        # the module-level function reads the clock the same way (and the DB-free calendar here)
        assert cal.deadline(accepted, 5, [testing], calendar=pure) == D("2026-02-12")


def test_working_days_used_excludes_the_stopped_days(pure):
    accepted = at("2026-02-09 10:00")
    concluded = at("2026-02-26 16:00")
    correction = (at("2026-02-10 09:00"), at("2026-02-12 15:00"))
    assert pure.working_days_used(accepted, concluded) == 8  # 10-14 and 24-26
    assert pure.working_days_used(accepted, concluded, [correction]) == 6
    assert pure.working_days_used(accepted, accepted) == 0
    with time_machine.travel(at("2026-02-24 09:00"), tick=False):
        # still running, correction still owed since the 13th: (02-13, now] stopped
        assert pure.working_days_used(accepted, None, [(at("2026-02-13 11:00"), None)]) == 4  # 10, 11, 12, 13


# --------------------------------------------------------------------------- Art. 32: deemed acceptance


def test_correction_notice_due_is_five_working_days_after_receipt(pure):
    assert pure.correction_notice_due(at("2026-02-09 10:00")) == D("2026-02-14")  # through the makeup Saturday
    # received online at 01:30 local on the makeup Saturday (17:30 UTC the day before)
    assert pure.correction_notice_due(dt.datetime(2026, 2, 13, 17, 30, tzinfo=UTC)) == D("2026-02-28")
    assert pure.correction_notice_due(at("2025-09-29 09:00")) == D("2025-10-13")  # 30, 9, 10, 11 (Sat), 13


def test_deemed_acceptance(pure):
    received = at("2026-02-09 10:00")  # notice due by 02-14
    assert not pure.is_deemed_accepted(received, None, at("2026-02-14 17:00"))
    assert pure.is_deemed_accepted(received, None, at("2026-02-15 09:00"))
    assert not pure.is_deemed_accepted(received, at("2026-02-14 16:00"), at("2026-03-01 09:00"))  # timely
    assert pure.is_deemed_accepted(received, at("2026-02-24 09:00"), at("2026-02-24 10:00"))  # too late
    with time_machine.travel(at("2026-02-14 23:59"), tick=False):
        assert not pure.is_deemed_accepted(received, None)
    with time_machine.travel(at("2026-02-15 00:00"), tick=False):
        assert pure.is_deemed_accepted(received, None)
    # 00:00 local on the 15th is still the 14th in UTC: the local date decides
    assert pure.is_deemed_accepted(received, None, dt.datetime(2026, 2, 14, 16, 0, tzinfo=UTC))


# --------------------------------------------------------------------------- 时限压减率


@pytest.mark.parametrize(
    ("promised", "statutory", "rate"),
    [(5, 20, "0.7500"), (15, 45, "0.6667"), (20, 20, "0.0000"), (0, 1, "1.0000"), (1, 3, "0.6667"), (2, 3, "0.3333")],
)
def test_reduction_rate(promised, statutory, rate):
    assert cal.reduction_rate(promised, statutory) == Decimal(rate)


@pytest.mark.parametrize(
    ("promised", "statutory", "message"),
    [(5, 0, "法定时限必须大于 0"), (21, 20, "不能长于法定时限"), (-1, 20, "不能为负数"), (True, 20, "整数")],
)
def test_reduction_rate_refuses_nonsense(promised, statutory, message):
    with pytest.raises(ValidationFailed, match=message):
        cal.reduction_rate(promised, statutory)


# --------------------------------------------------------------------------- the database


@pytest.mark.django_db
def test_a_database_override_beats_the_library():
    # a typhoon closes the hall on Wednesday 2026-07-15
    assert cal.is_working_day(D("2026-07-15"))
    assert cal.add_working_days(D("2026-07-14"), 2) == D("2026-07-16")
    CalendarDay.objects.create(date=D("2026-07-15"), kind=CalendarDayKind.HOLIDAY, name="台风停工")
    assert not cal.is_working_day(D("2026-07-15"))
    assert cal.day_info(D("2026-07-15")) == cal.Day(D("2026-07-15"), False, "台风停工", "override")
    assert cal.add_working_days(D("2026-07-14"), 2) == D("2026-07-17")

    # and the other way: the hall opens on a library holiday
    CalendarDay.objects.create(date=D("2026-10-07"), kind=CalendarDayKind.WORKDAY, name="值班")
    assert cal.is_working_day(D("2026-10-07"))
    assert cal.is_working_day(D("2026-10-06")) is False  # the rest of Golden Week untouched


@pytest.mark.django_db
def test_a_calendar_is_a_snapshot_and_module_functions_see_edits_at_once():
    snapshot = WorkingCalendar()
    assert snapshot.is_working_day(D("2026-07-15"))
    CalendarDay.objects.create(date=D("2026-07-15"), kind=CalendarDayKind.HOLIDAY, name="台风停工")
    assert snapshot.is_working_day(D("2026-07-15"))  # the snapshot keeps what it loaded
    assert not cal.is_working_day(D("2026-07-15"))  # a fresh call sees the edit


@pytest.mark.django_db
def test_a_deadline_costs_two_queries_per_year_not_one_per_day(django_assert_num_queries):
    # 45 working days + the 15 the correction covers, (11-10, 12-01]: 19 left in November, 23 in December,
    # then 2026's makeup Sunday 01-04 and 01-05 … 01-27
    correction = (at("2025-11-10 09:00"), at("2025-12-01 09:00"))
    with django_assert_num_queries(4):  # 2025 and 2026: CalendarYear + CalendarDay each
        assert cal.deadline(at("2025-11-03 10:00"), 45, [correction]) == D("2026-01-27")
    snapshot = WorkingCalendar()
    with django_assert_num_queries(2):
        for day in range(1, 29):
            snapshot.is_working_day(dt.date(2026, 2, day))


@pytest.mark.django_db
def test_entered_days_do_not_count_until_the_year_is_declared_complete():
    CalendarDay.objects.create(date=D("2027-02-09"), kind=CalendarDayKind.HOLIDAY, name="春节")
    assert cal.day_info(D("2027-02-09")).provisional  # a Tuesday: working, provisionally
    assert cal.is_working_day(D("2027-02-09"))
    CalendarYear.objects.create(year=2027, complete=False, source="录入中")
    assert cal.is_working_day(D("2027-02-09"))
    assert not cal.is_working_day(D("2027-02-08"))  # the law's 春节 (初三), provisionally
    CalendarYear.objects.filter(year=2027).update(complete=True)
    assert cal.day_info(D("2027-02-09")) == cal.Day(D("2027-02-09"), False, "春节", "override")
    assert cal.is_working_day(D("2027-02-08"))  # official now: only the entered days are off
    assert cal.is_working_day(D("2027-03-01"))


# --------------------------------------------------------------------------- manage.py import_calendar


def run_import(*args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    try:
        call_command("import_calendar", *map(str, args), stdout=out, stderr=err)
    finally:
        run_import.stderr = err.getvalue()
    return out.getvalue(), err.getvalue()


@pytest.mark.django_db
def test_import_a_year_then_deadlines_cross_into_it():
    provisional = WorkingCalendar()
    assert provisional.add_working_days(D("2026-12-31"), 1) == D("2027-01-04")  # 元旦 (Friday) and the weekend
    assert provisional.add_working_days(D("2027-02-05"), 1) == D("2027-02-09")  # 除夕 … 初三 off, no 调休 known
    assert provisional.provisional_between(D("2026-12-31"), D("2027-01-04"))
    out, _ = run_import(FIXTURES / "2027_sample.json")
    assert "已导入 2027 年" in out
    assert "该年度已标记为完整录入" in out
    year = CalendarYear.objects.get(year=2027)
    assert year.complete
    assert year.source.startswith("测试用示例")
    assert CalendarDay.objects.filter(date__year=2027, kind=CalendarDayKind.WORKDAY).count() == 4
    assert CalendarDay.objects.get(date=D("2027-02-08")).name == "春节"

    assert cal.is_working_day(D("2027-02-14"))  # makeup Sunday
    assert not cal.is_working_day(D("2027-02-08"))  # Monday of 春节
    assert cal.is_working_day(D("2027-03-01"))
    assert cal.add_working_days(D("2026-12-31"), 1) == D("2027-01-04")  # 元旦 01-01 … 01-03
    assert cal.add_working_days(D("2027-02-05"), 1) == D("2027-02-14")
    assert not WorkingCalendar().provisional_between(D("2026-12-31"), D("2027-01-04"))


@pytest.mark.django_db
def test_import_is_idempotent_and_replaces_the_year():
    CalendarDay.objects.create(date=D("2027-03-03"), kind=CalendarDayKind.HOLIDAY, name="台风停工")
    CalendarDay.objects.create(date=D("2026-07-15"), kind=CalendarDayKind.HOLIDAY, name="台风停工")
    out, _ = run_import(FIXTURES / "2027_sample.json")
    assert "删除 1 条" in out
    rows = list(CalendarDay.objects.values_list("date", "kind", "name"))
    out, _ = run_import(FIXTURES / "2027_sample.json")
    assert out.startswith("内容未变")
    assert list(CalendarDay.objects.values_list("date", "kind", "name")) == rows
    assert CalendarYear.objects.count() == 1
    assert not CalendarDay.objects.filter(date=D("2027-03-03")).exists()
    assert CalendarDay.objects.filter(date=D("2026-07-15")).exists()  # other years untouched


@pytest.mark.django_db
def test_import_csv_and_dry_run():
    out, _ = run_import(FIXTURES / "2027_sample.csv", "--dry-run")
    assert "校验通过，未写入" in out
    assert not CalendarDay.objects.exists() and not CalendarYear.objects.exists()

    run_import(FIXTURES / "2027_sample.csv")
    assert dict(CalendarDay.objects.values_list("date", "kind")) == {
        D("2027-01-01"): CalendarDayKind.HOLIDAY,
        D("2027-02-08"): CalendarDayKind.HOLIDAY,
        D("2027-02-09"): CalendarDayKind.HOLIDAY,
        D("2027-02-14"): CalendarDayKind.WORKDAY,
    }
    assert CalendarYear.objects.get(year=2027).source == "导入文件 2027_sample.csv"


def sample(**changes) -> str:
    data = json.loads((FIXTURES / "2027_sample.json").read_text(encoding="utf-8"))
    data.update(changes)
    return json.dumps(data, ensure_ascii=False)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "text", "problem"),
    [
        ("bad.json", '{"year": 2027, "holidays": [', "不是有效的 JSON"),
        ("bad.json", "[1, 2]", "JSON 顶层应为对象"),
        ("bad.json", sample(year="2027"), "year 必须是"),
        ("bad.json", sample(year=2027, holidays=[]), "holidays 必须是非空列表"),
        ("bad.json", sample(holidays=[["2027-02-31", "春节"]]), "不是有效日期"),
        ("bad.json", sample(holidays=[["2028-01-01", "元旦"]]), "不属于 2027 年"),
        ("bad.json", sample(holidays=[["2027-02-12", "2027-02-06", "春节"]]), "早于开始日期"),
        ("bad.json", sample(holidays=[["2027-02-06", "2027-02-12", "春节"], ["2027-02-08", "春节"]]), "重复出现"),
        ("bad.json", sample(workdays=[["2027-02-15", "春节调休上班"]]), "星期一，本来就是工作日"),
        ("bad.json", sample(workdays=[["2027-02-06", "春节调休上班"]]), "重复出现"),  # also a holiday
        ("bad.json", sample(extra=1), "未知字段：extra"),
        ("bad.csv", "date,kind,name\n2027-02-08,放假,春节\n", "类型 '放假' 无效"),
        ("bad.csv", "date,kind,name\n2027-02-08,holiday,春节\n2028-01-03,workday,\n", "须属同一年度"),
        ("bad.csv", "日期,类别\n", "表头"),
        ("bad.csv", "", "文件为空"),
    ],
)
def test_a_malformed_file_is_refused_with_a_chinese_message_and_nothing_is_written(tmp_path, name, text, problem):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CommandError, match="未导入"):
        run_import(path)
    assert problem in run_import.stderr
    assert not CalendarDay.objects.exists()
    assert not CalendarYear.objects.exists()


def test_a_file_the_command_cannot_read_is_refused(tmp_path):
    with pytest.raises(CommandError, match="文件不存在"):
        run_import(tmp_path / "missing.json")
    (tmp_path / "schedule.xlsx").write_bytes(b"PK")
    with pytest.raises(CommandError, match=r"仅支持 \.json 或 \.csv"):
        run_import(tmp_path / "schedule.xlsx")
    (tmp_path / "gbk.csv").write_bytes("date,kind,name\n2027-02-08,休息日,春节\n".encode("gbk"))
    with pytest.raises(CommandError, match="不是 UTF-8 编码"):
        run_import(tmp_path / "gbk.csv")


def test_manage_py_exits_non_zero_on_a_malformed_file(tmp_path, capsys):
    from django.core.management import ManagementUtility

    path = tmp_path / "bad.json"
    path.write_text('{"year": 2027}', encoding="utf-8")
    with pytest.raises(SystemExit) as exited:
        ManagementUtility(["manage.py", "import_calendar", str(path)]).execute()
    assert exited.value.code == 1
    assert "holidays 必须是非空列表" in capsys.readouterr().err


def test_the_help_documents_the_file_format():
    from workflow.management.commands.import_calendar import Command

    assert '"holidays"' in Command.help and '"workdays"' in Command.help and "date,kind,name" in Command.help


# --------------------------------------------------------------------------- the write path's shared cache


@pytest.mark.django_db
def test_the_write_paths_calendar_is_cached_and_dropped_when_an_administrator_edits_it(django_assert_num_queries):
    from workflow import clock

    assert clock.working_calendar().is_working_day(D("2026-07-15"))  # loads 2026 into the shared cache
    with django_assert_num_queries(0):
        assert clock.working_calendar().is_working_day(D("2026-07-14"))
    closure = CalendarDay.objects.create(date=D("2026-07-15"), kind=CalendarDayKind.HOLIDAY, name="台风停工")
    assert not clock.working_calendar().is_working_day(D("2026-07-15"))
    closure.delete()
    assert clock.working_calendar().is_working_day(D("2026-07-15"))

    assert clock.working_calendar().is_provisional(2027)
    CalendarYear.objects.create(year=2027, complete=True, source="国务院办公厅通知")
    assert not clock.working_calendar().is_provisional(2027)


@pytest.mark.django_db
def test_import_calendar_drops_the_cached_year(tmp_path):
    from workflow import clock

    assert not clock.working_calendar().is_working_day(D("2027-02-08"))  # the law's 春节, provisionally
    CalendarYear.objects.create(year=2027, complete=True, source="录入")
    assert clock.working_calendar().is_working_day(D("2027-02-08"))  # cached: a Monday, no holiday yet
    schedule = tmp_path / "2027.json"
    schedule.write_text(
        # the same source: the year row stays as it is, only CalendarDay rows are bulk-created (no signals)
        json.dumps({"year": 2027, "source": "录入", "holidays": [["2027-02-08", "春节"]], "workdays": []}),
        encoding="utf-8",
    )
    call_command("import_calendar", str(schedule), stdout=StringIO())
    assert not clock.working_calendar().is_working_day(D("2027-02-08"))


@pytest.mark.django_db
def test_a_process_keeps_its_write_path_calendar_while_the_cache_holds_its_years():
    """The days a calendar worked out are kept across steps (``working_calendar`` returns the same one) until an
    entry it read leaves the cache: dropped by an edit, or expired and read again with a new token."""
    from django.core.cache import cache

    from workflow import clock
    from workflow.clock.calendar_cache import _calendar_key

    first = clock.working_calendar()
    assert first.is_working_day(D("2026-07-15")) and not first.is_working_day(D("2027-02-08"))
    assert clock.working_calendar() is first
    cache.delete(_calendar_key(2027))  # as if expired: read again, with a new token
    second = clock.working_calendar()
    assert second is not first and not second.is_working_day(D("2027-02-08"))
    assert clock.working_calendar() is second and second.is_working_day(D("2026-07-15"))
    CalendarDay.objects.create(date=D("2026-07-15"), kind=CalendarDayKind.HOLIDAY, name="台风停工")
    third = clock.working_calendar()
    assert third is not second and not third.is_working_day(D("2026-07-15"))
