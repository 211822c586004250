"""The SMS outbox as the supervisor sees it (``GET /api/sms`` and the /sms/ screen): what is pending after an
outage, what failed or is 待核实, what went out."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ..access import require_role
from ..errors import ValidationFailed
from ..models import SmsMessage, SmsState, StaffRole
from ..sms import TEMPLATES

ATTENTION = (SmsState.PENDING, SmsState.SENDING, SmsState.UNCERTAIN, SmsState.FAILED)


@dataclass(frozen=True)
class SmsRow:
    id: int
    case_no: str
    template: str
    template_label: str
    recipient: str  # masked: 138****8000
    body: str
    state: str
    state_label: str
    attempts: int
    last_error: str
    next_attempt_at: dt.datetime | None
    created_at: dt.datetime
    sent_at: dt.datetime | None


def _mask(phone: str) -> str:
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 8 else "****"


def sms_row(message: SmsMessage, case_no: str | None = None) -> SmsRow:
    return SmsRow(
        id=message.pk,
        case_no=case_no or message.case.case_no,
        template=message.template,
        template_label=TEMPLATES[message.template].label if message.template in TEMPLATES else message.template,
        recipient=_mask(message.recipient),
        body=message.body,
        state=message.state,
        state_label=SmsState(message.state).label,
        attempts=message.attempts,
        last_error=message.last_error,
        next_attempt_at=message.next_attempt_at,
        created_at=message.created_at,
        sent_at=message.sent_at,
    )


def sms_outbox(*, user, state: str | None = None, limit: int = 200) -> list[SmsRow]:
    """Newest first. ``state``: one state, or "attention" (everything not sent), or None (all)."""
    require_role(user, StaffRole.SUPERVISOR, StaffRole.ADMINISTRATOR)
    rows = SmsMessage.objects.select_related("case").only(
        *(f.name for f in SmsMessage._meta.concrete_fields), "case__case_no"
    )
    if state == "attention":
        rows = rows.filter(state__in=ATTENTION)
    elif state:
        if state not in SmsState.values:
            raise ValidationFailed(
                field_errors={"state": ["状态只能是：" + "、".join(SmsState.values) + " 或 attention"]}
            )
        rows = rows.filter(state=state)
    return [sms_row(message, message.case.case_no) for message in rows.order_by("-created_at", "-id")[:limit]]


def sms_counts(*, user) -> dict[str, int]:
    from django.db.models import Count

    require_role(user, StaffRole.SUPERVISOR, StaffRole.ADMINISTRATOR)
    counts = dict(SmsMessage.objects.order_by().values_list("state").annotate(n=Count("*")).values_list("state", "n"))
    return {state: counts.get(state, 0) for state in SmsState.values}
