"""Issuing a document: render, sign, store privately with its sha256 — once per case and key."""

from __future__ import annotations

import logging
import re

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction

from .. import documents, notices
from ..errors import NotIssuable
from ..events import EventKind, case_event
from ..models import Case, Document

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
