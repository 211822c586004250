"""告知承诺 and its 事中事后核查 as the views read them: a case's commitments with their checks (the case page, the
case API, the applicant's status) and a department's checks (the reviewer's list)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from .. import halls
from ..access import staff_of
from ..errors import PermissionDenied
from ..models import Case, CommitmentCheck, MaterialCommitment
from ..models import StaffRole as Role


@dataclass(frozen=True)
class CheckRow:
    id: int
    case_no: str
    item_code: str
    item_name: str
    material_name: str
    department: str
    due_date: dt.date
    overdue: bool
    outcome: str  # "" pending, "passed", "failed"
    outcome_label: str
    opinion: str
    checked_at: dt.datetime | None


@dataclass(frozen=True)
class CommitmentRow:
    material_code: str
    material_name: str
    text: str
    signed_by: str
    signed_at: dt.datetime
    checks: list[CheckRow]


def _check_row(check: CommitmentCheck, case_no: str, material_name: str) -> CheckRow:
    return CheckRow(
        id=check.pk,
        case_no=case_no,
        item_code=check.item_code,
        item_name=check.item_name,
        material_name=material_name,
        department=check.department_id,
        due_date=check.due_date,
        overdue=not check.outcome and check.due_date < timezone.localdate(),
        outcome=check.outcome,
        outcome_label=check.get_outcome_display() if check.outcome else "待核查",
        opinion=check.opinion,
        checked_at=check.checked_at,
    )


def case_commitments(case: Case, commitments: list[MaterialCommitment] | None = None) -> list[CommitmentRow]:
    """The case's commitments, each with its post-approval checks; the checks are read only when there are any."""
    if commitments is None:
        commitments = list(MaterialCommitment.objects.filter(case_id=case.pk))
    if not commitments:
        return []
    checks: dict[int, list[CommitmentCheck]] = {}
    for check in CommitmentCheck.objects.filter(case_id=case.pk).order_by("id"):
        checks.setdefault(check.commitment_id, []).append(check)
    return [
        CommitmentRow(
            material_code=c.material_code,
            material_name=c.material_name,
            text=c.text,
            signed_by=c.signed_by,
            signed_at=c.signed_at,
            checks=[_check_row(k, case.case_no, c.material_name) for k in checks.get(c.pk, [])],
        )
        for c in commitments
    ]


def commitment_checks(*, user, state: str = "pending") -> list[CheckRow]:
    """A reviewer's department's post-approval checks (``pending``, ``done`` or ``all``), the earliest due first;
    supervisors and administrators see every department's. 收受分离: only cases the viewer's hall may see."""
    staff = staff_of(user)
    if staff is None or staff.role not in (Role.REVIEWER, Role.SUPERVISOR, Role.ADMINISTRATOR):
        raise PermissionDenied()
    rows = CommitmentCheck.objects.select_related("case", "commitment").order_by("due_date", "id")
    if staff.role == Role.REVIEWER:
        rows = rows.filter(department_id=staff.department_id)
    if state == "pending":
        rows = rows.filter(outcome="")
    elif state == "done":
        rows = rows.exclude(outcome="")
    return [
        _check_row(check, check.case.case_no, check.commitment.material_name)
        for check in rows[:200]
        if halls.sees_case(staff, check.case)
    ]
