"""事后复核: a reviewer of the department checks a 秒批 (auto-approved) task afterwards, once.

"confirmed" records that the automatic approval stands. "revoked" records that it should not have been
given and revokes the e-licence(s) issued for the task (``revoked_at``, ``revoked_reason``): the applicant's
status then shows the licence as 已撤销 with the reason, and it no longer counts for 免提交 or for another
decision table. A revocation needs the case's unified result (the licences exist only from then on).
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from ..access import require_role
from ..compositions import composition_of
from ..errors import PostReviewTooEarly, ValidationFailed
from ..lifecycle import CaseStatus
from ..models import ELicence, HumanTask
from ..selectors.permissions import ROLES, Action, Viewer, require
from ..step import Step
from .engine import lock_case

POST_REVIEW_OUTCOMES = ("confirmed", "revoked")
# Only once the unified result exists are there licences to revoke.
_RESULT_STATES = (CaseStatus.APPROVED, CaseStatus.REJECTED, CaseStatus.CONCLUDED)


@transaction.atomic
def auto_approval_review(*, user, task_id: int, outcome: str, opinion: str = "") -> HumanTask:
    """A reviewer of the task's department confirms or revokes a 秒批 approval (事后复核), once.

    Another department's task (or another region's case) is reported as not found. A task that was not
    auto-approved, or was already post-reviewed, is a conflict (409); so is a revocation before the case
    has its unified result.
    """
    staff = require_role(user, *ROLES[Action.POST_REVIEW])
    errors: dict[str, list[str]] = {}
    if outcome not in POST_REVIEW_OUTCOMES:
        errors["outcome"] = ["复核结论只能是 confirmed（复核无误）或 revoked（复核撤销）"]
    if outcome == "revoked" and not opinion.strip():
        errors["opinion"] = ["撤销秒批结果时必须写明理由"]
    if errors:
        raise ValidationFailed(field_errors=errors)
    case = lock_case(task_id=task_id, department=staff.department_id)  # serialises two reviewers
    task = HumanTask.objects.select_related("department").get(pk=task_id)
    # 收受分离 (another region's case: not found), not a 秒批 task, reviewed already
    require(Action.POST_REVIEW, Viewer.of(user), case, task=task)
    if outcome == "revoked" and case.status not in _RESULT_STATES:
        raise PostReviewTooEarly()

    now = timezone.now()
    task.post_review_outcome = outcome
    task.post_review_opinion = opinion.strip()
    task.post_reviewed_by = user
    task.post_reviewed_at = now
    HumanTask.objects.filter(pk=task.pk).update(
        post_review_outcome=outcome,
        post_review_opinion=task.post_review_opinion,
        post_reviewed_by=user,
        post_reviewed_at=now,
    )
    step = Step(case=case, instance=None, actor=user)
    step.event("post_reviewed", department=task.lane, task=task.name, outcome=outcome, opinion=task.post_review_opinion)
    if outcome == "revoked":
        licences = list(ELicence.objects.filter(task=task, revoked_at__isnull=True).select_related("item"))
        ELicence.objects.filter(pk__in=[licence.pk for licence in licences]).update(
            revoked_at=now, revoked_reason=task.post_review_opinion
        )
        for licence in licences:
            step.event(
                "licence_revoked",
                department=task.lane,
                number=licence.number,
                item=licence.item_name,
                reason=task.post_review_opinion,
            )
        if not licences:  # a 备案/登记 item: no licence, its result itself is revoked
            item = composition_of(case).item_of_task(task)
            step.event(
                "result_revoked",
                department=task.lane,
                item=item.name if item else task.name,
                reason=task.post_review_opinion,
            )
    step.save_events()
    return task
