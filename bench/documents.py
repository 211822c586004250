"""Section 4: the acceptance receipt (受理回执) rendered to PDF and sealed, cold and warm.

Cold is the first document in a fresh process: WeasyPrint and pyHanko imports, font cmaps, the stylesheet —
what a worker pays once unless it calls ``workflow.documents.warm_up()`` at start. Warm is every document
after that, which is what a long-running Celery worker pays. The context is a realistic receipt: three items,
materials, a rare name character (CJK Extension A), a QR code and the seal image.
"""

from __future__ import annotations

import datetime
import tempfile
import time
from pathlib import Path
from zoneinfo import ZoneInfo

from .common import log, summary

SHANGHAI = ZoneInfo("Asia/Shanghai")
CASE_NO = "11010520260304000123"
RECEIPT = {
    "hall_name": "示范区政务服务中心",
    "case_no": CASE_NO,
    "status_url": f"https://zw.example.gov.cn/status?case_no={CASE_NO}",
    "issued_at": datetime.datetime(2026, 3, 4, 10, 30, tzinfo=SHANGHAI),
    "one_thing_name": "企业开办一件事",
    "applicant_name": "王䶮",
    "query_code": "7K9QX2MH",
    "items": [
        {"name": "企业设立登记（核发营业执照）", "department": "区市场监督管理局"},
        {"name": "公章刻制备案", "department": "公安分局"},
        {"name": "新办纳税人涉税事项", "department": "区税务局"},
    ],
    "materials": [
        {"name": "公司章程", "status": "原件 1 份"},
        {"name": "全体股东身份证明", "status": "复印件 2 份"},
        {"name": "住所使用证明", "status": "容缺受理，申请人承诺2026年3月11日前补交"},
        {"name": "法定代表人身份证明（张堃喆）", "status": "电子证照免提交（证照编号 91110105MA01XYZ12K）"},
    ],
    "promised_date": datetime.date(2026, 3, 5),
    "window_name": "综合窗口 3 号",
    "officer_name": "李琇玥",
    "contact_phone": "010-12345678",
}


def run(params: dict) -> dict:
    import os

    from workflow.documents.certificates import DevCertificatePaths, create_dev_certificates

    with tempfile.TemporaryDirectory(prefix="onething-bench-signing-") as scratch:
        folder = Path(scratch)
        paths = DevCertificatePaths(key=folder / "key.pem", cert=folder / "cert.pem", root=folder / "root.pem")
        create_dev_certificates(paths, hall_name=RECEIPT["hall_name"])
        os.environ.update(
            ONETHING_SIGNING_KEY=str(paths.key),
            ONETHING_SIGNING_CERT=str(paths.cert),
            ONETHING_SIGNING_TRUST_ROOTS=str(paths.root),
        )
        return _measure(params)


def _measure(params: dict) -> dict:

    started = time.perf_counter()
    from workflow.documents import render, sign_pdf, verify_pdf

    # What issuing does: render with the seal's place left for the visible signature, then sign there.
    pdf, seal = render.render_for_signing("acceptance_receipt", RECEIPT)
    cold_render = (time.perf_counter() - started) * 1000
    started = time.perf_counter()
    signed = sign_pdf(pdf, seal=seal)
    cold_sign = (time.perf_counter() - started) * 1000
    if not verify_pdf(signed).valid:
        raise RuntimeError("the benchmark receipt's seal does not verify")
    log(f"pdf: cold render {cold_render:.0f} ms, cold seal {cold_sign:.0f} ms")

    renders, seals, totals = [], [], []
    for _ in range(params["warm"]):
        started = time.perf_counter()
        pdf, seal = render.render_for_signing("acceptance_receipt", RECEIPT)
        rendered = time.perf_counter()
        signed = sign_pdf(pdf, seal=seal)
        done = time.perf_counter()
        renders.append((rendered - started) * 1000)
        seals.append((done - rendered) * 1000)
        totals.append((done - started) * 1000)
    return {
        "cold_render_ms": cold_render,
        "cold_sign_ms": cold_sign,
        "render": summary(renders),
        "sign": summary(seals),
        "total": summary(totals),
        "pdf_bytes": len(pdf),
        "signed_bytes": len(signed),
    }
