"""容缺受理 sweep: suspend cases whose promised materials are overdue (beat, every few minutes)."""

from celery import shared_task

from ..services.promises import promises_lapse


@shared_task(acks_late=True, reject_on_worker_lost=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=5)
def promises_lapse_sweep() -> int:
    """Idempotent: a case already suspended, or whose material arrived, is skipped."""
    return promises_lapse()
