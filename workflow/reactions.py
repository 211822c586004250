"""Side effects of a committed step: which documents to issue, queued to Celery after commit.

``persist_step`` and ``case_conclude`` call in here as their last act. Nothing is read from the database:
the keys follow from the events the step wrote (the statement budget of a lifecycle holds), and the
issuing task reads everything else itself. The task is queued with ``transaction.on_commit``, so a rolled
back step queues nothing and the worker always sees the committed rows; ``robust=True`` so that a broker
hiccup is logged and never turns a committed step into an error for the user.

    accept              → acceptance_receipt                  受理回执
    refuse              → refusal_notice                      不予受理通知书
    require_correction  → correction_notice:round-<n>         补正告知书, one per review round
    approve / reject    → conclusion_notice                   办结通知书 (统一反馈), which then issues
                          e_licence:<item code> for each e-licence of the case   电子证照
    conclude            → conclusion_notice again: a no-op when issued, a second chance when not
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from celery import signature
from django.conf import settings
from django.db import transaction

from . import notices

logger = logging.getLogger(__name__)


def keys_for_events(kinds: Iterable[str], *, review_round: int = 0) -> list[str]:
    """The document keys a step's event kinds call for, in order, without repeats."""
    keys: list[str] = []
    for kind in kinds:
        for key in notices.keys_for_event(kind, review_round):
            if key not in keys:
                keys.append(key)
    return keys


def after_step(step) -> None:
    """Called at the end of ``persist_step``, inside the step's transaction."""
    review_round = max((task.review_round for task in step.completed if task.department_id), default=0)
    for key in keys_for_events((event.kind for event in step.events), review_round=review_round):
        queue_document(step.case.pk, key)


def after_conclude(case) -> None:
    """Called at the end of ``case_conclude`` (which writes no engine step)."""
    queue_document(case.pk, notices.CONCLUSION)


def queue_document(case_id: int, key: str) -> None:
    """Issue the document ``key`` of the case once the current transaction commits."""
    if not getattr(settings, "ONETHING_ISSUE_DOCUMENTS", True):
        return
    transaction.on_commit(lambda: send(case_id, key), robust=True)


# By name, not by import: the task module calls the services, which call in here.
ISSUE_DOCUMENT = "workflow.tasks.documents.issue_document"


def send(case_id: int, key: str) -> None:
    """Queue the issuing task now (no transaction to wait for: a worker's follow-ups). A signature by name still
    runs in-process when Celery is eager (the embedded run): it resolves to the registered task."""
    signature(ISSUE_DOCUMENT, args=(case_id, key)).delay()
