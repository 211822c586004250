"""Provisional (预计) due dates: a year whose official holiday arrangement is not known yet (docs/clock.md).

Today is December 2026: chinese-calendar 1.11 knows 2026 but not 2027. From Monday 2026-12-07 the working days
left in 2026 are 12-08 … 12-31 (18); 2027 counts provisionally with the law's holidays only — 元旦 Friday 01-01,
春节 除夕 Friday 02-05 to 初三 Monday 02-08 (the weekend between), and so on.

The imported arrangement (calendar_fixtures/2027_bridged.json) bridges 春节 to Thursday 02-11 and moves two
working days onto Sunday 01-31 and Saturday 02-20.
"""

from __future__ import annotations

import datetime as dt
from functools import partial
from io import StringIO
from pathlib import Path

import chinese_calendar
import pytest
import time_machine
from django.core.management import call_command

from tests.workflow.clock_helpers import MARKET_ITEM, at, day, set_limits
from tests.workflow.helpers import decide, open_and_accept, open_case, open_task
from workflow import clock, provisional, services
from workflow.calendar import StaticSource, WorkingCalendar
from workflow.checks import next_years_calendar_is_known
from workflow.clock import Supervision
from workflow.models import Case, CaseEvent, HumanTask, Notification, NotificationKind, OneThing, ServiceItem
from workflow.statutory_holidays import HOLIDAY_LAWS, law_in_force, statutory_holidays

BRIDGED_2027 = Path(__file__).parent / "calendar_fixtures" / "2027_bridged.json"


def reload(case: Case) -> Case:
    return Case.objects.select_related("one_thing").get(pk=case.pk)


def import_2027() -> str:
    out = StringIO()
    call_command("import_calendar", str(BRIDGED_2027), stdout=out)
    return out.getvalue()


# --------------------------------------------------------------------------- the law's days, cross-checked


@pytest.mark.parametrize("year", range(2008, 2027))
def test_the_laws_days_are_holidays_in_every_official_schedule_chinese_calendar_ships(year):
    """Each version of 全国年节及纪念日放假办法, as computed for its years, against the published arrangements: every
    computed day is a day off there (a holiday, or a weekend day not turned into a makeup workday — the library
    does not list every weekend day inside a break, e.g. Saturday 2012-06-23 of 端午)."""
    computed = statutory_holidays(year)
    working = [d for d in computed if not chinese_calendar.is_holiday(d)]
    assert working == []
    on_weekdays = {d for d in computed if d.weekday() < 5}
    assert on_weekdays <= set(chinese_calendar.holidays), sorted(on_weekdays - set(chinese_calendar.holidays))
    names = set(computed.values())
    assert names == {"元旦", "春节", "清明节", "劳动节", "端午节", "中秋节", "国庆节"}


@pytest.mark.parametrize(
    ("year", "days"),
    [(2013, 11), (2014, 11), (2024, 11), (2025, 13), (2026, 13), (2020, 10)],  # 2020: 中秋 fell on 10-01
)
def test_each_version_of_the_law_gives_its_number_of_days(year, days):
    assert len(statutory_holidays(year)) == days


def test_the_law_in_force_from_2025_and_none_before_2008():
    assert law_in_force(2027) is HOLIDAY_LAWS[-1]
    assert "第795号" in law_in_force(2025).citation
    assert law_in_force(2024).spring_festival == (0, 1, 2)
    assert law_in_force(2007) is None and statutory_holidays(2007) is None


def test_2027_by_the_law():
    assert dict(statutory_holidays(2027)) == {
        day("2027-01-01"): "元旦",
        day("2027-02-05"): "春节",  # 除夕
        day("2027-02-06"): "春节",  # 正月初一
        day("2027-02-07"): "春节",
        day("2027-02-08"): "春节",  # 初三
        day("2027-04-05"): "清明节",
        day("2027-05-01"): "劳动节",
        day("2027-05-02"): "劳动节",
        day("2027-06-09"): "端午节",  # 五月初五
        day("2027-09-15"): "中秋节",  # 八月十五
        day("2027-10-01"): "国庆节",
        day("2027-10-02"): "国庆节",
        day("2027-10-03"): "国庆节",
    }


@pytest.mark.parametrize("year", range(2027, 2101))
def test_the_law_for_the_years_ahead_stays_within_the_seasons(year):
    days = statutory_holidays(year)
    assert all(d.year == year for d in days)
    spring = sorted(d for d, name in days.items() if name == "春节")
    assert len(spring) == 4 and dt.date(year, 1, 20) <= spring[0] <= dt.date(year, 2, 19)
    assert spring[-1] - spring[0] == dt.timedelta(days=3)
    [qingming] = [d for d, name in days.items() if name == "清明节"]
    assert dt.date(year, 4, 4) <= qingming <= dt.date(year, 4, 6)
    # 中秋 on 1–3 October shares its day with 国庆: 12 days that year, else 13.
    [mid_autumn] = [d for d, name in days.items() if name == "中秋节"]
    assert len(days) == (12 if dt.date(year, 10, 1) <= mid_autumn <= dt.date(year, 10, 3) else 13)


# --------------------------------------------------------------------------- the provisional calendar


def test_a_provisional_year_counts_weekdays_except_the_laws_holidays():
    calendar = WorkingCalendar(StaticSource())
    assert not calendar.knows_year(2027) and calendar.is_provisional(2027)
    assert not calendar.is_provisional(2026)
    assert calendar.day(day("2027-02-05")).name == "春节"  # 除夕, a Friday
    assert calendar.is_working_day(day("2027-02-09"))  # Tuesday after 初三: a bridge may come, none is known
    assert not calendar.is_working_day(day("2027-01-31"))  # Sunday: a makeup day may come, none is known
    # 45 working days from Monday 2026-12-07: 18 in December, 01-01 and 02-05/02-08 off in 2027.
    due = calendar.deadline(at("2026-12-07"), 45)
    assert due == day("2027-02-11")
    assert calendar.provisional_between(at("2026-12-07"), due)
    assert not calendar.provisional_between(at("2026-12-07"), calendar.deadline(at("2026-12-07"), 18))


# --------------------------------------------------------------------------- a case opened in December


def test_a_case_accepted_in_december_gets_a_provisional_statutory_date(users):
    with time_machine.travel(at("2026-12-07"), tick=False):
        case = reload(open_and_accept(users))
        info = clock.case_clock(case)
    # enterprise_start promises 1 working day (2026: official); joint handling, 45 working days, reaches 2027.
    assert (case.promised_due_date, case.promised_due_date_provisional) == (day("2026-12-08"), False)
    assert (case.statutory_due_date, case.statutory_due_date_provisional) == (day("2027-02-11"), True)
    assert info["statutory_due_date_provisional"] is True and info["promised_due_date_provisional"] is False
    assert not HumanTask.objects.filter(case=case, due_date_provisional=True).exists()  # 0–1 day limits
    assert provisional.open_cases_with_provisional_dates() == 1
    assert provisional.open_cases_with_provisional_dates(user=users["supervisor1"]) == 1


def test_a_yellow_card_fires_on_a_provisional_date(users):
    set_limits(one_thing_days=30, market_days=20)
    with time_machine.travel(at("2026-12-07"), tick=False) as traveller:
        case = open_and_accept(users)
        decide(users, case, "public_security")
        decide(users, case, "tax")
        market = open_task(case, "market_regulation")
        assert (market.due_date, market.due_date_provisional) == (day("2027-01-05"), True)  # 18 + 01-04, 01-05

        traveller.move_to(at("2027-01-05", 17))
        services.supervision_sweep()
        assert not Notification.objects.filter(kind=NotificationKind.TASK_OVERDUE).exists()

        traveller.move_to(at("2027-01-06", 9))
        market = HumanTask.objects.select_related("case").get(pk=market.pk)
        assert clock.task_supervision(market) == Supervision.YELLOW
        services.supervision_sweep()
    yellow = Notification.objects.filter(kind=NotificationKind.TASK_OVERDUE)
    assert sorted(yellow.values_list("role", flat=True)) == ["reviewer", "supervisor"]
    assert "2027年01月05日（预计" in yellow.first().text
    [card] = CaseEvent.objects.filter(case=case, kind="yellow_card")
    assert card.data["due_date"] == "2027-01-05"


def test_importing_the_arrangement_moves_the_dates_writes_the_trail_and_notifies_when_earlier(users):
    OneThing.objects.filter(key="enterprise_start").update(promised_limit_days=41)
    ServiceItem.objects.filter(code=MARKET_ITEM).update(statutory_limit_days=45, promised_limit_days=41)
    services.one_thing_recompose(key="enterprise_start")  # published: new cases are pinned to these limits
    with time_machine.travel(at("2026-12-07"), tick=False) as traveller:
        case = reload(open_and_accept(users))
        market = open_task(case, "market_regulation")
        # 18 in December, 20 in January (01-01 off), 02-01 … 02-03.
        assert (case.promised_due_date, case.promised_due_date_provisional) == (day("2027-02-03"), True)
        assert (market.due_date, market.due_date_provisional) == (day("2027-02-03"), True)
        assert case.statutory_due_date == day("2027-02-11")

        traveller.move_to(at("2026-12-10"))
        out = import_2027()

    assert "期限有变化 1 件（提前 1 件，已通知承办人员；推后 1 件），仍为预计 0 件" in out
    case, market = reload(case), HumanTask.objects.get(pk=market.pk)
    # The makeup Sunday 01-31 counts: one working day earlier.
    assert (case.promised_due_date, case.promised_due_date_provisional) == (day("2027-02-02"), False)
    assert (market.due_date, market.due_date_provisional) == (day("2027-02-02"), False)
    # 45: the bridge 02-09 … 02-11 is off, so later despite 01-31: 02-03, 02-04, 02-12, 02-15.
    assert (case.statutory_due_date, case.statutory_due_date_provisional) == (day("2027-02-15"), False)
    assert provisional.open_cases_with_provisional_dates() == 0

    [event] = CaseEvent.objects.filter(case=case, kind="due_dates_recomputed")
    assert event.data["reason"].startswith("2027 年节假日安排已导入（测试用：连休与调休")
    assert event.data["promised_due_date"] == {"from": "2027-02-03", "to": "2027-02-02", "provisional": False}
    assert event.data["statutory_due_date"] == {"from": "2027-02-11", "to": "2027-02-15", "provisional": False}
    assert event.data["tasks"] == [
        {
            "id": market.pk,
            "name": market.name,
            "department": "market_regulation",
            "from": "2027-02-03",
            "to": "2027-02-02",
            "provisional": False,
        }
    ]
    assert event.actor_label == clock.SYSTEM_ACTOR

    notes = Notification.objects.filter(kind=NotificationKind.DUE_DATE_EARLIER).order_by("key")
    assert {(n.role, n.department_id, n.task_id) for n in notes} == {
        ("reviewer", "market_regulation", None),  # the lead department, for the case's promised date
        ("reviewer", "market_regulation", market.pk),  # the department, for its task
        ("window", None, None),
    }
    case_note = notes.get(role="window")
    assert "承诺办结期限由 2027年02月03日 提前至 2027年02月02日" in case_note.text
    assert "法定办结期限" not in case_note.text  # it moved later: no notice

    # Idempotent: importing again changes nothing and tells nobody twice.
    out = import_2027()
    assert out.startswith("内容未变") and "期限有变化 0 件" in out
    assert CaseEvent.objects.filter(case=case, kind="due_dates_recomputed").count() == 1
    assert notes.count() == 3


def test_the_recompute_reads_each_limit_back_from_the_case_not_from_the_changed_catalogue(users):
    """A case is a legal record: a promise changed in the catalogue after acceptance does not reach it."""
    OneThing.objects.filter(key="enterprise_start").update(promised_limit_days=41)
    services.one_thing_recompose(key="enterprise_start")
    with time_machine.travel(at("2026-12-07"), tick=False) as traveller:
        case = open_and_accept(users)
        assert reload(case).promised_due_date == day("2027-02-03")
        OneThing.objects.filter(key="enterprise_start").update(promised_limit_days=5)
        services.one_thing_recompose(key="enterprise_start")  # a new version; the running case keeps its own
        traveller.move_to(at("2026-12-10"))
        import_2027()
    case = reload(case)
    assert (case.promised_due_date, case.promised_due_date_provisional) == (day("2027-02-02"), False)  # still 41
    assert case.warning_date == WorkingCalendar().add_working_days(day("2026-12-07"), 41 - 9)


def test_a_date_that_is_not_provisional_is_left_as_it_is(users):
    with time_machine.travel(at("2026-12-07"), tick=False):
        case = open_and_accept(users)
        OneThing.objects.filter(key="enterprise_start").update(promised_limit_days=5)
        import_2027()
    assert reload(case).promised_due_date == day("2026-12-08")  # 1 working day, in 2026: not touched


def test_a_recompute_leaves_dates_that_reach_a_year_still_unknown_provisional(users):
    with time_machine.travel(at("2026-12-07"), tick=False):
        case = open_and_accept(users)
        report = services.due_dates_recompute(years=[2026], reason="2026 年工作日历已修改")
    assert (report.cases, report.changed, report.still_provisional) == (1, 0, 1)
    assert reload(case).statutory_due_date_provisional
    assert not CaseEvent.objects.filter(case=case, kind="due_dates_recomputed").exists()


def test_a_stopped_clock_is_recomputed_without_counting_the_open_pause(users):
    with time_machine.travel(at("2026-12-07"), tick=False) as traveller:
        case = open_and_accept(users)
        traveller.move_to(at("2026-12-08"))
        services.case_procedure_start(user=users["window1"], case_no=case.case_no, kind="hearing", reason="听证")
        traveller.move_to(at("2026-12-21"))  # nine working days stopped so far: they move the date when it ends
        import_2027()
    # The arrangement alone: 02-11 → 02-15 (the bridge, then 01-31 counts), the open hearing not yet.
    assert reload(case).statutory_due_date == day("2027-02-15")


def test_deemed_acceptance_waits_for_the_official_arrangement(users):
    with time_machine.travel(at("2026-12-28"), tick=False) as traveller:
        case = open_case(users).case
        window = HumanTask.objects.get(case=case, lane="window")
        # 5 working days: 12-29, 12-30, 12-31, then 01-04 and 01-05 (01-01 off by law).
        assert (window.due_date, window.due_date_provisional) == (day("2027-01-05"), True)
        traveller.move_to(at("2027-01-07", 9))
        assert services.deemed_acceptance_sweep() == []  # a legal record is not made on a provisional date
        assert reload(case).deemed_accepted_at is None
        import_2027()
        assert services.deemed_acceptance_sweep() != []
    assert reload(case).accepted_at == case.opened_at


# --------------------------------------------------------------------------- the system check


@pytest.mark.parametrize(
    ("today", "missing"),
    [
        ("2026-06-01", []),  # 60 working days from June stay in 2026
        ("2026-09-01", []),  # … and from September (they end in late November)
        ("2026-10-20", [2027]),  # 45 + 15 working days reach January
        ("2026-12-07", [2027]),
        ("2027-01-11", [2027]),  # the current year itself
    ],
)
def test_the_system_check_warns_while_a_year_deadlines_reach_is_not_entered(db, today, missing):
    with time_machine.travel(at(today), tick=False):
        warnings = next_years_calendar_is_known(None, databases=["default"])
    assert [w.id for w in warnings] == ["onething.W001"] * len(missing)
    for warning, year in zip(warnings, missing, strict=True):
        assert warning.msg.startswith(f"{year} 年的工作日历")


def test_the_system_check_is_quiet_once_the_year_is_entered(db):
    with time_machine.travel(at("2026-12-07"), tick=False):
        import_2027()
        assert next_years_calendar_is_known(None, databases=["default"]) == []


# --------------------------------------------------------------------------- the admin


def test_saving_a_year_complete_in_the_admin_queues_the_recompute(users, django_capture_on_commit_callbacks):
    from django.test import Client

    from workflow.tasks.calendar import recompute_due_dates

    admin = Client()
    admin.force_login(users["admin"])
    with time_machine.travel(at("2026-12-07"), tick=False):
        case = open_and_accept(users)
        with django_capture_on_commit_callbacks(execute=False) as queued:
            response = admin.post(
                "/admin/workflow/calendaryear/add/", {"year": 2027, "complete": "on", "source": "国办发明电"}
            )
        assert response.status_code == 302
        [callback] = [c for c in queued if isinstance(c, partial)]  # the others drop cached calendar years
        assert callback.args == ([2027], "2027 年节假日安排已录入（管理后台：国办发明电）")
        # What the queued task runs (without a broker here):
        recompute_due_dates(years=[2027], reason=callback.args[1])
    case = reload(case)
    # Declared with no entered days: weekdays all work, so 01-01, 02-05 and 02-08 count: 02-08 instead of 02-11.
    assert (case.statutory_due_date, case.statutory_due_date_provisional) == (day("2027-02-08"), False)


# --------------------------------------------------------------------------- the receipt


def test_the_receipt_of_a_case_with_a_provisional_promised_date_says_so(users):
    from workflow import notices

    set_limits(one_thing_days=30, market_days=5)
    with time_machine.travel(at("2026-12-07"), tick=False):
        case = open_and_accept(users)
        receipt = notices.notice_for(reload(case), notices.RECEIPT)
    assert receipt.context["promised_date"] == day("2027-01-19")
    assert receipt.context["promised_date_provisional"] is True
