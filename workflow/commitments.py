"""告知承诺: opening the 事中事后核查 (post-approval checks) when the licences of items approved on a commitment are
issued — in the approving step (``services.engine.persist_step``) or when a kept 容缺 promise releases a held
licence (``services.promises``). The checks are recorded by ``services.commitments.commitment_check_decide``."""

from __future__ import annotations

from django.utils import timezone

from .calendar import add_working_days
from .compositions import composition_of
from .events import case_event
from .models import CaseEvent, CommitmentCheck, ELicence, MaterialCommitment

CHECK_WORKING_DAYS = 20  # 事中事后核查 within 20 working days of the approval


def open_checks(case, licences: list[ELicence], *, actor=None) -> list[CaseEvent]:
    """With the licences just issued (the approving step, or a kept 容缺 promise): a post-approval check per
    commitment an issued item rests on; returns their unsaved trail entries. Reads the commitments only for a case
    that has some (known from the case's lock)."""
    if not licences or not getattr(case, "has_commitments", True):
        return []
    commitments = {c.material_code: c for c in MaterialCommitment.objects.filter(case=case)}
    if not commitments:
        return []
    composition = composition_of(case)
    by_id = {item.item_id: item for item in composition.items}
    due = add_working_days(timezone.localdate(), CHECK_WORKING_DAYS)
    checks = []
    for licence in licences:
        item = by_id.get(licence.item_id)
        if item is None:
            continue
        for material in item.snapshot.get("materials") or []:
            commitment = commitments.get(material.get("code"))
            if commitment is not None:
                checks.append(
                    CommitmentCheck(
                        case=case,
                        commitment=commitment,
                        item_code=item.code,
                        item_name=item.name,
                        department_id=item.department,
                        due_date=due,
                    )
                )
    CommitmentCheck.objects.bulk_create(checks)
    return [
        case_event(
            case,
            "commitment_check_opened",
            actor,
            department=check.department_id,
            nobody="系统",
            item=check.item_name,
            material=check.commitment.material_name,
            due_date=check.due_date.isoformat(),
        )
        for check in checks
    ]
