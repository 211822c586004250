"""The audit trail's signed checkpoint (beat, every ONETHING_AUDIT_CHECKPOINT_SECONDS): docs/security.md."""

from celery import shared_task

from ..audit import write_checkpoint


@shared_task(acks_late=True, reject_on_worker_lost=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=5)
def write_audit_checkpoint() -> str | None:
    """Idempotent: writing the same head twice writes the same file name again."""
    path = write_checkpoint()
    return str(path) if path else None
