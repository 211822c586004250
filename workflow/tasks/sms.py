"""Sending the SMS outbox in a worker: one task per row, queued after the event's commit; the beat sweeps what is
due again (an outage's backoff lives in the rows, not in broker countdowns)."""

from __future__ import annotations

from celery import shared_task

from ..services.sms import sms_deliver, sms_sweep
from ..sms import SEND_TASK


@shared_task(name=SEND_TASK, acks_late=True)
def send_sms(message_id: int) -> str:
    """Idempotent: a redelivered or duplicate message finds its row sent or claimed and sends nothing."""
    return sms_deliver(message_id=message_id)


@shared_task(name="workflow.tasks.sms.sweep_sms_outbox", acks_late=True)
def sweep_sms_outbox() -> int:
    return sms_sweep()
