"""Issued documents (文书) as the views list them, their stored bytes, and the public verification of a PDF."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings

from .. import documents, errors, notices
from ..models import Case, Document
from ..semaphore import cache_semaphore


@dataclass(frozen=True)
class DocumentRow:
    id: int
    kind: str
    kind_label: str
    title: str
    filename: str
    size: int
    sha256: str
    signed: bool
    created_at: dt.datetime


def case_documents(case: Case) -> list[DocumentRow]:
    return [
        DocumentRow(
            id=d.pk,
            kind=d.kind,
            kind_label=d.get_kind_display(),
            title=d.title,
            filename=d.filename,
            size=d.size,
            sha256=d.sha256,
            signed=d.signed,
            created_at=d.created_at,
        )
        for d in notices.case_documents(case)
    ]


def case_document(case: Case, document_id: int) -> Document:
    """A document of this case, to download; another case's document is not found."""
    return notices.case_document(case, document_id)


def document_content(document: Document) -> bytes:
    """The stored bytes, checked against the digest recorded when the document was issued."""
    return notices.document_content(document)


@dataclass(frozen=True)
class DocumentVerification:
    valid: bool
    intact: bool
    signer: str
    signed_at: dt.datetime | None
    reason: str
    sha256: str
    known: bool
    case_no: str | None
    kind: str | None
    title: str | None


def document_verification(content: bytes) -> DocumentVerification:
    """Is this PDF signed by the hall's seal and unchanged, and did this system issue exactly these bytes?"""
    limits = documents.verify_limits()
    ttl = int(limits.wall_seconds) + 5
    with cache_semaphore("document-verify", slots=settings.ONETHING_VERIFY_CONCURRENCY, ttl=ttl):
        try:
            result = documents.verify_pdf_bounded(content)
        except documents.TooComplex as exc:
            raise errors.DocumentTooComplex(f"{errors.DocumentTooComplex.message}（{exc}）") from None
    digest = documents.sha256_hex(content)
    document = notices.document_by_sha256(digest)
    return DocumentVerification(
        valid=result.valid,
        intact=result.intact,
        signer=result.signer,
        signed_at=result.signed_at,
        reason=result.reason,
        sha256=digest,
        known=document is not None,
        case_no=document.case.case_no if document else None,
        kind=document.kind if document else None,
        title=document.title if document else None,
    )
