"""The legal clock's writes: special procedures, extensions, timers, deemed acceptance, supervision.

Hand-made changes (a hearing starts, an extension is approved) lock the case like every other service.
The sweeps run from Celery beat (workflow/tasks/clock.py) and are safe to run twice at the same instant:
due timers are claimed under ``SELECT … FOR UPDATE SKIP LOCKED`` and fired under the case lock with a
``fired_at`` check, deemed acceptance is re-checked under the case lock, and every notification has a unique
key that is inserted with ``ON CONFLICT DO NOTHING`` — an event is recorded only by the sweep whose insert
went through. See docs/clock.md.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from .. import calendar as cal
from .. import clock, halls, notices, reactions
from ..access import staff_of
from ..calendar import PROVISIONAL_LABEL, PROVISIONAL_NOTE
from ..compositions import composition_of
from ..errors import (
    ConcurrentUpdate,
    Conflict,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    ProcessFailed,
    ValidationFailed,
)
from ..lifecycle import CaseStatus
from ..models import (
    SPECIAL_PROCEDURES,
    Case,
    CaseEvent,
    ClockPause,
    DeadlineExtension,
    DueTimer,
    HumanTask,
    HumanTaskState,
    Notification,
    NotificationKind,
    PauseKind,
    StaffRole,
    TimerKind,
)
from ..selectors import permissions
from ..selectors.permissions import Action, Viewer
from ..step import Step
from .engine import begin_step, lock_case, persist_step

logger = logging.getLogger(__name__)
TIMER_ACTOR = "定时器"


# --------------------------------------------------------------------------- shared


def _save_clock(case: Case) -> None:
    """Write the clock's columns with the same optimistic version check as persist_step."""
    now = timezone.now()
    changed = Case.objects.filter(pk=case.pk, version=case.version).update(
        **case.columns_to_write(clock.row_fields(case)), version=F("version") + 1, updated_at=now
    )
    if changed != 1:
        raise ConcurrentUpdate()
    case.version += 1


def _write_events(case: Case, actor, *events: tuple[str, str, dict]) -> None:
    step = Step(case=case, instance=None, actor=actor)
    for kind, department, data in events:
        step.event(kind, department=department, **data)
    step.save_events()


def _acting(user, case: Case) -> tuple[Viewer, permissions.Facts, str | None]:
    """Who may stop or extend a case's clock: the window (None), or a reviewer whose department has an
    open task on it (its code); ``permissions.acting_department``. With the facts the rules read, so the
    action's own rule reads them once."""
    viewer, facts = Viewer.of(user), permissions.Facts()
    return viewer, facts, permissions.acting_department(viewer, case, facts)


# --------------------------------------------------------------------------- special procedures (Art. 45)


@transaction.atomic
def case_procedure_start(*, user, case_no: str, kind: str, reason: str, expected_days: int | None = None) -> ClockPause:
    """A hearing, testing, appraisal, expert review or tender starts: its time does not count (Art. 45).

    The window, or a reviewer whose department has an open task on the case. The case must be under
    review; one procedure of a kind at a time. ``expected_days``: the working days it is expected to take
    (1–250). The applicant is told in writing — what, why and how long — by a 特别程序告知书 issued after commit.
    """
    if expected_days is not None and (
        isinstance(expected_days, bool) or not isinstance(expected_days, int) or not 1 <= expected_days <= 250
    ):
        raise ValidationFailed(field_errors={"expected_days": ["预计所需时间应为 1 至 250 个工作日"]})
    if kind not in SPECIAL_PROCEDURES:
        raise ValidationFailed(
            field_errors={"kind": ["特别程序类型只能是听证、检验检测检疫、鉴定、专家评审或招标拍卖"]}
        )
    if not reason.strip():
        raise ValidationFailed(field_errors={"reason": ["请说明启动特别程序的事由"]})
    case = lock_case(case_no=case_no)
    viewer, facts, department = _acting(user, case)
    permissions.require(Action.START_PROCEDURE, viewer, case, facts=facts)
    if ClockPause.objects.filter(case_id=case.pk, kind=kind, ended_at__isnull=True).exists():
        raise Conflict(f"该办件的{PauseKind(kind).label}程序正在进行中")
    pause = clock.stop_clock(
        case,
        kind=kind,
        at=timezone.now(),
        reason=reason,
        actor=user,
        department=department,
        expected_days=expected_days,
    )
    _save_clock(case)
    _write_events(
        case,
        user,
        (
            "procedure_started",
            department or "window",
            {"procedure": kind, "task": pause.get_kind_display(), "pause_id": pause.pk},
        ),
    )
    reactions.queue_document(case.pk, notices.procedure_key(pause.pk))
    return pause


@transaction.atomic
def case_procedure_end(*, user, case_no: str, pause_id: int) -> ClockPause:
    """The procedure is over: the clock runs again and every due date moves by the working days stopped.

    The window, or a reviewer of the department whose procedure it is (with an open task on the case)."""
    case = lock_case(case_no=case_no)
    viewer, facts, department = _acting(user, case)
    pause = ClockPause.objects.filter(case_id=case.pk, pk=pause_id, kind__in=SPECIAL_PROCEDURES).first()
    if pause is None:
        raise NotFound("未找到该特别程序")
    permissions.require(Action.END_PROCEDURE, viewer, case, facts=facts, pause=pause)
    now = timezone.now()
    clock.resume_clock(case, pause=pause, at=now, actor=user)
    _save_clock(case)
    _write_events(
        case,
        user,
        ("procedure_ended", department or "window", {"procedure": pause.kind, "task": pause.get_kind_display()}),
    )
    pause.refresh_from_db()
    return pause


# --------------------------------------------------------------------------- 延期


@transaction.atomic
def case_deadline_extend(*, user, case_no: str, days: int, reason: str, approver: str = "") -> DeadlineExtension:
    """延期 in one step, by the approver themselves: a supervisor (or an administrator) whose hall sees the case
    extends it and is recorded as its approver. Nobody records another person's approval — the window and the
    reviewers ask with ``case_extension_request`` and a supervisor decides it in the system (issue 18).
    ``approver``, if given, must be the acting user's own username.

    Before the statutory deadline has passed (an expired limit cannot be extended); all extensions of a case
    together within the law's maximum (15 working days for joint handling, Art. 26; 10 for a single item,
    Art. 42). The extension moves both the statutory and the promised due date; department tasks keep their own
    limits.
    """
    staff = staff_of(user)
    if staff is None or staff.role not in (StaffRole.SUPERVISOR, StaffRole.ADMINISTRATOR):
        raise PermissionDenied("直接延期只能由效能监督人员或系统管理员本人批准；请提交延期申请，由负责人在系统中批准")
    errors: dict[str, list[str]] = {}
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        errors["days"] = ["延长的工作日数须为正整数"]
    if not reason.strip():
        errors["reason"] = ["请填写延期理由（将告知申请人）"]
    if approver and approver != user.get_username():
        errors["approver"] = ["批准只能由批准人本人在系统中作出，不能代他人记录批准"]
    if errors:
        raise ValidationFailed(field_errors=errors)
    case = lock_case(case_no=case_no)
    if not halls.sees_case(staff, case):
        raise NotFound("未找到该办件")
    now = timezone.now()
    limits, granted = _check_extendable(case, days, now)
    return _grant_extension(
        case,
        days=days,
        reason=reason,
        requested_by=user,
        approver=user,
        department=None,
        actor=user,
        limits=limits,
        granted=granted,
        now=now,
    )


def _check_extendable(case: Case, days: int, now: dt.datetime) -> tuple[clock.Limits, int]:
    """May the (locked) case be extended by ``days``? Its limits and the days granted so far, or the error."""
    permissions.check_extendable(case, now)
    limits = clock.limits_of(composition_of(case))
    granted = clock.extension_days(case)
    if granted + days > limits.extension_cap:
        raise ValidationFailed(
            field_errors={"days": [f"延期合计不能超过 {limits.extension_cap} 个工作日（已延期 {granted} 个工作日）"]}
        )
    return limits, granted


def _grant_extension(
    case: Case,
    *,
    days: int,
    reason: str,
    requested_by,
    approver,
    department: str | None,
    actor,
    limits: clock.Limits,
    granted: int,
    now: dt.datetime,
) -> DeadlineExtension:
    """Record an approved extension on the (locked, checked) case and move its due dates."""
    extension = DeadlineExtension.objects.create(
        case=case, days=days, reason=reason, requested_by=requested_by, approved_by=approver, approved_at=now
    )
    pauses = [p.span for p in clock.case_pauses(case)]
    clock.set_case_deadlines(
        case, calendar=clock.working_calendar(), limits=limits, pauses=pauses, extension=granted + days, now=now
    )
    _save_clock(case)
    _write_events(
        case,
        actor,
        (
            "deadline_extended",
            department or "window",
            {
                "extension_id": extension.pk,
                "days": days,
                "reason": reason,
                "approved_by": approver.get_full_name() or approver.get_username(),
                "promised_due_date": case.promised_due_date.isoformat() if case.promised_due_date else None,
                "statutory_due_date": case.statutory_due_date.isoformat() if case.statutory_due_date else None,
            },
        ),
    )
    reactions.queue_document(case.pk, notices.extension_key(extension.pk))
    return extension


# --------------------------------------------------------------------------- BPMN timers


@transaction.atomic
def due_timers_claim(*, now: dt.datetime | None = None, limit: int = 200) -> list[int]:
    """Claim due timer rows for firing. Two sweeps at the same instant never claim the same row: the rows
    one sweep has locked are skipped by the other, and once it commits they are claimed. A claim older than
    ONETHING_TIMER_RECLAIM_SECONDS is taken again: its message was lost between commit and broker."""
    now = now or timezone.now()
    stale = now - dt.timedelta(seconds=settings.ONETHING_TIMER_RECLAIM_SECONDS)
    ids = list(
        DueTimer.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(fired_at__isnull=True, due_at__lte=now)
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=stale))
        .exclude(case__status__in=clock.HELD)
        .order_by("due_at", "id")
        .values_list("pk", flat=True)[:limit]
    )
    if ids:
        DueTimer.objects.filter(pk__in=ids).update(claimed_at=now)
    return ids


@transaction.atomic
def due_timer_fire(*, timer_id: int) -> str:
    """Fire one due row; idempotent: a redelivered or duplicate message finds it fired and does nothing.

    Returns "fired", "already_fired", "missing" (the timer's task went away), "not_due", "held",
    "obsolete" (the case has ended) or "failed" (the model's escalation path raised; logged and recorded).
    """
    case_id = DueTimer.objects.filter(pk=timer_id).values_list("case_id", flat=True).first()
    if case_id is None:
        return "missing"
    case = lock_case(case_id=case_id)  # the case row first, as every writer does: no deadlock with steps
    timer = DueTimer.objects.select_for_update().filter(pk=timer_id).first()
    if timer is None:
        return "missing"
    if timer.fired_at is not None:
        return "already_fired"
    now = timezone.now()
    if timer.due_at > now or case.status in clock.HELD:
        DueTimer.objects.filter(pk=timer.pk).update(claimed_at=None)
        return "not_due" if timer.due_at > now else "held"
    if case.status in clock.FINISHED:
        DueTimer.objects.filter(pk=timer.pk).update(fired_at=now, outcome="obsolete")
        return "obsolete"
    try:
        with transaction.atomic():
            _fire_case_timers(case, now)
    except (ProcessFailed, InvalidTransition) as exc:
        # A broken escalation path must not be retried forever by every sweep: record it and move on.
        logger.error("办件 %s 的定时器 %s 触发失败：%s", case.case_no, timer.element_id, exc.message)
        DueTimer.objects.filter(pk=timer.pk).update(fired_at=now, outcome="failed")
        return "failed"
    return "fired"


@transaction.atomic
def case_timers_fire(*, case_id: int) -> list[str]:
    """Fire every due timer of a case now, through the same persist path as a human step. Returns the
    element ids of the timers fired."""
    case = lock_case(case_id=case_id)
    if case.status not in clock.RUNNING:
        return []
    return _fire_case_timers(case, timezone.now())


def _fire_case_timers(case: Case, now: dt.datetime) -> list[str]:
    due = list(
        DueTimer.objects.select_for_update()
        .filter(case_id=case.pk, kind=TimerKind.BPMN_TIMER, fired_at__isnull=True, due_at__lte=now)
        .order_by("due_at", "id")
    )
    if not due:
        return []
    # Marked first: persist_step drops the unfired rows of timers the instance no longer waits for.
    DueTimer.objects.filter(pk__in=[t.pk for t in due]).update(fired_at=now, outcome="fired")
    step = begin_step(case, TIMER_ACTOR)
    step.instance.fire_timers()
    for timer in due:
        step.event("timer_fired", element_id=timer.element_id, task=timer.name, due_at=timer.due_at.isoformat())
    persist_step(step)
    return [timer.element_id for timer in due]


# --------------------------------------------------------------------------- deemed acceptance (Art. 32)


@transaction.atomic
def deemed_acceptance_sweep(*, now: dt.datetime | None = None, limit: int = 200) -> list[int]:
    """Received cases whose 5-working-day notice period has passed with no notice count as accepted from
    receipt: recorded once (event with its legal basis), due dates from receipt, the window and the
    supervisors notified. The lifecycle is not changed: accepting or refusing stays the window's act, now
    flagged. Returns the ids of the notifications to deliver."""
    now = now or timezone.now()
    calendar = clock.working_calendar()
    candidates = (
        Case.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("one_thing")
        .defer("process_state", "form_data")
        .filter(
            status=CaseStatus.RECEIVED,
            accepted_at__isnull=True,
            deemed_accepted_at__isnull=True,
            # 5 working days are at least 5 calendar days: a cheap bound before the calendar decides.
            opened_at__lte=now - dt.timedelta(days=cal.CORRECTION_NOTICE_DAYS),
        )
        .order_by("opened_at")[:limit]
    )
    notes = []
    for case in candidates:
        try:
            if not calendar.is_deemed_accepted(case.opened_at, None, now):
                continue
        except cal.CalendarUnknown as exc:
            logger.warning("办件 %s 是否视为受理暂无法判断：%s", case.case_no, exc.message)
            continue
        step = Step(case=case, instance=None, actor=clock.SYSTEM_ACTOR, open_tasks=[])
        case.accepted_at = case.opened_at
        clock.record_deemed_acceptance(step.event, case, now, calendar=calendar)
        limits = clock.limits_of(composition_of(case))
        clock.set_case_deadlines(case, calendar=calendar, limits=limits, now=now)
        _save_clock(case)
        CaseEvent.objects.bulk_create(step.events)
        text = (
            f"办件 {case.case_no}（{case.one_thing.name}）收件后 {cal.CORRECTION_NOTICE_DAYS} 个工作日内未受理、"
            f"未告知补正也未不予受理，依据{clock.DEEMED_ACCEPTANCE_BASIS}，自收件之日"
            f"（{cal.local_date(case.opened_at):%Y年%m月%d日}）起视为受理，请立即处理。"
        )
        for role in (StaffRole.WINDOW, StaffRole.SUPERVISOR):
            notes.append(_note(NotificationKind.DEEMED_ACCEPTED, case, role=role, text=text))
    return [pk for pk, _ in _notify(notes)]


# --------------------------------------------------------------------------- supervision


def _note(kind: str, case: Case, *, role: str, text: str, task=None, department: str | None = None) -> dict:
    recipient = department or role
    subject = f"task{task.pk}" if task is not None else f"case{case.pk}"
    return {
        "key": f"{kind}:{subject}:{recipient}",
        "kind": kind,
        "case_id": case.pk,
        "task_id": task.pk if task is not None else None,
        "department_id": department,
        "role": role,
        "text": text,
    }


def _notify(rows: list[dict]) -> list[tuple[int, str]]:
    """Insert notifications, skipping keys that exist; (id, key) of the rows this call inserted.

    ``INSERT … ON CONFLICT DO NOTHING RETURNING``: of two sweeps inserting the same key, exactly one gets
    the row back, so only that one records the card in the case's trail."""
    inserted: list[tuple[int, str]] = []
    if not rows:
        return inserted
    meta = Notification._meta
    columns = [meta.get_field(name).column for name in ("key", "kind", "case", "task", "department", "role", "text")]
    columns.append(meta.get_field("created_at").column)
    created = connection.ops.adapt_datetimefield_value(timezone.now())
    for start in range(0, len(rows), 500):
        chunk = rows[start : start + 500]
        placeholders = ", ".join(["(" + ", ".join(["%s"] * len(columns)) + ")"] * len(chunk))
        params = []
        for row in chunk:
            params += [row["key"], row["kind"], row["case_id"], row["task_id"], row["department_id"], row["role"]]
            params += [row["text"], created]
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {meta.db_table} ({', '.join(columns)}) VALUES {placeholders} "
                f"ON CONFLICT ({meta.get_field('key').column}) DO NOTHING RETURNING id, {meta.get_field('key').column}",
                params,
            )
            inserted += [(pk, key) for pk, key in cursor.fetchall()]
    return inserted


def _due(day: dt.date, provisional: bool) -> str:
    """A due date in a notice: "2027年01月05日（预计，以国务院公布的节假日安排为准）" when provisional."""
    return f"{day:%Y年%m月%d日}" + (f"（{PROVISIONAL_LABEL}，{PROVISIONAL_NOTE}）" if provisional else "")


def _not_notified(kind: str, field: str):
    return ~Exists(Notification.objects.filter(kind=kind, **{field: OuterRef("pk")}))


@transaction.atomic
def supervision_sweep(*, now: dt.datetime | None = None, limit: int = 500) -> list[int]:
    """Warnings, yellow cards (a department task overdue) and red cards (a case past its promised date):
    each queued once per recipient, each card also recorded in the case's trail once. Due dates the
    calendar could not compute earlier (a year not entered yet) are filled in first. Returns the ids of
    the notifications to deliver."""
    now = now or timezone.now()
    on = cal.local_date(now)
    _backfill_due_dates(now=now, limit=limit)
    notes: list[dict] = []
    cards: dict[str, tuple[Case, str, dict]] = {}  # first key of a card → the event to record

    open_tasks = (
        HumanTask.objects.filter(
            state=HumanTaskState.OPEN, department__isnull=False, case__status__in=clock.RUNNING, due_date__isnull=False
        )
        .select_related("case", "case__one_thing")
        .defer("case__process_state", "case__form_data")
    )
    for task in open_tasks.filter(due_date__lt=on).filter(_not_notified(NotificationKind.TASK_OVERDUE, "task"))[:limit]:
        if clock.stopped_before(task.case, task.due_date):
            continue
        text = (
            f"黄牌：办件 {task.case.case_no}「{task.name}」已超过办理期限"
            f"（{_due(task.due_date, task.due_date_provisional)}，{task.limit_days} 个工作日），请立即办理。"
        )
        first = _note(
            NotificationKind.TASK_OVERDUE,
            task.case,
            role=StaffRole.REVIEWER,
            text=text,
            task=task,
            department=task.department_id,
        )
        notes += [
            first,
            _note(NotificationKind.TASK_OVERDUE, task.case, role=StaffRole.SUPERVISOR, text=text, task=task),
        ]
        cards[first["key"]] = (
            task.case,
            "yellow_card",
            {"department": task.department_id, "task": task.name, "due_date": task.due_date.isoformat()},
        )
    warn_tasks = open_tasks.filter(warning_date__lte=on, due_date__gte=on)
    for task in warn_tasks.filter(_not_notified(NotificationKind.TASK_WARNING, "task"))[:limit]:
        if clock.task_supervision(task, on=on) != clock.Supervision.WARNING:
            continue
        text = (
            f"预警：办件 {task.case.case_no}「{task.name}」将于 {_due(task.due_date, task.due_date_provisional)} "
            "到期，请抓紧办理。"
        )
        notes.append(
            _note(
                NotificationKind.TASK_WARNING,
                task.case,
                role=StaffRole.REVIEWER,
                text=text,
                task=task,
                department=task.department_id,
            )
        )

    cases = (
        Case.objects.filter(status__in=clock.RUNNING, promised_due_date__isnull=False)
        .select_related("one_thing")
        .defer("process_state", "form_data")
    )
    for case in cases.filter(promised_due_date__lt=on).filter(_not_notified(NotificationKind.CASE_OVERDUE, "case"))[
        :limit
    ]:
        if clock.case_supervision(case, on=on) != clock.Supervision.RED:
            continue
        text = (
            f"红牌：办件 {case.case_no}（{case.one_thing.name}）已超过承诺办结期限"
            f"（{_due(case.promised_due_date, case.promised_due_date_provisional)}），请督办。"
        )
        first = _note(NotificationKind.CASE_OVERDUE, case, role=StaffRole.WINDOW, text=text)
        notes += [first, _note(NotificationKind.CASE_OVERDUE, case, role=StaffRole.SUPERVISOR, text=text)]
        lead = composition_of(case).lead_department
        if lead:
            notes.append(
                _note(NotificationKind.CASE_OVERDUE, case, role=StaffRole.REVIEWER, text=text, department=lead)
            )
        cards[first["key"]] = (case, "red_card", {"due_date": case.promised_due_date.isoformat()})
    warn_cases = cases.filter(warning_date__lte=on, promised_due_date__gte=on)
    for case in warn_cases.filter(_not_notified(NotificationKind.CASE_WARNING, "case"))[:limit]:
        if clock.case_supervision(case, on=on) != clock.Supervision.WARNING:
            continue
        text = (
            f"预警：办件 {case.case_no}（{case.one_thing.name}）将于 "
            f"{_due(case.promised_due_date, case.promised_due_date_provisional)} 到达承诺办结期限。"
        )
        notes.append(_note(NotificationKind.CASE_WARNING, case, role=StaffRole.WINDOW, text=text))

    inserted = _notify(notes)
    events = []
    for _, key in inserted:
        if key in cards:
            case, kind, data = cards[key]
            step = Step(case=case, instance=None, actor=clock.SYSTEM_ACTOR, open_tasks=[])
            data = dict(data)
            step.event(kind, department=data.pop("department", ""), **data)
            events += step.events
    CaseEvent.objects.bulk_create(events)
    return [pk for pk, _ in inserted]


def _backfill_due_dates(*, now: dt.datetime, limit: int) -> None:
    """Fill in due dates left empty because the calendar did not know the year then."""
    calendar = clock.working_calendar()
    cases = (
        Case.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("one_thing")
        .defer("process_state", "form_data")
        .filter(status__in=clock.RUNNING, accepted_at__isnull=False)
        .filter(Q(promised_due_date__isnull=True) | Q(statutory_due_date__isnull=True))[:limit]
    )
    for case in cases:
        before = (case.promised_due_date, case.statutory_due_date)
        pauses = [p.span for p in clock.case_pauses(case)]
        clock.set_case_deadlines(
            case,
            calendar=calendar,
            limits=clock.limits_of(composition_of(case)),
            pauses=pauses,
            extension=clock.extension_days(case),
            now=now,
        )
        if (case.promised_due_date, case.statutory_due_date) != before:
            _save_clock(case)
    tasks = list(
        HumanTask.objects.select_related("case")
        .defer("case__process_state", "case__form_data")
        .filter(state=HumanTaskState.OPEN, limit_days__isnull=False, due_date__isnull=True)[:limit]
    )
    changed = []
    for task in tasks:
        pauses = [p.span for p in clock.case_pauses(task.case)] if task.case.paused_since else []
        start = clock.task_start(task, task.case)
        if clock.set_task_deadlines(task, calendar=calendar, start=start, pauses=pauses, now=now):
            changed.append(task)
    if changed:
        HumanTask.objects.bulk_update(changed, clock.TASK_DUE_FIELDS)


# --------------------------------------------------------------------------- delivery


@transaction.atomic
def notification_deliver(*, notification_id: int) -> str:
    """Deliver ("send") a notification: there is no external channel yet, so it is logged and marked sent, once."""
    note = (
        Notification.objects.select_for_update(of=("self",)).select_related("case").filter(pk=notification_id).first()
    )
    if note is None:
        return "missing"
    if note.sent_at is not None:
        return "already_sent"
    recipient = note.department_id or StaffRole(note.role).label
    logger.info("督办通知 %s → %s：%s", note.key, recipient, note.text)
    note.sent_at = timezone.now()
    note.save(update_fields=["sent_at"])
    return "sent"
