"""Who works on a department task: claim, unclaim and reassign (转办) within the department.

Claims touch no process state, so they lock nothing but the task row: a conditional UPDATE decides a race
(two reviewers claiming at the same instant: one row updated, the other request gets 409), on PostgreSQL
and SQLite alike.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from .. import halls
from ..access import require_role, staff_of
from ..errors import NotFound, TaskAlreadyCompleted, ValidationFailed
from ..events import case_event
from ..models import HumanTask, HumanTaskState, StaffRole
from ..selectors.permissions import ROLES, Action, Viewer, require


def _department_task(user, task_id: int) -> HumanTask:
    staff = staff_of(user)
    tasks = HumanTask.objects.filter(pk=task_id, department__isnull=False)
    if staff is not None and staff.role == StaffRole.REVIEWER:
        tasks = tasks.filter(department_id=staff.department_id)
    scope = halls.task_scope(staff)
    if scope is not None:  # 收受分离: staff bound to a hall work on that hall's cases only
        tasks = tasks.filter(scope)
    task = tasks.select_related("assignee", "case").defer("case__process_state", "case__form_data").first()
    if task is None:
        raise NotFound("未找到该任务")
    return task


def _event(task: HumanTask, kind: str, actor, **data) -> None:
    case_event(task.case_id, kind, actor, department=task.lane, task=task.name, **data).save()


@transaction.atomic
def human_task_claim(*, user, task_id: int) -> HumanTask:
    """认领: the task is mine; others in the department see who works on it."""
    require_role(user, *ROLES[Action.CLAIM])
    viewer = Viewer.of(user)
    task = _department_task(user, task_id)
    require(Action.CLAIM, viewer, task.case, task=task)
    if task.assignee_id == user.pk:
        return task  # claiming one's own task again changes nothing
    now = timezone.now()
    claimed = HumanTask.objects.filter(pk=task.pk, state=HumanTaskState.OPEN, assignee__isnull=True).update(
        assignee=user, claimed_at=now
    )
    if not claimed:  # someone else was quicker: the same rule on the row as it is now
        task.refresh_from_db(fields=["state", "assignee"])
        require(Action.CLAIM, viewer, task.case, task=task)
        return task
    _event(task, "task_claimed", user)
    task.refresh_from_db()
    return task


@transaction.atomic
def human_task_unclaim(*, user, task_id: int) -> HumanTask:
    """Give the task back to the department's pool: its assignee, or a supervisor."""
    require_role(user, *ROLES[Action.UNCLAIM])
    task = _department_task(user, task_id)
    require(Action.UNCLAIM, Viewer.of(user), task.case, task=task)
    released = HumanTask.objects.filter(pk=task.pk, state=HumanTaskState.OPEN, assignee_id=task.assignee_id).update(
        assignee=None, claimed_at=None
    )
    if not released:
        raise TaskAlreadyCompleted()
    _event(task, "task_unclaimed", user)
    task.refresh_from_db()
    return task


@transaction.atomic
def human_task_reassign(*, user, task_id: int, to_username: str, reason: str) -> HumanTask:
    """转办: hand the task to another reviewer of the same department, with a reason."""
    require_role(user, *ROLES[Action.REASSIGN])
    task = _department_task(user, task_id)
    require(Action.REASSIGN, Viewer.of(user), task.case, task=task)
    if not reason.strip():
        raise ValidationFailed(field_errors={"reason": ["转办须说明理由"]})
    target = (
        get_user_model()
        .objects.filter(
            username=to_username,
            is_active=True,
            staff__role=StaffRole.REVIEWER,
            staff__department_id=task.department_id,
        )
        # 收受分离: only to someone who may decide the case (unbound, or of the deciding hall)
        .filter(Q(staff__hall__isnull=True) | Q(staff__hall_id=task.case.deciding_hall_id))
        .first()
    )
    if target is None:
        raise ValidationFailed(field_errors={"to": ["只能转办给本部门的审查人员"]})
    moved = HumanTask.objects.filter(pk=task.pk, state=HumanTaskState.OPEN, assignee_id=task.assignee_id).update(
        assignee=target, claimed_at=timezone.now()
    )
    if not moved:
        raise TaskAlreadyCompleted()
    _event(task, "task_reassigned", user, to=target.get_username(), reason=reason)
    task.refresh_from_db()
    return task
