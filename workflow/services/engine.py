"""The one place where engine results become rows: state, task rows, lifecycle and events.

Every service that moves a case runs inside one transaction: lock the case row, restore its process
instance, act, then ``persist_step`` saves the instance state with an optimistic version check (which
makes the SQLite default safe, where SELECT ... FOR UPDATE is a no-op), projects ready user tasks into
HumanTask rows, turns the engine's position into a lifecycle transition and appends the events.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

import bpmn

from .. import case_facts, clock, commitments, reactions, sms
from ..errors import ConcurrentUpdate, InvalidTransition, NotFound, ProcessFailed
from ..lifecycle import CaseStatus, transition_between
from ..models import Case, HumanTask, HumanTaskState, ProcessVersion
from ..prepared import PreparedQuery
from ..results import COMPLETED_FIELDS, is_licence_number_clash, issue_licences, tasks_as_left
from ..step import Step
from ..write_batch import WriteBatch
from . import auto_approval

OUTCOME_STATUS = {
    "approved": CaseStatus.APPROVED,
    "rejected": CaseStatus.REJECTED,
    "not_accepted": CaseStatus.NOT_ACCEPTED,
}


def model_for(version: ProcessVersion) -> bpmn.LoadedModel:
    """The version's model from the per-process cache; its compiled text is read only on a miss."""
    return bpmn.load_model(
        version.content_hash,
        lambda: ProcessVersion.objects.values_list("compiled", flat=True).get(pk=version.pk),
    )


def lock_case(
    *, case_no: str | None = None, case_id: int | None = None, task_id: int | None = None, department: str | None = None
) -> Case:
    """The case row (by number, id, or one of its tasks of a department), locked for the transaction.

    The case's facts (``case_facts``: an outstanding 容缺 promise, 告知承诺 commitments) come with it, in the same
    statement."""
    assert transaction.get_connection().in_atomic_block, "lock_case needs a transaction"
    case = _locked_case_row.first(case_no=case_no, case_id=case_id, task_id=task_id, department=department)
    if case is None:
        raise NotFound("未找到该任务" if task_id is not None else "未找到该办件")
    return case


@PreparedQuery
def _locked_case_row(*, case_no: str | None, case_id: int | None, task_id: int | None, department: str | None):
    if case_no is not None:
        lookup = {"case_no": case_no}
    elif case_id is not None:
        lookup = {"pk": case_id}
    else:
        lookup = {"tasks__pk": task_id, "tasks__department_id": department}
    return (
        Case.objects.select_for_update(of=("self",))
        .select_related("process_version", "one_thing")
        .defer("process_version__compiled", "process_version__bpmn_xml", "one_thing__merged_form")
        .annotate(**case_facts.case_facts("pk"))
        .filter(**lookup)
        .order_by()[:1]
    )


def lock_task(*, task_id: int, department: str | None) -> HumanTask:
    """A department's task row with its case (``task.case``), the case locked for the transaction as ``lock_case``
    locks it, in one statement; the task row comes with it but is not locked (locking it too could deadlock with a
    step that holds the case and cancels the task).

    The case row is read as locked, so its process state is current. The task row is read as the statement's
    snapshot had it: when the engine no longer has it ready although the row still says open, another step
    decided it while this one waited for the lock (the caller reads it again). Its completion is written only if
    it is still open as read (``persist_step``)."""
    task = _with_locked_case(pk=task_id, department_id=department)
    if task is None:
        raise NotFound("未找到该任务")
    return task


def lock_open_task_in_lane(*, case_no: str, lane: str) -> HumanTask | None:
    """The case's open task of ``lane`` with its case locked, as ``lock_task``; None when the case has none (the
    caller then locks the case alone, ``lock_case``, to say why)."""
    return _with_locked_case(case__case_no=case_no, lane=lane, state=HumanTaskState.OPEN)


def _with_locked_case(**lookup) -> HumanTask | None:
    assert transaction.get_connection().in_atomic_block, "locking a case needs a transaction"
    # Without the case's facts (``case_facts``): a review's approval reads them with its task rows.
    return _task_row_with_locked_case.first(**lookup)


@PreparedQuery
def _task_row_with_locked_case(**lookup):
    return (
        HumanTask.objects.select_for_update(of=("case",))
        # not the model's text (the model comes from the per-process cache); the one-thing is read if needed
        .select_related("case__process_version")
        .defer("case__process_version__compiled", "case__process_version__bpmn_xml")
        .filter(**lookup)
        .order_by()[:1]
    )


def restore_instance(case: Case) -> bpmn.ProcessInstance:
    """The case's process instance; a state written in an older format is upgraded on the way in (and saved
    in the current format by the step's persist)."""
    try:
        return bpmn.ProcessInstance.restore(
            model_for(case.process_version), case.process_state, state_format=case.state_format
        )
    except bpmn.StateFormatUnknown as exc:
        raise ProcessFailed(f"办件的流程状态无法载入：{exc}") from None


def complete_engine_task(instance: bpmn.ProcessInstance, task: HumanTask, data: dict) -> None:
    try:
        instance.complete(task.engine_task_id, data)
    except bpmn.TaskNotReady:
        raise ProcessFailed("任务在流程中已不再待办") from None
    except bpmn.ProcessError as exc:
        raise ProcessFailed(str(exc), element_id=exc.element_id) from None


def open_tasks_of(case: Case) -> list[HumanTask]:
    return list(case.tasks.filter(state=HumanTaskState.OPEN).select_related("department"))


def begin_step(case: Case, actor) -> Step:
    """A step on the locked case with its restored instance. It reads no task rows: ``persist_step`` follows the
    engine's ready set, and a step that acts on a row reads that row."""
    return Step(case=case, instance=restore_instance(case), actor=actor)


def persist_step(step: Step, *, creating: bool = False, before_events: Callable[[Step], None] | None = None) -> None:
    """``before_events(step)`` runs once the rows are saved, just before the events are appended, so the
    events it adds go into the step's one batch (one chain-head lock and one INSERT per step).

    The case row, the task rows and the events are written together at the end (``step.writes``: one statement
    on PostgreSQL); an approval writes the rows first, since its licences are planned from them."""
    case, instance, writes = step.case, step.instance, step.writes
    ready = instance.ready_tasks()
    _apply_lifecycle(step, ready)
    # 秒批: newly ready reviews whose decision tables approve are completed now, which may open more tasks or
    # give the case its result (the lifecycle is applied again). Without tables this costs nothing.
    auto_rows, ready = auto_approval.run(
        step,
        ready,
        set(step.ready_before),
        new_row=lambda task, review_round: _task_row(case, task, review_round),
        apply_lifecycle=_apply_lifecycle,
    )
    instance = step.instance  # restored from a snapshot if an automatic completion failed

    now = timezone.now()
    state = instance.dump()
    if creating:
        case.process_state = state
        case.state_format = bpmn.STATE_FORMAT
        if case.pk is not None:  # its id drawn ahead (PostgreSQL): the row goes first in the step's one statement
            writes.insert([case])
        else:
            case.save(force_insert=True)  # now: the rows below refer to it
    else:
        changed = case.columns_to_write(
            {
                "status": case.status,
                "outcome": case.outcome,
                "form_data": case.form_data,
                "state_format": bpmn.STATE_FORMAT,
                "concluded_at": case.concluded_at,
                "trips": case.trips,
                **clock.row_fields(case),
            }
        )
        writes.update(
            Case,
            {"pk": case.pk, "version": case.version},
            expected=1,  # the optimistic check (SQLite has no row lock)
            **changed,
            process_state=state,
            version=F("version") + 1,
            updated_at=now,
        )
        case.version += 1
        case.state_format = bpmn.STATE_FORMAT

    for task in step.completed:
        task.state = HumanTaskState.COMPLETED
        task.completed_at = now
        task.completed_by = step.actor if getattr(step.actor, "pk", None) else None
        # Still open as read: a task row read without its own lock (``lock_task``) cannot be decided twice.
        writes.update(
            HumanTask,
            {"pk": task.pk, "state": HumanTaskState.OPEN},
            expected=1,
            **{name: getattr(task, name) for name in COMPLETED_FIELDS},
        )

    ready_ids = {task.id for task in ready}
    completed_ids = {task.engine_task_id for task in step.completed}
    vanished = step.ready_before - ready_ids - completed_ids
    if vanished:
        writes.update(
            HumanTask,
            {"case_id": case.pk, "state": HumanTaskState.OPEN, "engine_task_id__in": sorted(vanished)},
            state=HumanTaskState.CANCELLED,
            completed_at=now,
        )
    new_rows = [
        _task_row(case, task, instance.task_value(task.id, "review_round", 0) or 0)
        for task in ready
        if task.id not in step.ready_before
    ]
    clock.on_persist(step, new_rows + auto_rows)  # task limits and due dates; waiting BPMN timers as due rows
    writes.insert(new_rows + auto_rows)
    if any(event.kind == "approve" for event in step.events):
        # The licences are planned from the task rows as this step leaves them: read before its writes with its
        # changes applied, and sent with them; a step that also opens tasks sends its writes first and reads them.
        withheld: list = []
        if new_rows or auto_rows:
            writes.send()
            issued = issue_licences(case, withheld=withheld)
        else:
            tasks = tasks_as_left(case, step.completed, vanished, now)
            issued = issue_licences(case, withheld=withheld, tasks=tasks, writes=writes)
        for licence in issued:
            step.event("licence_issued", department=licence.issuer_id, number=licence.number, item=licence.item_name)
        step.events += commitments.open_checks(case, issued, actor=step.actor)
        for item, materials in withheld:
            step.event(
                "licence_withheld",
                department=item.department,
                item=item.name,
                materials=materials,
                reason="容缺承诺的材料尚未补交，补交后签发",
            )
    for row in new_rows:
        step.event("task_opened", department=row.lane, task=row.name, element_id=row.element_id)
    if before_events is not None:
        before_events(step)
    writes.append_events(step.events)
    sms.write_outbox(case, step.events, writes)  # the applicant's SMS, with the step's writes; sent after the commit
    try:
        writes.send()
    except IntegrityError as exc:
        if is_licence_number_clash(exc):
            raise ConcurrentUpdate() from None
        raise
    reactions.after_step(step)  # documents, queued for after the commit


def _task_row(case: Case, task: bpmn.ReadyTask, review_round: int) -> HumanTask:
    return HumanTask(
        case=case,
        engine_task_id=task.id,
        element_id=task.element_id,
        name=task.name,
        lane=task.lane,
        department_id=None if task.lane in bpmn.RESERVED_LANES else task.lane,
        review_round=review_round,
    )


def save_status(case: Case, *, step: Step | None = None, **fields) -> None:
    """Save a lifecycle change made without an engine step (conclude, withdraw, suspend, resume), with the
    same optimistic version check as persist_step: now, or with ``step``'s writes when they are sent."""
    now = timezone.now()
    writes = step.writes if step is not None else WriteBatch()
    writes.update(
        Case,
        {"pk": case.pk, "version": case.version},
        expected=1,
        **case.columns_to_write({"status": case.status, **fields}),
        version=F("version") + 1,
        updated_at=now,
    )
    if step is None:
        writes.send()
    case.version += 1


def _apply_lifecycle(step: Step, ready: list[bpmn.ReadyTask]) -> None:
    case, instance = step.case, step.instance
    if instance.is_completed:
        outcome = instance.data.get("outcome")
        if outcome not in OUTCOME_STATUS:
            raise ProcessFailed(f"流程已结束但未给出有效的办理结果（outcome={outcome!r}）")
        target = OUTCOME_STATUS[outcome]
        case.outcome = outcome
    else:
        lanes = {task.lane for task in ready}
        if "applicant" in lanes:
            target = CaseStatus.CORRECTION_REQUIRED
        elif lanes - bpmn.RESERVED_LANES:
            target = CaseStatus.IN_REVIEW
        elif "window" in lanes:
            target = CaseStatus.RECEIVED
        else:
            raise ProcessFailed("流程停在了没有待办任务的位置")
    if target == case.status:
        return
    for name in _edges_between(case.status, target):
        getattr(case, name)()
        step.event(name, status=str(case.status))
        clock.on_transition(step, name)  # the legal clock starts, stops, resumes or ends with the lifecycle


def _edges_between(source: str, target: str) -> list[str]:
    """The lifecycle edge from source to target; or, for a resubmission that leaves nothing to review (every
    review that asked stopped applying and no approval was re-opened), resubmit and then the result."""
    name = transition_between(source, target)
    if name is not None:
        return [name]
    first, then = transition_between(source, CaseStatus.IN_REVIEW), transition_between(CaseStatus.IN_REVIEW, target)
    if source == CaseStatus.CORRECTION_REQUIRED and first and then:
        return [first, then]
    raise InvalidTransition(f"流程结果要求从“{CaseStatus(source).label}”转到“{CaseStatus(target).label}”，不允许")
