"""Department reviewers deciding their parallel tasks."""

from __future__ import annotations

from django.db import transaction

from ..access import require_role
from ..compositions import composition_of
from ..errors import ValidationFailed
from ..licence_numbers import licence_number_reserve
from ..models import Case, Decision, HumanTask, HumanTaskState
from ..selectors import permissions
from ..selectors.permissions import Action, Viewer
from ..step import Step
from .engine import complete_engine_task, lock_task, persist_step, restore_instance

REVIEW_DECISIONS = (Decision.APPROVE, Decision.REJECT, Decision.NEED_CORRECTION)


@transaction.atomic
def human_task_complete(
    *,
    user,
    task_id: int,
    decision: str,
    opinion: str = "",
    corrections: list[dict] | None = None,
    result: dict | None = None,
    legal_basis: str = "",
) -> HumanTask:
    """A department's decision on its review task: approve, reject (不予许可) or need correction (补正).

    A rejection states its reasons (``opinion``) and may state its legal basis (``legal_basis``, e.g.
    《食品经营许可管理办法》第十一条); the 办结通知书 prints both, with the item's 设定依据 when none was
    entered (行政许可法第三十八条).

    Another department's task is reported as not found, so its existence is not revealed. A task that
    was already decided gives TaskAlreadyCompleted (HTTP 409), also when two requests race: the case row
    lock serialises them and the second sees the task closed.
    """
    staff = require_role(user, *permissions.ROLES[Action.COMPLETE])
    corrections, result = corrections or [], result or {}
    _check_decision(decision, opinion, corrections, result)
    if legal_basis.strip() and decision != Decision.REJECT:
        raise ValidationFailed(field_errors={"legal_basis": ["只有不予许可时才填写法律依据"]})
    task = lock_task(task_id=task_id, department=staff.department_id)
    case: Case = task.case
    step = Step(case=case, instance=restore_instance(case), actor=user, open_tasks=[task])
    if task.state == HumanTaskState.OPEN and task.engine_task_id not in step.ready_before:
        task.refresh_from_db(fields=["state", "assignee"])  # decided while this step waited for the case
    # 收受分离 (another region's case: not found), a suspended case, a decided task, a colleague's claim
    permissions.require(Action.COMPLETE, Viewer.of(user), case, task=task)
    if result.get("licence_no"):
        item = composition_of(case).item_of_task(task)
        snapshot = item.snapshot if item is not None else {}
        licence_number_reserve(case=case, task=task, item_snapshot=snapshot, number=result["licence_no"])
    department = task.lane
    reviews = step.instance.task_value(task.engine_task_id, "reviews", {})
    # Each department writes only its own key: branch data is deep-merged at the join.
    complete_engine_task(step.instance, task, {"reviews": {**reviews, department: str(decision)}})
    task.decision, task.opinion, task.corrections, task.result = decision, opinion, corrections, result
    task.legal_basis = legal_basis.strip()
    task.assignee = user
    step.completed.append(task)
    step.event(
        "task_completed",
        department=department,
        task=task.name,
        decision=str(decision),
        review_round=task.review_round,
    )
    persist_step(step)
    task.state = HumanTaskState.COMPLETED
    return task


def _check_decision(decision: str, opinion: str, corrections: list[dict], result: dict) -> None:
    errors: dict[str, list[str]] = {}
    if decision not in REVIEW_DECISIONS:
        errors["decision"] = ["决定只能是 approve、reject 或 need_correction"]
    if decision in (Decision.REJECT, Decision.NEED_CORRECTION) and not opinion.strip():
        errors["opinion"] = ["不予许可或要求补正时必须填写意见和理由"]
    if decision == Decision.NEED_CORRECTION and not corrections:
        errors["corrections"] = ["要求补正时请逐项列出需要补正的内容"]
    if decision != Decision.NEED_CORRECTION and corrections:
        errors["corrections"] = ["只有要求补正时才能填写补正项"]
    if result and decision != Decision.APPROVE:
        errors["result"] = ["只有准予时才能填写办理结果（证照编号、有效期）"]
    if result.get("valid_from") and result.get("valid_to") and result["valid_to"] < result["valid_from"]:
        errors["result.valid_to"] = ["有效期截止日期不能早于起始日期"]
    if errors:
        raise ValidationFailed(field_errors=errors)
