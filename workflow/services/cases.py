"""Window and applicant actions on a case: open, accept, refuse, correct, conclude."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

import bpmn
import forms

from .. import query_codes
from ..access import require_role
from ..errors import (
    ConcurrentUpdate,
    Conflict,
    InvalidTransition,
    NoTaskToComplete,
    NotFound,
    ProcessFailed,
    ValidationFailed,
)
from ..lifecycle import CaseStatus
from ..models import Case, CaseEvent, CaseNumberCounter, Decision, HumanTask, OneThing, StaffRole
from .engine import Step, begin_step, complete_engine_task, lock_case, model_for, persist_step


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
def case_accept(*, user, case_no: str, opinion: str = "") -> Case:
    """受理: the window's formal check passed; the departments' parallel review starts."""
    require_role(user, StaffRole.WINDOW)
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

    ``changes`` are the corrected form fields; the merged form must validate. Only departments that had
    not approved are re-opened (the process routes that). ``actor`` is the window user when staff key it
    in for the applicant, else None.
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
    round_no = step.instance.task_data(task.engine_task_id).get("review_round", 0)
    complete_engine_task(
        step.instance, task, {"form": form, "correction": {"round": round_no, "fields": sorted(changes)}}
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
    changed = Case.objects.filter(pk=case.pk, version=case.version).update(
        status=case.status, concluded_at=case.concluded_at, version=F("version") + 1, updated_at=case.concluded_at
    )
    if changed != 1:
        raise ConcurrentUpdate()
    case.version += 1
    step = Step(case=case, instance=None, actor=user, open_tasks=[])
    step.event("conclude", status=str(case.status))
    CaseEvent.objects.bulk_create(step.events)
    return case
