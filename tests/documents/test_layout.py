"""Layout that survives printing: table cells wrap between words, a number or a date never breaks across lines,
and the window's HTML slip prints on one A4 page with normal margins."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from django.test import Client

from tests.conftest import APPLICANT, ENTERPRISE_FORM
from tests.documents.conftest import CONTEXTS, page_count, pdf_text
from workflow.documents import DocumentKind, render_pdf

LONG_NUMBER = "91110105MA01XYZ12K"


def test_numbers_and_dates_in_the_results_table_never_break(tmp_path):
    context = {
        **CONTEXTS[DocumentKind.CONCLUSION_NOTICE],
        "results": [
            {
                "item": "公众聚集场所投入使用、营业前消防安全检查（告知承诺）",
                "department": "区城市管理和综合执法局",
                "decision": "准予",
                "licence_no": LONG_NUMBER,
                "validity": "2026年12月8日 至 2031年12月7日",
                "valid_from": "2026年12月8日",
                "valid_to": "2031年12月7日",
            }
        ],
    }
    path = tmp_path / "conclusion.pdf"
    path.write_bytes(render_pdf(DocumentKind.CONCLUSION_NOTICE, context))
    lines = [line.strip() for line in pdf_text(path).splitlines()]
    text = "\n".join(lines)
    for token in (LONG_NUMBER, "2026年12月8日", "2031年12月7日"):
        assert token in text, token  # whole on one line, not split by a line break
    # the long item name wraps between characters inside its column, it is not cut
    assert "公众聚集场所" in text and "（告知承诺）" in re.sub(r"\s+", "", text)


@pytest.mark.slow
def test_the_window_slip_prints_on_one_a4_page(users, demo, tmp_path):
    client = Client()
    client.force_login(users["window1"])
    data = {
        "applicant-name": APPLICANT["name"],
        "applicant-id_number": APPLICANT["id_number"],
        "applicant-phone": APPLICANT["phone"],
        "material": [
            "registration_application",
            "articles_of_association",
            "premises_proof",
            "legal_rep_id_card",
            "shareholder_certificate",
        ],
        "action": "open",
    }
    for name, value in ENTERPRISE_FORM.items():
        data[f"f_{name}"] = ("true" if value else "false") if isinstance(value, bool) else value
    response = client.post("/window/new/enterprise_start/", data)
    body = client.get(response["Location"]).content.decode()
    case_no = re.search(r'data-testid="case-no">(\d{20})<', body)[1]
    css = (Path(__file__).parents[2] / "web" / "static" / "web" / "app.css").as_uri()
    html = tmp_path / "slip.html"
    html.write_text(re.sub(r'href="/static/web/app\.css[^"]*"', f'href="{css}"', body))
    pdf = tmp_path / "slip.pdf"
    subprocess.run(
        [
            "/usr/bin/chromium",
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-pdf-header-footer",
            f"--print-to-pdf={pdf}",
            html.as_uri(),
        ],
        capture_output=True,
        timeout=120,
        check=True,
    )
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert page_count(pdf) == 1
    assert re.search(r"Page size:\s+59[45]\.\d+ x 841\.\d+ pts \(A4\)", info), info
    text = pdf_text(pdf)
    assert case_no in text and "收件登记" in text  # the number whole, the intake record on the page
