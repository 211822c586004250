"""Department tasks: the inbox (one order: earliest due first, undated last, then oldest, then id), a task's
row, and the task page — each task coloured by the one supervision rule and carrying what the viewer may do."""

from __future__ import annotations

import datetime as dt
from collections import namedtuple
from collections.abc import Mapping
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db.models import F, Q, QuerySet

from .. import clock, halls
from ..access import staff_of
from ..errors import NotFound, PermissionDenied
from ..models import Case, Decision, HumanTask, HumanTaskState, StaffRole
from . import cases
from .catalogue import department_names
from .materials import Material, checklist, material_groups
from .permissions import TASK_ACTIONS, Facts, Viewer, allowed_actions
from .rows import Rows
from .timeline import TimelineRow, case_timeline

POST_REVIEW_FILTERS = ("pending", "done", "all")
# Lists count their rows up to this many (docs/api.md): a year's completed tasks are never counted one by one
# to draw a tab's number or a page's total.
COUNT_CAP = 1000
# The inbox's one order (docs/api.md): the earliest due date first, tasks without one last, then the oldest.
INBOX_ORDER = (F("due_date").asc(nulls_last=True), "created_at", "id")
# What ``task_list``'s instances read with each task, and the large columns they never read (the one-thing's
# merged form is tens of kilobytes of JSON). The rows the screens and the API show read values (``_TASK_ROW``).
TASK_ROW_RELATED = ("case", "case__one_thing", "department", "assignee", "post_reviewed_by")
TASK_ROW_DEFERRED = ("case__process_state", "case__form_data", "case__one_thing__merged_form")


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
    overdue: bool = False,
) -> QuerySet[HumanTask]:
    """The rows of a reviewer's department inbox (window staff: the window's tasks; supervisors: all), in the
    inbox order.

    ``assignee``: "me" (claimed by me), "none" (unclaimed) or a username; ``due_before`` / ``due_after``:
    inclusive bounds on the task's due date; ``post_review``: 秒批 tasks only — "pending" (待复核: not yet
    post-reviewed), "done" (复核过的) or "all"; ``overdue``: only the yellow and red ones.
    """
    tasks = _visible_tasks(user).select_related(*TASK_ROW_RELATED).defer(*TASK_ROW_DEFERRED)
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
    if overdue:
        tasks = clock.tasks_overdue(tasks)
    return tasks.order_by(*INBOX_ORDER)


def post_review_pending_count(*, user) -> int:
    """How many 秒批 tasks of my department wait for their post-review (the inbox's 待复核 tab)."""
    return _visible_tasks(user).filter(auto_approved=True, post_review_outcome="", not_applicable_reason="").count()


def task_counts(*, user, one_thing: str | None = None) -> dict[str, int]:
    """How many of my visible tasks are in each state (for the inbox tabs), each counted up to ``COUNT_CAP``:
    ``COUNT_CAP`` means that many or more."""
    tasks = _visible_tasks(user)
    if one_thing:
        tasks = tasks.filter(case__one_thing__key=one_thing)
    return {state: tasks.filter(state=state).order_by()[:COUNT_CAP].count() for state in HumanTaskState.values}


def task_get(*, user, task_id: int) -> HumanTask:
    task = task_list(user=user, state=None).filter(pk=task_id).first()
    if task is None:
        raise NotFound("未找到该任务")
    return task


# --------------------------------------------------------------------------- the task row


@dataclass(frozen=True)
class TaskRow:
    """A task as the inbox, the API's task answers and the dashboard's overdue list show it."""

    id: int
    case_no: str
    one_thing: str  # key
    one_thing_name: str
    name: str
    element_id: str
    lane: str
    department: str | None
    department_name: str | None
    review_round: int
    state: str
    state_label: str
    decision: str
    decision_label: str
    opinion: str
    corrections: list
    result: dict
    assignee: str | None  # username
    assignee_name: str
    claimed_at: dt.datetime | None
    created_at: dt.datetime
    completed_at: dt.datetime | None
    limit_days: int | None
    due_date: dt.date | None
    due_date_provisional: bool  # 预计 (docs/clock.md "Provisional dates")
    supervision: str | None
    supervision_label: str
    auto_approved: bool
    post_review_outcome: str
    post_review_outcome_label: str
    post_review_opinion: str
    post_reviewed_by: str | None  # username
    post_reviewed_by_name: str
    post_reviewed_at: dt.datetime | None
    allowed_actions: list[str] = field(default_factory=list)


# What a task row reads, by the name ``_task_row`` gives it: the task's columns, its case's, its users'. Lists read
# these as plain values (``values_list``): a page of rows built as model instances — task, case, one-thing,
# department and two users each — was most of an inbox screen's Python time.
_TASK_ROW = {
    "id": "id",
    "case_no": "case__case_no",
    "one_thing": "case__one_thing__key",
    "one_thing_name": "case__one_thing__name",
    "name": "name",
    "element_id": "element_id",
    "lane": "lane",
    "department_id": "department_id",
    "department_name": "department__name",
    "review_round": "review_round",
    "state": "state",
    "decision": "decision",
    "opinion": "opinion",
    "corrections": "corrections",
    "result": "result",
    "assignee_id": "assignee_id",
    "assignee": "assignee__username",
    "assignee_first_name": "assignee__first_name",
    "assignee_last_name": "assignee__last_name",
    "claimed_at": "claimed_at",
    "created_at": "created_at",
    "completed_at": "completed_at",
    "limit_days": "limit_days",
    "due_date": "due_date",
    "warning_date": "warning_date",
    "due_date_provisional": "due_date_provisional",
    "auto_approved": "auto_approved",
    "post_review_outcome": "post_review_outcome",
    "post_review_opinion": "post_review_opinion",
    "not_applicable_reason": "not_applicable_reason",
    "post_reviewed_by": "post_reviewed_by__username",
    "post_reviewer_first_name": "post_reviewed_by__first_name",
    "post_reviewer_last_name": "post_reviewed_by__last_name",
    "post_reviewed_at": "post_reviewed_at",
    # what the supervision rule and the task rules read of the case
    "case_status": "case__status",
    "case_promised_due_date": "case__promised_due_date",
    "case_paused_since": "case__paused_since",
    "case_accepting_hall_id": "case__accepting_hall_id",
    "case_deciding_hall_id": "case__deciding_hall_id",
}
_TaskValues = namedtuple("_TaskValues", _TASK_ROW)
_TASK_ROW_COLUMNS = tuple(_TASK_ROW.values())


@dataclass(frozen=True)
class RowTask:
    """A task as the supervision rule (``clock.task_supervision``) and the task rules (``permissions.check``) read
    it, from a row's values: no model instance."""

    pk: int
    department_id: str | None
    state: str
    due_date: dt.date | None
    warning_date: dt.date | None
    assignee_id: int | None
    assignee_name: str  # for the rule's "已由…认领"
    auto_approved: bool
    post_review_outcome: str
    not_applicable_reason: str

    @classmethod
    def of(cls, v: _TaskValues, assignee_name: str) -> RowTask:
        return cls(
            pk=v.id,
            department_id=v.department_id,
            state=v.state,
            due_date=v.due_date,
            warning_date=v.warning_date,
            assignee_id=v.assignee_id,
            assignee_name=assignee_name,
            auto_approved=v.auto_approved,
            post_review_outcome=v.post_review_outcome,
            not_applicable_reason=v.not_applicable_reason,
        )


@dataclass(frozen=True)
class RowCase:
    """A task's case as those rules read it, from the same row's values."""

    status: str
    promised_due_date: dt.date | None
    paused_since: dt.datetime | None
    accepting_hall_id: int | None
    deciding_hall_id: int | None

    @classmethod
    def of(cls, v: _TaskValues) -> RowCase:
        return cls(
            status=v.case_status,
            promised_due_date=v.case_promised_due_date,
            paused_since=v.case_paused_since,
            accepting_hall_id=v.case_accepting_hall_id,
            deciding_hall_id=v.case_deciding_hall_id,
        )


# What ``get_state_display`` and ``get_post_review_outcome_display`` say, for values read without an instance.
def _labels(name: str) -> dict[str, str]:
    return {value: str(label) for value, label in HumanTask._meta.get_field(name).flatchoices}


_STATE_LABELS, _POST_REVIEW_LABELS = _labels("state"), _labels("post_review_outcome")


def _task_row(v: _TaskValues, viewer: Viewer) -> TaskRow:
    """The one construction of a task row, from ``_TASK_ROW``'s values. No statement."""
    assignee_name = _person_name(v.assignee, v.assignee_first_name, v.assignee_last_name) if v.assignee_id else ""
    task, case = RowTask.of(v, assignee_name), RowCase.of(v)
    supervision = clock.task_supervision(task, case=case)
    actions = allowed_actions(viewer, case, task=task, only=TASK_ACTIONS) if v.department_id else frozenset()
    return TaskRow(
        id=v.id,
        case_no=v.case_no,
        one_thing=v.one_thing,
        one_thing_name=v.one_thing_name,
        name=v.name,
        element_id=v.element_id,
        lane=v.lane,
        department=v.department_id,
        department_name=v.department_name if v.department_id else None,
        review_round=v.review_round,
        state=v.state,
        state_label=_STATE_LABELS.get(v.state, v.state),
        decision=v.decision,
        decision_label=_decision_label(v.decision),
        opinion=v.opinion,
        corrections=list(v.corrections or []),
        result=dict(v.result or {}),
        assignee=v.assignee if v.assignee_id else None,
        assignee_name=assignee_name,
        claimed_at=v.claimed_at,
        created_at=v.created_at,
        completed_at=v.completed_at,
        limit_days=v.limit_days,
        due_date=v.due_date,
        due_date_provisional=v.due_date_provisional,
        supervision=supervision,
        supervision_label=clock.supervision_label(supervision),
        auto_approved=v.auto_approved,
        post_review_outcome=v.post_review_outcome,
        post_review_outcome_label=_POST_REVIEW_LABELS.get(v.post_review_outcome, v.post_review_outcome),
        post_review_opinion=v.post_review_opinion,
        post_reviewed_by=v.post_reviewed_by if v.post_reviewed_by else None,
        post_reviewed_by_name=_person_name(v.post_reviewed_by, v.post_reviewer_first_name, v.post_reviewer_last_name)
        if v.post_reviewed_by
        else "",
        post_reviewed_at=v.post_reviewed_at,
        allowed_actions=sorted(actions),
    )


def task_row(task: HumanTask, viewer: Viewer) -> TaskRow:
    """A task already read as an instance (with its case, one-thing, department and users loaded: no statement),
    as a row: its ``_TASK_ROW`` values taken from the instance, then the one construction."""
    return _task_row(_TaskValues(*(_attribute(task, path) for path in _TASK_ROW_COLUMNS)), viewer)


def _attribute(task: HumanTask, path: str):
    """A ``_TASK_ROW`` column read from an instance: "assignee__username" is ``task.assignee.username``, None
    when the task has no assignee (as the query's outer join answers)."""
    value = task
    for name in path.split("__"):
        if value is None:
            return None
        value = getattr(value, name)
    return value


def _task_rows(tasks: QuerySet[HumanTask], viewer: Viewer) -> Rows:
    """``tasks`` as task rows, read as values and built page by page."""
    return Rows(tasks, lambda values: _task_row(_TaskValues._make(values), viewer), columns=_TASK_ROW_COLUMNS)


def _decision_label(decision: str) -> str:
    """A task's decision as every list names it ("" while undecided)."""
    return Decision(decision).label if decision else ""


def _person_name(username: str, first_name: str, last_name: str) -> str:
    """A user as every list names them: ``get_full_name()`` (first and last name), else the username."""
    return f"{first_name} {last_name}".strip() or username


def _name(user) -> str:
    return _person_name(user.get_username(), user.first_name, user.last_name)


def inbox(*, user, **filters) -> Rows:
    """The inbox (``task_list``'s filters) as task rows, for the API's pages and the screen alike."""
    return _task_rows(task_list(user=user, **filters), Viewer.of(user))


def task_rows(tasks: QuerySet[HumanTask], viewer: Viewer, *, limit: int | None = None) -> list[TaskRow]:
    rows = _task_rows(tasks.order_by(*INBOX_ORDER), viewer)
    return list(rows) if limit is None else rows[:limit]


def task_row_get(*, user, task_id: int) -> TaskRow:
    """A task the user may see, as its row (one statement); not found: 404."""
    rows = _task_rows(task_list(user=user, state=None).filter(pk=task_id), Viewer.of(user))
    found = rows[:1]
    if not found:
        raise NotFound("未找到该任务")
    return found[0]


@dataclass(frozen=True)
class DoneRow:
    """A decided task as 最近已办 lists it: only what that list shows (no actions: the task is decided)."""

    id: int
    case_no: str
    one_thing_name: str
    name: str
    decision: str
    decision_label: str
    auto_approved: bool
    completed_at: dt.datetime | None


def recent_completed_tasks(*, user, limit: int = 20) -> list[DoneRow]:
    """最近已办: the latest decided tasks, newest first, read as values (a whole task row per line cost the inbox
    screen as much as its open tasks)."""
    tasks = task_list(user=user, state=HumanTaskState.COMPLETED).order_by("-completed_at")[:limit]
    columns = ("id", "case__case_no", "case__one_thing__name", "name", "decision", "auto_approved", "completed_at")
    return [
        DoneRow(pk, case_no, one_thing, name, decision, _decision_label(decision), auto, done)
        for pk, case_no, one_thing, name, decision, auto, done in tasks.values_list(*columns)
    ]


def _overdue(viewer: Viewer) -> QuerySet[HumanTask]:
    if viewer.staff is None:
        raise PermissionDenied()
    tasks = HumanTask.objects.filter(state=HumanTaskState.OPEN, department__isnull=False)
    scope = halls.case_scope(viewer.staff, "case__")
    if scope is not None:
        tasks = tasks.filter(scope)
    return clock.tasks_overdue(tasks)


def overdue_tasks(*, user, limit: int | None = None) -> list[TaskRow]:
    """The dashboard's 黄牌 / 红牌 list: open department tasks that are yellow (past their own due date) or red
    (their case past its promised date), by the one supervision rule; a supervisor bound to a hall sees that
    hall's cases. In the inbox order (the longest overdue first); ``limit``: only the first so many."""
    viewer = Viewer.of(user)
    return task_rows(_overdue(viewer), viewer, limit=limit)


def overdue_count(*, user) -> int:
    """How many tasks ``overdue_tasks`` lists in all."""
    return _overdue(Viewer.of(user)).count()


def reassign_candidates(
    *, user, task_id: int, task: TaskRow | None = None, case: Case | None = None
) -> list[tuple[str, str]]:
    """(username, name) of the active reviewers of the task's department to whom it may be handed (转办): not the
    viewer, and (收受分离) only those who may decide the case. The service refuses a colleague's claimed task.
    ``task`` and ``case``: the task's row and its case as ``task_row_get`` and ``case_get`` read them for this
    user, if the caller has both (the task screen)."""
    if task is not None and case is not None:
        department, deciding_hall = task.department, case.deciding_hall_id
    else:
        read = task_get(user=user, task_id=task_id)
        department, deciding_hall = read.department_id, read.case.deciding_hall_id
    users = (
        get_user_model()
        .objects.filter(is_active=True, staff__role=StaffRole.REVIEWER, staff__department_id=department)
        .exclude(pk=getattr(user, "pk", None))
        .order_by("username")
    )
    if deciding_hall is not None:
        users = users.filter(Q(staff__hall__isnull=True) | Q(staff__hall_id=deciding_hall))
    return [(u.get_username(), _name(u)) for u in users]


# --------------------------------------------------------------------------- the task page


@dataclass(frozen=True)
class ReviewField:
    name: str
    title: str
    value: object
    needed_by_me: bool
    needed_by: list[str]  # department codes


@dataclass(frozen=True)
class TaskPage:
    """Everything a reviewer needs on one screen: the task, the form with this department's fields first, the
    materials it needs (with their files), the other departments' progress (state only), this department's
    earlier rounds, the case's timeline, the clock, and what the viewer may do."""

    task: TaskRow
    case: cases.CaseSummary
    fields: list[ReviewField]
    materials: list[Material]
    other_departments: list[cases.DepartmentProgress]
    history: list[TaskRow]
    own_corrections: list[cases.CorrectionItem]
    corrected_fields: list[str]  # the fields the applicant changed in the latest correction (round > 1)
    resubmitted: cases.Resubmission | None  # what the latest correction carried: fields given, materials' files
    timeline: list[TimelineRow]
    clock: object  # supervision.ClockView
    allowed_actions: list[str]

    def may(self, action: str) -> bool:
        return action in self.allowed_actions


def task_page(
    *,
    user,
    task_id: int,
    task: TaskRow | None = None,
    case: Case | None = None,
    names: Mapping[str, str] | None = None,
) -> TaskPage:
    """The task page for the API (``GET tasks/{id}``) and the screen: a handful of statements, whatever the
    number of fields, materials, departments or events. ``task``, ``case`` and ``names``: as ``task_row_get``,
    ``case_get`` and ``department_names`` read them for this user, if the caller has them (the screen reads
    them all for its form)."""
    from .supervision import case_clock_view

    task = task or task_row_get(user=user, task_id=task_id)
    viewer = Viewer.of(user)
    case = case or cases.case_get(user=user, case_no=task.case_no)
    merged = cases.case_merged_form(case)
    names = names if names is not None else department_names()
    tasks = cases.case_tasks(case)
    department = task.lane
    properties = (merged.get("schema") or {}).get("properties") or {}
    provenance = merged.get("provenance") or {}
    needed = {name: sorted({use["department"] for use in provenance.get(name, [])}) for name in properties}
    mine = [name for name in properties if department in needed[name]]
    fields = [
        ReviewField(
            name=name,
            title=properties[name].get("title", name),
            value=case.form_data.get(name),
            needed_by_me=name in mine,
            needed_by=needed[name],
        )
        for name in mine + [name for name in properties if name not in mine]
    ]
    wanted = cases.case_checklist(case)
    files = {group.code: group.files for group in material_groups(case, wanted)}
    materials = [
        Material(**{**m.__dict__, "files": files.get(m.code, [])})
        for m in checklist(wanted, names)
        if any(use.department == department for use in m.needed_by)
    ]
    facts = Facts(tasks=tasks)
    clock_view = case_clock_view(case, tasks, viewer, names, facts=facts)
    # The case's tasks, read for the clock and the progress, hold this one too: the page's actions are decided on
    # it (with the case's facts), and the department's earlier rounds are rows of them.
    this = next(t for t in tasks if t.pk == task.id)
    actions = allowed_actions(viewer, case, task=_with_case(this, case), facts=facts)
    events = cases.case_events(case)
    return TaskPage(
        task=task,
        case=cases.case_summary(case),
        fields=fields,
        materials=materials,
        other_departments=[
            row for row in cases.progress_rows(case, tasks, viewer, names) if row.department != department
        ],
        history=[task_row(_with_case(t, case), viewer) for t in tasks if t.lane == department and t.pk != task.id],
        own_corrections=cases.correction_items(task.corrections, merged),
        corrected_fields=cases.corrected_fields(case) if task.review_round > 1 else [],
        resubmitted=cases.latest_resubmission(events, merged) if task.review_round > 1 else None,
        timeline=case_timeline(events, viewer, names),
        clock=clock_view,
        allowed_actions=sorted(actions),
    )


def _with_case(task: HumanTask, case: Case) -> HumanTask:
    task.case = case
    return task
