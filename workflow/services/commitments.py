"""告知承诺 (commitment in place of a certificate) and its 事中事后核查 (post-approval check).

At 受理 the window records, per material whose catalogue entry carries a commitment text (``commitment``), that
the applicant signed that text instead of handing in the certificate (``case_accept(commitments=…)``). The items
needing the material are reviewed and approved on the commitment. When an item's licence is issued, a
post-approval check opens for each commitment the item rests on, for the item's department, due in
``CHECK_WORKING_DAYS`` working days (``workflow/commitments.py``). The department records the check
(``commitment_check_decide``): ``passed`` — the commitment was true; ``failed`` — it was false: the item's licence
is revoked (``revoked_at``, ``revoked_reason``), and the trail and the applicant's status page say so.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from ..access import require_role
from ..errors import NotFound, ValidationFailed
from ..events import case_event
from ..models import CaseEvent, CommitmentCheck, CommitmentCheckOutcome, ELicence, MaterialCommitment
from ..selectors.cases import case_checklist
from ..selectors.permissions import ROLES, Action, Viewer, require
from .engine import lock_case


def check_commitments(case, commitments: list[dict], promised: set[str] = frozenset()) -> list[dict]:
    """The checklist entries the applicant signs a commitment for: each on the case's checklist, with a
    commitment text in the catalogue, named once and not also promised under 容缺."""
    checklist = {m["code"]: m for m in case_checklist(case)}
    errors: dict[str, list[str]] = {}
    checked, seen = [], set()
    for i, entry in enumerate(commitments):
        code = entry.get("material") if isinstance(entry, dict) else None
        material = checklist.get(code)
        if material is None:
            errors[f"commitments.{i}.material"] = [f"“{code}”不在本一件事的材料清单中"]
        elif not material.get("commitment"):
            errors[f"commitments.{i}.material"] = [f"“{material['name']}”不适用告知承诺，须提交材料"]
        elif code in seen:
            errors[f"commitments.{i}.material"] = ["同一材料只能承诺一次"]
        elif code in promised:
            errors[f"commitments.{i}.material"] = [f"“{material['name']}”已容缺承诺后补，不能同时告知承诺"]
        else:
            checked.append(material)
        seen.add(code)
    if errors:
        raise ValidationFailed("告知承诺有误", field_errors=errors)
    return checked


def record_commitments(case, materials: list[dict], *, user) -> list[MaterialCommitment]:
    rows = MaterialCommitment.objects.bulk_create(
        MaterialCommitment(
            case=case,
            material_code=m["code"],
            material_name=m["name"],
            text=m["commitment"],
            signed_by=case.applicant_name,
            recorded_by=user,
        )
        for m in materials
    )
    return rows


COMMITMENT_CHECK_OUTCOMES = tuple(CommitmentCheckOutcome.values)


@transaction.atomic
def commitment_check_decide(*, user, check_id: int, outcome: str, opinion: str = "") -> CommitmentCheck:
    """事中事后核查: a reviewer of the check's department records it, once. ``failed`` (承诺不实) needs the reason and
    revokes the item's licence(s) of the case. Another department's check is not found; a recorded one is 409."""
    staff = require_role(user, *ROLES[Action.CHECK_COMMITMENT])
    errors: dict[str, list[str]] = {}
    if outcome not in COMMITMENT_CHECK_OUTCOMES:
        errors["outcome"] = ["核查结论只能是 passed（核查属实）或 failed（承诺不实）"]
    if outcome == CommitmentCheckOutcome.FAILED and not opinion.strip():
        errors["opinion"] = ["承诺不实时必须写明核查发现的情况"]
    if errors:
        raise ValidationFailed(field_errors=errors)
    found = CommitmentCheck.objects.filter(pk=check_id, department_id=staff.department_id).values_list(
        "case_id", flat=True
    )
    case_id = found.first()
    if case_id is None:
        raise NotFound("未找到该核查")
    case = lock_case(case_id=case_id)
    check = CommitmentCheck.objects.select_related("commitment").get(pk=check_id)
    require(Action.CHECK_COMMITMENT, Viewer.of(user), case, commitment_check=check)
    now = timezone.now()
    check.outcome, check.opinion, check.checked_by, check.checked_at = outcome, opinion.strip(), user, now
    check.save(update_fields=["outcome", "opinion", "checked_by", "checked_at"])
    events = [
        case_event(
            case,
            "commitment_checked",
            user,
            department=check.department_id,
            item=check.item_name,
            material=check.commitment.material_name,
            outcome=outcome,
            outcome_label=CommitmentCheckOutcome(outcome).label,
            opinion=check.opinion,
        )
    ]
    if outcome == CommitmentCheckOutcome.FAILED:
        reason = f"告知承诺不实（{check.commitment.material_name}）：{check.opinion}"
        licences = list(ELicence.objects.filter(case=case, item__code=check.item_code, revoked_at__isnull=True))
        revoked = ELicence.objects.filter(pk__in=[licence.pk for licence in licences])
        revoked.update(revoked_at=now, revoked_reason=reason)
        events += [
            case_event(
                case,
                "licence_revoked",
                user,
                department=check.department_id,
                number=licence.number,
                item=licence.item_name,
                reason=reason,
            )
            for licence in licences
        ]
    CaseEvent.objects.bulk_create(events)
    return check
