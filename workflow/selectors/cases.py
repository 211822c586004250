"""A case as staff see it: found within their scope, summarised, and in full (the case page and
``GET /api/cases/{no}``), with the departments' progress, the unified result and the opinions masked by the one
rule (a reviewer sees its own department's decisions, never another's)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.db.models import Exists, F, OuterRef, QuerySet
from lxml import etree

from .. import case_facts, halls, query_codes
from ..access import staff_of
from ..compositions import composition_of, materials_checklist
from ..errors import NotFound, PermissionDenied
from ..labels import OUTCOME_LABELS, PROGRESS_LABELS
from ..lifecycle import CaseStatus
from ..models import (
    Case,
    CaseEvent,
    Decision,
    HumanTask,
    HumanTaskState,
    MaterialCommitment,
    MaterialPromise,
    ProcessVersion,
)
from ..models import StaffRole as Role
from ..prepared import PreparedQuery
from ..results import case_results, latest_reviews
from .catalogue import department_names
from .commitments import CommitmentRow, case_commitments
from .delivery import DeliveryView, TripsView, case_trips, delivery_view
from .documents import case_documents
from .materials import IntakeRow, Material, MaterialsBlock, checklist, intake_record, materials_block, recorded_intake
from .permissions import BlockedAction, Facts, Viewer, allowed_actions, blocked_actions
from .timeline import TimelineRow, case_timeline

_CASE_LIGHT = ("process_state", "process_version__compiled", "process_version__bpmn_xml")
# The columns a case summary reads, in the order ``_summary`` takes them.
_CASE_SUMMARY = (
    "case_no",
    "one_thing__key",
    "one_thing__name",
    "process_version__number",
    "status",
    "outcome",
    "applicant_name",
    "channel",
    "opened_at",
    "concluded_at",
    "promised_due_date",
    "promised_due_date_provisional",
    "accepting_hall_id",
    "deciding_hall_id",
)
BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
RESULT_STATES = frozenset({CaseStatus.APPROVED, CaseStatus.REJECTED, CaseStatus.CONCLUDED})


def case_get(*, user, case_no: str) -> Case:
    """A case for staff: the window and supervisors see every case, a reviewer only cases their
    department has a task on; staff bound to a hall only that hall's cases (workflow/halls.py)."""
    staff = staff_of(user)
    if staff is None:
        raise PermissionDenied()
    reviewer = staff.role == Role.REVIEWER
    hall = staff.hall_id or None
    case = _case_for_staff.first(
        case_no=case_no,
        department=(staff.department_id or "") if reviewer else None,  # a reviewer without one sees none
        deciding_hall=hall if reviewer else None,
        either_hall=None if reviewer else hall,
    )
    if case is None:
        raise NotFound("未找到该办件")
    return case


@PreparedQuery
def _case_for_staff(*, case_no: str, department: str | None, deciding_hall: int | None, either_hall: int | None):
    """``case_get``'s read, compiled once per kind of staff: a reviewer's department must have a task on the case
    (EXISTS, not a join made DISTINCT over every column of the case); a hall's staff see its cases
    (``halls.hall_scope``). With what the case's pages need not read (``case_facts.view_facts``)."""
    cases = (
        Case.objects.select_related("one_thing", "process_version")
        .defer(*_CASE_LIGHT)
        .annotate(**case_facts.view_facts())  # what the case's pages need not read (most cases have none)
    )
    if department is not None:
        cases = cases.filter(Exists(HumanTask.objects.filter(case_id=OuterRef("pk"), department_id=department)))
    if deciding_hall is not None:
        cases = cases.filter(halls.hall_scope(deciding_hall, deciding_only=True))
    if either_hall is not None:
        cases = cases.filter(halls.hall_scope(either_hall, deciding_only=False))
    return cases.filter(case_no=case_no).order_by()[:1]


def case_for_applicant(*, case_no: str, query_code: str) -> Case:
    """The case if the query code matches. Unknown case and wrong code are the same answer at the same cost."""
    case = (
        Case.objects.select_related("one_thing", "process_version").defer(*_CASE_LIGHT).filter(case_no=case_no).first()
    )
    stored = case.query_code_hash if case is not None else query_codes.DUMMY_DIGEST
    if not query_codes.matches(query_code, stored) or case is None:
        raise NotFound("办件编号或查询码不正确")
    return case


def case_merged_form(case: Case) -> Mapping:
    """The one form a case was opened with (schema, provenance, materials, items, ui hints, logic): its pinned
    composition version's (``workflow.compositions``), never today's catalogue. Every read of the case's form
    and field provenance in the views and services goes through here."""
    return composition_of(case).merged_form


def case_checklist(case: Case) -> list[dict]:
    """The case's materials checklist (一次告知) for its answers: the materials of the items that apply,
    recombined over them (``compositions.materials_checklist``). What acceptance requires and the views list."""
    return materials_checklist(case)


def case_tasks(case: Case) -> list[HumanTask]:
    return list(case.tasks.select_related("department", "assignee", "post_reviewed_by").order_by("created_at", "id"))


def case_events(case: Case) -> list[CaseEvent]:
    return list(case.events.order_by("created_at", "id"))


def latest_by_lane(tasks: list[HumanTask]) -> dict[str, HumanTask]:
    """The current round's task per department (tasks come in creation order: the last one wins)."""
    return {task.lane: task for task in tasks if task.department_id}


def correction_item_label(item: str, merged_form: Mapping) -> str:
    """A correction item as the reader knows it: a field's title, a material's name, or the text itself."""
    props = (merged_form.get("schema") or {}).get("properties") or {}
    if item in props:
        return props[item].get("title", item)
    for material in merged_form.get("materials") or []:
        if material.get("code") == item:
            return material.get("name", item)
    return item


def corrected_fields(case: Case) -> list[str]:
    """The fields the applicant changed in the latest correction."""
    event = case.events.filter(kind="corrected").order_by("-created_at", "-id").first()
    return list(event.data.get("fields", [])) if event else []


@dataclass(frozen=True)
class CorrectionItem:
    item: str
    reason: str
    label: str  # the field's title, the material's name, or the item as written


def correction_items(rows: Iterable[Mapping], merged_form: Mapping) -> list[CorrectionItem]:
    return [
        CorrectionItem(
            item=str(row.get("item", "")),
            reason=str(row.get("reason", "")),
            label=correction_item_label(str(row.get("item", "")), merged_form),
        )
        for row in rows or []
    ]


# --------------------------------------------------------------------------- pieces of a case view


@dataclass(frozen=True)
class HallView:
    code: str
    name: str
    region_code: str
    region_name: str


@dataclass(frozen=True)
class CaseSummary:
    case_no: str
    one_thing: str  # key
    one_thing_name: str
    process_version: int
    status: str
    status_label: str
    outcome: str
    outcome_label: str
    applicant_name: str
    channel: str  # 申办渠道: window / online / kiosk
    channel_label: str
    opened_at: dt.datetime
    concluded_at: dt.datetime | None
    promised_due_date: dt.date | None
    promised_due_date_provisional: bool  # 预计 (docs/clock.md "Provisional dates")
    accepting_hall: HallView | None
    deciding_hall: HallView | None
    cross_region: bool


def case_summary(case: Case) -> CaseSummary:
    return _summary([_attribute(case, path) for path in _CASE_SUMMARY], {})


def case_summaries(cases: QuerySet[Case]) -> list[CaseSummary]:
    """``case_summary`` of each case of ``cases``, read as plain values (no model instances: a list of cases was
    mostly their construction), each hall looked up once (a shared-cache round trip each in production)."""
    places: dict[int, HallView | None] = {}
    return [_summary(row, places) for row in cases.values_list(*_CASE_SUMMARY)]


def _attribute(case: Case, path: str):
    """A ``_CASE_SUMMARY`` column read from an instance: "one_thing__key" is ``case.one_thing.key``."""
    value = case
    for name in path.split("__"):
        value = getattr(value, name)
    return value


# What ``get_status_display`` and ``get_channel_display`` say, for values read without an instance.
_STATUS_LABELS = {value: str(label) for value, label in Case._meta.get_field("status").flatchoices}
_CHANNEL_LABELS = {value: str(label) for value, label in Case._meta.get_field("channel").flatchoices}


def _summary(values, places: dict[int, HallView | None]) -> CaseSummary:
    """The one construction of a summary from ``_CASE_SUMMARY``'s values; ``places``: the halls seen so far."""
    (
        case_no,
        one_thing,
        one_thing_name,
        process_version,
        status,
        outcome,
        applicant_name,
        channel,
        opened_at,
        concluded_at,
        promised_due_date,
        provisional,
        accepting_hall_id,
        deciding_hall_id,
    ) = values
    for pk in (accepting_hall_id, deciding_hall_id):
        if pk not in places:
            row = halls.hall_row(halls.hall_by_id(pk))
            places[pk] = HallView(**row) if row else None
    return CaseSummary(
        case_no=case_no,
        one_thing=one_thing,
        one_thing_name=one_thing_name,
        process_version=process_version,
        status=status,
        status_label=_STATUS_LABELS.get(status, status),
        outcome=outcome,
        outcome_label=OUTCOME_LABELS.get(outcome, ""),
        applicant_name=applicant_name,
        channel=channel,
        channel_label=_CHANNEL_LABELS.get(channel, channel),
        opened_at=opened_at,
        concluded_at=concluded_at,
        promised_due_date=promised_due_date,
        promised_due_date_provisional=provisional,
        accepting_hall=places[accepting_hall_id],
        deciding_hall=places[deciding_hall_id],
        cross_region=halls.halls_differ(accepting_hall_id, deciding_hall_id),
    )


@dataclass(frozen=True)
class DepartmentProgress:
    """A department of the process with its current round: progress for everyone who sees the case, its
    decision and opinion only for those who may see them (``None`` otherwise)."""

    department: str
    department_name: str
    progress: str  # pending / reviewing / done / not_applicable (a correction made its items stop applying)
    progress_label: str
    review_round: int | None
    decision: str | None
    decision_label: str | None
    opinion: str | None
    completed_at: dt.datetime | None


def _progress(task: HumanTask | None) -> str:
    if task is None:
        return "pending"
    if task.not_applicable_reason:
        return "not_applicable"
    return "reviewing" if task.state == HumanTaskState.OPEN else "done"


def progress_rows(
    case: Case, tasks: list[HumanTask], viewer: Viewer, names: Mapping[str, str], *, opinions: bool = True
) -> list[DepartmentProgress]:
    """Each department of the process with its current task. ``opinions`` False: decisions are not given yet
    (the applicant before the unified feedback)."""
    latest = latest_by_lane(tasks)
    rows = []
    for code in [] if case.status == CaseStatus.NOT_ACCEPTED else case.process_version.departments:
        task = latest.get(code)
        progress = _progress(task)
        show = task is not None and opinions and viewer.sees_decisions_of(code)
        rows.append(
            DepartmentProgress(
                department=code,
                department_name=names.get(code, code),
                progress=progress,
                progress_label=PROGRESS_LABELS[progress],
                review_round=task.review_round if task else None,
                decision=(task.decision or None) if show else None,
                decision_label=(task.get_decision_display() if task.decision else None) if show else None,
                opinion=task.opinion if show else None,
                completed_at=task.completed_at if task else None,
            )
        )
    return rows


@dataclass(frozen=True)
class ItemResult:
    """统一反馈: one row per item — its department's latest decision and, when approved, its licence."""

    item_code: str
    item: str
    department: str
    department_name: str
    decision: str | None
    decision_label: str | None
    opinion: str | None
    licence_no: str
    valid_from: dt.date | None
    valid_to: dt.date | None
    auto_approved: bool
    licence_revoked: bool
    licence_revoked_at: dt.datetime | None
    licence_revoked_reason: str
    applicable: bool  # False: a correction made the item stop applying (不再适用); its decision issues nothing
    not_applicable_reason: str


def item_results(case: Case, tasks: list[HumanTask], viewer: Viewer) -> list[ItemResult]:
    """The unified result once the case has one (else empty); another department's decision and opinion are
    masked for a reviewer, as everywhere."""
    if case.status not in RESULT_STATES:
        return []
    rows = []
    for row in case_results(case, tasks):
        if not viewer.sees_decisions_of(row["department"]):
            row = {**row, "decision": None, "decision_label": None, "opinion": None}
        rows.append(ItemResult(**row))
    return rows


@dataclass(frozen=True)
class ItemNotApplicable:
    """An item a correction made stop applying (不再适用), with the reason; its decision issues nothing."""

    item: str
    department: str
    department_name: str
    reason: str


def items_not_applicable(case: Case, tasks: list[HumanTask]) -> list[ItemNotApplicable]:
    composition = composition_of(case)
    rows = []
    for task in latest_reviews(tasks):
        if task.not_applicable_reason:
            items = composition.items_of_element(task.element_id, task.lane)
            rows.append(
                ItemNotApplicable(
                    item="、".join(item.name for item in items) or task.name,
                    department=task.lane,
                    department_name=task.department.name,
                    reason=task.not_applicable_reason,
                )
            )
    return rows


@dataclass(frozen=True)
class CaseTask:
    """A task of the case, for the case views: another department's decision, opinion and corrections are masked
    for a reviewer."""

    id: int
    name: str
    element_id: str
    lane: str
    department_name: str | None
    review_round: int
    state: str
    state_label: str
    decision: str | None
    decision_label: str | None
    opinion: str | None
    corrections: list | None
    assignee_name: str
    completed_at: dt.datetime | None
    due_date: dt.date | None
    due_date_provisional: bool  # 预计 (docs/clock.md "Provisional dates")
    supervision: str | None
    supervision_label: str
    auto_approved: bool


def case_task(task: HumanTask, case: Case, viewer: Viewer) -> CaseTask:
    from .. import clock

    show = viewer.sees_decisions_of(task.lane)
    supervision = clock.task_supervision(task, case=case)
    return CaseTask(
        id=task.pk,
        name=task.name,
        element_id=task.element_id,
        lane=task.lane,
        department_name=task.department.name if task.department_id else None,
        review_round=task.review_round,
        state=task.state,
        state_label=task.get_state_display(),
        decision=(task.decision or None) if show else None,
        decision_label=(task.get_decision_display() if task.decision else None) if show else None,
        opinion=task.opinion if show else None,
        corrections=list(task.corrections or []) if show else None,
        assignee_name=(task.assignee.get_full_name() or task.assignee.get_username()) if task.assignee_id else "",
        completed_at=task.completed_at,
        due_date=task.due_date,
        due_date_provisional=task.due_date_provisional,
        supervision=supervision,
        supervision_label=clock.supervision_label(supervision),
        auto_approved=task.auto_approved,
    )


@dataclass(frozen=True)
class ReusedMaterial:
    material_code: str
    material_name: str
    licence_no: str


@dataclass(frozen=True)
class PromiseRow:
    material_code: str
    material_name: str
    due_date: dt.date
    fulfilled_at: dt.datetime | None
    lapsed_at: dt.datetime | None


@dataclass(frozen=True)
class CaseView(CaseSummary):
    """A case in full for staff: what ``GET /api/cases/{no}`` answers and the case page shows."""

    composition_version: int  # the composition version the case is pinned to (changed only by a migration)
    applicant_id_type: str
    applicant_id_number: str
    applicant_phone: str
    agent: dict | None  # 帮办代办: {name, id_type, id_number, phone} of the agent (经办人), or None
    on_the_spot_items: list[str]  # 即办件 the window may decide at acceptance (delegated by their departments)
    delivery: DeliveryView
    trips: TripsView
    form: dict
    departments: list[DepartmentProgress]
    tasks: list[CaseTask]
    timeline: list[TimelineRow]
    results: list[ItemResult]
    reused_materials: list[ReusedMaterial]
    promises: list[PromiseRow]
    clock: object  # supervision.ClockView
    checklist: list[Material]  # the case's materials checklist (一次告知) for its answers
    materials_received: list[str]  # codes the window recorded as handed in (at opening, at acceptance)
    intake: list[IntakeRow]  # the intake record (收件登记): per material, what the window recorded
    commitments: list[CommitmentRow]  # 告知承诺, each with its 事中事后核查
    materials: MaterialsBlock
    documents: list  # documents.DocumentRow
    my_open_tasks: list[CaseTask]  # a reviewer's own department's open tasks on the case
    allowed_actions: list[str]
    blocked_actions: list[BlockedAction]  # at the right moment but refused now, with the reason (容缺 at the end)

    def may(self, action: str) -> bool:
        return action in self.allowed_actions

    @property
    def deferrable(self) -> list[Material]:
        return [material for material in self.checklist if material.deferrable]

    @property
    def committable(self) -> list[Material]:
        """告知承诺: the materials the applicant may replace by signing the catalogue's commitment."""
        return [material for material in self.checklist if material.commitment]


def case_view(*, user, case: Case, names: dict[str, str] | None = None) -> CaseView:
    """A constant number of statements whatever the number of tasks, events, files or pauses. ``names``: the
    departments' names (``department_names``), when the caller has them already."""
    from .supervision import case_clock_view

    viewer = Viewer.of(user)
    names = names if names is not None else department_names()
    tasks = case_tasks(case)
    materials = case_checklist(case)
    promises = (
        []
        if case_facts.known_none(case, "page_has_promises")
        else list(MaterialPromise.objects.filter(case_id=case.pk).order_by("due_date", "id"))
    )
    outstanding = [p for p in promises if p.fulfilled_at is None]
    facts = Facts(tasks=tasks, promised={p.material_code for p in outstanding}, outstanding=outstanding)
    clock_view = case_clock_view(case, tasks, viewer, names, facts=facts)
    rows = [case_task(task, case, viewer) for task in tasks]
    events = case_events(case)
    reused = (
        []
        if case_facts.known_none(case, "page_has_reused_materials")
        else list(case.reused_materials.select_related("licence"))
    )
    commitments = (
        []
        if case_facts.known_none(case, "page_has_commitments")
        else list(MaterialCommitment.objects.filter(case_id=case.pk))
    )
    return CaseView(
        **case_summary(case).__dict__,
        composition_version=composition_of(case).number,
        applicant_id_type=case.applicant_id_type,
        applicant_id_number=case.applicant_id_number,
        applicant_phone=case.applicant_phone,
        agent=case_agent(case),
        on_the_spot_items=on_the_spot_items(case),
        delivery=delivery_view(case, tasks),
        trips=case_trips(events),
        form=case.form_data,
        departments=progress_rows(case, tasks, viewer, names),
        tasks=rows,
        timeline=case_timeline(events, viewer, names),
        results=item_results(case, tasks, viewer),
        reused_materials=[ReusedMaterial(r.material_code, r.material_name, r.licence.number) for r in reused],
        promises=[
            PromiseRow(p.material_code, p.material_name, p.due_date, p.fulfilled_at, p.lapsed_at) for p in promises
        ],
        clock=clock_view,
        checklist=checklist(materials, names),
        materials_received=materials_received(events),
        intake=intake_record(
            case, checklist=materials, events=events, promises=promises, reused=reused, commitments=commitments
        ),
        commitments=case_commitments(case, commitments),
        materials=materials_block(case, materials, viewer, facts),
        documents=case_documents(case),
        my_open_tasks=[
            row
            for row, task in zip(rows, tasks, strict=True)
            if viewer.department and task.lane == viewer.department and task.state == HumanTaskState.OPEN
        ],
        allowed_actions=sorted(allowed_actions(viewer, case, facts=facts)),
        blocked_actions=blocked_actions(viewer, case, facts=facts),
    )


def on_the_spot_items(case: Case) -> list[str]:
    """Names of the case's items that are 即办件 delegated to the window (decided at acceptance on request)."""
    return [item.name for item in composition_of(case).items if item.window_decides]


def case_agent(case: Case) -> dict | None:
    """帮办代办: the agent (经办人) acting for the applicant, or None."""
    if not case.agent_name:
        return None
    return {
        "name": case.agent_name,
        "id_type": case.agent_id_type,
        "id_number": case.agent_id_number,
        "phone": case.agent_phone,
    }


def materials_received(events: Iterable[CaseEvent]) -> list[str]:
    """Codes of the materials the window's latest intake recording (at acceptance, else at opening) records as
    received, and those an earlier e-licence stands for (免提交)."""
    events = list(events)
    received = {code for code, entry in recorded_intake(events).items() if entry["status"] == "received"}
    for event in events:
        if event.kind == "materials_reused":
            received |= set((event.data or {}).get("codes") or [])
    return sorted(received)


# --------------------------------------------------------------------------- the correction notice


@dataclass(frozen=True)
class CorrectionRequest:
    """What one department asked in the current correction round (the combined notice, 一次性告知)."""

    department: str
    department_name: str
    review_round: int
    opinion: str
    completed_at: dt.datetime | None
    items: list[CorrectionItem]


def _correction_requests(case: Case, tasks: Iterable[HumanTask]) -> list[CorrectionRequest]:
    merged = case_merged_form(case)
    return [
        CorrectionRequest(
            department=task.lane,
            department_name=task.department.name if task.department_id else task.lane,
            review_round=task.review_round,
            opinion=task.opinion,
            completed_at=task.completed_at,
            items=correction_items(task.corrections, merged),
        )
        for task in tasks
        if task.decision == Decision.NEED_CORRECTION
    ]


def correction_notice(case: Case, tasks: list[HumanTask]) -> list[CorrectionRequest]:
    """The current round's requests."""
    return _correction_requests(case, latest_by_lane(tasks).values())


def correction_history(case: Case, tasks: list[HumanTask]) -> list[CorrectionRequest]:
    """Every round's requests, oldest first."""
    return _correction_requests(case, tasks)


def asked_fields(notice: Iterable[CorrectionRequest], merged_form: Mapping) -> dict[str, str]:
    """Form fields named by the correction items → the reasons, for highlighting them."""
    props = (merged_form.get("schema") or {}).get("properties") or {}
    by_title = {definition.get("title"): name for name, definition in props.items()}
    asked: dict[str, str] = {}
    for row in notice:
        for item in row.items:
            name = item.item if item.item in props else by_title.get(item.item)
            if name:
                reason = f"{row.department_name}：{item.reason}"
                asked[name] = f"{asked[name]}；{reason}" if name in asked else reason
    return asked


def asked_materials(notice: Iterable[CorrectionRequest], merged_form: Mapping) -> dict[str, str]:
    """Materials named by the correction items (by code or by name) → the reasons: what the answer must carry
    a file for."""
    materials = merged_form.get("materials") or []
    codes = {m.get("code") for m in materials}
    by_name = {m.get("name"): m.get("code") for m in materials}
    asked: dict[str, str] = {}
    for row in notice:
        for item in row.items:
            code = item.item if item.item in codes else by_name.get(item.item)
            if code:
                reason = f"{row.department_name}：{item.reason}"
                asked[code] = f"{asked[code]}；{reason}" if code in asked else reason
    return asked


@dataclass(frozen=True)
class ResubmittedMaterial:
    code: str
    name: str
    files: list[str]  # public ids of the files handed in with the correction


@dataclass(frozen=True)
class Resubmission:
    """What the latest correction carried: the fields the applicant gave and the materials handed in with it."""

    fields: list[str]
    field_titles: list[str]
    materials: list[ResubmittedMaterial]
    at: dt.datetime | None


def latest_resubmission(events: Iterable[CaseEvent], merged_form: Mapping) -> Resubmission | None:
    """The latest ``corrected`` entry of ``events`` as a view, or None before any correction."""
    latest = None
    for event in events:
        if event.kind == "corrected":
            latest = event
    if latest is None:
        return None
    data = latest.data or {}
    fields = list(data.get("fields") or [])
    return Resubmission(
        fields=fields,
        field_titles=[correction_item_label(name, merged_form) for name in fields],
        materials=[
            ResubmittedMaterial(code=m.get("code", ""), name=m.get("name", ""), files=list(m.get("files") or []))
            for m in data.get("materials") or []
        ],
        at=latest.created_at,
    )


# --------------------------------------------------------------------------- the window's lists


@dataclass(frozen=True)
class WindowLists:
    received: list[CaseSummary]
    correction: list[CaseSummary]
    to_conclude: list[CaseSummary]
    decided_here: list[CaseSummary]
    in_review: int
    limit: int = 50
    capped: frozenset[str] = frozenset()  # the lists that hold more cases than the ``limit`` shown (oldest first)


def window_worklist(*, user, limit: int = 50) -> WindowLists:
    """The window's lists. A clerk bound to a hall (收受分离): the lists the clerk acts on hold the hall's own
    cases, and ``decided_here`` the cases other halls received for this hall's region to decide."""
    staff = staff_of(user)
    if staff is None or staff.role != Role.WINDOW:
        raise PermissionDenied()
    hall_id = staff.hall_id
    cases = Case.objects.all()
    decided_here = []
    if hall_id is not None:
        decided_here = case_summaries(
            # the hall's id as the deciding hall: the filter the index case_cross_in_flight states
            cases.filter(deciding_hall_id=hall_id)
            .exclude(accepting_hall_id=F("deciding_hall_id"))
            .exclude(status__in=[CaseStatus.CONCLUDED, CaseStatus.NOT_ACCEPTED, CaseStatus.WITHDRAWN])
            .order_by("-updated_at")[: limit + 1]
        )
        cases = cases.filter(accepting_hall_id=hall_id)
    # One row more than shown tells whether a list goes on, without counting it.
    rows = {
        "decided_here": decided_here,
        "received": case_summaries(cases.filter(status=CaseStatus.RECEIVED).order_by("opened_at")[: limit + 1]),
        "correction": case_summaries(
            cases.filter(status=CaseStatus.CORRECTION_REQUIRED).order_by("updated_at")[: limit + 1]
        ),
        "to_conclude": case_summaries(
            cases.filter(status__in=[CaseStatus.APPROVED, CaseStatus.REJECTED]).order_by("updated_at")[: limit + 1]
        ),
    }
    return WindowLists(
        **{name: found[:limit] for name, found in rows.items()},
        in_review=cases.filter(status=CaseStatus.IN_REVIEW).count(),
        limit=limit,
        capped=frozenset(name for name, found in rows.items() if len(found) > limit),
    )


# --------------------------------------------------------------------------- the diagram


def diagram(*, user, case_no: str) -> dict:
    """The case's BPMN (lanes relabelled with department names), current and finished user tasks."""
    case = case_get(user=user, case_no=case_no)
    xml = ProcessVersion.objects.values_list("bpmn_xml", flat=True).get(pk=case.process_version_id)
    rows = list(case.tasks.values_list("element_id", "state"))
    current = sorted({element for element, state in rows if state == HumanTaskState.OPEN})
    finished = sorted({element for element, state in rows if state == HumanTaskState.COMPLETED} - set(current))
    return {"xml": _relabel_lanes(xml, department_names()), "current": current, "finished": finished}


def _relabel_lanes(xml: str, names: Mapping[str, str]) -> str:
    """Lane names are department codes (the engine contract); readers want the department names."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        root = etree.fromstring(xml.encode("utf-8"), parser=parser)
    except etree.XMLSyntaxError:
        return xml
    for lane in root.iter(f"{{{BPMN_NS}}}lane"):
        code = lane.get("name", "")
        if code in names:
            lane.set("name", names[code])
    return etree.tostring(root, encoding="unicode")
