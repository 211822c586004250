"""Who may do what to a case or a task: one rule per action, used by the services to refuse and by the screens and
the API (``allowed_actions``) to offer it — so they cannot disagree.

Each rule raises the domain error the service answers with (404 for what the actor may not know exists, 403 for
a wrong role or hall, 409 for the wrong moment); ``allowed_actions`` is the set of actions whose rule passes.
The rules read only what is on the rows they are given (plus, where noted, the case's tasks, pending extension
request and outstanding promises, which the views load anyway): a service pays no extra statement for them.
A task and its case may also come as the plain values a list read (``tasks.RowTask`` / ``RowCase``: the columns
the task rules read), so that a page of rows builds no model instances.

Also here: the one opinion-masking rule (``sees_decisions_of``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from django.utils import timezone
from django_fsm import can_proceed

from .. import calendar as cal
from .. import delivery, halls
from ..access import staff_of
from ..errors import (
    AlreadyPostReviewed,
    CaseSuspended,
    Conflict,
    DeliveryNotProven,
    DomainError,
    InvalidTransition,
    NotAutoApproved,
    NotFound,
    PermissionDenied,
    PromiseOutstanding,
    TaskAlreadyCompleted,
    TaskClaimedByOther,
)
from ..lifecycle import CaseStatus
from ..models import (
    SPECIAL_PROCEDURES,
    Case,
    ClockPause,
    DeliveryMethod,
    ExtensionRequest,
    ExtensionRequestState,
    HumanTask,
    HumanTaskState,
    MaterialPromise,
    Staff,
)
from ..models import StaffRole as Role


class Action(StrEnum):
    # the window, on a case
    ACCEPT = "accept"
    REFUSE = "refuse"
    CORRECT = "correct"  # key in the applicant's correction
    CONCLUDE = "conclude"
    WITHDRAW = "withdraw"  # for the applicant
    REISSUE_QUERY_CODE = "reissue_query_code"
    FULFIL_PROMISE = "fulfil_promise"  # a 容缺 material arrived
    UPLOAD_FILE = "upload_file"
    REMOVE_FILE = "remove_file"
    # the window, or a reviewer whose department has an open task on the case
    START_PROCEDURE = "start_procedure"
    END_PROCEDURE = "end_procedure"
    REQUEST_EXTENSION = "request_extension"
    # the window, on the result's delivery (结果送达)
    CHANGE_DELIVERY = "change_delivery"
    HAND_OVER = "hand_over"  # 一窗通取: hand the result over at the window
    MAIL = "mail"  # record the carrier and waybill of a mailed result
    # on a department task
    CLAIM = "claim"
    UNCLAIM = "unclaim"
    REASSIGN = "reassign"
    COMPLETE = "complete"  # decide: approve, reject, need correction
    POST_REVIEW = "post_review"  # 秒批事后复核
    CHECK_COMMITMENT = "check_commitment"  # 告知承诺的事中事后核查


ACTION_CHOICES = [(str(action), str(action)) for action in Action]
CASE_ACTIONS = (
    Action.ACCEPT,
    Action.REFUSE,
    Action.CORRECT,
    Action.CONCLUDE,
    Action.WITHDRAW,
    Action.REISSUE_QUERY_CODE,
    Action.FULFIL_PROMISE,
    Action.UPLOAD_FILE,
    Action.REMOVE_FILE,
    Action.START_PROCEDURE,
    Action.END_PROCEDURE,
    Action.REQUEST_EXTENSION,
    Action.CHANGE_DELIVERY,
    Action.HAND_OVER,
    Action.MAIL,
)
TASK_ACTIONS = (Action.CLAIM, Action.UNCLAIM, Action.REASSIGN, Action.COMPLETE, Action.POST_REVIEW)
# Who may call each action at all: the services check this first, before reading anything.
ROLES: dict[Action, tuple[str, ...]] = {
    **dict.fromkeys(CASE_ACTIONS[:9], (Role.WINDOW,)),
    **dict.fromkeys(
        (Action.START_PROCEDURE, Action.END_PROCEDURE, Action.REQUEST_EXTENSION), (Role.WINDOW, Role.REVIEWER)
    ),
    **dict.fromkeys((Action.CHANGE_DELIVERY, Action.HAND_OVER, Action.MAIL), (Role.WINDOW,)),
    Action.CLAIM: (Role.REVIEWER,),
    Action.COMPLETE: (Role.REVIEWER,),
    Action.POST_REVIEW: (Role.REVIEWER,),
    Action.CHECK_COMMITMENT: (Role.REVIEWER,),
    Action.UNCLAIM: (Role.REVIEWER, Role.SUPERVISOR, Role.ADMINISTRATOR),
    Action.REASSIGN: (Role.REVIEWER, Role.SUPERVISOR, Role.ADMINISTRATOR),
}
UPLOAD_STATES = (CaseStatus.RECEIVED, CaseStatus.CORRECTION_REQUIRED)
# files only for a promised (容缺) material; after approval too: the material a held conclusion waits for
PROMISE_STATES = (CaseStatus.IN_REVIEW, CaseStatus.SUSPENDED, CaseStatus.APPROVED)
EXTENDABLE_STATES = (CaseStatus.IN_REVIEW, CaseStatus.CORRECTION_REQUIRED)
RESULT_STATES = (CaseStatus.APPROVED, CaseStatus.REJECTED)
NOT_ENDED_STATES = tuple(
    s for s in CaseStatus if s not in (CaseStatus.CONCLUDED, CaseStatus.NOT_ACCEPTED, CaseStatus.WITHDRAWN)
)


@dataclass(frozen=True)
class Viewer:
    """Who asks: a staff member, or (``staff`` None) the applicant, verified by case number and query code."""

    user: object | None
    staff: Staff | None

    @classmethod
    def of(cls, user) -> Viewer:
        return cls(user=user, staff=staff_of(user))

    @classmethod
    def applicant(cls) -> Viewer:
        return cls(user=None, staff=None)

    @property
    def role(self) -> str | None:
        return self.staff.role if self.staff is not None else None

    @property
    def department(self) -> str | None:
        """A reviewer's department; None for everyone else."""
        return self.staff.department_id if self.role == Role.REVIEWER else None

    @property
    def user_id(self):
        return getattr(self.user, "pk", None)

    def sees_decisions_of(self, lane: str) -> bool:
        """The one opinion-masking rule: a reviewer sees its own department's decisions, opinions and correction
        requests and nobody else's (other lanes' progress only); the window, supervisors, administrators — and
        the applicant, once the feedback is given — see them all."""
        return self.department is None or lane == self.department


@dataclass
class Facts:
    """What some rules need beyond the case row; None: read it when a rule needs it."""

    tasks: list[HumanTask] | None = None  # the case's tasks
    pending_extension: bool | None = None
    promised: set[str] | None = None  # codes of outstanding 容缺 promises
    outstanding: list[MaterialPromise] | None = None  # the outstanding promises themselves
    procedures: list[ClockPause] | None = None  # the special procedures running on the case

    def running_procedures(self, case: Case) -> list[ClockPause]:
        if self.procedures is None and case.paused_since is None:
            self.procedures = []  # no pause is open: no statement
        if self.procedures is None:
            rows = ClockPause.objects.filter(case_id=case.pk, ended_at=None, kind__in=SPECIAL_PROCEDURES)
            self.procedures = list(rows.only("pk", "department_id", "ended_at"))
        return self.procedures

    def open_task_departments(self, case: Case) -> tuple[set[str], set[str]]:
        """(departments with any task on the case, departments with an open one)."""
        if self.tasks is None:
            self.tasks = list(HumanTask.objects.filter(case_id=case.pk).only("lane", "department_id", "state"))
        having = {t.department_id for t in self.tasks if t.department_id}
        return having, {t.department_id for t in self.tasks if t.department_id and t.state == HumanTaskState.OPEN}

    def has_pending_extension(self, case: Case) -> bool:
        if self.pending_extension is None:
            pending = ExtensionRequest.objects.filter(case_id=case.pk, state=ExtensionRequestState.PENDING)
            self.pending_extension = pending.exists()
        return self.pending_extension

    def promised_codes(self, case: Case) -> set[str]:
        if self.promised is None:
            self.promised = {p.material_code for p in self.outstanding_promises(case)}
        return self.promised

    def outstanding_promises(self, case: Case) -> list[MaterialPromise]:
        if self.outstanding is None and getattr(case, "has_outstanding_promises", None) is False:
            self.outstanding = []  # known from the case's lock (services.engine.lock_case): no statement
        if self.outstanding is None:
            rows = MaterialPromise.objects.filter(case_id=case.pk, fulfilled_at=None).order_by("due_date", "id")
            self.outstanding = list(rows.only("material_code", "material_name", "due_date"))
        return self.outstanding


# --------------------------------------------------------------------------- the rules


def _role(viewer: Viewer, action: Action) -> None:
    if viewer.role not in ROLES[action]:
        raise PermissionDenied()


def _window(viewer: Viewer, case: Case, action: Action) -> None:
    """The window's acts belong to the hall that accepted the case (收受分离): another hall's clerk is refused
    (403), a clerk whose hall has nothing to do with the case does not find it (404)."""
    _role(viewer, action)
    halls.require_accepting_window(viewer.staff, case)


def acting_department(viewer: Viewer, case: Case, facts: Facts | None = None) -> str | None:
    """Who may stop or extend the case's clock: the window (None), or a reviewer whose department has an open
    task on the case (its code). Another department's case is not found, as everywhere."""
    facts = facts or Facts()
    if viewer.role not in (Role.WINDOW, Role.REVIEWER):
        raise PermissionDenied()
    if viewer.role == Role.WINDOW:
        halls.require_accepting_window(viewer.staff, case)
        return None
    if not halls.sees_case(viewer.staff, case):  # 收受分离: a reviewer bound to a hall decides only its region's
        raise NotFound("未找到该办件")
    having, open_ = facts.open_task_departments(case)
    if viewer.department not in having:
        raise NotFound("未找到该办件")
    if viewer.department not in open_:
        raise PermissionDenied("本部门在该办件上没有在办任务")
    return viewer.department


def _running_procedure(case: Case, department: str | None, facts: Facts) -> ClockPause:
    """A special procedure running on ``case`` that ``department`` (None: the window) may end; none → 409."""
    for pause in facts.running_procedures(case):
        if department is None or pause.department_id == department:
            return pause
    raise Conflict("该办件没有正在进行的特别程序")


def _status(case: Case, allowed, message: str | None = None) -> None:
    if case.status not in allowed:
        raise InvalidTransition(message)


def _applicant_or_window(viewer: Viewer, case: Case, action: Action) -> None:
    if viewer.staff is not None or viewer.user is not None:
        _window(viewer, case, action)


def _department_task(viewer: Viewer, case: Case, task: HumanTask | None) -> None:
    """A reviewer acting on a task of their own department, of a case their hall decides; else not found."""
    if task is not None and (task.department_id is None or task.department_id != viewer.department):
        raise NotFound("未找到该任务")
    if not halls.sees_case(viewer.staff, case):
        raise NotFound("未找到该任务")


def _open(task: HumanTask | None) -> None:
    if task is None or task.state != HumanTaskState.OPEN:
        raise TaskAlreadyCompleted()


def _not_claimed_by_other(viewer: Viewer, task: HumanTask, *, named: bool = False) -> None:
    if task.assignee_id not in (None, viewer.user_id):
        if not named:
            raise TaskClaimedByOther()
        raise TaskClaimedByOther(f"该任务已由{_assignee_name(task)}认领")


def _assignee_name(task) -> str:
    """Who claimed ``task``: a model instance reads its user; a task row read as values carries the name."""
    if isinstance(task, HumanTask):
        return task.assignee.get_full_name() or task.assignee.get_username()
    return task.assignee_name


def check(
    action: Action,
    viewer: Viewer,
    case: Case,
    *,
    task: HumanTask | None = None,
    facts: Facts | None = None,
    material_code: str | None = None,
    pause=None,
    commitment_check=None,
) -> None:
    """Raise the domain error that refuses ``action`` by ``viewer`` on ``case`` (and ``task``), if any.

    ``task``: the department task for task actions (None there means "no longer open"). ``material_code``: the
    material a file is uploaded for. ``pause``: the special procedure to end."""
    facts = facts or Facts()
    if action in (Action.ACCEPT, Action.REFUSE):
        _window(viewer, case, action)
        _status(case, (CaseStatus.RECEIVED,))
    elif action == Action.CORRECT:
        _applicant_or_window(viewer, case, action)
        _status(case, (CaseStatus.CORRECTION_REQUIRED,), "办件当前不需要补正")
    elif action == Action.CONCLUDE:
        _window(viewer, case, action)
        _status(case, RESULT_STATES, "办件尚未形成统一办理结果")
        if case.status == CaseStatus.APPROVED:
            check_promises_kept(case, facts)
        if not delivery.is_proven(case):  # 办结 only once the result is proven delivered
            raise DeliveryNotProven()
    elif action == Action.CHANGE_DELIVERY:
        _applicant_or_window(viewer, case, action)
        if viewer.staff is None and viewer.user is None and case.status in RESULT_STATES:
            raise Conflict("办理结果已形成，如需变更送达方式请联系窗口")  # the applicant: until the result
        check_delivery_changeable(case)
    elif action == Action.HAND_OVER:
        _window(viewer, case, action)
        _status(case, RESULT_STATES, "办件尚未形成统一办理结果，没有可交付的结果")
        if case.delivery_method != DeliveryMethod.PICKUP:
            raise Conflict("送达方式不是窗口领取：请先变更送达方式为窗口领取")
        if delivery.is_proven(case):
            raise Conflict("办理结果已送达")
        if case.status == CaseStatus.APPROVED:  # 容缺 at the end: the licences are held until the material is in
            check_promises_kept(case, facts)
    elif action == Action.MAIL:
        _window(viewer, case, action)
        _status(case, RESULT_STATES, "办件尚未形成统一办理结果，没有可寄出的结果")
        if case.delivery_method != DeliveryMethod.POST:
            raise Conflict("送达方式不是邮寄送达：请先变更送达方式并填写邮寄地址")
        if not delivery.may_change_method(case):
            raise Conflict("办理结果已寄出或已送达")
        if case.status == CaseStatus.APPROVED:
            check_promises_kept(case, facts)
    elif action == Action.WITHDRAW:
        _applicant_or_window(viewer, case, action)
        if not can_proceed(case.withdraw):
            raise InvalidTransition("办件已有办理结果或已结束，不能撤回")
    elif action == Action.REISSUE_QUERY_CODE:
        _window(viewer, case, action)
    elif action == Action.FULFIL_PROMISE:
        _window(viewer, case, action)
        if not facts.promised_codes(case) or (material_code and material_code not in facts.promised_codes(case)):
            raise NotFound("该办件没有这项待补交的容缺材料")
    elif action == Action.UPLOAD_FILE:
        _window(viewer, case, action)
        if case.status in UPLOAD_STATES:
            return
        promised = facts.promised_codes(case) if case.status in PROMISE_STATES else set()
        if not promised or (material_code is not None and material_code not in promised):
            raise InvalidTransition("办件当前状态不能上传材料：只能在受理前、待补正时，或补交容缺承诺的材料时上传")
    elif action == Action.REMOVE_FILE:
        _window(viewer, case, action)
        _status(case, (CaseStatus.RECEIVED,), "办件已受理，材料文件不能再删除")
    elif action == Action.START_PROCEDURE:
        acting_department(viewer, case, facts)
        _status(case, (CaseStatus.IN_REVIEW,), "只有审查中的办件可以启动特别程序")
    elif action == Action.END_PROCEDURE:
        department = acting_department(viewer, case, facts)
        if pause is None:  # the case's question: is there a running procedure this viewer may end?
            pause = _running_procedure(case, department, facts)
        if pause is not None:
            if department is not None and pause.department_id != department:
                raise PermissionDenied("只能结束本部门启动的特别程序")
            if pause.ended_at is not None:
                raise Conflict("该特别程序已结束")
    elif action == Action.REQUEST_EXTENSION:
        acting_department(viewer, case, facts)
        check_extendable(case)
        if facts.has_pending_extension(case):
            raise Conflict("该办件已有待批准的延期申请")
    elif action == Action.CLAIM:
        _role(viewer, action)
        _department_task(viewer, case, task)
        _open(task)
        _not_claimed_by_other(viewer, task, named=True)
    elif action == Action.UNCLAIM:
        _role(viewer, action)
        if viewer.role == Role.REVIEWER:
            _department_task(viewer, case, task)
            if task is not None and task.assignee_id != viewer.user_id:
                raise PermissionDenied("只能退回自己认领的任务")
        elif not halls.sees_case(viewer.staff, case):
            raise NotFound("未找到该任务")
        _open(task)
    elif action == Action.REASSIGN:
        _role(viewer, action)
        if viewer.role == Role.REVIEWER:
            _department_task(viewer, case, task)
            if task is not None:
                _not_claimed_by_other(viewer, task)
        elif not halls.sees_case(viewer.staff, case):
            raise NotFound("未找到该任务")
        _open(task)
    elif action == Action.COMPLETE:
        _role(viewer, action)
        _department_task(viewer, case, task)
        if case.status == CaseStatus.SUSPENDED:
            raise CaseSuspended()
        _open(task)
        _not_claimed_by_other(viewer, task)
    elif action == Action.POST_REVIEW:
        _role(viewer, action)
        _department_task(viewer, case, task)
        if task is None or not task.auto_approved:
            raise NotAutoApproved()
        if task.post_review_outcome:
            raise AlreadyPostReviewed()
        if task.not_applicable_reason:  # its item stopped applying (不再适用): the approval issued nothing
            raise Conflict("该事项补正后已不再适用，秒批结果未产生证照，无需事后复核")
    elif action == Action.CHECK_COMMITMENT:
        _role(viewer, action)
        if commitment_check is None or commitment_check.department_id != viewer.department:
            raise NotFound("未找到该核查")
        if not halls.sees_case(viewer.staff, case):
            raise NotFound("未找到该核查")
        if commitment_check.outcome:
            raise Conflict("该告知承诺已核查，不能重复核查")
    else:  # pragma: no cover - every action has its rule
        raise ValueError(action)


def check_promises_kept(case: Case, facts: Facts | None = None) -> None:
    """容缺 at the end: an approved case concludes only when every promised material is in (a rejected one issues
    nothing, so its promise no longer matters). Names each missing material and its promised date."""
    outstanding = (facts or Facts()).outstanding_promises(case)
    if not outstanding:
        return
    named = {
        f"materials.{p.material_code}": [f"“{p.material_name}”尚未补交（承诺 {p.due_date:%Y-%m-%d} 前补交）"]
        for p in outstanding
    }
    raise PromiseOutstanding(
        "容缺承诺的材料尚未补交，不能办结，相关证照暂不签发："
        + "、".join(f"{p.material_name}（承诺 {p.due_date:%Y-%m-%d} 前补交）" for p in outstanding),
        field_errors=named,
    )


@dataclass(frozen=True)
class BlockedAction:
    """An action the case is at the right moment for but that is refused now, and why (for the window's screen
    and the API): today, 办结 held by an outstanding 容缺 promise."""

    action: str
    code: str
    message: str


def blocked_actions(viewer: Viewer, case: Case, *, facts: Facts | None = None) -> list[BlockedAction]:
    if viewer.role not in ROLES[Action.CONCLUDE] or case.status not in RESULT_STATES:
        return []
    try:
        check(Action.CONCLUDE, viewer, case, facts=facts)
    except (InvalidTransition, NotFound, PermissionDenied, DeliveryNotProven):
        return []  # not proven delivered: the case's ``delivery`` says where the result is and what proves it
    except DomainError as exc:
        return [BlockedAction(action=str(Action.CONCLUDE), code=exc.code, message=exc.message)]
    return []


def check_extendable(case: Case, now=None) -> None:
    """The case may have its limits extended now: accepted, not yet decided, the statutory deadline not passed
    (an expired limit cannot be extended). The law's cap on the days is the extension services' own check."""
    if case.status not in EXTENDABLE_STATES or case.accepted_at is None:
        raise InvalidTransition("只有已受理、尚未作出决定的办件可以延期")
    if case.statutory_due_date is not None and cal.local_date(now or timezone.now()) > case.statutory_due_date:
        raise Conflict("法定办理期限已届满，不能再延期")


def check_delivery_changeable(case: Case) -> None:
    """The window's rule for changing the delivery (the window's CHANGE_DELIVERY and the applicant's own change):
    while the case has not ended, until the result leaves the hall (again after a returned mailing)."""
    _status(case, NOT_ENDED_STATES, "办件已结束，不能变更送达方式")
    if not delivery.may_change_method(case):
        raise Conflict("办理结果已寄出或已送达，不能变更送达方式（邮件退回后可重新选择）")


def require(action: Action, viewer: Viewer, case: Case, **kwargs) -> None:
    """``check`` for the services (the same rule; a name that reads as the precondition it is)."""
    check(action, viewer, case, **kwargs)


def allowed(action: Action, viewer: Viewer, case: Case, **kwargs) -> bool:
    try:
        check(action, viewer, case, **kwargs)
    except DomainError:
        return False
    return True


def allowed_actions(
    viewer: Viewer,
    case: Case,
    *,
    task: HumanTask | None = None,
    facts: Facts | None = None,
    only: Iterable[Action] | None = None,
) -> frozenset[Action]:
    """The actions ``viewer`` may take now: on ``task`` (its task actions, plus the clock's actions of its case)
    when given, else on the case; ``only`` narrows the candidates (an inbox row asks for the task actions alone,
    which read nothing). Only actions of the viewer's role are tried (no statement for the others)."""
    facts = facts or Facts()
    if task is not None:
        candidates: Iterable[Action] = (*TASK_ACTIONS, Action.START_PROCEDURE, Action.REQUEST_EXTENSION)
        if task.department_id is None:
            return frozenset()
    else:
        candidates = CASE_ACTIONS
    if only is not None:
        candidates = [action for action in candidates if action in set(only)]
    return frozenset(
        action
        for action in candidates
        if viewer.role in ROLES[action]
        and allowed(action, viewer, case, task=task if action in TASK_ACTIONS else None, facts=facts)
    )


APPLICANT_ACTIONS = (Action.CORRECT, Action.WITHDRAW, Action.CHANGE_DELIVERY)
APPLICANT_ACTION_CHOICES = [(str(action), str(action)) for action in APPLICANT_ACTIONS]


def applicant_actions(case: Case) -> frozenset[Action]:
    """What the applicant (with case number and query code) may do now: correct once, withdraw before a result,
    change the delivery before the result (signed in: ``POST /api/applicant/cases/{no}/delivery``)."""
    viewer = Viewer.applicant()
    return frozenset(action for action in APPLICANT_ACTIONS if allowed(action, viewer, case))


@dataclass(frozen=True)
class Me:
    """Who is logged in: role and department (``GET /api/auth/me``, the screens' header)."""

    username: str
    full_name: str
    role: str | None
    role_label: str | None
    department: str | None
    department_name: str | None
    hall: str | None  # the hall's name, for staff bound to one (收受分离)


def me(user) -> Me:
    staff = staff_of(user)
    department = staff.department if staff is not None and staff.department_id else None
    hall = halls.hall_by_id(staff.hall_id) if staff is not None and staff.hall_id else None
    return Me(
        username=user.get_username(),
        full_name=user.get_full_name(),
        role=staff.role if staff else None,
        role_label=staff.get_role_display() if staff else None,
        department=staff.department_id if staff else None,
        department_name=department.name if department is not None else None,
        hall=hall.name if hall is not None else None,
    )
