"""Window and applicant actions on a case: open, accept, refuse, correct, conclude."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import BinaryIO

from django.db import connection, transaction
from django.utils import timezone

import bpmn
import forms

from .. import halls, query_codes, reactions, sms
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
    MaterialFile,
    OneThing,
    StaffRole,
)
from ..prepared import PreparedQuery, prepared_cursor
from ..results import held_licences_statement, reuse_holder, reuse_licences
from ..selectors.cases import (
    asked_fields,
    asked_materials,
    case_checklist,
    case_tasks,
    correction_item_label,
    correction_notice,
)
from ..selectors.materials import (
    ENTERED_STATUSES,
    FORM_LABELS,
    MAX_COPIES,
    RECEIVED,
    intake_entry,
    missing_required_materials,
    recorded_intake,
)
from ..selectors.permissions import ROLES, Action, Viewer, require
from ..step import Step
from . import uploads
from .commitments import check_commitments, record_commitments
from .delivery import agent_problems, delivery_problems
from .engine import (
    begin_step,
    complete_engine_task,
    lock_case,
    lock_open_task_in_lane,
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
    materials: Iterable[str | dict] = (),
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
    hall's do. ``materials``: the intake record the window enters at the counter (``intake_entries``): per
    material of the one-thing, received (original or copy, how many) or not applicable; a plain code means
    received, the original, one copy. Recorded with the opening; acceptance needs every required one
    (``case_accept``) and may record it again. ``channel``: how the application came in (``Channel``: 窗口 by
    default, 网上 or 自助终端), recorded on the case and in its opening event.

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
    return open_case_at(
        actor=user,
        accepting=accepting,
        one_thing_key=one_thing_key,
        applicant=applicant,
        form=form,
        deciding_hall=deciding_hall,
        materials=materials,
        channel=channel,
        delivery=delivery,
        agent=agent,
    )


def open_case_at(
    *,
    actor,
    accepting,
    one_thing_key: str,
    applicant: dict,
    form: dict,
    deciding_hall: str | None = None,
    materials: Iterable[str] = (),
    channel: str = Channel.WINDOW,
    identity: dict | None = None,
    delivery: dict | None = None,
    agent: dict | None = None,
) -> OpenedCase:
    """The opening itself, for a window clerk (``case_open``) or the applicant's own submission (``actor`` None,
    ``services.applicant_apply``): the case is received at ``accepting`` and waits in its window's 预审 list.
    ``identity``: how the submitting applicant proved who they are (``{"method", "kiosk"?}``), kept in the
    opening event. ``delivery`` and ``agent``: as ``case_open`` takes them."""
    user = actor
    deciding, hall_errors = accepting, {}
    if deciding_hall and deciding_hall != accepting.code:
        deciding = halls.hall_by_code(deciding_hall)
        if deciding is None or not deciding.is_active:
            hall_errors = {"deciding_hall": ["未找到该审批地大厅，或其已停用"]}
    one_thing = _active_one_thing.first(key=one_thing_key)
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
    # 帮办代办: the authorisation letter (授权委托书) is recorded with the agent, not on the one-thing's checklist
    letter = any(_code_of(entry) == AUTHORISATION_LETTER for entry in materials)
    materials = [entry for entry in materials if _code_of(entry) != AUTHORISATION_LETTER]
    entries, material_errors = intake_entries(composition.materials, materials)
    delivery = delivery or {}
    address, delivery_errors = delivery_problems(
        delivery.get("method") or DeliveryMethod.PICKUP, delivery.get("address")
    )
    agent_row, agent_errors = agent_problems(agent, [AUTHORISATION_LETTER] if letter else [])
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
    # 免提交: the applicant's held licences come back with the case number, in its statement (PostgreSQL)
    case_no, case_id, held = _next_case_no(accepting.code, reuse_holder(applicant["id_number"], form))
    code = query_codes.new_query_code()
    initial = bpmn.initial_data(case_no=case_no, one_thing=one_thing.key, form=form)
    try:
        instance = bpmn.ProcessInstance.start(model_for(version), initial)
    except bpmn.ProcessError as exc:
        raise ProcessFailed(str(exc), element_id=exc.element_id) from None
    case = Case(
        pk=case_id,
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
    step = Step(case=case, instance=instance, actor=user, ready_before=frozenset())
    halls_data = {"deciding_hall": deciding.code} if deciding != accepting else {}
    step.event(
        "opened",
        one_thing=one_thing.key,
        version=version.number,
        composition=pinned.number,
        hall=accepting.code,
        **halls_data,
        **_intake_data(entries),
        delivery=case.delivery_method,
        **(
            {"agent": {"name": case.agent_name, "id_type": case.agent_id_type, "authorisation_letter": True}}
            if agent_row
            else {}
        ),
        channel=str(channel),
        **({"identity": identity} if identity else {}),
    )
    if case.channel == Channel.WINDOW:  # the submission at the window: the case's first trip (跑动)
        step.event(
            "visit",
            department="window",
            reason="submission",
            reason_label=VISIT_REASONS["submission"],
            by="agent" if agent_row else "applicant",
        )
    persist_step(step, creating=True, before_events=lambda step: _reuse_licences(step, held))
    return OpenedCase(case=case, query_code=code)


@PreparedQuery
def _active_one_thing(*, key: str):
    """The one-thing with its current composition and process version, read by every opening (compiled once)."""
    return (
        OneThing.objects.select_related("current_composition__process_version")
        .defer(
            "merged_form",
            *(f"current_composition__{name}" for name in ("merged_form", "items", "elements")),
            "current_composition__process_version__compiled",
            "current_composition__process_version__bpmn_xml",
        )
        .filter(key=key, is_active=True)
        .order_by()[:1]
    )


def applicant_problems(applicant: dict) -> dict[str, list[str]]:
    """The applicant block's problems, keyed ``applicant.<field>``: the document number checked against its type
    (居民身份证 by default) with the forms package's rules and messages."""
    id_type = applicant.get("id_type") or forms.DEFAULT_ID_TYPE
    if id_type not in forms.ID_TYPES:
        return {"applicant.id_type": [forms.id_number_message(id_type, "")]}
    message = forms.id_number_message(id_type, applicant.get("id_number"))
    return {"applicant.id_number": [message]} if message else {}


def _reuse_licences(step: Step, held: list[tuple[int, str]] | None) -> None:
    """免提交: attach earlier e-licences once the case row exists; its event joins the opening's batch."""
    reused = reuse_licences(step.case, step.writes, held)
    if reused:
        step.event(
            "materials_reused",
            materials=[r.material_name for r in reused],
            codes=[r.material_code for r in reused],
            count=len(reused),
        )


def _next_case_no(hall_code: str, holder: dict) -> tuple[str, int | None, list[tuple[int, str]] | None]:
    """办件编号: the receiving hall's code + date + a per-day sequence, drawn in one upsert that locks the day's
    row until commit. The sequence is the installation's, shared by its halls: unique, gapless across halls.

    On PostgreSQL the same statement draws the case row's id from its sequence, so that the row is inserted with
    the opening's other writes in one statement (``persist_step``), and returns the licences 免提交 chooses from,
    those ``holder`` (``results.reuse_holder``) holds (``results.held_licences_statement``); elsewhere the id and
    the licences are None (the row is saved on its own, and ``reuse_licences`` reads the licences)."""
    if not halls.HALL_CODE_RE.fullmatch(hall_code):
        raise Conflict(f"大厅编码“{hall_code}”无法用作办件编号前缀：{halls.HALL_CODE_MESSAGE}")
    today = timezone.localdate()
    table = CaseNumberCounter._meta.db_table
    upsert = f"INSERT INTO {table} (day, last) VALUES (%s, 1) ON CONFLICT (day) DO UPDATE SET last = {table}.last + 1"
    with prepared_cursor(connection) as cursor:  # the same text at every opening: planned once per connection
        if connection.vendor != "postgresql":
            cursor.execute(f"{upsert} RETURNING last", [today])
            (number,) = cursor.fetchone()
            return f"{hall_code}{today:%Y%m%d}{number:06d}", None, None
        held_sql, held_params = held_licences_statement(**holder, today=today)
        cursor.execute(
            f"{upsert} RETURNING last, nextval(pg_get_serial_sequence(%s, 'id')), "
            "(SELECT json_agg(json_build_array(held.licence_id, held.material)) "
            f"FROM ({held_sql}) AS held (licence_id, material))",
            [today, Case._meta.db_table, *held_params],
        )
        number, case_id, held = cursor.fetchone()
    return f"{hall_code}{today:%Y%m%d}{number:06d}", case_id, [(row[0], row[1]) for row in held or ()]


def _open_task_in_lane(case: Case, lane: str) -> HumanTask:
    """The locked case's open task row of ``lane`` (read after the lock, so current)."""
    task = case.tasks.filter(state=HumanTaskState.OPEN, lane=lane).select_related("department").first()
    if task is None:
        raise NoTaskToComplete()
    return task


@transaction.atomic
def case_accept(
    *,
    user,
    case_no: str,
    opinion: str = "",
    promises: list[dict] | None = None,
    identity_verified: bool = False,
    identity_method: str = "",
    materials: Iterable[str | dict] | None = None,
    commitments: list[dict] | None = None,
    decide_on_the_spot: bool = False,
) -> Case:
    """受理: the window's formal check passed; the departments' parallel review starts.

    ``decide_on_the_spot`` (即办件当场办结): the window also decides, in the same transaction, every review whose
    items are all 即办件 their department delegated to the window (the catalogue's ``window_decides``, as pinned
    in the case's composition); when that decides them all, the case has its result at once and can be handed over
    in the same visit (``case_handover(same_visit=True)``), concluded in one visit. Nothing delegated: 409.

    Every required material of the checklist must be in: handed in (``materials``: the intake record as
    ``case_open`` takes it; entries for materials it leaves out are taken from the opening's record when this
    one does not complete the checklist), fetched from the e-licence library (免提交: the checklist's e-licence
    materials and the earlier e-licences attached at opening) or promised. Missing ones are refused with the list (400,
    ``errors.materials``).

    ``promises`` ([{"material": code, "due_date": date}]) is 容缺受理: non-key materials the applicant
    promises in writing to hand in by a date; a promise that lapses suspends the review.

    ``commitments`` ([{"material": code}]) is 告知承诺: for a material whose catalogue entry carries a commitment
    text, the applicant signs that text in place of the certificate; the material counts as in, the items needing
    it are reviewed on the commitment, and their approval opens a post-approval check (``services.commitments``).

    A case decided in another region (收受分离) is accepted only with the applicant's identity verified at this
    window (``identity_verified`` and one of ``halls.IDENTITY_METHODS``); the check is in the audit trail.
    """
    require_role(user, *ROLES[Action.ACCEPT])
    identity = {"verified": identity_verified, "method": identity_method}
    intake = {"materials": list(materials or ()), "promised": []}
    if commitments:
        locked = lock_case(case_no=case_no)  # the commitments are recorded under the lock the acceptance takes
        require(Action.ACCEPT, Viewer.of(user), locked)
        promised_codes = {p.get("material") for p in promises or [] if isinstance(p, dict)}
        signed = check_commitments(locked, commitments, promised_codes)
        record_commitments(locked, signed, user=user)
        intake["committed"] = [m["code"] for m in signed]
        case_event(
            locked,
            EventKind.COMMITMENT_SIGNED,
            user,
            department="window",
            materials=[{"name": m["name"], "text": m["commitment"]} for m in signed],
        ).save()
    if promises:
        # Recorded under the lock before the review starts: a review approved at once (秒批) already sees them
        # (容缺 at the end: the licence of an item needing a promised material is held).
        locked = lock_case(case_no=case_no)
        require(Action.ACCEPT, Viewer.of(user), locked)
        checked = check_promises(locked, promises)
        intake["promised"] = [material["code"] for material, _ in checked]
        record_promises(locked, checked)
        case = _window_decision(
            user=user, case_no=case_no, decision=Decision.ACCEPT, opinion=opinion, identity=identity, intake=intake
        )
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
        reviews = step.instance.task_value(task.engine_task_id, "reviews", {})
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
def case_refuse(*, user, case_no: str, reasons: str, legal_basis: str = "") -> Case:
    """不予受理, with the reasons the notice will state and, when entered, the legal basis (else the notice
    cites 行政许可法第三十二条)."""
    require_role(user, *ROLES[Action.REFUSE])
    if not reasons.strip():
        raise ValidationFailed(field_errors={"reasons": ["请填写不予受理的理由"]})
    return _window_decision(
        user=user, case_no=case_no, decision=Decision.REFUSE, opinion=reasons, legal_basis=legal_basis
    )


def _window_decision(
    *,
    user,
    case_no: str,
    decision: str,
    opinion: str,
    identity: dict | None = None,
    intake: dict | None = None,
    legal_basis: str = "",
) -> Case:
    task = lock_open_task_in_lane(case_no=case_no, lane="window")  # with the case, in one statement
    case = task.case if task is not None else lock_case(case_no=case_no)
    require(Action.ACCEPT if decision == Decision.ACCEPT else Action.REFUSE, Viewer.of(user), case)
    verified = _verified_identity(case, identity or {}) if decision == Decision.ACCEPT else None
    received = _received_materials(case, **(intake or {})) if decision == Decision.ACCEPT else None
    step = Step(case=case, instance=restore_instance(case), actor=user, open_tasks=[task] if task else [])
    if task is None or task.engine_task_id not in step.ready_before:  # none, or decided while this one waited
        raise NoTaskToComplete()
    intake = {"decision": str(decision)}
    if decision == Decision.REFUSE:
        intake["reasons"] = opinion
    complete_engine_task(step.instance, task, {"intake": intake})
    task.decision, task.opinion, task.legal_basis = decision, opinion, legal_basis.strip()
    step.completed.append(task)
    handed_in = _intake_data(received) if received is not None else {}
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


def intake_entries(materials: Iterable[dict], given: Iterable) -> tuple[list[dict], dict[str, list[str]]]:
    """The window's intake record as entered: each a material code (received, the original, one copy) or
    ``{"code", "status": "received"|"not_applicable", "form": "original"|"copy", "count": 1..99}``, checked
    against the one-thing's materials (``materials``). Returns the completed entries (``intake_entry``) and
    the problems keyed ``materials`` / ``materials.<i>.<field>``."""
    known = {entry["code"] for entry in materials or []}
    errors: dict[str, list[str]] = {}
    entries: dict[str, dict] = {}
    for i, value in enumerate(given or ()):
        if isinstance(value, str):
            value = {"code": value}
        if not isinstance(value, dict):
            errors[f"materials.{i}"] = ["应为材料编码或 {code, status, form, count}"]
            continue
        code, status = value.get("code"), value.get("status") or RECEIVED
        form, count = value.get("form"), value.get("count")
        if not isinstance(code, str) or code not in known:
            errors[f"materials.{i}.code"] = [f"“{code}”不在本一件事的材料清单中"]
        elif code in entries:
            errors[f"materials.{i}.code"] = ["同一材料只能登记一次"]
        if status not in ENTERED_STATUSES:
            errors[f"materials.{i}.status"] = ["收件情况只能是 received（已收取）或 not_applicable（不适用）"]
        if form not in (None, "", *FORM_LABELS):
            errors[f"materials.{i}.form"] = ["材料形式只能是 original（原件）或 copy（复印件）"]
        if count is not None and (
            isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_COPIES
        ):
            errors[f"materials.{i}.count"] = [f"份数应为 1 至 {MAX_COPIES} 的整数"]
        if status != RECEIVED and (form or count is not None):
            errors.setdefault(f"materials.{i}.status", ["只有已收取的材料才有形式和份数"])
        if not any(key.startswith(f"materials.{i}") for key in errors):
            entries[code] = intake_entry(value)
    if errors:
        unknown = [m for key, ms in errors.items() if key.endswith(".code") for m in ms]
        if unknown:  # the summary the screens show, as before the record had forms and counts
            errors["materials"] = unknown
    return list(entries.values()), errors


def _code_of(entry) -> str | None:
    return entry if isinstance(entry, str) else entry.get("code") if isinstance(entry, dict) else None


def _intake_data(entries: list[dict]) -> dict:
    """The event data of an intake recording: ``intake`` is the record; ``materials`` the codes received."""
    return {
        "materials": sorted(e["code"] for e in entries if e["status"] == RECEIVED),
        "intake": sorted(entries, key=lambda e: e["code"]),
    }


def _received_materials(case: Case, *, materials: list, promised: list[str], committed: list[str] = ()) -> list[dict]:
    """The required-materials rule of acceptance (材料齐全) over the intake record entered now (``materials``):
    the entries to record, or the error listing what is missing. The opening's record is read only when this
    call's entries do not complete the checklist; then it fills in the materials this call leaves out. Required
    are the checklist's materials for the case's answers (the items that apply: ``case_checklist``); a
    promised material is recorded by its promise, a committed one (告知承诺) by its commitment, not here."""
    promised = [*promised, *committed]
    entries, errors = intake_entries(composition_of(case).materials, materials)
    if errors:
        raise ValidationFailed(field_errors=errors)
    by_code = {entry["code"]: entry for entry in entries}
    checklist = case_checklist(case)

    def covered() -> set[str]:
        return {code for code, entry in by_code.items() if entry["status"] == RECEIVED} | set(promised)

    reused: set[str] = set()
    if missing_required_materials(checklist, covered()):
        recorded = list(
            CaseEvent.objects.filter(case_id=case.pk, kind__in=["opened", "materials_reused"]).only("kind", "data")
        )
        for code, entry in recorded_intake(recorded).items():
            by_code.setdefault(code, entry)
        reused = {
            code for event in recorded if event.kind == "materials_reused" for code in event.data.get("codes", [])
        }
    missing = missing_required_materials(checklist, covered() | reused)
    if missing:
        message = "请核对并勾选必交材料：" + "、".join(missing)
        raise ValidationFailed(message, field_errors={"materials": [message]})
    return [entry for code, entry in sorted(by_code.items()) if code not in promised]


# The most files one correction may carry (each within the upload limit).
CORRECTION_MAX_FILES = 10


def case_correction_submit(
    *, case_no: str, changes: dict, files: Mapping[str, Sequence[BinaryIO]] | None = None, actor=None
) -> Case:
    """The applicant's one resubmission after a combined correction notice: fields and files together.

    ``changes``: the form fields given with the correction; ``files``: material code → file objects handed in
    with it. The answer must cover what the departments asked: every field a correction item names must be in
    ``changes``, and every material it names must come with a file (here, or uploaded by the window since the
    request). A submission that leaves one out is refused (400) with each missing one named (``form.<field>``,
    ``materials.<code>``); a correction of materials only (``changes`` empty) is possible.

    The files are checked (type, size) before the case is locked; the form must validate against the case's own
    composition (the one it was opened with, not today's). Then the items that apply are recomputed from the
    corrected form, with the conditions of the case's composition evaluated as the engine evaluates them:

    - an item that stops applying is recorded as 不再适用 with the reason (``item_not_applicable``; its
      review's latest task keeps its decision but issues nothing) and its review is taken out of the
      process data, so the model neither re-opens it nor counts it in the unified result;
    - an item that starts applying opens its review (the model routes that; ``item_applicable``);
    - a review that had approved but whose items need a field the resubmission actually changed (the
      merged form's provenance) loses its approval and re-opens (``reopened``): it was given on other answers;
    - the reviews that asked for correction re-open (the model routes that).

    ``reopened`` and ``item_applicable`` name only reviews the engine actually opened. ``actor`` is the window
    user when staff key it in for the applicant, else None. The ``corrected`` entry names the fields given and
    the materials (with their files) handed in: what the departments see as resubmitted.
    """
    if actor is not None:
        require_role(actor, *ROLES[Action.CORRECT])
    if not isinstance(changes, dict):
        raise ValidationFailed(field_errors={"form": ["补正内容应为字段名到值的对象"]})
    prepared = _prepared_files(files or {})
    with transaction.atomic():
        return _correction_submit(case_no=case_no, changes=changes, prepared=prepared, actor=actor)


def _prepared_files(files: Mapping[str, Sequence[BinaryIO]]) -> dict[str, list[uploads.PreparedFile]]:
    count = sum(len(list(group)) for group in files.values())
    if count > CORRECTION_MAX_FILES:
        message = f"一次补正最多上传 {CORRECTION_MAX_FILES} 个文件"
        raise ValidationFailed(message, field_errors={"materials": [message]})
    return {
        code: [uploads.prepare_file(f, field=f"materials.{code}") for f in group]
        for code, group in files.items()
        if group
    }


def _correction_submit(*, case_no: str, changes: dict, prepared: dict, actor) -> Case:
    case = lock_case(case_no=case_no)
    require(Action.CORRECT, Viewer.of(actor) if actor is not None else Viewer.applicant(), case)
    composition = composition_of(case)
    materials = {}
    material_errors: dict[str, list[str]] = {}
    for code in prepared:
        try:
            materials[code] = uploads.material_of(case, code, field=f"materials.{code}")
        except ValidationFailed as exc:
            material_errors.update(exc.field_errors)
    checked = forms.check_answers(composition.merged_form, {**case.form_data, **changes})
    errors = {f"form.{k}" if k != "form" else k: v for k, v in checked.errors.items()}
    errors.update(material_errors)
    if errors:
        raise ValidationFailed(field_errors=errors)
    missing, uploaded_earlier = _uncovered(case, composition.merged_form, changes, set(prepared))
    empty = not changes and not prepared and not uploaded_earlier
    if missing or empty:
        message = "补正不完整：" + "；".join(m for ms in missing.values() for m in ms) if missing else None
        nothing = {"form": ["请填写需要补正的内容或上传需要补正的材料"]} if empty else {}
        raise ValidationFailed(message, field_errors={**nothing, **missing})
    form = checked.answers  # answers to questions that no longer apply are dropped (docs/forms.md)
    department = "window" if actor is not None else "applicant"
    handed_in = []
    upload_events = []
    for code, group in prepared.items():
        ids = []
        for item in group:
            row, event = uploads.store_file(case, materials[code], item, user=actor, department=department)
            ids.append(str(row.public_id))
            if event is not None:
                upload_events.append(event)
        handed_in.append({"code": code, "name": materials[code]["name"], "files": ids})
    step = begin_step(case, actor)
    step.events.extend(upload_events)
    task = _open_task_in_lane(case, "applicant")
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
    task.corrections = [{"item": name, "reason": "已补正"} for name in sorted(changes)] + [
        {"item": m["code"], "reason": "已补交材料"} for m in handed_in
    ]
    step.completed.append(task)
    case.form_data = form
    step.event("corrected", department="applicant", fields=sorted(changes), materials=handed_in)
    if actor is not None:  # keyed in at the window: the applicant came to correct (a trip)
        step.case.trips += 1
        step.event("visit", department="window", reason="correction", reason_label=VISIT_REASONS["correction"])
    _record_correction_effects(step, composition, plan)
    persist_step(step)
    return case


def _uncovered(
    case: Case, merged_form: dict, changes: dict, handed_in: set[str]
) -> tuple[dict[str, list[str]], set[str]]:
    """The asked-for fields and materials the submission leaves out, each named with what was asked; and the
    asked materials the window uploaded since the request (they count as handed in)."""
    notice = correction_notice(case, case_tasks(case))
    fields = asked_fields(notice, merged_form)
    materials = asked_materials(notice, merged_form)
    errors: dict[str, list[str]] = {}
    for name, reason in fields.items():
        if name not in changes:
            errors[f"form.{name}"] = [f"请补正“{correction_item_label(name, merged_form)}”（{reason}）"]
    wanted = set(materials) - handed_in
    uploaded_earlier: set[str] = set()
    if wanted:
        since = max((r.completed_at for r in notice if r.completed_at is not None), default=None)
        uploaded = MaterialFile.objects.filter(case=case, material_code__in=wanted)
        if since is not None:
            uploaded = uploaded.filter(uploaded_at__gte=since)
        uploaded_earlier = set(uploaded.values_list("material_code", flat=True))
        wanted -= uploaded_earlier
    for code in sorted(wanted):
        label = correction_item_label(code, merged_form)
        errors[f"materials.{code}"] = [f"请上传需补正的材料“{label}”（{materials[code]}）"]
    return errors, uploaded_earlier


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
    step = Step(case=case, instance=None, actor=user)
    save_status(case, step=step, concluded_at=case.concluded_at)
    step.event("conclude", status=str(case.status), delivery=case.delivery_method)
    sms.write_outbox(case, step.events, step.writes)
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
    save_status(case, step=step, process_state=step.instance.dump())
    step.writes.update(
        HumanTask,
        {"case_id": case.pk, "state": HumanTaskState.OPEN},
        state=HumanTaskState.CANCELLED,
        completed_at=now,
    )
    step.event("withdraw", status=str(case.status), reason=reason)
    step.save_events()
    return case
