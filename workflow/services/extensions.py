"""延期申请: the two-step extension. A reviewer (or the window) asks; a supervisor approves or refuses.

``case_deadline_extend`` (workflow/services/clock.py) records an extension whose approval happened outside the
system; here the approval happens inside it. Both end in the same ``DeadlineExtension`` and the same checks
(case under review, statutory deadline not passed, the law's cap), which are made again at approval time,
under the case lock: the case may have moved on while the request waited.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone

from .. import halls
from ..access import require_role
from ..errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from ..models import ExtensionRequest, ExtensionRequestState, StaffRole
from ..selectors.permissions import Action, require
from .clock import _acting, _check_extendable, _grant_extension, _write_events
from .engine import lock_case

MAX_DAYS = 15  # the law's largest cap (joint handling, Art. 26); the case's own cap is checked too


@transaction.atomic
def case_extension_request(*, user, case_no: str, days: int, reason: str) -> ExtensionRequest:
    """Ask a supervisor to extend the case's limits by ``days`` working days. The window, or a reviewer whose
    department has an open task on the case; one request waiting per case."""
    errors: dict[str, list[str]] = {}
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
        errors["days"] = [f"延长的工作日数须为 1 至 {MAX_DAYS} 的整数"]
    if not reason.strip():
        errors["reason"] = ["请填写延期理由（将告知申请人）"]
    if errors:
        raise ValidationFailed(field_errors=errors)
    case = lock_case(case_no=case_no)
    viewer, facts, department = _acting(user, case)
    now = timezone.now()
    require(Action.REQUEST_EXTENSION, viewer, case, facts=facts)  # extendable now, no other request waiting
    _check_extendable(case, days, now)  # and the law's cap
    try:
        with transaction.atomic():
            request = ExtensionRequest.objects.create(
                case=case, days=days, reason=reason, department_id=department, requested_by=user, requested_at=now
            )
    except IntegrityError:  # the partial unique index: a request that slipped in (cannot, under the lock)
        raise Conflict("该办件已有待批准的延期申请") from None
    _write_events(case, user, ("extension_requested", department or "window", {"days": days, "reason": reason}))
    return request


@transaction.atomic
def extension_request_decide(*, user, request_id: int, approve: bool, note: str = "") -> ExtensionRequest:
    """批准 or 不予批准 a waiting request: supervisors and administrators, never the requester. Approving
    records the extension and moves the case's due dates; refusing needs a reason and moves nothing."""
    staff = require_role(user, StaffRole.SUPERVISOR, StaffRole.ADMINISTRATOR)
    note = note.strip()
    if not approve and not note:
        raise ValidationFailed(field_errors={"note": ["不予批准须说明理由"]})
    case_id = ExtensionRequest.objects.filter(pk=request_id).values_list("case_id", flat=True).first()
    if case_id is None:
        raise NotFound("未找到该延期申请")
    case = lock_case(case_id=case_id)  # the case row first, as every writer does
    if not halls.sees_case(staff, case):
        raise NotFound("未找到该延期申请")
    request = ExtensionRequest.objects.select_for_update().select_related("requested_by").get(pk=request_id)
    if request.state != ExtensionRequestState.PENDING:
        raise Conflict("该延期申请已处理")
    if request.requested_by_id == user.pk:
        raise PermissionDenied("延期须由申请人以外的负责人批准")
    now = timezone.now()
    if approve:
        limits, granted = _check_extendable(case, request.days, now)
        request.extension = _grant_extension(
            case,
            days=request.days,
            reason=request.reason,
            requested_by=request.requested_by,
            approver=user,
            department=request.department_id,
            actor=user,
            limits=limits,
            granted=granted,
            now=now,
        )
        request.state = ExtensionRequestState.APPROVED
    else:
        request.state = ExtensionRequestState.REJECTED
        _write_events(
            case,
            user,
            ("extension_rejected", request.department_id or "window", {"days": request.days, "note": note}),
        )
    request.decided_by, request.decided_at, request.decision_note = user, now, note
    request.save(update_fields=["state", "extension", "decided_by", "decided_at", "decision_note"])
    return request
