"""Issuing a document: render, sign, store privately with its sha256 — once per case and key."""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections import defaultdict

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from .. import documents, notices, reactions
from ..errors import NotIssuable
from ..events import EventKind, case_event
from ..models import Case, CaseEvent, Document, ELicence

logger = logging.getLogger(__name__)


def document_issue(*, case_id: int, key: str) -> Document | None:
    """The case's document ``key``: the existing row, or a newly issued one; None when the case does not
    exist or does not call for it (logged).

    Idempotent without a lock: rendering (the slow part) runs outside any transaction; the row is inserted
    under the unique (case, key) constraint, and the run that loses a race removes the file it wrote and
    returns the winner's row. So running it twice, or twice at once, leaves one document.
    """
    existing = Document.objects.filter(case_id=case_id, key=key).first()
    if existing is not None:
        return existing
    case = Case.objects.select_related("one_thing").defer("process_state").filter(pk=case_id).first()
    if case is None:
        logger.warning("document %s: case %s does not exist", key, case_id)
        return None
    try:
        notice = notices.notice_for(case, key)
    except NotIssuable as exc:
        logger.warning("document %s of case %s not issued: %s", key, case.case_no, exc.message)
        return None
    issued = documents.issue_pdf(notice.kind, notice.context)

    document = Document(
        case=case,
        kind=notice.kind,
        key=key,
        title=notice.title,
        sha256=issued.sha256,
        size=len(issued.content),
        signed=True,
    )
    document.file.save(f"{_slug(key)}-{issued.sha256[:16]}.pdf", ContentFile(issued.content), save=False)
    try:
        with transaction.atomic():
            document.save()
            case_event(
                case,
                EventKind.DOCUMENT_ISSUED,
                "系统",
                document=document.pk,
                key=key,
                document_kind=notice.kind,
                title=notice.title,
            ).save()
    except IntegrityError:
        document.file.storage.delete(document.file.name)
        winner = Document.objects.filter(case_id=case_id, key=key).first()
        if winner is None:
            raise
        return winner
    except BaseException:
        document.file.storage.delete(document.file.name)
        raise
    logger.info("issued %s for case %s (%s bytes, sha256 %s)", key, case.case_no, document.size, document.sha256)
    return document


def _slug(key: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", key)


# Events that call for a document (notices.keys_for_event).
DOCUMENT_EVENTS = ("accept", "refuse", "require_correction", "approve", "reject", "conclude")


def documents_requeue_missing(*, now: dt.datetime | None = None) -> list[tuple[int, str]]:
    """Beat's second chance for documents whose Celery message was lost: every case with a document-calling event
    between ONETHING_DOCUMENT_SWEEP_LOOKBACK_HOURS ago and ONETHING_DOCUMENT_SWEEP_GRACE_SECONDS ago gets its
    missing documents (and e-licences) queued again. Idempotent: ``document_issue`` issues each key once; a task
    still waiting in the queue simply finds the row. Four queries whatever the number of cases."""
    if not getattr(settings, "ONETHING_ISSUE_DOCUMENTS", True):
        return []
    now = now or timezone.now()
    since = now - dt.timedelta(hours=settings.ONETHING_DOCUMENT_SWEEP_LOOKBACK_HOURS)
    until = now - dt.timedelta(seconds=settings.ONETHING_DOCUMENT_SWEEP_GRACE_SECONDS)
    case_ids = set(
        CaseEvent.objects.filter(kind__in=DOCUMENT_EVENTS, created_at__gte=since, created_at__lte=until).values_list(
            "case_id", flat=True
        )
    )
    if not case_ids:
        return []
    history: dict[int, list] = defaultdict(list)
    for case_id, kind, data in (
        CaseEvent.objects.filter(case_id__in=case_ids).order_by("id").values_list("case_id", "kind", "data")
    ):
        history[case_id].append((kind, data))
    existing = set(Document.objects.filter(case_id__in=case_ids).values_list("case_id", "key"))
    licences: dict[int, list[str]] = defaultdict(list)
    for case_id, code in (
        ELicence.objects.filter(case_id__in=case_ids).order_by("issued_at", "id").values_list("case_id", "item__code")
    ):
        licences[case_id].append(notices.licence_key(code))
    queued = []
    for case_id in sorted(case_ids):
        keys = notices.expected_keys_of(history[case_id])
        if notices.CONCLUSION in keys:
            keys += licences[case_id]
        for key in keys:
            if (case_id, key) not in existing:
                reactions.send(case_id, key)
                queued.append((case_id, key))
    if queued:
        logger.warning("documents queued again (their messages were lost?): %s", queued)
    return queued
