"""好差评: once, only after conclusion; a bad rating opens a work order due in working days; re-rating after
rectification; the statistics."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine

from tests.api.helpers import CaseRef, accept, decide, open_case
from tests.conftest import DEPARTMENTS, hand_over
from workflow import ratings, services
from workflow.errors import (
    AlreadyRated,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    RectificationClosed,
    ValidationFailed,
)
from workflow.models import CaseEvent, Rating, RatingLevel, RectificationOrder, RectificationState
from workflow.selectors import statistics

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(year, month, day, hour=10):
    return time_machine.travel(dt.datetime(year, month, day, hour, tzinfo=SHANGHAI), tick=False)


def concluded(users, *, rejected_by: str | None = None) -> CaseRef:
    ref = accept(users, open_case(users))
    for department in DEPARTMENTS:
        decide(users, ref, department, "reject" if department == rejected_by else "approve")
    hand_over(users["window1"], ref.case_no)
    return ref


def rate(ref: CaseRef, level: int, **extra) -> Rating:
    return services.case_rate(case_no=ref.case_no, level=level, **extra)


@pytest.fixture(autouse=True)
def _five_working_days(settings):
    settings.ONETHING_RECTIFICATION_DAYS = 5


# --- when a case may be rated --------------------------------------------------------------------------


def test_a_case_can_be_rated_only_once_it_is_over(users):
    ref = open_case(users)
    with pytest.raises(InvalidTransition):
        rate(ref, RatingLevel.SATISFIED)  # received
    accept(users, ref)
    with pytest.raises(InvalidTransition):
        rate(ref, RatingLevel.SATISFIED)  # in review
    for department in DEPARTMENTS:
        decide(users, ref, department, "approve")
    with pytest.raises(InvalidTransition):
        rate(ref, RatingLevel.SATISFIED)  # the result exists but was not yet handed over
    assert not Rating.objects.exists()

    hand_over(users["window1"], ref.case_no)
    rating = rate(ref, RatingLevel.VERY_SATISFIED, dimensions={"attitude": 5, "efficiency": 4}, comment=" 很快 ")
    assert (rating.level, rating.round, rating.comment) == (5, 1, "很快")
    assert rating.get_level_display() == "非常满意"
    assert rating.dimensions == {"attitude": 5, "efficiency": 4}
    assert CaseEvent.objects.filter(case_id=ref.pk, kind="rated").count() == 1


def test_a_case_is_rated_once(users):
    ref = concluded(users)
    rate(ref, RatingLevel.SATISFIED)
    for level in (RatingLevel.VERY_SATISFIED, RatingLevel.VERY_DISSATISFIED):
        with pytest.raises(AlreadyRated):
            rate(ref, level)
    assert Rating.objects.filter(case_id=ref.pk).count() == 1
    assert not RectificationOrder.objects.exists()


def test_a_refusal_at_the_window_ends_the_case_and_may_be_rated(users):
    ref = open_case(users)
    services.case_refuse(user=users["window1"], case_no=ref.case_no, reasons="不属于受理范围")
    rating = rate(ref, RatingLevel.DISSATISFIED)
    assert rating.rectification.department_id == "market_regulation"  # the one-thing's lead department


@pytest.mark.parametrize(
    ("level", "dimensions", "field"),
    [
        (0, {}, "level"),
        (6, {}, "level"),
        (True, {}, "level"),
        (3, {"speed": 3}, "dimensions.speed"),
        (3, {"attitude": 9}, "dimensions.attitude"),
    ],
)
def test_levels_and_dimensions_are_checked(users, level, dimensions, field):
    ref = concluded(users)
    with pytest.raises(ValidationFailed) as refused:
        rate(ref, level, dimensions=dimensions)
    assert field in refused.value.field_errors


# --- a bad rating opens a work order -------------------------------------------------------------------


@pytest.mark.parametrize("level", [RatingLevel.DISSATISFIED, RatingLevel.VERY_DISSATISFIED])
def test_a_bad_rating_opens_a_work_order_for_the_lead_department(users, level):
    ref = concluded(users)
    rating = rate(ref, level, comment="窗口让我跑了两次")
    order = RectificationOrder.objects.get(rating=rating)
    assert order.case_id == ref.pk and order.state == RectificationState.OPEN
    assert order.department_id == "market_regulation"
    assert CaseEvent.objects.filter(case_id=ref.pk, kind="rectification_opened").count() == 1


@pytest.mark.parametrize("level", [RatingLevel.VERY_SATISFIED, RatingLevel.SATISFIED, RatingLevel.BASICALLY_SATISFIED])
def test_a_good_rating_opens_nothing(users, level):
    rate(concluded(users), level)
    assert not RectificationOrder.objects.exists()


def test_after_a_rejection_the_department_that_rejected_is_responsible(users):
    ref = concluded(users, rejected_by="tax")
    assert rate(ref, RatingLevel.VERY_DISSATISFIED).rectification.department_id == "tax"


def test_the_deadline_counts_working_days_across_the_mid_autumn_and_national_day_holidays(users):
    """Rated on Tuesday 2026-09-29: Sep 30 is the 1st working day, Oct 1–7 are holidays, Oct 8 and 9 the 2nd
    and 3rd, Saturday Oct 10 is a makeup workday (调休上班, the 4th), Sunday Oct 11 is off: due Monday Oct 12."""
    with at(2026, 9, 29):
        ref = concluded(users)
        order = rate(ref, RatingLevel.DISSATISFIED).rectification
    assert order.due_date == dt.date(2026, 10, 12)


def test_the_deadline_skips_a_weekend(users, settings):
    settings.ONETHING_RECTIFICATION_DAYS = 2
    with at(2026, 11, 26, 18):  # Thursday evening: Friday the 1st working day, Monday the 2nd
        order = rate(concluded(users), RatingLevel.VERY_DISSATISFIED).rectification
    assert order.due_date == dt.date(2026, 11, 30)


# --- rectification and re-rating -----------------------------------------------------------------------


def test_the_applicant_may_rate_again_once_after_the_rectification(users):
    ref = concluded(users)
    first = rate(ref, RatingLevel.VERY_DISSATISFIED)
    with pytest.raises(AlreadyRated):
        rate(ref, RatingLevel.SATISFIED)  # not while the order is open
    state = ratings.rating_state(first.case)
    assert state["can_rate"] is False and state["rectification"]["state"] == "open"

    services.rectification_resolve(user=users["market1"], order_id=first.rectification.pk, resolution="已约谈窗口人员")
    assert ratings.rating_state(first.case)["can_rate"] is True
    second = rate(ref, RatingLevel.SATISFIED)
    first.refresh_from_db()
    assert first.superseded_by == second and second.round == 2
    assert ratings.current_rating(second.case) == second
    with pytest.raises(AlreadyRated):
        rate(ref, RatingLevel.VERY_SATISFIED)  # once
    assert RectificationOrder.objects.count() == 1


def test_a_second_bad_rating_opens_a_second_order(users):
    ref = concluded(users)
    first = rate(ref, RatingLevel.DISSATISFIED)
    services.rectification_resolve(user=users["supervisor1"], order_id=first.rectification.pk, resolution="已整改")
    second = rate(ref, RatingLevel.VERY_DISSATISFIED)
    assert second.rectification.state == RectificationState.OPEN
    assert RectificationOrder.objects.filter(case_id=ref.pk).count() == 2


def test_who_may_resolve_an_order(users):
    order = rate(concluded(users), RatingLevel.DISSATISFIED).rectification  # market_regulation's
    with pytest.raises(NotFound):
        services.rectification_resolve(user=users["tax1"], order_id=order.pk, resolution="x")
    with pytest.raises(PermissionDenied):
        services.rectification_resolve(user=users["window1"], order_id=order.pk, resolution="x")
    with pytest.raises(ValidationFailed):
        services.rectification_resolve(user=users["market1"], order_id=order.pk, resolution="  ")
    done = services.rectification_resolve(user=users["market1"], order_id=order.pk, resolution="已整改并回访")
    assert done.state == RectificationState.DONE and done.resolved_by == users["market1"] and done.resolved_at
    with pytest.raises(RectificationClosed):
        services.rectification_resolve(user=users["supervisor1"], order_id=order.pk, resolution="再次")
    assert CaseEvent.objects.filter(case_id=order.case_id, kind="rectification_resolved").count() == 1


def test_the_inbox_is_the_department_s_orders_and_everything_for_supervisors(users):
    mine = rate(concluded(users), RatingLevel.DISSATISFIED).rectification
    theirs = rate(concluded(users, rejected_by="tax"), RatingLevel.DISSATISFIED).rectification
    assert list(ratings.rectification_list(user=users["market1"])) == [mine]
    assert list(ratings.rectification_list(user=users["tax1"])) == [theirs]
    assert set(ratings.rectification_list(user=users["supervisor1"])) == {mine, theirs}
    with pytest.raises(PermissionDenied):
        ratings.rectification_list(user=users["window1"])


# --- statistics --------------------------------------------------------------------------------------


def test_the_good_rate_and_rectifications_on_time(users):
    with at(2026, 11, 2):  # Monday; orders due Monday 2026-11-09
        cases = [concluded(users) for _ in range(5)]
        for ref, level in zip(cases, [5, 4, 3, 2, 1], strict=True):
            rate(ref, level)
    orders = list(RectificationOrder.objects.order_by("id"))
    assert [o.due_date for o in orders] == [dt.date(2026, 11, 9)] * 2
    on_time, late = orders
    with at(2026, 11, 9, 17):
        services.rectification_resolve(user=users["market1"], order_id=on_time.pk, resolution="按时整改")
    with at(2026, 11, 10, 9):
        services.rectification_resolve(user=users["market1"], order_id=late.pk, resolution="逾期整改")
        # the first bad rating is re-rated 满意 after its rectification: the current ratings count
        rate(cases[3], RatingLevel.SATISFIED)
        extra = concluded(users)
        still_open = rate(extra, RatingLevel.DISSATISFIED).rectification  # due 2026-11-17: not yet due

    stats = statistics.rating_statistics(user=users["supervisor1"], today=dt.date(2026, 11, 12))
    assert stats.ratings == 6
    assert stats.good == 4  # 5, 4, 3 and the re-rated 4
    assert stats.good_rate == round(4 / 6, 4)
    assert {row.label: row.count for row in stats.by_level} == {
        "非常满意": 1,
        "满意": 2,
        "基本满意": 1,
        "不满意": 1,
        "非常不满意": 1,
    }
    assert stats.rectifications == statistics.RectificationStatistics(total=3, open=1, overdue=0, done=2, on_time=1)
    assert stats.rectifications.on_time_rate == 0.5
    assert still_open.due_date == dt.date(2026, 11, 17)
    later = statistics.rating_statistics(user=users["supervisor1"], today=dt.date(2026, 11, 18))
    assert later.rectifications.overdue == 1 and later.rectifications.on_time_rate == round(1 / 3, 4)
    with pytest.raises(PermissionDenied):
        statistics.rating_statistics(user=users["market1"])


def test_no_ratings_no_rate(users):
    stats = statistics.rating_statistics(user=users["admin"])
    assert stats.ratings == 0 and stats.good_rate is None
    assert stats.rectifications.on_time_rate is None
