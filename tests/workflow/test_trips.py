"""The trips ledger (跑动次数): each physical visit is a ``visit`` event with its reason, ``Case.trips`` counts them
in the same transaction, and the statistics compute 零跑动 / 最多跑一次 from them — per one-thing, channel and hall."""

from __future__ import annotations

import datetime as dt

from tests.conftest import APPLICANT, DEPARTMENTS, ENTERPRISE_FORM, REVIEWER_OF, hand_over, handed_in
from workflow import selectors, services
from workflow.models import Case, CaseEvent, HumanTask, HumanTaskState
from workflow.selectors import statistics

ADDRESS = {"recipient": "王䶮", "phone": "13800138000", "address": "北京市朝阳区示范路 1 号"}


def _approved(users, *, channel: str = "window", delivery: dict | None = None) -> Case:
    opened = services.case_open(
        user=users["window1"],
        one_thing_key="enterprise_start",
        applicant=APPLICANT,
        form=dict(ENTERPRISE_FORM),
        materials=handed_in(),
        channel=channel,
        delivery=delivery,
    )
    services.case_accept(user=users["window1"], case_no=opened.case.case_no)
    for department in DEPARTMENTS:
        task = HumanTask.objects.get(case=opened.case, lane=department, state=HumanTaskState.OPEN)
        services.human_task_complete(user=users[REVIEWER_OF[department]], task_id=task.pk, decision="approve")
    return Case.objects.get(pk=opened.case.pk)


def _mailed_and_delivered(users, case: Case, waybill: str) -> None:
    services.case_mail(user=users["window1"], case_no=case.case_no, carrier="中国邮政EMS", waybill=waybill)
    services.delivery_status_update(
        waybill=waybill, status="delivered", occurred_at=dt.datetime.now(dt.UTC), source="import"
    )


def test_the_count_is_the_ledger_and_a_window_correction_is_a_trip(users):
    opened = services.case_open(
        user=users["window1"],
        one_thing_key="enterprise_start",
        applicant=APPLICANT,
        form=dict(ENTERPRISE_FORM),
        materials=handed_in(),
    )
    case = opened.case
    services.case_accept(user=users["window1"], case_no=case.case_no)
    for department, decision in zip(DEPARTMENTS, ("approve", "need_correction", "approve"), strict=True):
        task = HumanTask.objects.get(case=case, lane=department, state=HumanTaskState.OPEN)
        extra = {"opinion": "请补正", "corrections": [{"item": "seal_count", "reason": "数量不一致"}]}
        services.human_task_complete(
            user=users[REVIEWER_OF[department]],
            task_id=task.pk,
            decision=decision,
            **(extra if decision == "need_correction" else {}),
        )
    services.case_correction_submit(case_no=case.case_no, changes={"seal_count": 3}, actor=users["window1"])
    case.refresh_from_db()
    visits = CaseEvent.objects.filter(case=case, kind="visit").order_by("id")
    assert [v.data["reason"] for v in visits] == ["submission", "correction"]
    assert case.trips == 2 == selectors.case_trips(case.events.all()).count


def test_zero_trips_and_at_most_one_trip_per_one_thing_channel_and_hall(users):
    pickup = _approved(users)  # submitted and collected at the window: 2 trips
    hand_over(users["window1"], pickup.case_no)
    online = _approved(users, channel="online", delivery={"method": "post", "address": ADDRESS})  # 0 trips
    _mailed_and_delivered(users, online, "EMS0000000001")
    mailed = _approved(users, delivery={"method": "post", "address": ADDRESS})  # submitted at the window: 1 trip
    _mailed_and_delivered(users, mailed, "EMS0000000002")
    _approved(users)  # not concluded: not counted in the rates
    assert [Case.objects.get(pk=c.pk).trips for c in (pickup, online, mailed)] == [2, 0, 1]

    board = statistics.statistics(user=users["supervisor1"])
    assert (board.counts.concluded, board.counts.zero_trips, board.counts.at_most_one_trip) == (3, 1, 2)
    assert board.counts.trips == 3
    assert board.indicators.zero_trip_rate == round(1 / 3, 4) and board.indicators.at_most_one_trip_rate == round(
        2 / 3, 4
    )
    assert board.indicators.average_trips == 1.0
    [enterprise] = [row for row in board.one_things if row.key == "enterprise_start"]
    assert enterprise.indicators.zero_trip_rate == board.indicators.zero_trip_rate
    channels = {row.channel: row for row in board.channels}
    assert (channels["window"].zero_trip_rate, channels["window"].at_most_one_trip_rate) == (0.0, 0.5)
    assert (channels["online"].zero_trip_rate, channels["online"].at_most_one_trip_rate) == (1.0, 1.0)
    [hall] = board.halls
    assert (hall.received, hall.concluded, hall.zero_trips, hall.at_most_one_trip) == (4, 3, 1, 2)
