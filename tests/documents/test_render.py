"""Every kind renders, with its Chinese text, real CJK glyphs, the header and footer on every page, and a QR code."""

import re
import subprocess
import time

import pytest
import segno
from django.utils.html import escape
from PIL import Image

from tests.documents.conftest import CASE_NO, CONTEXTS, HALL, context_strings, page_count, pdf_text, run, squash
from workflow.documents import FONT_FAMILIES, REVIEW_RIGHTS, DocumentKind, missing_glyphs, render_pdf
from workflow.documents.fonts import covered_code_points, font_faces
from workflow.documents.qr import qr_data_uri
from workflow.documents.render import STYLESHEET, render_html
from workflow.documents.seal import seal_data_uri, seal_svg

KINDS = list(DocumentKind)


@pytest.mark.parametrize("kind", KINDS)
def test_the_text_of_every_kind_contains_its_context(rendered, kind):
    text = squash(pdf_text(rendered[kind]))
    expected = [DocumentKind(kind).label, HALL, CASE_NO, *context_strings(CONTEXTS[kind])]
    absent = [s for s in expected if squash(s) not in text]
    assert not absent
    assert "王䶮" in text or kind == DocumentKind.E_LICENCE  # the Extension A name character survives
    assert "䶮" in text


def test_the_refusal_states_the_right_to_review_and_litigation(rendered):
    text = squash(pdf_text(rendered[DocumentKind.REFUSAL_NOTICE]))
    assert squash(REVIEW_RIGHTS) in text
    assert "六十日内依法申请行政复议" in text and "六个月内依法向人民法院提起行政诉讼" in text


def test_the_receipt_fits_one_a4_portrait_page(rendered):
    info = run("pdfinfo", str(rendered[DocumentKind.ACCEPTANCE_RECEIPT]))
    assert re.search(r"Page size:\s+595\.\d+ x 841\.\d+ pts \(A4\)", info)
    assert page_count(rendered[DocumentKind.ACCEPTANCE_RECEIPT]) == 1


@pytest.mark.parametrize("kind", KINDS)
def test_a_cjk_font_is_embedded(rendered, kind):
    rows = run("pdffonts", str(rendered[kind])).splitlines()[2:]
    embedded = [row.split()[0] for row in rows if re.search(r"\byes\s+yes\s+yes\b", row)]
    assert any("WenQuanYi" in name for name in embedded), rows
    assert all("WenQuanYi" in name for name in embedded), f"a fallback font was used: {embedded}"


def test_the_extension_a_character_is_drawn_from_zen_hei(rendered):
    # Micro Hei has no 䶮; the stylesheet's second family must have supplied it.
    fonts = run("pdffonts", str(rendered[DocumentKind.ACCEPTANCE_RECEIPT]))
    assert "WenQuanYi-Zen-Hei" in fonts
    assert 0x4DAE in covered_code_points()


@pytest.mark.parametrize("kind", KINDS)
def test_the_configured_fonts_cover_every_character_printed(rendered, kind):
    for text in context_strings(CONTEXTS[kind]):
        assert missing_glyphs(text) == set(), text
    # …and the templates' own wording, as extracted from the PDF.
    assert missing_glyphs(pdf_text(rendered[kind])) == set()


def test_missing_glyphs_detects_what_no_configured_font_has():
    # Extension B names (𠮷 U+20BB7, 𪚥 U+2A6A5) are covered by HanaMinB; emoji and private use are not.
    assert missing_glyphs("吉野𠮷 𪚥") == set()
    assert missing_glyphs("王䶮 😀\ue000\n") == {"😀", "\ue000"}
    assert missing_glyphs("") == set()


def test_an_extension_b_name_is_drawn_with_the_last_fallback_font(tmp_path, caplog):
    context = {**CONTEXTS[DocumentKind.E_LICENCE], "holder": "𠮷田 一郎"}
    with caplog.at_level("WARNING", logger="workflow.documents.render"):
        pdf = render_pdf(DocumentKind.E_LICENCE, context)
    assert "U+20BB7" not in caplog.text
    path = tmp_path / "licence.pdf"
    path.write_bytes(pdf)
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    assert "HanaMinB" in fonts


def test_rendering_a_name_no_font_can_draw_logs_the_code_point(caplog):
    context = {**CONTEXTS[DocumentKind.E_LICENCE], "holder": "王😀"}
    with caplog.at_level("WARNING", logger="workflow.documents.render"):
        render_pdf(DocumentKind.E_LICENCE, context)
    assert "U+1F600" in caplog.text


def test_the_fonts_are_the_wenquanyi_pair_with_an_extension_b_fallback_and_the_stylesheet_asks_for_them():
    faces = font_faces()
    assert [face.family for face in faces] == list(FONT_FAMILIES)
    assert list(FONT_FAMILIES) == ["WenQuanYi Micro Hei", "WenQuanYi Zen Hei", "HanaMinB"]
    assert all(face.path.is_file() for face in faces)
    families = ", ".join(f'"{family}"' for family in FONT_FAMILIES)
    assert f"font-family: {families}, sans-serif;" in STYLESHEET.read_text()


def test_every_page_shows_the_hall_title_case_number_and_footer(tmp_path):
    context = dict(CONTEXTS[DocumentKind.CORRECTION_NOTICE])
    context["items"] = [
        {"department": "区市场监督管理局", "item": f"事项 {i}", "reason": f"第 {i} 项材料需要补正，请按要求补齐"}
        for i in range(1, 61)
    ]
    path = tmp_path / "long.pdf"
    path.write_bytes(render_pdf(DocumentKind.CORRECTION_NOTICE, context))
    pages = page_count(path)
    assert pages >= 2
    for page in range(1, pages + 1):
        text = squash(pdf_text(path, page))
        assert HALL in text and "补正告知书" in text and CASE_NO in text, page
        assert "任何改动都会使签名失效" in text and f"第{page}页/共{pages}页" in text, page
    # Every row is there, and the seal block ends the document.
    text = squash(pdf_text(path))
    assert all(f"事项{i}" in text for i in range(1, 61))


def _band(profile: list[bool], gap: int) -> tuple[int, int]:
    """The first run of dark lines, ended by ``gap`` light lines in a row (a QR symbol never has that many)."""
    start = profile.index(True)
    end, light = start, 0
    for i in range(start, len(profile)):
        if profile[i]:
            end, light = i + 1, 0
        else:
            light += 1
            if light >= gap:
                break
    return start, end


def _read_qr(png_path, size: int, gap: int) -> list[list[bool]]:
    """Read a QR symbol back from a rendering: find its dark square, sample the centre of each module."""
    image = Image.open(png_path).convert("L")
    pixels = image.load()
    width, height = image.size
    top, bottom = _band([any(pixels[x, y] < 128 for x in range(width)) for y in range(height)], gap)
    left, right = _band([any(pixels[x, y] < 128 for y in range(top, bottom)) for x in range(width)], gap)
    cell_w, cell_h = (right - left) / size, (bottom - top) / size
    return [
        [pixels[int(left + (c + 0.5) * cell_w), int(top + (r + 0.5) * cell_h)] < 128 for c in range(size)]
        for r in range(size)
    ]


def test_the_qr_code_on_the_page_encodes_the_status_url(rendered, tmp_path):
    context = CONTEXTS[DocumentKind.ACCEPTANCE_RECEIPT]
    assert '<img src="data:image/svg+xml' in render_html(DocumentKind.ACCEPTANCE_RECEIPT, context)
    # The code sits at the top right of page 1, below the running header's rule (22 mm on the receipt) and right of the
    # title. Rasterise that corner and read the symbol back module by module.
    dpi = 600
    mm = dpi / 25.4
    prefix = tmp_path / "qr"
    x, y, w, h = (round(v * mm) for v in (160, 23, 35, 35))
    crop = ["-x", str(x), "-y", str(y), "-W", str(w), "-H", str(h)]
    run(
        "pdftoppm",
        "-r",
        str(dpi),
        "-png",
        "-singlefile",
        "-gray",
        *crop,
        str(rendered[DocumentKind.ACCEPTANCE_RECEIPT]),
        str(prefix),
    )
    expected = [[bool(m) for m in row] for row in segno.make(context["status_url"], error="m", micro=False).matrix]
    # Inside a symbol at most one module (~0.6 mm) in a row is light across its whole width; the quiet zone is 4.
    found = _read_qr(prefix.with_suffix(".png"), len(expected), gap=round(1.2 * mm))
    wrong = sum(a != b for row_a, row_b in zip(found, expected, strict=True) for a, b in zip(row_a, row_b, strict=True))
    assert wrong == 0, f"{wrong} of {len(expected) ** 2} modules differ"


def test_a_receipt_renders_well_under_a_second():
    """CPU time of this process, not wall time: the machines are shared, and rendering is single-threaded."""
    context = CONTEXTS[DocumentKind.ACCEPTANCE_RECEIPT]
    started = time.process_time()
    render_pdf(DocumentKind.ACCEPTANCE_RECEIPT, context)  # may be this process's first render
    first = time.process_time() - started
    timings = []
    for _ in range(3):
        started = time.process_time()
        render_pdf(DocumentKind.ACCEPTANCE_RECEIPT, context)
        timings.append(time.process_time() - started)
    warm = sorted(timings)[1]
    print(f"\nreceipt render CPU: first in this test {first:.3f} s, warm median {warm:.3f} s")  # noqa: T201
    assert warm < 1.0


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_carries_its_qr_code_and_the_red_seal(rendered, kind, tmp_path):
    context = CONTEXTS[kind]
    html = render_html(kind, context)
    assert f'src="{escape(qr_data_uri(context["status_url"]))}"' in html
    # the hall seals its notices; a licence is sealed by the department that issues it
    sealer = context["issuer"] if kind == DocumentKind.E_LICENCE else context["hall_name"]
    assert f'src="{seal_data_uri(sealer)}"' in html
    # The seal is the only bright red on the page (the title's red is darker).
    last = page_count(rendered[kind])
    run(
        "pdftoppm",
        "-r",
        "40",
        "-png",
        "-singlefile",
        "-f",
        str(last),
        "-l",
        str(last),
        str(rendered[kind]),
        str(tmp_path / "p"),
    )
    image = Image.open(tmp_path / "p.png").convert("RGB")
    data = image.tobytes()
    red = sum(1 for i in range(0, len(data), 3) if data[i] > 190 and data[i + 1] < 90 and data[i + 2] < 90)
    assert red > 200, red


def test_the_seal_escapes_the_hall_name():
    svg = seal_svg('<script>"&')
    assert "<script>" not in svg and "&lt;" in svg and "&amp;" in svg


def test_a_provisional_promised_date_is_printed_as_an_estimate(tmp_path):
    """docs/clock.md "Provisional dates": a date counted without the official holiday arrangement."""
    context = {**CONTEXTS[DocumentKind.ACCEPTANCE_RECEIPT], "promised_date_provisional": True}
    path = tmp_path / "receipt.pdf"
    path.write_bytes(render_pdf(DocumentKind.ACCEPTANCE_RECEIPT, context))
    text = squash(pdf_text(path))
    assert "承诺于预计2025年3月6日（以国务院公布的节假日安排为准）前办结" in text
    assert "承诺办结日期预计2025年3月6日（以国务院公布的节假日安排为准）" in text
    assert page_count(path) == 1
