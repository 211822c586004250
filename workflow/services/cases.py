"""Window and applicant actions on a case: open, accept, refuse, correct, conclude."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django_fsm import can_proceed

import bpmn
import forms

from .. import query_codes, reactions
from ..access import require_role
from ..errors import (
    Conflict,
    InvalidTransition,
    NoTaskToComplete,
    NotFound,
    ProcessFailed,
    ValidationFailed,
)
from ..lifecycle import CaseStatus
from ..models import Case, CaseEvent, CaseNumberCounter, Decision, HumanTask, HumanTaskState, OneThing, StaffRole
from ..results import reuse_licences
from .engine import Step, begin_step, complete_engine_task, lock_case, model_for, persist_step, save_status
from .promises import check_promises, record_promises

_REVIEW_KEY = re.compile(r"_item[0-9]+$")


@dataclass(frozen=True)
class OpenedCase:
    case: Case
    query_code: str  # shown once, on the receipt; only its digest is stored


@transaction.atomic
def case_open(*, user, one_thing_key: str, applicant: dict, form: dict) -> OpenedCase:
    """Window staff open a case for an applicant with the one form filled in."""
    require_role(user, StaffRole.WINDOW)
    one_thing = (
        OneThing.objects.select_related("current_version")
        .defer("current_version__compiled", "current_version__bpmn_xml")
        .filter(key=one_thing_key, is_active=True)
        .first()
    )
    if one_thing is None:
        raise NotFound("未找到该一件事或其未启用")
    if one_thing.current_version is None:
        raise Conflict("该一件事尚未部署流程")
    field_errors = forms.validate_form(one_thing.form_schema, form)
    if field_errors:
        raise ValidationFailed(field_errors={f"form.{k}" if k != "form" else k: v for k, v in field_errors.items()})

    version = one_thing.current_version
    case_no = _next_case_no()
    code = query_codes.new_query_code()
    initial = {
        "case_no": case_no,
        "one_thing": one_thing.key,
        "form": form,
        "intake": {},
        "reviews": {},
        "review_round": 0,
        "correction": {},
        "outcome": None,
    }
    try:
        instance = bpmn.ProcessInstance.start(model_for(version), initial)
    except bpmn.ProcessError as exc:
        raise ProcessFailed(str(exc), element_id=exc.element_id) from None
    case = Case(
        case_no=case_no,
        query_code_hash=query_codes.digest(code),
        one_thing=one_thing,
        process_version=version,
        applicant_name=applicant["name"],
        applicant_id_number=applicant["id_number"],
        applicant_phone=applicant.get("phone", ""),
        form_data=form,
        opened_by=user,
    )
    step = Step(case=case, instance=instance, actor=user, open_tasks=[])
    step.event("opened", one_thing=one_thing.key, version=version.number)
    persist_step(step, creating=True)
    reused = reuse_licences(case)
    if reused:
        step.events = []
        step.event("materials_reused", materials=[r.material_name for r in reused], count=len(reused))
        CaseEvent.objects.bulk_create(step.events)
    return OpenedCase(case=case, query_code=code)


def _next_case_no() -> str:
    """办件编号: hall code + date + a per-day sequence, drawn in one upsert that locks the day's row until commit."""
    today = timezone.localdate()
    table = CaseNumberCounter._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (day, last) VALUES (%s, 1) "
            f"ON CONFLICT (day) DO UPDATE SET last = {table}.last + 1 RETURNING last",
            [today],
        )
        (number,) = cursor.fetchone()
    return f"{settings.ONETHING_HALL_CODE}{today:%Y%m%d}{number:06d}"


def _open_task_in_lane(step: Step, lane: str) -> HumanTask:
    for task in step.open_tasks:
        if task.lane == lane:
            return task
    raise NoTaskToComplete()


@transaction.atomic
def case_accept(*, user, case_no: str, opinion: str = "", promises: list[dict] | None = None) -> Case:
    """受理: the window's formal check passed; the departments' parallel review starts.

    ``promises`` ([{"material": code, "due_date": date}]) is 容缺受理: non-key materials the applicant
    promises in writing to hand in by a date; a promise that lapses suspends the review.
    """
    require_role(user, StaffRole.WINDOW)
    if promises:
        case = Case.objects.select_related("one_thing").filter(case_no=case_no).first()
        if case is None:
            raise NotFound("未找到该办件")
        checked = check_promises(case, promises)
        case = _window_decision(user=user, case_no=case_no, decision=Decision.ACCEPT, opinion=opinion)
        record_promises(case, checked)
        CaseEvent.objects.create(
            case=case,
            kind="accepted_on_promise",
            actor=user,
            actor_label=user.get_full_name() or user.get_username(),
            department="window",
            data={"materials": [{"name": m["name"], "due_date": due.isoformat()} for m, due in checked]},
        )
        return case
    return _window_decision(user=user, case_no=case_no, decision=Decision.ACCEPT, opinion=opinion)


@transaction.atomic
def case_refuse(*, user, case_no: str, reasons: str) -> Case:
    """不予受理, with the reasons the notice will state."""
    require_role(user, StaffRole.WINDOW)
    if not reasons.strip():
        raise ValidationFailed(field_errors={"reasons": ["请填写不予受理的理由"]})
    return _window_decision(user=user, case_no=case_no, decision=Decision.REFUSE, opinion=reasons)


def _window_decision(*, user, case_no: str, decision: str, opinion: str) -> Case:
    case = lock_case(case_no=case_no)
    if case.status != CaseStatus.RECEIVED:
        raise InvalidTransition()
    step = begin_step(case, user)
    task = _open_task_in_lane(step, "window")
    intake = {"decision": str(decision)}
    if decision == Decision.REFUSE:
        intake["reasons"] = opinion
    complete_engine_task(step.instance, task, {"intake": intake})
    task.decision, task.opinion = decision, opinion
    step.completed.append(task)
    step.event("task_completed", department="window", task=task.name, decision=str(decision), opinion=opinion)
    persist_step(step)
    return case


@transaction.atomic
def case_correction_submit(*, case_no: str, changes: dict, actor=None) -> Case:
    """The applicant's one resubmission after a combined correction notice.

    ``changes`` are the corrected form fields; the merged form must validate. The departments that asked
    are re-opened (the process routes that), and so is any department that had approved but needs a field
    the resubmission actually changed (by the merged form's provenance): its approval was given on other
    answers. Each re-opening is recorded with its reason. ``actor`` is the window user when staff key it in
    for the applicant, else None.
    """
    if actor is not None:
        require_role(actor, StaffRole.WINDOW)
    case = lock_case(case_no=case_no)
    if case.status != CaseStatus.CORRECTION_REQUIRED:
        raise InvalidTransition("办件当前不需要补正")
    if not isinstance(changes, dict) or not changes:
        raise ValidationFailed(field_errors={"form": ["请填写需要补正的内容"]})
    form = {**case.form_data, **changes}
    field_errors = forms.validate_form(case.one_thing.form_schema, form)
    if field_errors:
        raise ValidationFailed(field_errors={f"form.{k}" if k != "form" else k: v for k, v in field_errors.items()})
    step = begin_step(case, actor)
    task = _open_task_in_lane(step, "applicant")
    data = step.instance.task_data(task.engine_task_id)
    changed = sorted(name for name, value in changes.items() if case.form_data.get(name) != value)
    reviews = dict(data.get("reviews", {}))
    provenance = (case.one_thing.merged_form or {}).get("provenance", {})
    for key, decision in sorted(data.get("reviews", {}).items()):
        department = _REVIEW_KEY.sub("", key)  # "market_regulation_item2" → "market_regulation"
        needed = [name for name in changed if any(p["department"] == department for p in provenance.get(name, []))]
        if decision == Decision.APPROVE and needed:
            del reviews[key]  # plan_round re-opens every review without an approval
            step.event("reopened", department=department, fields=needed, reason="补正修改了本部门需要的字段")
    complete_engine_task(
        step.instance,
        task,
        {
            "form": form,
            "reviews": reviews,
            "correction": {"round": data.get("review_round", 0), "fields": changed},
        },
    )
    task.decision = Decision.CORRECTED
    task.corrections = [{"item": name, "reason": "已补正"} for name in sorted(changes)]
    step.completed.append(task)
    case.form_data = form
    step.event("corrected", department="applicant", fields=sorted(changes))
    persist_step(step)
    return case


@transaction.atomic
def case_conclude(*, user, case_no: str) -> Case:
    """办结: the unified result has been handed to the applicant."""
    require_role(user, StaffRole.WINDOW)
    case = lock_case(case_no=case_no)
    if case.status not in (CaseStatus.APPROVED, CaseStatus.REJECTED):
        raise InvalidTransition("办件尚未形成统一办理结果")
    case.conclude()
    case.concluded_at = timezone.now()
    save_status(case, concluded_at=case.concluded_at)
    step = Step(case=case, instance=None, actor=user, open_tasks=[])
    step.event("conclude", status=str(case.status))
    CaseEvent.objects.bulk_create(step.events)
    reactions.after_conclude(case)  # the conclusion notice, if its first issuing failed
    return case


@transaction.atomic
def case_withdraw(*, case_no: str, reason: str, actor=None) -> Case:
    """撤回: the applicant withdraws before a result exists. The process ends where it stands, open tasks
    are cancelled. ``actor`` is the window user keying it in, else None (the applicant, verified by code)."""
    if actor is not None:
        require_role(actor, StaffRole.WINDOW)
    if not reason.strip():
        raise ValidationFailed(field_errors={"reason": ["请说明撤回原因"]})
    case = lock_case(case_no=case_no)
    if not can_proceed(case.withdraw):
        raise InvalidTransition("办件已有办理结果或已结束，不能撤回")
    step = begin_step(case, actor)
    step.instance.cancel()
    case.withdraw()
    now = timezone.now()
    save_status(case, process_state=step.instance.dump())
    HumanTask.objects.filter(pk__in=[t.pk for t in step.open_tasks]).update(
        state=HumanTaskState.CANCELLED, completed_at=now
    )
    step.event("withdraw", status=str(case.status), reason=reason)
    CaseEvent.objects.bulk_create(step.events)
    return case
