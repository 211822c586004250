"""The calendar in workers: recompute due dates after an administrator changed the working-day calendar.

Queued by the admin when a `CalendarYear` or `CalendarDay` is saved or deleted (after commit);
``manage.py import_calendar`` runs the same work in its own process. Idempotent: a case already recomputed has
nothing left to change, so a redelivered message (acks late) only finishes what a killed worker left.
"""

from __future__ import annotations

from celery import shared_task

from ..services import calendar as services
from .clock import OPTIONS, _queue_on_commit, deliver_notification


def recompute_due_dates(*, years: list[int], reason: str) -> services.Recomputed:
    """Recompute, then queue the delivery of each notice it created (after commit inside a transaction)."""
    report = services.due_dates_recompute(years=years, reason=reason)
    for notification_id in report.notifications:
        _queue_on_commit(deliver_notification, notification_id)
    return report


@shared_task(name="workflow.tasks.calendar.recompute_due_dates_after_calendar_change", **OPTIONS)
def recompute_due_dates_after_calendar_change(years: list[int], reason: str) -> int:
    """The due dates counted through ``years``, and every provisional one, on the calendar as it is now."""
    return recompute_due_dates(years=years, reason=reason).changed
