"""The case lifecycle as data: states and the allowed edges.

The BPMN process owns the fine routing; this is the coarse state every screen, report and legal clock
reads. Only ``workflow.services.engine`` turns engine results into these transitions, so the two never
disagree. ``Case`` declares one django-fsm transition per row of TRANSITIONS, checked by a test.
"""

from django.db import models


class CaseStatus(models.TextChoices):
    RECEIVED = "received", "已收件"
    IN_REVIEW = "in_review", "审查中"
    CORRECTION_REQUIRED = "correction_required", "待补正"
    APPROVED = "approved", "准予许可"
    REJECTED = "rejected", "不予许可"
    NOT_ACCEPTED = "not_accepted", "不予受理"
    CONCLUDED = "concluded", "已办结"
    WITHDRAWN = "withdrawn", "已撤回"
    SUSPENDED = "suspended", "已中止（容缺承诺逾期）"


S = CaseStatus

# transition name -> (sources, target)
TRANSITIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "accept": ((S.RECEIVED,), S.IN_REVIEW),
    "refuse": ((S.RECEIVED,), S.NOT_ACCEPTED),
    "require_correction": ((S.IN_REVIEW,), S.CORRECTION_REQUIRED),
    "resubmit": ((S.CORRECTION_REQUIRED,), S.IN_REVIEW),
    "approve": ((S.IN_REVIEW,), S.APPROVED),
    "reject": ((S.IN_REVIEW,), S.REJECTED),
    "conclude": ((S.APPROVED, S.REJECTED), S.CONCLUDED),
    # The applicant may withdraw (撤回) any time before a result exists.
    "withdraw": ((S.RECEIVED, S.IN_REVIEW, S.CORRECTION_REQUIRED, S.SUSPENDED), S.WITHDRAWN),
    # 容缺受理: a promised material not handed in by its due date stops the review until it arrives.
    "suspend": ((S.IN_REVIEW,), S.SUSPENDED),
    "resume": ((S.SUSPENDED,), S.IN_REVIEW),
}

TERMINAL_STATES = frozenset({S.NOT_ACCEPTED, S.CONCLUDED, S.WITHDRAWN})


def transition_between(source: str, target: str) -> str | None:
    """The name of the edge from source to target, or None when there is none."""
    for name, (sources, to) in TRANSITIONS.items():
        if to == target and source in sources:
            return name
    return None
