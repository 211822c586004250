"""Sending the SMS outbox: each row at most once, none lost.

``sms_deliver(message_id)`` is what the Celery task runs (at least once: acks late). It claims the row in its own
short transaction (pending → sending, committed), calls the provider outside any transaction, then records the
outcome (sent / back to pending with a backoff / failed). A duplicate or redelivered message finds the row sent or
claimed and does nothing; a row left *sending* by a sender that died mid-call may or may not have gone out, so
it is never resent by itself: after ``ONETHING_SMS_CLAIM_SECONDS`` the sweep marks it 待核实 (uncertain) for the
supervisor, who resends it or not (``sms_resend``). A provider outage leaves rows pending with the error, retried
by the beat sweep (``sms_sweep``) with an exponential backoff; the supervisor sees them (``GET /api/sms``).
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .. import sms
from ..access import require_role
from ..errors import Conflict, NotFound
from ..models import SmsMessage, SmsState, StaffRole
from ..sms.providers import ProviderRefused, ProviderUnavailable, provider

logger = logging.getLogger("onething.sms")


def backoff_seconds(attempts: int) -> int:
    """30 s, 1 min, 2 min, … capped at one hour."""
    return min(3600, 30 * 2 ** max(attempts - 1, 0))


def sms_deliver(*, message_id: int) -> str:
    """Send one outbox row once; returns what happened (sent / already_sent / in_flight / retry_later / failed)."""
    now = timezone.now()
    with transaction.atomic():
        row = SmsMessage.objects.select_for_update().filter(pk=message_id).first()
        if row is None:
            return "missing"
        if row.state == SmsState.SENT:
            return "already_sent"
        if row.state in (SmsState.SENDING, SmsState.UNCERTAIN, SmsState.FAILED):
            return "in_flight" if row.state == SmsState.SENDING else str(row.state)
        if row.next_attempt_at is not None and row.next_attempt_at > now:
            return "not_due"
        row.state, row.claimed_at, row.attempts = SmsState.SENDING, now, row.attempts + 1
        row.save(update_fields=["state", "claimed_at", "attempts"])
    try:
        sent = provider().send(
            phone=row.recipient, template=row.template, params=row.params, body=row.body, key=row.idempotency_key
        )
    except ProviderUnavailable as exc:
        retry_at = timezone.now() + dt.timedelta(seconds=backoff_seconds(row.attempts))
        SmsMessage.objects.filter(pk=row.pk, state=SmsState.SENDING).update(
            state=SmsState.PENDING, next_attempt_at=retry_at, last_error=str(exc)[:500], claimed_at=None
        )
        logger.warning("SMS %s: %s; retrying at %s", row.pk, exc, retry_at)
        return "retry_later"
    except ProviderRefused as exc:
        SmsMessage.objects.filter(pk=row.pk, state=SmsState.SENDING).update(
            state=SmsState.FAILED, last_error=str(exc)[:500]
        )
        return "failed"
    SmsMessage.objects.filter(pk=row.pk, state=SmsState.SENDING).update(
        state=SmsState.SENT, sent_at=timezone.now(), provider=sent.provider, provider_message_id=sent.message_id[:100]
    )
    return "sent"


def sms_sweep(*, now: dt.datetime | None = None) -> int:
    """The beat's pass: queue every pending row that is due (new or backed off), and mark 待核实 the rows whose
    sender has held them too long. Returns how many were queued."""
    now = now or timezone.now()
    stale = now - dt.timedelta(seconds=settings.ONETHING_SMS_CLAIM_SECONDS)
    SmsMessage.objects.filter(state=SmsState.SENDING, claimed_at__lt=stale).update(
        state=SmsState.UNCERTAIN, last_error="发送过程中断，无法确认是否已发出：请核实后决定是否重发"
    )
    due = list(
        SmsMessage.objects.filter(state=SmsState.PENDING)
        .exclude(next_attempt_at__gt=now)
        .order_by("created_at")
        .values_list("pk", flat=True)[:500]
    )
    for pk in due:
        with transaction.atomic():
            sms.queue(pk)
    return len(due)


@transaction.atomic
def sms_resend(*, user, message_id: int) -> SmsMessage:
    """效能监督: send again a row that failed or is 待核实 (after checking with the applicant); one more row state,
    the same idempotency key."""
    require_role(user, StaffRole.SUPERVISOR, StaffRole.ADMINISTRATOR)
    row = SmsMessage.objects.select_for_update().filter(pk=message_id).first()
    if row is None:
        raise NotFound("未找到该短信")
    if row.state not in (SmsState.FAILED, SmsState.UNCERTAIN, SmsState.PENDING):
        raise Conflict("该短信已发送或正在发送，不能重发")
    row.state, row.next_attempt_at, row.claimed_at = SmsState.PENDING, None, None
    row.save(update_fields=["state", "next_attempt_at", "claimed_at"])
    sms.queue(row.pk)
    return row
