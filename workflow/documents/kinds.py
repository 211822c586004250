"""The kinds of document and the exact context each one needs.

A context is a plain dict; nothing here knows the models. Text values are ``str``; dates are ``datetime.date``,
timezone-aware ``datetime.datetime`` (printed as the local date, e.g. 2025年3月4日) or already formatted ``str``.
"Required" means present, not ``None`` and not blank; lists must be non-empty. Unknown keys are ignored.

Every kind:
    hall_name       str   the hall that issues and signs (示范区政务服务中心)
    case_no         str   办件编号
    status_url      str   http(s) URL of the case's public status page; printed and encoded in the QR code
    issued_at       date  出具日期

acceptance_receipt 受理回执 — every kind's keys, and:
    query_code      str   查询码 (shown once, so only the receipt requires it)
    one_thing_name  str   一件事名称
    applicant_name  str   申请人
    items           list  [{name, department}]  the service items accepted
    materials       list  [{name, status}]  the intake record, one row per material: its name and what the window
                          recorded, as printed (原件 1 份 / 电子证照免提交（证照编号 …） /
                          容缺受理，申请人承诺…前补交 / 不适用 / 未提交)
    legal_basis     str   optional; the law the acceptance rests on (《中华人民共和国行政许可法》第三十二条)
    promised_date   date  承诺办结日期
    promised_date_provisional  bool  optional; True prints the date as 预计 …（以国务院公布的节假日安排为准）: it was
                    counted through a year whose holiday arrangement was not entered yet (docs/clock.md)
    window_name     str   受理窗口
    officer_name    str   受理人
    contact_phone   str   咨询电话

refusal_notice 不予受理通知书 — every kind's keys, and:
    one_thing_name, applicant_name   as above
    reasons         list  [str]  the reasons, one per entry
    legal_basis     str   optional; the law the refusal rests on (printed as 依据…)
    review_rights   str   optional; defaults to REVIEW_RIGHTS (行政复议 60 日 / 行政诉讼 6 个月)

correction_notice 补正告知书 (一次性告知) — every kind's keys, and:
    one_thing_name, applicant_name   as above
    items           list  [{department, item, reason}]  every department's request, combined in one notice; item is
                          what to correct by its name (the field's title, the material's name), never a code

conclusion_notice 办结通知书 — every kind's keys, and:
    one_thing_name, applicant_name   as above
    results         list  [{item, department, decision, licence_no, validity}]  one row per item;
                          licence_no and validity may be blank (an item that issues nothing, or a refusal);
                          a row may also give valid_from / valid_to (str) to print the two ends unbroken
    review_rights   str   optional; printed when given (e.g. REVIEW_RIGHTS when an item was refused)
    refusals        list  optional; [{item, department, reasons: [str], legal_basis}] one per 不予许可 (Art. 38)
    licences_issued bool  optional; True prints where the e-licences are downloaded (only when some exist)

e_licence 电子证照 — every kind's keys, and:
    licence_no      str   证照编号
    holder          str   持证者
    item            str   证照名称 (the licence kind's title, e.g. 营业执照) or the item that issued it
    issuer          str   发证机关: the department that signs it; its name is on the seal
    valid_from      date  有效期自
    valid_to        date  有效期至 (or a str such as 长期)
    holder_label    str   optional; what the holder is called on its face (持证人 / 新生儿 / 持证主体（企业）)
    verification_code  str  optional; the short code that, with the number, checks the licence at /licences/
    face            list  optional; [{label, value}] the fields printed on its face, in order
    issuer_code     str   optional; the issuing department's code (picks its signing certificate)
    status_url here is the licence's public check URL (its QR code)

delivery_receipt 送达回证 (一窗通取) — every kind's keys, and:
    one_thing_name, applicant_name   as above
    recipient       str   领取人 (name, and 申请人本人 or 经办人（凭授权委托书）)
    identity_method str   身份核验方式
    items           list  [str]  what was handed over, one per entry
    handed_over_at  date  送达（签收）时间
    officer_name    str   交付人 (the clerk)
    signature_method str  签收方式 (签名板电子签名 / 纸质签收单扫描件)
    signature_sha256 str  the signature file's SHA-256 (printed; the file is kept privately)
    signature_image str   optional; a data:image/png or data:image/jpeg URI of the signature, printed as signed
    agent_name      str   optional; the case's agent (经办人) when one acts for the applicant

extension_notice 延期告知书 (Art. 42 / Art. 26) — every kind's keys, and:
    one_thing_name, applicant_name   as above
    days            str   the working days of the extension (as text, e.g. "10")
    reason          str   why, as the approved request states it
    legal_basis     str   《中华人民共和国行政许可法》第四十二条 (one item) or 第二十六条 (joint handling)
    due_date        date  the new promised due date (or str)
    statutory_due_date  date  optional; the new statutory due date

procedure_notice 特别程序告知书 (Art. 45) — every kind's keys, and:
    one_thing_name, applicant_name   as above
    procedure       str   what: 听证 / 检验、检测、检疫 / 鉴定 / 专家评审 / 招标、拍卖
    department      str   the department that holds it
    reason          str   why
    started_at      date  when it started
    duration        str   how long: 预计 N 个工作日, or that the time is told when known

Optional on the notices (printed when given): query_code, window_name, officer_name, contact_phone, agent_name
(帮办代办: the agent who acted for the applicant, with an authorisation letter), and for a
case decided in another region (收受分离) accepting_place (收件地) and deciding_place (审批地), both str.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from django.db import models
from django.utils import timezone


class DocumentKind(models.TextChoices):
    ACCEPTANCE_RECEIPT = "acceptance_receipt", "受理回执"
    REFUSAL_NOTICE = "refusal_notice", "不予受理通知书"
    CORRECTION_NOTICE = "correction_notice", "补正告知书"
    CONCLUSION_NOTICE = "conclusion_notice", "办结通知书"
    E_LICENCE = "e_licence", "电子证照"
    DELIVERY_RECEIPT = "delivery_receipt", "送达回证"
    EXTENSION_NOTICE = "extension_notice", "延期告知书"
    PROCEDURE_NOTICE = "procedure_notice", "特别程序告知书"


# Administrative Reconsideration Law (2023) Art. 20: 60 days; Administrative Litigation Law Art. 46: 6 months.
REVIEW_RIGHTS = (
    "申请人如对本决定不服，可以自收到本通知书之日起六十日内依法申请行政复议，"
    "或者自收到本通知书之日起六个月内依法向人民法院提起行政诉讼。"
)


class DocumentContextError(ValueError):
    """The context given for a document lacks or garbles keys; ``problems`` lists each one."""

    def __init__(self, kind: str, problems: list[str]):
        self.kind = kind
        self.problems = problems
        label = DocumentKind(kind).label if kind in DocumentKind.values else kind
        super().__init__(f"{label}（{kind}）的上下文有误：" + "；".join(problems))


@dataclass(frozen=True)
class ContextSpec:
    required: tuple[str, ...]
    rows: dict[str, tuple[str, ...]] = field(default_factory=dict)  # list key → keys of each row dict
    lists_of_text: tuple[str, ...] = ()  # list keys whose entries are plain strings
    optional: tuple[str, ...] = ()
    blank_in_rows: frozenset[str] = frozenset()  # row keys that must be present but may be blank


COMMON = ("hall_name", "case_no", "status_url", "issued_at")
NOTICE = (*COMMON, "one_thing_name", "applicant_name")
NOTICE_OPTIONAL = ("query_code", "window_name", "officer_name", "contact_phone", "agent_name")

SPECS: dict[str, ContextSpec] = {
    DocumentKind.EXTENSION_NOTICE: ContextSpec(
        required=(*NOTICE, "days", "reason", "legal_basis", "due_date"),
        optional=(*NOTICE_OPTIONAL, "statutory_due_date"),
    ),
    DocumentKind.PROCEDURE_NOTICE: ContextSpec(
        required=(*NOTICE, "procedure", "department", "reason", "started_at", "duration"),
        optional=NOTICE_OPTIONAL,
    ),
    DocumentKind.ACCEPTANCE_RECEIPT: ContextSpec(
        required=(*NOTICE, "query_code", "promised_date", "window_name", "officer_name", "contact_phone"),
        rows={"items": ("name", "department"), "materials": ("name", "status")},
        optional=("promised_date_provisional", "legal_basis", "agent_name"),
    ),
    DocumentKind.REFUSAL_NOTICE: ContextSpec(
        required=NOTICE, lists_of_text=("reasons",), optional=(*NOTICE_OPTIONAL, "review_rights", "legal_basis")
    ),
    DocumentKind.CORRECTION_NOTICE: ContextSpec(
        required=NOTICE, rows={"items": ("department", "item", "reason")}, optional=NOTICE_OPTIONAL
    ),
    DocumentKind.CONCLUSION_NOTICE: ContextSpec(
        required=NOTICE,
        rows={"results": ("item", "department", "decision", "licence_no", "validity")},
        optional=(*NOTICE_OPTIONAL, "review_rights", "licences_issued"),
        blank_in_rows=frozenset({"licence_no", "validity"}),
    ),
    DocumentKind.DELIVERY_RECEIPT: ContextSpec(
        required=(
            *NOTICE,
            "recipient",
            "identity_method",
            "handed_over_at",
            "officer_name",
            "signature_method",
            "signature_sha256",
        ),
        lists_of_text=("items",),
        optional=(*NOTICE_OPTIONAL, "signature_image", "agent_name"),
    ),
    DocumentKind.E_LICENCE: ContextSpec(
        required=(*COMMON, "licence_no", "holder", "item", "issuer", "valid_from", "valid_to"),
        optional=("holder_label", "verification_code", "issuer_code"),
    ),
}


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _value_problem(name: str, value) -> str | None:
    if isinstance(value, datetime.datetime) and timezone.is_naive(value):
        return f"{name} 是无时区的 datetime"
    if isinstance(value, dict | list | tuple | set):
        return f"{name} 应为文本或日期，而不是 {type(value).__name__}"
    return None


def validate_context(kind: str, context: dict) -> None:
    """Raise DocumentContextError naming every missing or malformed key of ``context`` for ``kind``."""
    if kind not in SPECS:
        raise DocumentContextError(kind, [f"未知的文书类型，可选：{', '.join(DocumentKind.values)}"])
    spec = SPECS[kind]
    problems: list[str] = []
    for key in spec.required:
        if key not in context:
            problems.append(f"缺少 {key}")
        elif _blank(context[key]):
            problems.append(f"{key} 为空")
        elif problem := _value_problem(key, context[key]):
            problems.append(problem)
    for key in spec.optional:
        if not _blank(context.get(key)) and (problem := _value_problem(key, context[key])):
            problems.append(problem)
    for key in (*spec.rows, *spec.lists_of_text):
        value = context.get(key)
        if key not in context:
            problems.append(f"缺少 {key}")
        elif not isinstance(value, list | tuple) or not value:
            problems.append(f"{key} 应为非空列表")
        elif key in spec.lists_of_text:
            problems += [f"{key}[{i}] 应为非空文本" for i, entry in enumerate(value) if _blank(entry)]
        else:
            for i, row in enumerate(value):
                if not isinstance(row, dict):
                    problems.append(f"{key}[{i}] 应为 dict")
                    continue
                for sub in spec.rows[key]:
                    name = f"{key}[{i}].{sub}"
                    if sub not in row:
                        problems.append(f"缺少 {name}")
                    elif _blank(row[sub]) and sub not in spec.blank_in_rows:
                        problems.append(f"{name} 为空")
                    elif problem := _value_problem(name, row[sub]):
                        problems.append(problem)
    url = context.get("status_url")
    if isinstance(url, str) and url.strip():
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            problems.append("status_url 应为 http(s) 网址")
    if problems:
        raise DocumentContextError(kind, problems)
