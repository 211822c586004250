"""Window and applicant actions on a case: open, accept, refuse, correct, conclude."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

import bpmn
import forms

from .. import halls, query_codes, reactions
from ..access import require_role
from ..compositions import composition_by_id, composition_of
from ..delivery import AUTHORISATION_LETTER, VISIT_REASONS
from ..errors import (
    Conflict,
    NoTaskToComplete,
    NotFound,
    ProcessFailed,
    ValidationFailed,
)
from ..events import EventKind, case_event
from ..models import (
    Case,
    CaseEvent,
    CaseNumberCounter,
    Channel,
    Decision,
    DeliveryMethod,
    HumanTask,
    HumanTaskState,
    OneThing,
    StaffRole,
)
from ..results import reuse_licences
from ..selectors.cases import case_checklist, materials_received
from ..selectors.materials import missing_required_materials, unknown_materials
from ..selectors.permissions import ROLES, Action, Viewer, require
from ..step import Step
from .delivery import agent_problems, delivery_problems
from .engine import (
    begin_step,
    complete_engine_task,
    lock_case,
    model_for,
    open_tasks_of,
    persist_step,
    restore_instance,
    save_status,
)
from .promises import check_promises, record_promises


@dataclass(frozen=True)
class OpenedCase:
    case: Case
    query_code: str  # shown once, on the receipt; only its digest is stored


@transaction.atomic
def case_open(
    *,
    user,
    one_thing_key: str,
    applicant: dict,
    form: dict,
    deciding_hall: str | None = None,
    materials: Iterable[str] = (),
    delivery: dict | None = None,
    agent: dict | None = None,
    channel: str = Channel.WINDOW,
) -> OpenedCase:
    """Window staff open a case for an applicant with the one form filled in.

    ``applicant``: ``name``, ``id_number``, ``phone`` (optional) and ``id_type`` (a ``forms.ID_TYPES`` code,
    default 居民身份证), the number checked against its document type. The form is checked as
    ``forms.check_answers`` does: answers to questions that do not apply are dropped, the rest validated, and
    what is stored and given to the process is what applies.

    The case is received at the clerk's hall (the default hall for a clerk without one). ``deciding_hall``, a
    hall code, makes it a 收受分离 case: that hall's region's departments decide it; by default the receiving
    hall's do. ``materials``: codes of the checklist's materials the applicant handed in at the window,
    recorded with the opening; acceptance needs every required one (``case_accept``). ``channel``: how the
    application came in (``Channel``: 窗口 by default, 网上 or 自助终端), recorded on the case and in its
    opening event.

    ``delivery``: how the result will be delivered (``method`` pickup — the default —, post with an ``address``
    {recipient, phone, address}, or electronic); changeable until the result leaves the hall. ``agent``: 帮办代办,
    the agent (经办人: name, id_type, id_number, phone) acting for the applicant, with the authorisation letter
    among ``materials`` (code ``authorisation_letter``). The submission at the window is the case's first trip
    (a ``visit`` event).
    """
    if channel not in Channel.values:
        raise ValidationFailed(field_errors={"channel": ["申办渠道只能是：" + "、".join(Channel.labels)]})
    staff = require_role(user, StaffRole.WINDOW)
    accepting = halls.hall_of(staff)
    if accepting is None or not accepting.is_active:
        raise Conflict("本窗口所属大厅未启用，不能收件")
    deciding, hall_errors = accepting, {}
    if deciding_hall and deciding_hall != accepting.code:
        deciding = halls.hall_by_code(deciding_hall)
        if deciding is None or not deciding.is_active:
            hall_errors = {"deciding_hall": ["未找到该审批地大厅，或其已停用"]}
    one_thing = (
        OneThing.objects.select_related("current_composition__process_version")
        .defer(
            "merged_form",
            *(f"current_composition__{name}" for name in ("merged_form", "items", "elements")),
            "current_composition__process_version__compiled",
            "current_composition__process_version__bpmn_xml",
        )
        .filter(key=one_thing_key, is_active=True)
        .first()
    )
    if one_thing is None:
        raise NotFound("未找到该一件事或其未启用")
    if one_thing.current_composition is None:
        raise Conflict("该一件事尚未部署流程")
    # Pinned: the case keeps this composition (form, items, limits, BPMN) until it is migrated on purpose.
    pinned = one_thing.current_composition
    composition = composition_by_id(pinned.pk)
    applicant_errors = applicant_problems(applicant)
    checked = forms.check_answers(composition.merged_form, form)
    materials = list(materials)
    material_errors = _unknown_materials(composition.materials, materials)
    delivery = delivery or {}
    address, delivery_errors = delivery_problems(
        delivery.get("method") or DeliveryMethod.PICKUP, delivery.get("address")
    )
    agent_row, agent_errors = agent_problems(agent, materials)
    if checked.errors or hall_errors or applicant_errors or material_errors or delivery_errors or agent_errors:
        raise ValidationFailed(
            field_errors={
                **applicant_errors,
                **agent_errors,
                **hall_errors,
                **material_errors,
                **delivery_errors,
                **{f"form.{k}" if k != "form" else k: v for k, v in checked.errors.items()},
            }
        )
    form = checked.answers

    version = pinned.process_version
    case_no = _next_case_no(accepting.code)
    code = query_codes.new_query_code()
    initial = bpmn.initial_data(case_no=case_no, one_thing=one_thing.key, form=form)
    try:
        instance = bpmn.ProcessInstance.start(model_for(version), initial)
    except bpmn.ProcessError as exc:
        raise ProcessFailed(str(exc), element_id=exc.element_id) from None
    case = Case(
        case_no=case_no,
        query_code_hash=query_codes.digest(code),
        one_thing=one_thing,
        composition=pinned,
        process_version=version,
        state_format=bpmn.STATE_FORMAT,
        applicant_name=applicant["name"],
        applicant_id_number=applicant["id_number"],
        applicant_id_type=applicant.get("id_type") or forms.DEFAULT_ID_TYPE,
        applicant_phone=applicant.get("phone", ""),
        form_data=form,
        channel=channel,
        opened_by=user,
        accepting_hall=accepting,
        deciding_hall=deciding,
        delivery_method=delivery.get("method") or DeliveryMethod.PICKUP,
        delivery_address=address,
        trips=1 if channel == Channel.WINDOW else 0,  # the submission at the window (its visit event below)
        agent_name=agent_row.get("name", ""),
        agent_id_type=agent_row.get("id_type", ""),
        agent_id_number=agent_row.get("id_number", ""),
        agent_phone=agent_row.get("phone", ""),
    )
    step = Step(case=case, instance=instance, actor=user, open_tasks=[])
    halls_data = {"deciding_hall": deciding.code} if deciding != accepting else {}
    step.event(
        "opened",
        one_thing=one_thing.key,
        version=version.number,
        composition=pinned.number,
        hall=accepting.code,
        **halls_data,
        materials=sorted(set(materials)),
        delivery=case.delivery_method,
        **({"agent": {"name": case.agent_name, "id_type": case.agent_id_type}} if agent_row else {}),
        channel=str(channel),
    )
    if case.channel == Channel.WINDOW:  # the submission at the window: the case's first trip (跑动)
        step.event(
            "visit",
            department="window",
            reason="submission",
            reason_label=VISIT_REASONS["submission"],
            by="agent" if agent_row else "applicant",
        )
    persist_step(step, creating=True, before_events=_reuse_licences)
    return OpenedCase(case=case, query_code=code)


def applicant_problems(applicant: dict) -> dict[str, list[str]]:
    """The applicant block's problems, keyed ``applicant.<field>``: the document number checked against its type
    (居民身份证 by default) with the forms package's rules and messages."""
    id_type = applicant.get("id_type") or forms.DEFAULT_ID_TYPE
    if id_type not in forms.ID_TYPES:
        return {"applicant.id_type": [forms.id_number_message(id_type, "")]}
    message = forms.id_number_message(id_type, applicant.get("id_number"))
    return {"applicant.id_number": [message]} if message else {}


def _reuse_licences(step: Step) -> None:
    """免提交: attach earlier e-licences once the case row exists; its event joins the opening's batch."""
    reused = reuse_licences(step.case)
    if reused:
        step.event(
            "materials_reused",
            materials=[r.material_name for r in reused],
            codes=[r.material_code for r in reused],
            count=len(reused),
        )


def _next_case_no(hall_code: str) -> str:
    """办件编号: the receiving hall's code + date + a per-day sequence, drawn in one upsert that locks the day's
    row until commit. The sequence is the installation's, shared by its halls: unique, gapless across halls."""
    if not halls.HALL_CODE_RE.fullmatch(hall_code):
        raise Conflict(f"大厅编码“{hall_code}”无法用作办件编号前缀：{halls.HALL_CODE_MESSAGE}")
    today = timezone.localdate()
    table = CaseNumberCounter._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (day, last) VALUES (%s, 1) "
            f"ON CONFLICT (day) DO UPDATE SET last = {table}.last + 1 RETURNING last",
            [today],
        )
        (number,) = cursor.fetchone()
    return f"{hall_code}{today:%Y%m%d}{number:06d}"


def _open_task_in_lane(step: Step, lane: str) -> HumanTask:
    for task in step.open_tasks:
        if task.lane == lane:
            return task
    raise NoTaskToComplete()


@transaction.atomic
def case_accept(
    *,
    user,
    case_no: str,
    opinion: str = "",
    promises: list[dict] | None = None,
    identity_verified: bool = False,
    identity_method: str = "",
    materials: Iterable[str] | None = None,
    decide_on_the_spot: bool = False,
) -> Case:
    """受理: the window's formal check passed; the departments' parallel review starts.

    ``decide_on_the_spot`` (即办件当场办结): the window also decides, in the same transaction, every review whose
    items are all 即办件 their department delegated to the window (the catalogue's ``window_decides``, as pinned
    in the case's composition); when that decides them all, the case has its result at once and can be handed over
    in the same visit (``case_handover(same_visit=True)``), concluded in one visit. Nothing delegated: 409.

    Every required material of the checklist must be in: handed in (``materials``: codes, with those recorded
    when the case was opened), fetched from the e-licence library (免提交: the checklist's e-licence materials
    and the earlier e-licences attached at opening) or promised. Missing ones are refused with the list (400,
    ``errors.materials``).

    ``promises`` ([{"material": code, "due_date": date}]) is 容缺受理: non-key materials the applicant
    promises in writing to hand in by a date; a promise that lapses suspends the review.

    A case decided in another region (收受分离) is accepted only with the applicant's identity verified at this
    window (``identity_verified`` and one of ``halls.IDENTITY_METHODS``); the check is in the audit trail.
    """
    require_role(user, *ROLES[Action.ACCEPT])
    identity = {"verified": identity_verified, "method": identity_method}
    intake = {"materials": list(materials or ()), "promised": []}
    if promises:
        case = Case.objects.select_related("one_thing", "process_version").filter(case_no=case_no).first()
        if case is None:
            raise NotFound("未找到该办件")
        require(Action.ACCEPT, Viewer.of(user), case)
        checked = check_promises(case, promises)
        intake["promised"] = [material["code"] for material, _ in checked]
        case = _window_decision(
            user=user, case_no=case_no, decision=Decision.ACCEPT, opinion=opinion, identity=identity, intake=intake
        )
        record_promises(case, checked)
        case_event(
            case,
            EventKind.ACCEPTED_ON_PROMISE,
            user,
            department="window",
            materials=[{"name": m["name"], "due_date": due.isoformat()} for m, due in checked],
        ).save()
        return _decide_on_the_spot(user, case) if decide_on_the_spot else case
    case = _window_decision(
        user=user, case_no=case_no, decision=Decision.ACCEPT, opinion=opinion, identity=identity, intake=intake
    )
    return _decide_on_the_spot(user, case) if decide_on_the_spot else case


ON_THE_SPOT_OPINION = "即办件：经部门授权，由综合窗口受理时当场决定准予"


def _decide_on_the_spot(user, case: Case) -> Case:
    """即办件: the window approves, for their departments, the reviews whose items are all delegated to it."""
    case = lock_case(case_no=case.case_no)  # as the acceptance saved it (its process state)
    composition = composition_of(case)
    open_tasks = open_tasks_of(case)
    step = Step(case=case, instance=restore_instance(case), actor=user, open_tasks=open_tasks)
    for task in open_tasks:
        items = composition.items_of_element(task.element_id, task.lane) if task.department_id else []
        if not items or not all(item.window_decides for item in items):
            continue
        reviews = step.instance.task_data(task.engine_task_id).get("reviews", {})
        complete_engine_task(step.instance, task, {"reviews": {**reviews, task.lane: str(Decision.APPROVE)}})
        task.decision, task.opinion, task.assignee = Decision.APPROVE, ON_THE_SPOT_OPINION, user
        step.completed.append(task)
        step.event(
            "task_completed",
            department=task.lane,
            task=task.name,
            decision=str(Decision.APPROVE),
            review_round=task.review_round,
            on_the_spot=True,
        )
    if not step.completed:
        raise Conflict("本办件没有部门授权窗口当场决定的即办件事项")
    persist_step(step)
    return case


@transaction.atomic
def case_refuse(*, user, case_no: str, reasons: str) -> Case:
    """不予受理, with the reasons the notice will state."""
    require_role(user, *ROLES[Action.REFUSE])
    if not reasons.strip():
        raise ValidationFailed(field_errors={"reasons": ["请填写不予受理的理由"]})
    return _window_decision(user=user, case_no=case_no, decision=Decision.REFUSE, opinion=reasons)


def _window_decision(
    *, user, case_no: str, decision: str, opinion: str, identity: dict | None = None, intake: dict | None = None
) -> Case:
    case = lock_case(case_no=case_no)
    require(Action.ACCEPT if decision == Decision.ACCEPT else Action.REFUSE, Viewer.of(user), case)
    verified = _verified_identity(case, identity or {}) if decision == Decision.ACCEPT else None
    received = _received_materials(case, **(intake or {})) if decision == Decision.ACCEPT else None
    step = begin_step(case, user)
    task = _open_task_in_lane(step, "window")
    intake = {"decision": str(decision)}
    if decision == Decision.REFUSE:
        intake["reasons"] = opinion
    complete_engine_task(step.instance, task, {"intake": intake})
    task.decision, task.opinion = decision, opinion
    step.completed.append(task)
    handed_in = {"materials": received} if received is not None else {}
    step.event(
        "task_completed", department="window", task=task.name, decision=str(decision), opinion=opinion, **handed_in
    )
    if verified:
        step.event("identity_verified", department="window", **verified)
    persist_step(step)
    return case


def _verified_identity(case: Case, identity: dict) -> dict | None:
    """身份核验 at the accepting window: required when another region decides the case (收受分离)."""
    method = identity.get("method") or ""
    errors: dict[str, list[str]] = {}
    if method and method not in halls.IDENTITY_METHODS:
        errors["identity_method"] = ["身份核验方式只能是：" + "、".join(halls.IDENTITY_METHODS.values())]
    if halls.is_cross_region(case):
        if identity.get("verified") is not True:
            errors["identity_verified"] = ["审批地在外地的办件（收受分离），受理前须由收件窗口核验申请人身份"]
        if not method:
            errors.setdefault("identity_method", ["请选择身份核验方式"])
    if errors:
        raise ValidationFailed("受理前须核验申请人身份" if "identity_verified" in errors else None, field_errors=errors)
    if identity.get("verified") is not True or not method:
        return None
    return {"method": method, "method_label": halls.IDENTITY_METHODS[method]}


def _unknown_materials(materials: Iterable[dict], codes: Iterable[str]) -> dict[str, list[str]]:
    """Codes not on the one-thing's checklist; the agent's authorisation letter (帮办代办) is always known."""
    unknown = unknown_materials(materials, [code for code in codes if code != AUTHORISATION_LETTER])
    return {"materials": [f"“{code}”不在本一件事的材料清单中" for code in unknown]} if unknown else {}


def _received_materials(case: Case, *, materials: list[str], promised: list[str]) -> list[str]:
    """The required-materials rule of acceptance (材料齐全): the codes received, or the error listing what is
    missing. What the window recorded at opening is read only when this call's materials do not complete it.
    Required are the checklist's materials for the case's answers (the items that apply: ``case_checklist``)."""
    errors = _unknown_materials(composition_of(case).materials, materials)
    if errors:
        raise ValidationFailed(field_errors=errors)
    checklist = case_checklist(case)
    received = set(materials) | set(promised)
    if missing_required_materials(checklist, received):
        recorded = CaseEvent.objects.filter(case_id=case.pk, kind__in=["opened", "materials_reused"])
        received |= set(materials_received(recorded.only("kind", "data")))
    missing = missing_required_materials(checklist, received)
    if missing:
        message = "请核对并勾选必交材料：" + "、".join(missing)
        raise ValidationFailed(message, field_errors={"materials": [message]})
    return sorted(received - set(promised))


@transaction.atomic
def case_correction_submit(*, case_no: str, changes: dict, actor=None) -> Case:
    """The applicant's one resubmission after a combined correction notice.

    ``changes`` are the corrected form fields; the form must validate against the case's own composition
    (the one it was opened with, not today's). Then the items that apply are recomputed from the corrected
    form, with the conditions of the case's composition evaluated as the engine evaluates them:

    - an item that stops applying is recorded as 不再适用 with the reason (``item_not_applicable``; its
      review's latest task keeps its decision but issues nothing) and its review is taken out of the
      process data, so the model neither re-opens it nor counts it in the unified result;
    - an item that starts applying opens its review (the model routes that; ``item_applicable``);
    - a review that had approved but whose items need a field the resubmission actually changed (the
      merged form's provenance) loses its approval and re-opens (``reopened``): it was given on other answers;
    - the reviews that asked for correction re-open (the model routes that).

    ``reopened`` and ``item_applicable`` name only reviews the engine actually opened. ``actor`` is the window
    user when staff key it in for the applicant, else None.
    """
    if actor is not None:
        require_role(actor, *ROLES[Action.CORRECT])
    case = lock_case(case_no=case_no)
    require(Action.CORRECT, Viewer.of(actor) if actor is not None else Viewer.applicant(), case)
    if not isinstance(changes, dict) or not changes:
        raise ValidationFailed(field_errors={"form": ["请填写需要补正的内容"]})
    composition = composition_of(case)
    checked = forms.check_answers(composition.merged_form, {**case.form_data, **changes})
    if checked.errors:
        raise ValidationFailed(field_errors={f"form.{k}" if k != "form" else k: v for k, v in checked.errors.items()})
    form = checked.answers  # answers to questions that no longer apply are dropped (docs/forms.md)
    step = begin_step(case, actor)
    task = _open_task_in_lane(step, "applicant")
    data = step.instance.task_data(task.engine_task_id)
    changed = sorted(name for name in set(changes) | set(case.form_data) if case.form_data.get(name) != form.get(name))
    plan = _correction_plan(composition, data, case.form_data, form, changed)
    complete_engine_task(
        step.instance,
        task,
        {
            "form": form,
            "reviews": plan.reviews,
            "correction": {"round": data.get("review_round", 0), "fields": changed},
        },
    )
    task.decision = Decision.CORRECTED
    task.corrections = [{"item": name, "reason": "已补正"} for name in sorted(changes)]
    step.completed.append(task)
    case.form_data = form
    step.event("corrected", department="applicant", fields=sorted(changes))
    if actor is not None:  # keyed in at the window: the applicant came to correct (a trip)
        step.case.trips += 1
        step.event("visit", department="window", reason="correction", reason_label=VISIT_REASONS["correction"])
    _record_correction_effects(step, composition, plan)
    persist_step(step)
    return case


@dataclass
class _CorrectionPlan:
    reviews: dict  # the process data's ``reviews`` to complete the correction with
    dropped: dict  # review key → {"fields": [...], "decision": ...}: its items stopped applying
    reopening: dict  # review key → fields: an approval given on answers the correction changed
    starting: dict  # review key → fields: its items start applying


def _correction_plan(composition, data: dict, old_form: dict, new_form: dict, changed: list[str]) -> _CorrectionPlan:
    keys = composition.review_keys()
    applied_before = composition.applicable_review_keys({**data, "form": old_form})
    applied_after = composition.applicable_review_keys({**data, "form": new_form})
    reviews = dict(data.get("reviews", {}))
    plan = _CorrectionPlan(reviews=reviews, dropped={}, reopening={}, starting={})
    for key, decision in sorted(data.get("reviews", {}).items()):
        items = keys.get(key, [])
        fields = _fields_needed(composition, items, key, changed)
        if items and key not in applied_after:
            del reviews[key]  # out of the case: the model neither re-opens it nor counts its decision
            plan.dropped[key] = {"fields": fields, "decision": decision}
        elif decision == Decision.APPROVE and fields:
            del reviews[key]  # plan_round re-opens every review without an approval
            plan.reopening[key] = fields
    for key, items in keys.items():
        if key in applied_after and key not in applied_before and key not in reviews:
            plan.starting[key] = _fields_needed(composition, items, key, changed)
    return plan


def _fields_needed(composition, items, key: str, changed: list[str]) -> list[str]:
    """The changed fields a review needs: its items' (by the merged form's provenance), or for a review the
    composition does not know, its department's."""
    provenance = composition.provenance
    codes = {item.code for item in items}
    department = items[0].department if items else bpmn.department_of_review_key(key)
    return [
        name
        for name in changed
        if any(
            (p.get("item_code") in codes) if codes else (p.get("department") == department)
            for p in provenance.get(name, [])
        )
    ]


def _record_correction_effects(step: Step, composition, plan: _CorrectionPlan) -> None:
    """The trail of what the correction did to the reviews, as the engine routed it."""
    keys = composition.review_keys()
    opened = {
        composition.review_key_of(t.element_id, t.lane): t
        for t in step.instance.ready_tasks()
        if t.lane not in bpmn.RESERVED_LANES
    }

    def titles(fields: list[str]) -> str:
        return "、".join(f"“{composition.field_title(name)}”" for name in fields)

    for key, fields in plan.reopening.items():
        if key in opened:
            task = opened[key]
            step.event(
                "reopened",
                department=task.lane,
                task=task.name,
                fields=fields,
                field_titles=[composition.field_title(name) for name in fields],
                reason="补正修改了本部门需要的字段",
            )
    for key, fields in plan.starting.items():
        if key in opened:
            task, items = opened[key], keys[key]
            step.event(
                "item_applicable",
                department=task.lane,
                task=task.name,
                items=[item.name for item in items],
                fields=fields,
                reason="补正后满足本事项的参与条件" + (f"（修改了{titles(fields)}）" if fields else "") + "，开启审查",
            )
    if not plan.dropped:
        return
    latest: dict[str, HumanTask] = {}
    for row in step.case.tasks.filter(department__isnull=False).order_by("created_at", "id"):
        latest[composition.review_key_of(row.element_id, row.lane)] = row
    for key, dropped in plan.dropped.items():
        items, fields = keys[key], dropped["fields"]
        reason = "补正后不再满足本事项的参与条件" + (f"（修改了{titles(fields)}）" if fields else "")
        row = latest.get(key)
        if row is not None:
            HumanTask.objects.filter(pk=row.pk).update(not_applicable_reason=reason)
        step.event(
            "item_not_applicable",
            department=items[0].department,
            task=row.name if row is not None else "",
            items=[item.name for item in items],
            item_codes=[item.code for item in items],
            fields=fields,
            earlier_decision=str(dropped["decision"]),
            reason=reason,
        )


@transaction.atomic
def case_conclude(*, user, case_no: str) -> Case:
    """办结: the unified result has been handed to the applicant. Refused (409 ``delivery_not_proven``) until the
    delivery is proven; a proof concludes the case by itself (services/delivery.py), so this is for a case whose
    proof could not conclude it at that moment."""
    require_role(user, *ROLES[Action.CONCLUDE])
    case = lock_case(case_no=case_no)
    require(Action.CONCLUDE, Viewer.of(user), case)
    case.conclude()
    case.concluded_at = timezone.now()
    save_status(case, concluded_at=case.concluded_at)
    step = Step(case=case, instance=None, actor=user)
    step.event("conclude", status=str(case.status), delivery=case.delivery_method)
    step.save_events()
    reactions.after_conclude(case)  # the conclusion notice, if its first issuing failed
    return case


@transaction.atomic
def case_withdraw(*, case_no: str, reason: str, actor=None) -> Case:
    """撤回: the applicant withdraws before a result exists. The process ends where it stands, open tasks
    are cancelled. ``actor`` is the window user keying it in, else None (the applicant, verified by code)."""
    if actor is not None:
        require_role(actor, *ROLES[Action.WITHDRAW])
    if not reason.strip():
        raise ValidationFailed(field_errors={"reason": ["请说明撤回原因"]})
    case = lock_case(case_no=case_no)
    require(Action.WITHDRAW, Viewer.of(actor) if actor is not None else Viewer.applicant(), case)
    step = begin_step(case, actor)
    step.instance.cancel()
    case.withdraw()
    now = timezone.now()
    save_status(case, process_state=step.instance.dump())
    HumanTask.objects.filter(pk__in=[t.pk for t in step.open_tasks]).update(
        state=HumanTaskState.CANCELLED, completed_at=now
    )
    step.event("withdraw", status=str(case.status), reason=reason)
    step.save_events()
    return case
