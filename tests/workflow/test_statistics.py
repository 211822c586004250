"""The supervisor's indicators (docs/statistics.md), each computed by hand from a small week of cases built
through the services with the time frozen, and the bulk working-day count held equal to the legal clock's."""

from __future__ import annotations

import datetime as dt
from fractions import Fraction

import pytest
import time_machine
from django.utils.timezone import localdate
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.workflow.clock_helpers import at, day
from tests.workflow.statistics_helpers import build_week
from workflow import clock
from workflow.calendar import CalendarUnknown, StaticSource, WorkingCalendar
from workflow.errors import PermissionDenied, ValidationFailed
from workflow.models import Case, Hall
from workflow.selectors import statistics

pytestmark = pytest.mark.django_db


@pytest.fixture
def week(users):
    return build_week(users)


def test_the_week_is_what_the_indicators_are_computed_from(week):
    """The facts the hand computations below start from, as the legal clock recorded them."""
    rows = {row.case_no: row for row in Case.objects.values_list("case_no", "status", named=True)}
    status = {name: rows[case_no].status for name, case_no in week.items()}
    assert status == {
        "A": "concluded",
        "B": "concluded",
        "C": "concluded",
        "H": "concluded",
        "D": "not_accepted",
        "E": "in_review",
        "F": "withdrawn",
        "G": "received",
        "N": "in_review",
    }
    dates = {
        name: (localdate(case.accepted_at), localdate(case.decided_at), case.promised_due_date)
        for name, case in ((name, Case.objects.get(case_no=week[name])) for name in "ABCH")
    }
    assert dates == {  # enterprise_start promises 1 working day: due the working day after acceptance
        "A": (day("2026-11-02"), day("2026-11-02"), day("2026-11-03")),
        "B": (day("2026-11-02"), day("2026-11-04"), day("2026-11-03")),
        # C's clock stopped for the correction on Tuesday, its due date: the pause (Tue, Thu] starts on the day
        # the promise ran out, so it cannot move it.
        "C": (day("2026-11-02"), day("2026-11-06"), day("2026-11-03")),
        "H": (day("2026-11-02"), day("2026-11-03"), day("2026-11-03")),
    }


def test_each_indicator_by_hand(users, week):
    board = statistics.statistics(user=users["supervisor1"], today=day("2026-11-06"))
    counts, indicators = board.counts, board.indicators

    # 收件 9 (A B C H D E F G N); 受理件 7: all but D (refused) and G (waiting at the window).
    assert (counts.received, counts.accepted) == (9, 7)
    # 办结件: A B C H. 在办: E N (F is withdrawn, a final state).
    assert (counts.concluded, counts.in_progress, counts.not_accepted, counts.withdrawn) == (4, 2, 1, 1)

    # 办结率 = 办结件 ÷ 受理件 = 4 ÷ 7
    assert indicators.completion_rate == round(4 / 7, 4) == 0.5714

    # Working days used (the legal clock: acceptance → decision, pauses excluded; the start day not counted):
    #   A  Mon → Mon                              0
    #   B  Mon → Wed: Tue, Wed                    2
    #   C  Mon → Fri: Tue, Wed, Thu, Fri = 4, less the correction pause (Tue, Thu]: Wed, Thu = 2   → 2
    #   H  Mon → Tue: Tue                         1
    assert (counts.timed, counts.working_days) == (4, 0 + 2 + 2 + 1)
    # 平均办理用时 = 5 ÷ 4
    assert indicators.average_working_days == 1.25
    # 即办件占比 = 办结件 with 0 working days used (A) ÷ 4
    assert counts.immediate == 1 and indicators.immediate_share == 0.25

    # 按时办结率: decided on or before the promised due date (Tue 3rd for all four): A (Mon) and H (Tue) of 4
    assert (counts.on_time, counts.with_due_date, indicators.on_time_rate) == (2, 4, 0.5)

    # 时限压减率, per item 1 − promised ÷ statutory:
    #   企业开办: 营业执照 1/3 → 2/3; 公章刻制备案 0/1 → 1; 新办纳税人 1/10 → 9/10; mean (2/3 + 1 + 9/10) / 3 = 77/90
    #   新生儿出生: 出生医学证明 1/5 → 4/5; 出生登记 3/20 → 17/20; 医保参保 1/5 → 4/5; 社保卡 5/20 → 3/4;
    #              mean (4/5 + 17/20 + 4/5 + 3/4) / 4 = 4/5
    # The hall: weighted by 受理件, 6 of 企业开办 and 1 of 新生儿出生: (6 × 77/90 + 1 × 4/5) / 7
    per_one_thing = {row.key: row for row in board.one_things}
    enterprise, newborn = per_one_thing["enterprise_start"], per_one_thing["newborn"]
    assert enterprise.indicators.reduction_rate == round(77 / 90, 4) == 0.8556
    assert [item.reduction_rate for item in enterprise.items] == [0.6667, 1.0, 0.9]
    assert newborn.indicators.reduction_rate == 0.8
    assert indicators.reduction_rate == round(float((6 * Fraction(77, 90) + Fraction(4, 5)) / 7), 4) == 0.8476
    # A one-thing without cases still has its catalogue rate: 开办餐饮店 (1/3, 5/10, 3/10, 5/20) → mean
    restaurant = per_one_thing["restaurant_start"]
    assert restaurant.counts.received == 0
    assert restaurant.indicators.reduction_rate == round((2 / 3 + 1 / 2 + 7 / 10 + 3 / 4) / 4, 4)

    # 好评率 = ratings at 非常满意 / 满意 / 基本满意 ÷ all ratings: A 5, B 3 good, H 1 bad → 2 ÷ 3
    assert (counts.rated, counts.rated_good, indicators.good_rate) == (3, 2, 0.6667)
    assert board.ratings.good_rate == 0.6667
    assert {row.label: row.count for row in board.ratings.by_level if row.count} == {
        "非常满意": 1,
        "基本满意": 1,
        "非常不满意": 1,
    }
    # H's bad rating opened a rectification order for tax, due 5 working days later: open, not overdue.
    assert (board.ratings.rectifications.open, board.ratings.rectifications.overdue) == (1, 0)

    # Per one-thing: the same definitions over each one's own cases.
    assert (enterprise.counts.received, enterprise.counts.accepted, enterprise.counts.concluded) == (8, 6, 4)
    assert enterprise.indicators.completion_rate == round(4 / 6, 4)
    assert enterprise.indicators.average_working_days == 1.25 and enterprise.indicators.good_rate == 0.6667
    assert (newborn.counts.received, newborn.counts.accepted, newborn.indicators.completion_rate) == (1, 1, 0.0)
    assert newborn.indicators.average_working_days is None and newborn.indicators.immediate_share is None

    # Per status, as the board lists them.
    by_status = {row.status: row.count for row in board.by_status if row.count}
    assert by_status == {"concluded": 4, "in_review": 2, "not_accepted": 1, "withdrawn": 1, "received": 1}

    # Department tasks of these cases, every round (F's tasks were cancelled by the withdrawal):
    departments = {row.code: row for row in board.departments}
    # market_regulation: A B C H approve; E open
    assert departments["market_regulation"] == statistics.DepartmentStatistics(
        code="market_regulation", name="区市场监督管理局", open=1, completed=4, approve=4, need_correction=0, reject=0
    )
    # public_security: A B H approve; C asks a correction, then approves; E open (N's 户口登记 has not opened:
    # it waits for the birth certificate, the newborn's first stage)
    police = departments["public_security"]
    assert (police.open, police.completed, police.approve, police.need_correction, police.reject) == (1, 5, 4, 1, 0)
    # tax: A B C approve, H rejects; E open
    tax = departments["tax"]
    assert (tax.open, tax.completed, tax.approve, tax.reject, tax.total) == (1, 4, 3, 1, 5)
    # N's first stage: only the birth certificate (health) is open; the later stages' departments have no task yet.
    assert departments["health"].open == 1
    assert not {"medical_insurance", "social_security"} & set(departments)


def test_a_period_counts_the_cases_received_in_it(users, week):
    supervisor = users["supervisor1"]
    tuesday = statistics.statistics(user=supervisor, period=statistics.Period.of_days(day("2026-11-03")))
    # Received from Tuesday: E F G N; accepted E F N; nothing concluded.
    assert (tuesday.counts.received, tuesday.counts.accepted, tuesday.counts.concluded) == (4, 3, 0)
    assert tuesday.indicators.completion_rate == 0.0 and tuesday.indicators.average_working_days is None
    assert tuesday.indicators.good_rate is None  # the rated cases were received on Monday
    monday = statistics.statistics(
        user=supervisor, period=statistics.Period.of_days(day("2026-11-02"), day("2026-11-02"))
    )
    assert (monday.counts.received, monday.counts.concluded, monday.indicators.average_working_days) == (5, 4, 1.25)
    assert monday.period.first_day == monday.period.last_day == day("2026-11-02")
    with pytest.raises(ValidationFailed):
        statistics.Period.of_days(day("2026-11-03"), day("2026-11-02"))


def test_the_csv_rows_state_the_case_pages_working_days(users, week):
    rows = {row.case_no: row for row in statistics.case_rows(user=users["supervisor1"], now=at("2026-11-06", 12))}
    assert [row.case_no for row in rows.values()] == sorted(rows, key=lambda no: Case.objects.get(case_no=no).opened_at)
    with time_machine.travel(at("2026-11-06", 12), tick=False):
        for case in Case.objects.all():
            pauses = [pause.span for pause in clock.case_pauses(case)]
            assert rows[case.case_no].working_days_used == clock.working_days_used(case, pauses), case.case_no
    used = {name: rows[week[name]].working_days_used for name in "ABCHDEFGN"}
    # E and N: accepted Tue, running until Fri noon: Wed Thu Fri. F withdrawn Wed: its clock stopped then.
    assert used == {"A": 0, "B": 2, "C": 2, "H": 1, "D": None, "E": 3, "F": 1, "G": None, "N": 3}
    assert {name: rows[week[name]].overdue for name in "ABCHE"} == {
        "A": False,
        "B": True,
        "C": True,
        "H": False,
        "E": None,
    }
    assert rows[week["C"]].correction_rounds == 1 and rows[week["D"]].outcome_label == "不予受理"


def test_only_supervisors_and_administrators_see_statistics(users):
    for username in ("window1", "market1"):
        with pytest.raises(PermissionDenied):
            statistics.statistics(user=users[username])
        with pytest.raises(PermissionDenied):
            list(statistics.case_rows(user=users[username]))
    assert statistics.statistics(user=users["admin"]).counts.received == 0


def test_a_supervisor_bound_to_a_hall_counts_only_that_halls_cases(users, week):
    staff = users["supervisor1"].staff
    staff.hall = Hall.objects.get(code="120101")  # the demo's other hall: it accepted and decides nothing here
    staff.save()
    board = statistics.statistics(user=users["supervisor1"])
    assert board.counts.received == 0 and board.departments == () and board.ratings.ratings == 0
    assert board.hall.code == "120101"
    assert list(statistics.case_rows(user=users["supervisor1"])) == []
    assert statistics.statistics(user=users["admin"]).counts.received == 9


def test_the_statistics_cost_a_fixed_number_of_queries(users, week, django_assert_max_num_queries):
    # cases grouped, pauses, ratings per one-thing, one-things, their items, departments, rating levels, orders
    with django_assert_max_num_queries(8 + 4):  # + the calendar's years (2026: year row and its days, cached)
        statistics.statistics(user=users["supervisor1"])


# --------------------------------------------------------------------------- working days in bulk

CALENDAR = WorkingCalendar(source=StaticSource({dt.date(2025, 3, 7): False, dt.date(2025, 3, 8): True}))
dates = st.dates(min_value=dt.date(2024, 12, 1), max_value=dt.date(2026, 2, 1))


@settings(max_examples=300, deadline=None)
@given(start=dates, length=st.integers(0, 80), pauses=st.lists(st.tuples(dates, st.integers(0, 30) | st.none())))
def test_the_bulk_count_equals_the_calendars(start, length, pauses):
    """The statistics' counter against ``WorkingCalendar.working_days_used`` (which the case page shows):
    overlapping, open, same-day and out-of-range pauses, year ends, the library's holidays and overrides."""
    end = start + dt.timedelta(days=length)
    spans = [(first, None if days is None else first + dt.timedelta(days=days)) for first, days in pauses]
    counter = statistics.WorkingDayCounter(CALENDAR)
    assert counter.used(start, end, spans) == CALENDAR.working_days_used(start, end, spans)
    assert counter.between(start, end) == CALENDAR.working_days_between(start, end)


def test_a_year_the_calendar_does_not_know_is_not_guessed():
    counter = statistics.WorkingDayCounter(WorkingCalendar(source=StaticSource(), library=None))
    with pytest.raises(CalendarUnknown):
        counter.between(dt.date(2026, 1, 1), dt.date(2026, 1, 5))
    assert counter.between(dt.date(2026, 1, 5), dt.date(2026, 1, 5)) == 0  # (a, a] is empty: nothing to ask
