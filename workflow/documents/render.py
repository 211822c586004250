"""Context dict → HTML (Django template, autoescaped) → PDF (WeasyPrint, SafeURLFetcher, static stylesheet)."""

from __future__ import annotations

import datetime
import functools
import logging
from pathlib import Path

from django.template import Context, Engine
from django.utils import timezone

from ..statutory_holidays import PROVISIONAL_LABEL, PROVISIONAL_NOTE
from .fetcher import ASSETS_DIR, make_safe_url_fetcher
from .fonts import missing_glyphs
from .kinds import REVIEW_RIGHTS, DocumentKind, validate_context
from .qr import qr_data_uri
from .seal import seal_data_uri

logger = logging.getLogger(__name__)

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
STYLESHEET = ASSETS_DIR / "notice.css"


@functools.cache
def _engine() -> Engine:
    # Our own engine rather than settings.TEMPLATES: autoescape stays on whatever the project configures.
    return Engine(dirs=[str(TEMPLATES_DIR)], autoescape=True, debug=False)


def _display(value):
    """Dates as 2025年3月4日 (aware datetimes in the local zone); rows and lists recursively; the rest as is."""
    if isinstance(value, datetime.datetime):
        value = timezone.localtime(value).date()
    if isinstance(value, datetime.date):
        return f"{value.year}年{value.month}月{value.day}日"
    if isinstance(value, dict):
        return {key: _display(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_display(item) for item in value]
    return value


def _texts(value):
    """Every string of a context, for the glyph check."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _texts(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _texts(item)


def signer_name(kind: str, context: dict) -> str:
    """Who issues and seals the document: a licence's issuing department, else the hall."""
    if kind == DocumentKind.E_LICENCE and context.get("issuer"):
        return str(context["issuer"])
    return str(context["hall_name"])


def render_html(kind: str, context: dict, *, sealed: bool = False) -> str:
    """``sealed``: the page leaves the seal's place empty, for the visible signature to show it there."""
    validate_context(kind, context)
    kind = DocumentKind(kind)
    issued_at = context["issued_at"]
    values = {
        **{key: _display(value) for key, value in context.items()},
        "kind": kind.value,
        "title": kind.label,
        "issued_date": _display(issued_at),
        "issued_at_iso": issued_at.isoformat() if isinstance(issued_at, datetime.datetime) else "",
        "qr_data_uri": qr_data_uri(context["status_url"]),
        "seal_data_uri": seal_data_uri(signer_name(kind, context)),
        "signer_name": signer_name(kind, context),
        "provisional_label": PROVISIONAL_LABEL,
        "provisional_note": PROVISIONAL_NOTE,
        "sealed": sealed,
    }
    if kind == DocumentKind.REFUSAL_NOTICE and not context.get("review_rights"):
        values["review_rights"] = REVIEW_RIGHTS
    return _engine().get_template(f"documents/{kind.value}.html").render(Context(values, autoescape=True))


@functools.cache
def _stylesheet():
    from weasyprint import CSS

    return CSS(filename=str(STYLESHEET), url_fetcher=make_safe_url_fetcher())


def html_to_pdf(html: str) -> bytes:
    """Any HTML to PDF with the notice stylesheet; only data: URIs and our assets can be fetched."""
    from weasyprint import HTML

    document = HTML(string=html, base_url=ASSETS_DIR.as_uri() + "/", url_fetcher=make_safe_url_fetcher())
    return document.write_pdf(stylesheets=[_stylesheet()])


def _check_glyphs(kind: str, context: dict) -> None:
    if missing := missing_glyphs("".join(_texts(context))):
        # Rendered anyway (a fallback font may have it), but a blank box in a citizen's name must be seen.
        logger.warning(
            "document %s %s: no configured font has %s",
            kind,
            context.get("case_no"),
            ", ".join(f"U+{ord(ch):04X}" for ch in sorted(missing)),
        )


_PX_TO_PT = 0.75  # CSS pixels (1/96 in) to PDF points (1/72 in)


def render_for_signing(kind: str, context: dict):
    """The unsigned PDF with the seal's place left empty, and where that place is (``signing.SealPlacement``):
    the visible signature draws the seal there."""
    from weasyprint import HTML

    from .signing import SealPlacement

    _check_glyphs(kind, context)
    html = render_html(kind, context, sealed=True)
    document = HTML(string=html, base_url=ASSETS_DIR.as_uri() + "/", url_fetcher=make_safe_url_fetcher()).render(
        stylesheets=[_stylesheet()]
    )
    placement = None
    for index, page in enumerate(document.pages):
        for box in page._page_box.descendants():
            element = getattr(box, "element", None)
            if element is not None and element.tag == "img" and "seal" in (element.get("class") or "").split():
                x, y = box.content_box_x(), box.content_box_y()
                height = page.height
                placement = SealPlacement(
                    page=index,
                    box=(
                        round(x * _PX_TO_PT),
                        round((height - y - box.height) * _PX_TO_PT),
                        round((x + box.width) * _PX_TO_PT),
                        round((height - y) * _PX_TO_PT),
                    ),
                    signer_name=signer_name(kind, context),
                )
    return document.write_pdf(), placement


def render_pdf(kind: str, context: dict) -> bytes:
    """The unsigned PDF of a document of ``kind`` (see ``kinds.py`` for the context keys)."""
    html = render_html(kind, context)
    _check_glyphs(kind, context)
    return html_to_pdf(html)


def warm_up() -> None:
    """Pay the first render's costs (weasyprint import, font cmaps, stylesheet) ahead, e.g. at worker start."""
    _stylesheet()
    missing_glyphs("一")
