"""The legal clock through the services: deadlines, pauses, extensions, deemed acceptance, supervision, timers.

Time is frozen around National Day 2026 (chinese-calendar's data): from Monday 2026-09-28 the working days
run 9-29, 9-30, then 10-01…10-07 off, 10-08, 10-09, Saturday 10-10 (调休上班), 10-12, 10-13 …
"""

from __future__ import annotations

import datetime as dt
import threading

import pytest
import time_machine
from django.conf import settings
from django.db import connection, connections, transaction
from django.utils import timezone

from tests.workflow.clock_helpers import at, day, deploy_timer_model, open_timer_case, set_limits
from tests.workflow.helpers import decide, open_and_accept, open_case, open_task
from workflow import clock, selectors, services
from workflow.clock import Supervision
from workflow.errors import Conflict, PermissionDenied, ValidationFailed
from workflow.lifecycle import CaseStatus
from workflow.models import (
    CalendarYear,
    Case,
    CaseEvent,
    ClockPause,
    DueTimer,
    HumanTask,
    HumanTaskState,
    Notification,
    NotificationKind,
    OneThing,
    PauseKind,
)

pytestmark = pytest.mark.django_db


def reload(case: Case) -> Case:
    return Case.objects.select_related("one_thing").get(pk=case.pk)


def events(case: Case, kind: str) -> list[CaseEvent]:
    return list(CaseEvent.objects.filter(case=case, kind=kind))


# --------------------------------------------------------------------------- deadlines at acceptance


def test_acceptance_starts_the_case_clock_and_each_task_gets_its_items_promised_limit(users):
    with time_machine.travel(at("2026-09-28"), tick=False):
        opened = open_case(users)
        window_task = HumanTask.objects.get(case=opened.case, lane="window")
        # The window must accept, refuse or ask for correction within 5 working days of receipt (Art. 32):
        # five working days after Monday 9-28 across National Day is the makeup Saturday 10-10.
        assert (window_task.limit_days, window_task.due_date) == (5, day("2026-10-10"))
        services.case_accept(user=users["window1"], case_no=opened.case.case_no)

    case = reload(opened.case)
    assert case.accepted_at == at("2026-09-28")
    assert case.promised_due_date == day("2026-09-29")  # enterprise_start promises 1 working day
    # Three items: joint handling, 45 working days (Art. 26), counted across National Day.
    assert case.statutory_due_date == day("2026-12-04")
    limits = {t.lane: (t.limit_days, t.due_date) for t in HumanTask.objects.filter(case=case, state="open")}
    assert limits == {
        "market_regulation": (1, day("2026-09-29")),
        "public_security": (0, day("2026-09-28")),  # 即办: the same working day
        "tax": (1, day("2026-09-29")),
    }


def test_a_deadline_past_the_known_calendar_is_provisional_until_the_year_is_entered(users):
    # More in test_provisional_calendar.py.
    with time_machine.travel(at("2026-12-01"), tick=False):
        case = reload(open_and_accept(users))
        # 1 working day is known; 45 working days run into 2027, which chinese-calendar 1.11 does not know.
        assert (case.promised_due_date, case.promised_due_date_provisional) == (day("2026-12-02"), False)
        assert (case.statutory_due_date, case.statutory_due_date_provisional) == (day("2027-02-03"), True)
        CalendarYear.objects.create(year=2027, complete=True, source="test")
        services.due_dates_recompute(years=[2027], reason="2027 年节假日安排已录入")
    case = reload(case)
    # Declared with no entered days: weekends only, so 元旦 (Friday 01-01) counts and the date moves earlier.
    assert (case.statutory_due_date, case.statutory_due_date_provisional) == (day("2027-02-02"), False)


# --------------------------------------------------------------------------- the clock stops


def test_a_correction_stops_the_clock_until_the_resubmission(users):
    with time_machine.travel(at("2026-09-28"), tick=False) as traveller:
        case = open_and_accept(users)
        decide(users, case, "market_regulation", "need_correction")
        decide(users, case, "public_security")
        decide(users, case, "tax")
        case = reload(case)
        assert case.status == CaseStatus.CORRECTION_REQUIRED
        pause = ClockPause.objects.get(case=case)
        assert (pause.kind, pause.ended_at) == (PauseKind.CORRECTION, None)
        assert case.paused_since == at("2026-09-28")

        traveller.move_to(at("2026-10-08"))
        # Past the stored promised date (9-29), but the clock stopped before it: paused, not red.
        assert clock.case_supervision(reload(case)) == Supervision.PAUSED
        traveller.move_to(at("2026-10-09"))
        services.case_correction_submit(case_no=case.case_no, changes={"address": "示范区创新大道 88 号 5 层"})

    case = reload(case)
    pause.refresh_from_db()
    assert pause.ended_at == at("2026-10-09") and case.paused_since is None
    # Stopped: 9-29, 9-30, 10-08, 10-09 (four working days); the 1-day promise now ends on Saturday 10-10.
    assert case.promised_due_date == day("2026-10-10")
    assert case.statutory_due_date == day("2026-12-10")  # 12-04 plus four working days
    # The re-opened department gets its own limit from the day it is asked again.
    assert open_task(case, "market_regulation").due_date == day("2026-10-10")
    assert clock.working_days_used(case, [pause.span], calendar=clock.working_calendar()) is not None


def test_a_special_procedure_stops_the_case_and_its_open_tasks(users):
    set_limits(one_thing_days=10, market_days=5)
    with time_machine.travel(at("2026-09-28"), tick=False) as traveller:
        case = open_and_accept(users)
        assert open_task(case, "market_regulation").due_date == day("2026-10-10")
        assert reload(case).promised_due_date == day("2026-10-16")

        traveller.move_to(at("2026-09-29"))
        pause = services.case_procedure_start(
            user=users["market1"], case_no=case.case_no, kind=PauseKind.HEARING, reason="申请人要求听证"
        )
        assert pause.department_id == "market_regulation"
        with pytest.raises(Conflict):
            services.case_procedure_start(
                user=users["window1"], case_no=case.case_no, kind=PauseKind.HEARING, reason="重复"
            )

        traveller.move_to(at("2026-10-12"))
        task = HumanTask.objects.select_related("case").get(pk=open_task(case, "market_regulation").pk)
        assert clock.task_supervision(task) == Supervision.PAUSED  # past 10-10, but stopped before it
        decide(users, case, "tax")
        with pytest.raises(PermissionDenied):  # no open task left for tax on this case
            services.case_procedure_end(user=users["tax1"], case_no=case.case_no, pause_id=pause.pk)
        services.case_procedure_end(user=users["market1"], case_no=case.case_no, pause_id=pause.pk)

    case = reload(case)
    # Stopped 9-30, 10-08, 10-09, 10-10, 10-12: five working days later for the case and the open task.
    assert case.paused_since is None
    assert case.promised_due_date == day("2026-10-23")
    assert open_task(case, "market_regulation").due_date == day("2026-10-16")
    assert [e.data["procedure"] for e in events(case, "procedure_started")] == ["hearing"]
    assert len(events(case, "procedure_ended")) == 1


def test_only_the_window_or_a_department_with_an_open_task_may_start_a_procedure(users):
    with time_machine.travel(at("2026-09-28"), tick=False):
        case = open_and_accept(users)
        with pytest.raises(PermissionDenied):
            services.case_procedure_start(
                user=users["supervisor1"], case_no=case.case_no, kind=PauseKind.EXPERT_REVIEW, reason="x"
            )
        with pytest.raises(ValidationFailed):
            services.case_procedure_start(
                user=users["window1"], case_no=case.case_no, kind=PauseKind.CORRECTION, reason="补正走补正流程"
            )
        with pytest.raises(Exception, match="未找到"):  # health has no task on this case: not even found
            services.case_procedure_start(
                user=users["health1"], case_no=case.case_no, kind=PauseKind.TESTING, reason="x"
            )


# --------------------------------------------------------------------------- 延期


def test_an_extension_needs_a_reason_and_a_supervisor_and_stays_within_the_law(users):
    set_limits(one_thing_days=10, market_days=5)
    with time_machine.travel(at("2026-09-28"), tick=False):
        case = open_and_accept(users)
        with pytest.raises(ValidationFailed) as refused:
            services.case_deadline_extend(
                user=users["supervisor1"], case_no=case.case_no, days=5, reason="", approver="window1"
            )
        assert set(refused.value.field_errors) == {"reason", "approver"}
        services.case_deadline_extend(user=users["supervisor1"], case_no=case.case_no, days=5, reason="需现场核查")
        with pytest.raises(ValidationFailed, match="提交的数据有误") as too_long:
            services.case_deadline_extend(user=users["supervisor1"], case_no=case.case_no, days=11, reason="再延")
        assert "15" in too_long.value.field_errors["days"][0]

    case = reload(case)
    assert case.promised_due_date == day("2026-10-23")  # 10 + 5 working days
    assert case.statutory_due_date == day("2026-12-11")  # 45 + 5 working days
    [event] = events(case, "deadline_extended")
    assert event.data["days"] == 5 and event.data["reason"] == "需现场核查" and event.data["approved_by"]


def test_an_expired_statutory_limit_cannot_be_extended(users):
    with time_machine.travel(at("2026-09-28"), tick=False) as traveller:
        case = open_and_accept(users)
        traveller.move_to(at("2026-12-07"))
        with pytest.raises(Conflict, match="届满"):
            services.case_deadline_extend(user=users["supervisor1"], case_no=case.case_no, days=1, reason="迟了")


def test_nobody_records_another_persons_approval_of_an_extension(users):
    """Issue 18: the one-step extension let a window record a supervisor's approval the supervisor never gave."""
    with time_machine.travel(at("2026-09-28"), tick=False):
        case = open_and_accept(users)
        for someone in ("window1", "market1"):
            with pytest.raises(PermissionDenied):
                services.case_deadline_extend(
                    user=users[someone], case_no=case.case_no, days=3, reason="需核查", approver="supervisor1"
                )
        assert events(reload(case), "deadline_extended") == []
        extension = services.case_deadline_extend(
            user=users["supervisor1"], case_no=case.case_no, days=3, reason="核查"
        )
        assert extension.approved_by == users["supervisor1"] and extension.requested_by == users["supervisor1"]


# --------------------------------------------------------------------------- deemed acceptance (Art. 32)


def test_a_case_left_unanswered_for_five_working_days_counts_as_accepted_from_receipt(users):
    with time_machine.travel(at("2026-09-28"), tick=False) as traveller:
        case = open_case(users).case
        traveller.move_to(at("2026-10-10", 17))  # the fifth working day: still in time
        assert services.deemed_acceptance_sweep() == []
        traveller.move_to(at("2026-10-12", 9))
        delivered = services.deemed_acceptance_sweep()
        assert services.deemed_acceptance_sweep() == []  # once

    case = reload(case)
    assert case.status == CaseStatus.RECEIVED  # the window still has to act; the case is flagged
    assert case.accepted_at == case.opened_at and case.deemed_accepted_at is not None
    [event] = events(case, "deemed_accepted")
    assert event.data["legal_basis"] == clock.DEEMED_ACCEPTANCE_BASIS
    assert "第三十二条" in event.data["legal_basis"]
    notes = Notification.objects.filter(pk__in=delivered)
    assert sorted(notes.values_list("role", flat=True)) == ["supervisor", "window"]
    assert case.promised_due_date == day("2026-09-29")  # counted from receipt


def test_a_late_acceptance_counts_from_receipt(users):
    with time_machine.travel(at("2026-09-28"), tick=False) as traveller:
        case = open_case(users).case
        traveller.move_to(at("2026-10-12"))
        services.case_accept(user=users["window1"], case_no=case.case_no)
        case = reload(case)
        assert case.accepted_at == case.opened_at
        assert len(events(case, "deemed_accepted")) == 1
        assert clock.case_supervision(case) == Supervision.RED  # the 1-day promise ran out on 9-29


# --------------------------------------------------------------------------- supervision


def test_warning_then_yellow_then_red_each_notified_once(users):
    set_limits(one_thing_days=10, market_days=5)
    with time_machine.travel(at("2026-09-28"), tick=False) as traveller:
        case = open_and_accept(users)
        decide(users, case, "public_security")
        decide(users, case, "tax")
        market = HumanTask.objects.select_related("case").get(pk=open_task(case, "market_regulation").pk)
        assert (market.warning_date, market.due_date) == (day("2026-10-09"), day("2026-10-10"))
        assert clock.task_supervision(market) == Supervision.NORMAL

        traveller.move_to(at("2026-10-09"))
        assert clock.task_supervision(market) == Supervision.WARNING
        services.supervision_sweep()
        assert list(Notification.objects.values_list("kind", "department_id")) == [
            (NotificationKind.TASK_WARNING, "market_regulation")
        ]

        traveller.move_to(at("2026-10-12"))
        assert clock.task_supervision(market) == Supervision.YELLOW
        assert clock.case_supervision(reload(case), [market]) == Supervision.YELLOW
        services.supervision_sweep()
        services.supervision_sweep()
        yellow = Notification.objects.filter(kind=NotificationKind.TASK_OVERDUE)
        assert sorted(yellow.values_list("role", flat=True)) == ["reviewer", "supervisor"]
        assert len(events(case, "yellow_card")) == 1

        traveller.move_to(at("2026-10-19"))
        assert clock.task_supervision(market) == Supervision.RED
        delivered = services.supervision_sweep()
        assert services.supervision_sweep() == []
        red = Notification.objects.filter(kind=NotificationKind.CASE_OVERDUE)
        assert sorted(red.values_list("role", "department_id")) == [
            ("reviewer", "market_regulation"),  # the lead department
            ("supervisor", None),
            ("window", None),
        ]
        assert len(events(case, "red_card")) == 1
        assert set(red.values_list("pk", flat=True)) <= set(delivered)

        first = red.first().pk
        assert services.notification_deliver(notification_id=first) == "sent"
        assert services.notification_deliver(notification_id=first) == "already_sent"


def test_the_overdue_filter_finds_yellow_and_red_tasks(users):
    set_limits(one_thing_days=10, market_days=5)
    with time_machine.travel(at("2026-09-28"), tick=False) as traveller:
        case = open_and_accept(users)
        tasks = HumanTask.objects.filter(case=case)
        traveller.move_to(at("2026-10-12"))  # market (5 days) and tax (1 day) late; the case (10) not yet
        assert sorted(clock.tasks_overdue(tasks).values_list("lane", flat=True)) == [
            "market_regulation",
            "public_security",
            "tax",
        ]
        services.case_procedure_start(user=users["window1"], case_no=case.case_no, kind="testing", reason="检测")
        # Stopped today, after the tasks were already late: a late stop does not excuse them.
        assert clock.tasks_overdue(tasks).count() == 3


# --------------------------------------------------------------------------- BPMN timers


def test_a_boundary_timer_escalates_when_the_sweep_fires_it(users):
    deploy_timer_model()
    with time_machine.travel(at("2026-09-28"), tick=False) as traveller:
        case = open_timer_case(users)
        [timer] = DueTimer.objects.filter(case=case)
        assert (timer.element_id, timer.fired_at) == ("review_overdue", None)
        assert timer.due_at == at("2026-09-28") + dt.timedelta(seconds=1)  # the model's "PT1S"

        assert services.due_timers_claim() == []  # not due yet
        traveller.shift(2)
        assert services.due_timers_claim() == [timer.pk]
        assert services.due_timers_claim() == []  # claimed
        assert services.due_timer_fire(timer_id=timer.pk) == "fired"
        assert services.due_timer_fire(timer_id=timer.pk) == "already_fired"

    lanes = dict(HumanTask.objects.filter(case=case).values_list("element_id", "state"))
    assert lanes == {
        "window_accept": HumanTaskState.COMPLETED,
        "review": HumanTaskState.CANCELLED,  # the interrupting timer took it away
        "escalated_review": HumanTaskState.OPEN,
    }
    assert [e.data["element_id"] for e in events(case, "timer_fired")] == ["review_overdue"]
    timer.refresh_from_db()
    assert timer.outcome == "fired"
    # The escalation path goes on like any review.
    decide(users, case, "market_regulation")
    assert reload(case).status == CaseStatus.APPROVED


def test_a_timer_whose_task_was_done_in_time_is_dropped(users):
    deploy_timer_model()
    case = open_timer_case(users)
    assert DueTimer.objects.filter(case=case).count() == 1
    decide(users, case, "market_regulation")
    assert not DueTimer.objects.filter(case=case).exists()


def test_case_timers_fire_runs_only_due_timers(users):
    deploy_timer_model()
    with time_machine.travel(at("2026-09-28"), tick=False) as traveller:
        case = open_timer_case(users)
        assert services.case_timers_fire(case_id=case.pk) == []
        traveller.shift(5)
        assert services.case_timers_fire(case_id=case.pk) == ["review_overdue"]
        assert services.case_timers_fire(case_id=case.pk) == []


# --------------------------------------------------------------------------- 时限压减率


def test_reduction_rates_per_item_and_one_thing(users):
    # The catalogue's limits are the statistics module's (selectors.one_thing_limits): rates rounded to 4 places.
    limits = selectors.one_thing_limits(OneThing.objects.get(key="enterprise_start"))
    assert (limits["statutory_limit_days"], limits["promised_limit_days"]) == (45, 1)
    # the mean of the items' own rates (docs/statistics.md), not the one-thing's promise against 45 days
    assert limits["reduction_rate"] == 0.8556  # (2/3 + 1 + 9/10) / 3
    rates = {item.code: item.reduction_rate for item in limits["items"]}
    assert rates == {
        "000105402000": 1.0,  # 1 → 0: on the spot
        "000112103000": 0.9,  # 10 → 1
        "000113101000": 0.6667,  # 3 → 1  (rounded as every rate is: workflow/selectors/statistics.py)
    }


def test_working_days_used_stop_at_the_decision_and_skip_pauses(users):
    with time_machine.travel(at("2026-09-28"), tick=False) as traveller:
        case = open_and_accept(users)
        decide(users, case, "market_regulation", "need_correction")
        decide(users, case, "public_security")
        decide(users, case, "tax")
        traveller.move_to(at("2026-10-09"))
        services.case_correction_submit(case_no=case.case_no, changes={"address": "示范区创新大道 88 号 5 层"})
        traveller.move_to(at("2026-10-13"))
        for lane in HumanTask.objects.filter(case=case, state="open").values_list("lane", flat=True):
            decide(users, case, lane)  # every department the correction re-opened
        traveller.move_to(at("2026-10-20"))
        info = clock.case_clock(reload(case))
    # From 9-28 to the decision on 10-13: 10-10, 10-12, 10-13 counted; 9-29 … 10-09 were the correction.
    assert info["working_days_used"] == 3
    assert info["supervision"] is None and info["paused"] is False


@pytest.mark.django_db(transaction=True)
def test_a_sweep_skips_the_rows_another_sweep_holds_and_never_claims_them_twice(users):
    if connection.vendor != "postgresql":
        pytest.skip("SKIP LOCKED is PostgreSQL's; SQLite serialises the two sweeps instead")
    deploy_timer_model()
    cases = [open_timer_case(users) for _ in range(3)]
    later = timezone.now() + dt.timedelta(seconds=5)
    held, release, first = threading.Event(), threading.Event(), []

    def first_sweep():
        try:
            with transaction.atomic():
                first.extend(services.due_timers_claim(now=later))
                held.set()
                release.wait(timeout=10)
        finally:
            connections.close_all()

    thread = threading.Thread(target=first_sweep)
    thread.start()
    assert held.wait(timeout=10)
    assert services.due_timers_claim(now=later) == []  # locked by the first sweep: skipped, not waited for
    release.set()
    thread.join(timeout=10)
    assert sorted(first) == sorted(DueTimer.objects.filter(case__in=cases).values_list("pk", flat=True))
    assert services.due_timers_claim(now=later) == []  # claimed: not queued a second time
    # A claim whose message never arrived (lost between commit and broker) is taken again later.
    reclaim = later + dt.timedelta(seconds=settings.ONETHING_TIMER_RECLAIM_SECONDS + 1)
    assert sorted(services.due_timers_claim(now=reclaim)) == sorted(first)


def test_the_beat_tasks_queue_their_work_only_after_commit(users, django_capture_on_commit_callbacks):
    from workflow.tasks import clock as tasks

    set_limits(one_thing_days=10, market_days=5)
    deploy_timer_model()
    with time_machine.travel(at("2026-09-28"), tick=False) as traveller:
        open_and_accept(users)
        timer_case = open_timer_case(users)
        traveller.move_to(at("2026-10-12"))
        # execute=False: nothing reaches the broker here; the callbacks are what commit would send.
        with django_capture_on_commit_callbacks(execute=False) as queued:
            assert tasks.sweep_due_timers() == 1
            sent = tasks.sweep_clock()
    assert len(queued) == 1 + sent
    assert sent == Notification.objects.count() > 0
    assert DueTimer.objects.get(case=timer_case).claimed_at is not None
