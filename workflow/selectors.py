"""Every read, scoped to who is asking."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import uuid

from django.db.models import Count, F, QuerySet

from . import clock, halls, notices, query_codes, ratings
from .access import staff_of
from .compositions import composition_of, materials_checklist
from .errors import FileDamaged, NotFound, PermissionDenied
from .labels import OUTCOME_LABELS, PROGRESS_LABELS, event_label
from .lifecycle import CaseStatus
from .models import (
    Case,
    CaseEvent,
    Decision,
    Department,
    ExtensionRequest,
    ExtensionRequestState,
    HumanTask,
    HumanTaskState,
    MaterialFile,
    OneThing,
    StaffRole,
)
from .models.documents import private_storage
from .results import case_results, latest_reviews

logger = logging.getLogger(__name__)

_CASE_LIGHT = ("process_state", "process_version__compiled", "process_version__bpmn_xml")


def one_thing_list() -> QuerySet[OneThing]:
    """The one-things a case can be opened for: active, with a published composition (on a BPMN version)."""
    return OneThing.objects.filter(is_active=True, current_composition__isnull=False).select_related("lead_department")


def hall_list(*, user) -> list[dict]:
    """The active halls (收受分离: where a case may be decided), the clerk's own hall marked ``is_mine``."""
    staff = staff_of(user)
    if staff is None:
        raise PermissionDenied()
    mine = halls.hall_of(staff)
    rows = [{**halls.hall_row(hall), "is_mine": hall.pk == mine.pk} for hall in halls.active_halls()]
    return sorted(rows, key=lambda row: (not row["is_mine"], row["code"]))


def _visible_tasks(user) -> QuerySet[HumanTask]:
    staff = staff_of(user)
    if staff is None:
        raise PermissionDenied()
    tasks = HumanTask.objects.all()
    if staff.role == StaffRole.REVIEWER:
        tasks = tasks.filter(department_id=staff.department_id)
    elif staff.role == StaffRole.WINDOW:
        tasks = tasks.filter(lane="window")
    scope = halls.task_scope(staff)
    if scope is not None:  # 收受分离: a reviewer bound to a hall decides only cases its hall decides
        tasks = tasks.filter(scope)
    return tasks


def task_list(
    *,
    user,
    state: str | None = HumanTaskState.OPEN,
    one_thing: str | None = None,
    assignee: str | None = None,
    due_before: dt.date | None = None,
    due_after: dt.date | None = None,
    post_review: str | None = None,
) -> QuerySet[HumanTask]:
    """A reviewer's department inbox, the earliest due first (tasks without a due date last); window staff
    see the window's tasks; supervisors see all.

    ``assignee``: "me" (claimed by me), "none" (unclaimed) or a username; ``due_before`` / ``due_after``:
    inclusive bounds on the task's due date; ``post_review``: 秒批 tasks only — "pending" (待复核: not yet
    post-reviewed), "done" (复核过的) or "all".
    """
    tasks = (
        _visible_tasks(user)
        .select_related("case", "case__one_thing", "department", "assignee")
        .defer(*(f"case__{name}" for name in ("process_state", "form_data")))
    )
    if state:
        tasks = tasks.filter(state=state)
    if one_thing:
        tasks = tasks.filter(case__one_thing__key=one_thing)
    if assignee == "me":
        tasks = tasks.filter(assignee=user)
    elif assignee == "none":
        tasks = tasks.filter(assignee__isnull=True)
    elif assignee:
        tasks = tasks.filter(assignee__username=assignee)
    if due_before:
        tasks = tasks.filter(due_date__lte=due_before)
    if due_after:
        tasks = tasks.filter(due_date__gte=due_after)
    if post_review:
        tasks = tasks.filter(auto_approved=True)
        if post_review == "pending":
            # An approval that stopped applying (不再适用) issued nothing: there is nothing to post-review.
            tasks = tasks.filter(post_review_outcome="", not_applicable_reason="")
        elif post_review == "done":
            tasks = tasks.exclude(post_review_outcome="")
    return tasks.order_by(F("due_date").asc(nulls_last=True), "created_at", "id")


POST_REVIEW_FILTERS = ("pending", "done", "all")


def post_review_pending_count(*, user) -> int:
    """How many 秒批 tasks of my department wait for their post-review (the inbox's 待复核 tab)."""
    return _visible_tasks(user).filter(auto_approved=True, post_review_outcome="", not_applicable_reason="").count()


def task_counts(*, user, one_thing: str | None = None) -> dict[str, int]:
    """How many of my visible tasks are in each state (for the inbox tabs)."""
    tasks = _visible_tasks(user)
    if one_thing:
        tasks = tasks.filter(case__one_thing__key=one_thing)
    counts = dict.fromkeys(HumanTaskState.values, 0)
    counts.update(dict(tasks.values("state").annotate(n=Count("id")).values_list("state", "n")))
    return counts


def task_get(*, user, task_id: int) -> HumanTask:
    task = task_list(user=user, state=None).filter(pk=task_id).first()
    if task is None:
        raise NotFound("未找到该任务")
    return task


def case_get(*, user, case_no: str) -> Case:
    """A case for staff: the window and supervisors see every case, a reviewer only cases their
    department has a task on; staff bound to a hall only that hall's cases (workflow/halls.py)."""
    staff = staff_of(user)
    if staff is None:
        raise PermissionDenied()
    cases = Case.objects.select_related("one_thing", "process_version").defer(*_CASE_LIGHT)
    if staff.role == StaffRole.REVIEWER:
        cases = cases.filter(tasks__department_id=staff.department_id).distinct()
    scope = halls.case_scope(staff)
    if scope is not None:  # 收受分离: staff bound to a hall see the cases it accepted or decides
        cases = cases.filter(scope)
    case = cases.filter(case_no=case_no).first()
    if case is None:
        raise NotFound("未找到该办件")
    return case


def case_for_applicant(*, case_no: str, query_code: str) -> Case:
    """The case if the query code matches. Unknown case and wrong code are the same answer at the same cost."""
    case = (
        Case.objects.select_related("one_thing", "process_version").defer(*_CASE_LIGHT).filter(case_no=case_no).first()
    )
    stored = case.query_code_hash if case is not None else query_codes.DUMMY_DIGEST
    if not query_codes.matches(query_code, stored) or case is None:
        raise NotFound("办件编号或查询码不正确")
    return case


def case_tasks(case: Case) -> list[HumanTask]:
    return list(case.tasks.select_related("department").order_by("created_at", "id"))


def case_events(case: Case) -> list[CaseEvent]:
    return list(case.events.order_by("created_at", "id"))


def task_view(*, user, task_id: int) -> dict:
    """Everything a reviewer needs on one screen: the form with this department's fields first, the
    materials it needs, the other departments' progress (state only, never their opinions), the timeline."""
    task = task_get(user=user, task_id=task_id)
    case = Case.objects.select_related("one_thing").defer(*_CASE_LIGHT).get(pk=task.case_id)
    merged = composition_of(case).merged_form
    properties = (merged.get("schema") or {}).get("properties", {})
    provenance = merged.get("provenance", {})
    mine = [name for name in properties if any(p["department"] == task.lane for p in provenance.get(name, []))]
    order = mine + [name for name in properties if name not in mine]
    fields = [
        {
            "name": name,
            "title": properties[name].get("title", name),
            "value": case.form_data.get(name),
            "needed_by_me": name in mine,
            "needed_by": sorted({p["department"] for p in provenance.get(name, [])}),
        }
        for name in order
        if name in case.form_data or name in mine
    ]
    materials = [
        m for m in merged.get("materials", []) if any(n.get("department") == task.lane for n in m.get("needed_by", []))
    ]
    others = [
        {"department": t.lane, "department_name": t.department.name, "task": t.name, "state": t.state}
        for t in case_tasks(case)
        if t.department_id and t.lane != task.lane
    ]
    return {"task": task, "case": case, "fields": fields, "materials": materials, "others": others}


# --------------------------------------------------------------------------- the applicant's view

# What the applicant's timeline shows: the steps, and the clock they must be told about (行政许可法 Art. 32,
# 42, 45); no internal work, no staff names.
APPLICANT_EVENTS = frozenset(
    {
        "opened",
        "accept",
        "refuse",
        "require_correction",
        "corrected",
        "resubmit",
        "approve",
        "reject",
        "conclude",
        "deemed_accepted",
        "procedure_started",
        "procedure_ended",
        "deadline_extended",
        "licence_revoked",  # 秒批 revoked after its post-review: the applicant must know
        # What a correction did to the reviews, and a deliberate move to another composition version.
        "reopened",
        "item_not_applicable",
        "item_applicable",
        "migrated",
    }
)
# Department opinions reach the applicant only with the unified feedback or the correction notice, never
# department by department.
FEEDBACK_STATES = frozenset(
    {CaseStatus.APPROVED, CaseStatus.REJECTED, CaseStatus.CONCLUDED, CaseStatus.CORRECTION_REQUIRED}
)
RESULT_STATES = frozenset({CaseStatus.APPROVED, CaseStatus.REJECTED, CaseStatus.CONCLUDED})


def latest_by_lane(tasks: list[HumanTask]) -> dict[str, HumanTask]:
    """The current round's task per department (tasks come in creation order: the last one wins)."""
    return {task.lane: task for task in tasks if task.department_id}


def correction_item_label(item: str, merged_form: dict) -> str:
    """A correction item as the reader knows it: a field's title, a material's name, or the text itself."""
    props = (merged_form.get("schema") or {}).get("properties") or {}
    if item in props:
        return props[item].get("title", item)
    for material in merged_form.get("materials") or []:
        if material.get("code") == item:
            return material.get("name", item)
    return item


def _progress(task: HumanTask | None) -> str:
    if task is None:
        return "pending"
    if task.not_applicable_reason:
        return "not_applicable"
    return "reviewing" if task.state == HumanTaskState.OPEN else "done"


def items_not_applicable(case: Case, tasks: list[HumanTask]) -> list[dict]:
    """The items a correction made stop applying (不再适用), with the reason; their decisions issue nothing."""
    composition = composition_of(case)
    rows = []
    for task in latest_reviews(tasks):
        if task.not_applicable_reason:
            items = composition.items_of_element(task.element_id, task.lane)
            rows.append(
                {
                    "item": "、".join(item.name for item in items) or task.name,
                    "department": task.lane,
                    "department_name": task.department.name,
                    "reason": task.not_applicable_reason,
                }
            )
    return rows


def case_applicant_view(case: Case) -> dict:
    """What the applicant sees with case number + query code (the API's status answer and the status page).

    The keys are the API's ``StatusSerializer`` fields; correction items also carry ``label`` (the field's
    title or the material's name) for the screens, which the API's serializer leaves out.
    """
    tasks = case_tasks(case)
    show_opinions = case.status in FEEDBACK_STATES
    latest = latest_by_lane(tasks)
    codes = case.process_version.departments
    names = dict(Department.objects.filter(code__in=codes).values_list("code", "name"))
    departments = []
    for code in [] if case.status == CaseStatus.NOT_ACCEPTED else codes:
        task = latest.get(code)
        progress = _progress(task)
        departments.append(
            {
                "department": code,
                "department_name": names.get(code, code),
                "progress": progress,
                "progress_label": PROGRESS_LABELS[progress],
                "decision": task.get_decision_display() if show_opinions and task and task.decision else None,
                "opinion": task.opinion if show_opinions and task else None,
            }
        )
    corrections = []
    if case.status == CaseStatus.CORRECTION_REQUIRED:
        merged = composition_of(case).merged_form
        corrections = [
            {
                "department": t.lane,
                "department_name": t.department.name,
                "opinion": t.opinion,
                "items": [
                    {**row, "label": correction_item_label(str(row.get("item", "")), merged)}
                    for row in t.corrections or []
                ],
            }
            for t in latest.values()
            if t.decision == Decision.NEED_CORRECTION
        ]
    refusal = next((t.opinion for t in tasks if t.lane == "window" and t.decision == Decision.REFUSE), "")
    return {
        "case_no": case.case_no,
        "one_thing_name": composition_of(case).name,
        "refusal_reasons": refusal,
        "status": case.status,
        "status_label": case.get_status_display(),
        "outcome": case.outcome,
        "outcome_label": OUTCOME_LABELS.get(case.outcome, ""),
        "opened_at": case.opened_at,
        "concluded_at": case.concluded_at,
        **halls.case_halls(case),  # 收受分离: 收件地 and 审批地
        "departments": departments,
        "corrections": corrections,
        "results": case_results(case, tasks) if case.status in RESULT_STATES else [],
        "items_not_applicable": items_not_applicable(case, tasks),
        # Staff names stay inside the hall: the applicant sees what happened and when, not who did it.
        "timeline": [
            {"at": e.created_at, "kind": e.kind, "label": event_label(e), "department": e.department, "actor": ""}
            for e in case_events(case)
            if e.kind in APPLICANT_EVENTS
        ],
        "promised_date": getattr(case, "promised_due_date", None),
        **clock.case_clock(case, tasks),
        "documents": notices.case_documents(case),
        "files": material_files_for_applicant(case),
        "rating": ratings.rating_state(case),
    }


# --- material files (申请材料文件) --------------------------------------------------------------------------


def material_groups(case: Case) -> list[dict]:
    """The case's files by material, in checklist order: each checklist entry with its ``files`` (oldest
    first); a file whose code left the checklist (a newer composition) is listed at the end under its code."""
    files: dict[str, list] = {}
    for row in MaterialFile.objects.filter(case=case).select_related("uploaded_by").order_by("uploaded_at", "id"):
        files.setdefault(row.material_code, []).append(row)
    groups = [{**material, "files": files.pop(material["code"], [])} for material in materials_checklist(case)]
    groups += [{"code": code, "name": code, "files": rows} for code, rows in files.items()]
    return groups


def case_material_files(*, user, case_no: str) -> tuple[Case, list[dict]]:
    """A case's files by material for whoever may see the case (``case_get``): the window, supervisors and
    administrators, and reviewers of a department with a task on the case."""
    case = case_get(user=user, case_no=case_no)
    return case, material_groups(case)


def material_file_get(*, user, public_id) -> MaterialFile:
    """One file, for whoever may see its case; anyone else gets the same 404 as for an unknown id."""
    try:
        key = public_id if isinstance(public_id, uuid.UUID) else uuid.UUID(str(public_id))
    except ValueError:
        raise NotFound("未找到该文件") from None
    if staff_of(user) is None:
        raise PermissionDenied()
    row = MaterialFile.objects.select_related("case").filter(public_id=key).first()
    if row is None:
        raise NotFound("未找到该文件")
    try:
        case = case_get(user=user, case_no=row.case.case_no)
    except NotFound:
        raise NotFound("未找到该文件") from None
    row.case = case
    return row


def material_file_content(row) -> bytes:
    """The stored bytes, checked against the digest recorded at upload."""
    try:
        with private_storage().open(row.storage_name, "rb") as handle:
            content = handle.read()
    except FileNotFoundError:
        content = None
    if content is None or hashlib.sha256(content).hexdigest() != row.sha256:
        logger.error("material file %s of case %s is missing or altered", row.public_id, row.case_id)
        raise FileDamaged()
    return content


def material_files_for_applicant(case: Case) -> list[dict]:
    """What the applicant's status lookup shows of the files: material, file name, type and size — no content,
    no digest, no uploader."""
    names = {m["code"]: m["name"] for m in composition_of(case).materials}
    return [
        {
            "material_code": code,
            "material_name": names.get(code, code),
            "name": name,
            "content_type": content_type,
            "size": size,
            "uploaded_at": at,
        }
        for code, name, content_type, size, at in MaterialFile.objects.filter(case=case)
        .order_by("uploaded_at", "id")
        .values_list("material_code", "original_name", "content_type", "size", "uploaded_at")
    ]


# --------------------------------------------------------------------------- 延期申请


def extension_request_list(*, user, state: str | None = ExtensionRequestState.PENDING) -> QuerySet[ExtensionRequest]:
    """Extension requests for those who decide them (supervisors, administrators): waiting ones oldest first,
    else the latest decisions first."""
    staff = staff_of(user)
    if staff is None or staff.role not in (StaffRole.SUPERVISOR, StaffRole.ADMINISTRATOR):
        raise PermissionDenied()
    requests = ExtensionRequest.objects.select_related(
        "case", "case__one_thing", "department", "requested_by", "decided_by"
    ).defer(*(f"case__{name}" for name in ("process_state", "form_data")))
    scope = halls.case_scope(staff, "case__")
    if scope is not None:  # 收受分离: a supervisor bound to a hall decides its own cases' requests
        requests = requests.filter(scope)
    if state:
        requests = requests.filter(state=state)
    if state == ExtensionRequestState.PENDING:
        return requests.order_by("requested_at", "id")
    return requests.order_by("-decided_at", "-id")


def case_extension_requests(case: Case) -> list[ExtensionRequest]:
    """A case's extension requests, for the staff who may see the case."""
    return list(
        ExtensionRequest.objects.filter(case_id=case.pk)
        .select_related("department", "requested_by", "decided_by")
        .order_by("requested_at", "id")
    )
