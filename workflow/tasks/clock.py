"""The legal clock in workers: beat's sweeps, firing one due timer, delivering one notification.

Deadlines live in database rows (``DueTimer``, the due dates of cases and tasks); beat only wakes the
sweeps, and a broker countdown is never the source of truth. Every task takes ids and is idempotent, acks
late and is rejected back to the queue when its worker dies (RabbitMQ redelivers at once), so a message may
run twice and takes effect once. Work found by a sweep is queued only after the sweep's transaction
commits; a message lost between that commit and the broker is found again: an unfired claimed timer is
re-claimed after ONETHING_TIMER_RECLAIM_SECONDS, an unsent notification is re-queued by the next sweep.
"""

from __future__ import annotations

import datetime as dt
import logging
from functools import partial

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError, transaction
from django.utils import timezone

from ..errors import ConcurrentUpdate
from ..models import Notification
from ..services import clock as services

logger = logging.getLogger(__name__)

# A database that went away or a lock conflict is worth another try, later and later; anything else is a
# bug that would fail the same way each time.
RETRYABLE = (OperationalError, InterfaceError, ConcurrentUpdate)
OPTIONS = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": RETRYABLE,
    "retry_backoff": 2,
    "retry_backoff_max": 300,
    "retry_jitter": True,
    "max_retries": 10,
    "ignore_result": True,
}


def _queue_on_commit(task, *args) -> None:
    # robust: a broker hiccup after commit is logged, not raised; the next sweep finds the work again.
    transaction.on_commit(partial(task.delay, *args), robust=True)


@shared_task(name="workflow.tasks.clock.sweep_due_timers", **OPTIONS)
def sweep_due_timers() -> int:
    """Beat, every ONETHING_TIMER_SWEEP_SECONDS: claim due timer rows and queue one firing per row."""
    with transaction.atomic():
        ids = services.due_timers_claim()
        for timer_id in ids:
            _queue_on_commit(fire_due_timer, timer_id)
    return len(ids)


@shared_task(name="workflow.tasks.clock.fire_due_timer", **OPTIONS)
def fire_due_timer(timer_id: int) -> str:
    """Fire one due row (a BPMN timer: the case's process runs on, e.g. into an escalation path)."""
    return services.due_timer_fire(timer_id=timer_id)


@shared_task(name="workflow.tasks.clock.sweep_clock", **OPTIONS)
def sweep_clock() -> int:
    """Beat, every ONETHING_CLOCK_SWEEP_SECONDS: deemed acceptance, warnings, yellow and red cards; queue
    the new notifications and any left unsent."""
    with transaction.atomic():
        ids = services.deemed_acceptance_sweep() + services.supervision_sweep()
        stale = timezone.now() - dt.timedelta(seconds=settings.ONETHING_TIMER_RECLAIM_SECONDS)
        ids += list(
            Notification.objects.filter(sent_at__isnull=True, created_at__lt=stale)
            .exclude(pk__in=ids)
            .values_list("pk", flat=True)[:500]
        )
        for notification_id in ids:
            _queue_on_commit(deliver_notification, notification_id)
    return len(ids)


@shared_task(name="workflow.tasks.clock.deliver_notification", **OPTIONS)
def deliver_notification(notification_id: int) -> str:
    return services.notification_deliver(notification_id=notification_id)
