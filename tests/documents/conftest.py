"""Contexts for every kind of document, a development certificate per test session, and poppler helpers."""

import datetime
import re
import shutil
import subprocess
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from workflow.documents import DocumentKind, render_pdf
from workflow.documents.certificates import DevCertificatePaths, create_dev_certificates

SHANGHAI = ZoneInfo("Asia/Shanghai")
HALL = "示范区政务服务中心"
CASE_NO = "110105-20250304-000123"

COMMON = {
    "hall_name": HALL,
    "case_no": CASE_NO,
    "status_url": f"https://zw.example.gov.cn/cases/{CASE_NO}",
    "issued_at": datetime.datetime(2025, 3, 4, 10, 30, tzinfo=SHANGHAI),
}
# 䶮 is CJK Extension A (WenQuanYi Micro Hei lacks it); the others are rare given-name characters in the URO.
NOTICE = {**COMMON, "one_thing_name": "企业开办一件事", "applicant_name": "王䶮"}

CONTEXTS = {
    DocumentKind.ACCEPTANCE_RECEIPT: {
        **NOTICE,
        "query_code": "7K9QX2MH",
        "items": [
            {"name": "企业设立登记", "department": "区市场监督管理局"},
            {"name": "公章刻制备案", "department": "公安分局"},
            {"name": "发票申领", "department": "区税务局"},
        ],
        "materials": [
            {"name": "公司章程", "status": "原件 1 份"},
            {"name": "法定代表人身份证明（张堃喆）", "status": "复印件 2 份"},
        ],
        "promised_date": datetime.date(2025, 3, 6),
        "window_name": "综合窗口 3 号",
        "officer_name": "李琇玥",
        "contact_phone": "010-12345678",
    },
    DocumentKind.REFUSAL_NOTICE: {
        **NOTICE,
        "reasons": ["申请事项依法不需要取得行政许可", "申请人赵燊昇不具备申请资格"],
        "window_name": "综合窗口 3 号",
        "officer_name": "李琇玥",
        "contact_phone": "010-12345678",
    },
    DocumentKind.CORRECTION_NOTICE: {
        **NOTICE,
        "items": [
            {"department": "区市场监督管理局", "item": "企业设立登记", "reason": "公司章程缺少全体股东签字"},
            {"department": "区税务局", "item": "发票申领", "reason": "请补充财务负责人孙珺彧的身份证明"},
        ],
        "contact_phone": "010-12345678",
    },
    DocumentKind.CONCLUSION_NOTICE: {
        **NOTICE,
        "results": [
            {
                "item": "企业设立登记",
                "department": "区市场监督管理局",
                "decision": "准予登记",
                "licence_no": "91110105MA01XYZ12K",
                "validity": "长期",
            },
            {"item": "公章刻制备案", "department": "公安分局", "decision": "已备案", "licence_no": "", "validity": ""},
            {
                "item": "发票申领",
                "department": "区税务局",
                "decision": "不予核准（周淼犇非办税人员）",
                "licence_no": None,
                "validity": None,
            },
        ],
        "review_rights": "如对不予核准的决定不服，可以依法申请行政复议或者提起行政诉讼。",
    },
    DocumentKind.DELIVERY_RECEIPT: {
        **NOTICE,
        "recipient": "赵燊昇（经办人，凭授权委托书）",
        "identity_method": "居民身份证现场核验",
        "items": ["办结通知书", "营业执照正本", "企业公章"],
        "handed_over_at": datetime.datetime(2025, 3, 6, 15, 0, tzinfo=SHANGHAI),
        "officer_name": "李琇玥",
        "signature_method": "签名板电子签名",
        "signature_sha256": "a" * 64,
        "agent_name": "赵燊昇",
        "window_name": "综合窗口 3 号",
        "contact_phone": "010-12345678",
    },
    DocumentKind.E_LICENCE: {
        **COMMON,
        "licence_no": "91110105MA01XYZ12K",
        "holder": "示范区星火科技有限公司（法定代表人：王䶮）",
        "item": "营业执照",
        "issuer": "区市场监督管理局",
        "valid_from": datetime.date(2025, 3, 5),
        "valid_to": "长期",
    },
    DocumentKind.EXTENSION_NOTICE: {
        **NOTICE,
        "days": "10",
        "reason": "需现场核查经营场所（孙珺彧经营的仓库）",
        "legal_basis": "《中华人民共和国行政许可法》第四十二条",
        "due_date": datetime.date(2025, 3, 20),
        "statutory_due_date": datetime.date(2025, 4, 15),
        "contact_phone": "010-12345678",
    },
    DocumentKind.PROCEDURE_NOTICE: {
        **NOTICE,
        "procedure": "专家评审",
        "department": "区市场监督管理局",
        "reason": "经营范围涉及新业态，需专家论证",
        "started_at": datetime.datetime(2025, 3, 6, 9, 0, tzinfo=SHANGHAI),
        "duration": "预计 15 个工作日",
        "contact_phone": "010-12345678",
    },
}


def context_strings(value):
    """Every text a context prints (dates in their printed form), for the text and glyph checks."""
    if isinstance(value, datetime.datetime):
        value = value.astimezone(SHANGHAI).date()
    if isinstance(value, datetime.date):
        yield f"{value.year}年{value.month}月{value.day}日"
    elif isinstance(value, str) and value:
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from context_strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from context_strings(item)


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def run(*args: str, input_bytes: bytes | None = None) -> str:
    return subprocess.run(args, input=input_bytes, capture_output=True, check=True).stdout.decode()


def pdf_text(path: Path, page: int | None = None) -> str:
    """The text in drawing order (-raw), so that a table cell wrapped over two lines reads as one string."""
    pages = ["-f", str(page), "-l", str(page)] if page else []
    return run("pdftotext", "-raw", *pages, str(path), "-")


def page_count(path: Path) -> int:
    return int(re.search(r"^Pages:\s+(\d+)", run("pdfinfo", str(path)), re.M)[1])


@pytest.fixture(scope="session", autouse=True)
def _poppler():
    missing = [tool for tool in ("pdftotext", "pdffonts", "pdfinfo", "pdfdetach", "pdftoppm") if not shutil.which(tool)]
    assert not missing, f"install poppler-utils: {missing}"


@pytest.fixture(scope="session")
def rendered(tmp_path_factory):
    """kind → path of its unsigned PDF, rendered once per session."""
    folder = tmp_path_factory.mktemp("rendered")
    paths = {}
    for kind, context in CONTEXTS.items():
        paths[kind] = folder / f"{kind}.pdf"
        paths[kind].write_bytes(render_pdf(kind, context))
    return paths


@pytest.fixture(scope="session")
def dev_certificate(tmp_path_factory) -> DevCertificatePaths:
    folder = tmp_path_factory.mktemp("signing")
    paths = DevCertificatePaths(key=folder / "key.pem", cert=folder / "cert.pem", root=folder / "root.pem")
    create_dev_certificates(paths, hall_name=HALL)
    return paths


@pytest.fixture
def signing_settings(settings, dev_certificate):
    """Point signing and verification at the session's development certificate."""
    settings.ONETHING_SIGNING_KEY = str(dev_certificate.key)
    settings.ONETHING_SIGNING_CERT = str(dev_certificate.cert)
    settings.ONETHING_SIGNING_TRUST_ROOTS = str(dev_certificate.root)
    settings.ONETHING_SIGNING_KEY_PASSWORD = ""
    settings.ONETHING_HALL_NAME = HALL
    return dev_certificate
