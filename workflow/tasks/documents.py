"""Issuing documents in a worker: queued after commit by ``workflow.reactions``."""

from __future__ import annotations

import logging

from celery import shared_task
from celery.signals import worker_process_init
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError

from .. import documents, notices, reactions
from ..calendar import CalendarUnknown
from ..services.documents import document_issue, documents_requeue_missing

logger = logging.getLogger(__name__)

# Worth another try later: the database or the disk was away, the signing key not yet mounted, next year's
# calendar not yet entered. A context error (a bug) is not retried: it would fail the same way each time.
RETRYABLE = (DatabaseError, OSError, ImproperlyConfigured, CalendarUnknown)
MAX_RETRIES = 8


@shared_task(name=reactions.ISSUE_DOCUMENT, bind=True, acks_late=True, max_retries=MAX_RETRIES)
def issue_document(self, case_id: int, key: str) -> int | None:
    """Issue the document ``key`` of case ``case_id`` once; returns the Document id (None: not issuable).

    Idempotent (acks late ⇒ at least once): a second run finds the row and does nothing. After the
    conclusion notice it queues the e-licences of the case, each its own task and key.
    """
    try:
        document = document_issue(case_id=case_id, key=key)
        if document is not None and key == notices.CONCLUSION:
            for licence in notices.licence_keys(case_id):
                reactions.send(case_id, licence)
    except RETRYABLE as exc:
        if self.request.is_eager:  # in-process (embedded run): no broker to come back later; log it
            raise
        countdown = min(600, 10 * 2**self.request.retries)
        logger.warning("document %s of case %s: %s; retrying in %ss", key, case_id, exc, countdown)
        raise self.retry(exc=exc, countdown=countdown) from exc
    return document.pk if document is not None else None


@shared_task(acks_late=True, reject_on_worker_lost=True)
def sweep_missing_documents() -> int:
    """Beat: queue again the documents whose messages were lost (``documents_requeue_missing``)."""
    return len(documents_requeue_missing())


@worker_process_init.connect
def _warm_up(**kwargs) -> None:
    """Pay WeasyPrint's and pyHanko's first-use costs when a worker process starts, not on its first notice."""
    try:
        documents.warm_up()
    except Exception:  # never keep a worker from starting
        logger.exception("document renderer warm-up failed")
