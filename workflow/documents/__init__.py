"""Notices (文书) and e-licences as signed PDFs, from plain dict contexts — no models here.

    pdf = render_pdf(DocumentKind.ACCEPTANCE_RECEIPT, context)   # unsigned PDF bytes
    signed = sign_pdf(pdf)                                        # PAdES B-B, the hall's electronic seal
    verify_pdf(signed)        # VerificationResult(valid=True, intact=True, ..., reason="有效，未被篡改")
    sha256_hex(signed)        # store the PDF privately together with this
    issue_pdf(kind, context)  # render + sign + hash: IssuedPdf(kind, content, sha256)

The context keys of each kind are listed in ``kinds.py``; a missing or blank one raises DocumentContextError
naming all of them. Signing keys and the trusted root are configured as described in ``signing.py``
(``manage.py make_dev_certificate`` makes development ones). ``missing_glyphs`` tells which characters of a
text the configured fonts cannot draw. Rendering imports WeasyPrint on first use (~1 s), so render in a
long-lived worker and call ``warm_up()`` when it starts (e.g. from Celery's ``worker_process_init``).
"""

from __future__ import annotations

from dataclasses import dataclass

from . import render
from .fonts import FONT_FAMILIES, missing_glyphs
from .kinds import REVIEW_RIGHTS, DocumentContextError, DocumentKind
from .pdfcheck import TooComplex
from .render import render_pdf
from .signing import VerificationResult, sha256_hex, sign_pdf, verify_limits, verify_pdf, verify_pdf_bounded

__all__ = [
    "FONT_FAMILIES",
    "REVIEW_RIGHTS",
    "DocumentContextError",
    "DocumentKind",
    "IssuedPdf",
    "TooComplex",
    "VerificationResult",
    "issue_pdf",
    "missing_glyphs",
    "render_pdf",
    "sha256_hex",
    "sign_pdf",
    "verify_limits",
    "verify_pdf",
    "verify_pdf_bounded",
    "warm_up",
]


@dataclass(frozen=True)
class IssuedPdf:
    kind: str
    content: bytes  # the signed PDF
    sha256: str  # hex digest of ``content``

    @property
    def filename(self) -> str:
        return f"{DocumentKind(self.kind).label}.pdf"


def issue_pdf(kind: str, context: dict) -> IssuedPdf:
    """Render, sign and hash one document: a licence by its issuing department (``issuer_code``), the rest by
    the hall; the signature's visible appearance is the seal, where the page shows it."""
    pdf, seal = render.render_for_signing(kind, context)
    department = context.get("issuer_code") if kind == DocumentKind.E_LICENCE else None
    content = sign_pdf(pdf, department=department or None, seal=seal)
    return IssuedPdf(kind=DocumentKind(kind).value, content=content, sha256=sha256_hex(content))


def warm_up() -> None:
    """Pay the first document's costs ahead (~2 s: WeasyPrint and pyHanko imports, font cmaps, stylesheet)."""
    import pyhanko.sign.signers
    import pyhanko.sign.validation  # noqa: F401

    render.warm_up()
