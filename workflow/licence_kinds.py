"""What an item's approval gives (办理结果类型), as the catalogue defines it per item in ``ServiceItem.result`` and
each composition version pins in its item snapshot (a case never changes under the catalogue):

    {"kind": "licence",                 # a licence kind (证照类型)
     "title": "食品经营许可证",          # printed as the licence's title
     "issuer": "market_regulation",     # optional: the issuing department's code (default: the item's department)
     "holder": "enterprise",            # applicant | enterprise (统一社会信用代码 is its key) | newborn
     "number": {"pattern": "^JY[1-3][0-9]{13}$", "format": "JY1{date}{seq}{check}"},
     "validity": {"years": 5},          # {"years": n} | "long_term" (长期) | "entered" (the reviewer's dates)
     "face": [["经营者名称", "@holder"], ["经营场所", "address"], ...]}   # the fields on its face, in order

    {"kind": "notice", "title": "公章刻制备案"}   # 备案/登记: a result stated on the 办结通知书, no licence

An empty ``result`` ({}) is the generic licence of before kinds existed (the item's name, the applicant or the
enterprise of the form, the number typed or derived from the case number, valid as typed).

Number ``format`` tokens, from the case number (hall code + date + daily sequence, unique per case): ``{region}``
the hall code, ``{date}`` YYMMDD, ``{seq}`` the six-digit sequence, ``{case_no}``, ``{check}`` a mod-10 check digit
over the digits before it; the special format ``"uscc"`` makes a 统一社会信用代码 (GB 32100) for the new enterprise.
Face values: a form field's name, or ``@holder`` / ``@holder_id`` / ``@number`` / ``@validity`` / ``@issuer`` /
``@applicant``.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field

from forms.formats import uscc_check_char

LICENCE = "licence"
NOTICE = "notice"
HOLDERS = {"applicant": "申请人", "enterprise": "企业（统一社会信用代码）", "newborn": "新生儿"}
VALIDITY_RULES = ("long_term", "entered")
SPECIAL_FACE = ("@holder", "@holder_id", "@number", "@validity", "@issuer", "@applicant")
TOKEN = re.compile(r"\{(region|date|seq|case_no|check)\}")
# The short code printed on a licence next to its number: with both, anyone may check it (/licences/).
VERIFICATION_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
VERIFICATION_LENGTH = 6
_USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"


@dataclass(frozen=True)
class ResultKind:
    kind: str  # LICENCE or NOTICE ("" for the generic licence of an item without a definition)
    title: str = ""
    issuer: str = ""
    holder: str = "applicant"
    number_pattern: str = ""
    number_format: str = ""
    validity: object = "entered"
    face: tuple[tuple[str, str], ...] = field(default_factory=tuple)

    @property
    def issues_licence(self) -> bool:
        return self.kind != NOTICE


def result_kind(definition: Mapping | None) -> ResultKind:
    """The kind an item's ``result`` defines (checked on import: ``problems``)."""
    definition = definition or {}
    if not definition:
        return ResultKind(kind="", holder="")
    if definition.get("kind") == NOTICE:
        return ResultKind(kind=NOTICE, title=definition.get("title", ""))
    number = definition.get("number") or {}
    return ResultKind(
        kind=LICENCE,
        title=definition.get("title", ""),
        issuer=definition.get("issuer", ""),
        holder=definition.get("holder", "applicant"),
        number_pattern=number.get("pattern", ""),
        number_format=number.get("format", ""),
        validity=definition.get("validity", "entered"),
        face=tuple((str(label), str(source)) for label, source in definition.get("face") or ()),
    )


def problems(definition: Mapping | None, departments: set[str] | None = None) -> list[str]:
    """What is wrong with an item's ``result`` definition, in Chinese (empty: fine)."""
    definition = definition or {}
    if not definition:
        return []
    if not isinstance(definition, Mapping):
        return ["办理结果类型应为对象"]
    kind = definition.get("kind")
    if kind not in (LICENCE, NOTICE):
        return ["办理结果类型 kind 只能是 licence（证照）或 notice（备案/登记结果通知）"]
    found = []
    if not str(definition.get("title", "")).strip():
        found.append("请填写证照或结果名称 title")
    if kind == NOTICE:
        return found
    if definition.get("holder", "applicant") not in HOLDERS:
        found.append("持证主体 holder 只能是 applicant、enterprise 或 newborn")
    issuer = definition.get("issuer")
    if issuer and departments is not None and issuer not in departments:
        found.append(f"发证部门“{issuer}”不存在")
    number = definition.get("number") or {}
    if not isinstance(number, Mapping):
        found.append("证照编号规则 number 应为 {pattern, format}")
        number = {}
    pattern = number.get("pattern", "")
    if pattern:
        try:
            re.compile(pattern)
        except re.error:
            found.append(f"证照编号格式 pattern 不是有效的正则表达式：{pattern}")
    fmt = number.get("format", "")
    if fmt and fmt != "uscc" and set(re.findall(r"\{([^}]*)\}", fmt)) - {"region", "date", "seq", "case_no", "check"}:
        found.append("证照编号生成规则 format 只能用 {region} {date} {seq} {case_no} {check}，或 uscc")
    validity = definition.get("validity", "entered")
    if not (
        validity in VALIDITY_RULES
        or (isinstance(validity, Mapping) and isinstance(validity.get("years"), int) and validity["years"] > 0)
    ):
        found.append('有效期规则 validity 只能是 {"years": n}、long_term 或 entered')
    for entry in definition.get("face") or []:
        if not (isinstance(entry, list | tuple) and len(entry) == 2 and all(isinstance(x, str) for x in entry)):
            found.append("票面字段 face 每项应为 [标签, 字段名]")
            break
    return found


# --- numbers -----------------------------------------------------------------------------------------------


def number_problem(kind: ResultKind, number: str) -> str | None:
    """A licence number typed by a reviewer, checked against the kind's pattern (None: fine)."""
    if not number or not kind.number_pattern:
        return None
    if re.fullmatch(kind.number_pattern, number):
        return None
    return f"证照编号“{number}”不符合{kind.title or '该证照'}的编号格式"


def _mod10(digits: str) -> str:
    """The Luhn check digit of ``digits``."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch) * (2 if i % 2 == 0 else 1)
        total += n - 9 if n > 9 else n
    return str((10 - total % 10) % 10)


def _uscc(case_no: str) -> str:
    """A 统一社会信用代码 for the enterprise registered by this case: 9 (工商) 1 (企业), the hall's region, an
    organisation code derived from the case's date and sequence (unique per case), the GB 32100 check character."""
    region = case_no[:6] if case_no[:6].isdigit() else "110000"
    day = dt.date(int(case_no[6:10]), int(case_no[10:12]), int(case_no[12:14]))
    value = (day - dt.date(2000, 1, 1)).days * 1_000_000 + int(case_no[14:20])
    code = ""
    for _ in range(8):
        value, rest = divmod(value, len(_USCC_CHARS))
        code = _USCC_CHARS[rest] + code
    first17 = f"91{region}M{code}"
    return first17 + uscc_check_char(first17)


def generated_number(kind: ResultKind, case_no: str, item_code: str) -> str:
    """The number of a licence of this kind issued by the case ``case_no`` (hall code + YYYYMMDD + sequence)."""
    if kind.number_format == "uscc":
        return _uscc(case_no)
    if not kind.number_format:
        return f"{case_no}-{item_code[-6:]}"
    values = {"region": case_no[:6], "date": case_no[8:14], "seq": case_no[14:20], "case_no": case_no}
    out = ""
    for part in re.split(r"(\{check\})", kind.number_format):
        if part == "{check}":
            out += _mod10("".join(ch for ch in out if ch.isdigit()))
        else:
            out += TOKEN.sub(lambda m: values[m[1]], part)
    return out


def verification_code() -> str:
    return "".join(secrets.choice(VERIFICATION_ALPHABET) for _ in range(VERIFICATION_LENGTH))


# --- validity ----------------------------------------------------------------------------------------------


def valid_to(kind: ResultKind, valid_from: dt.date, entered: dt.date | None) -> dt.date | None:
    """The last day of validity by the kind's rule: n years (the day before the anniversary), 长期 (None), or as
    the reviewer entered it."""
    rule = kind.validity
    if isinstance(rule, Mapping) and rule.get("years"):
        years = int(rule["years"])
        try:
            end = valid_from.replace(year=valid_from.year + years)
        except ValueError:  # 29 February
            end = valid_from.replace(year=valid_from.year + years, day=28)
        return end - dt.timedelta(days=1)
    if rule == "long_term":
        return None
    return entered


# --- holder --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Holder:
    kind: str
    name: str
    id_number: str


def holder_of(kind: ResultKind, *, form: Mapping, applicant_name: str, applicant_id: str, credit_code: str) -> Holder:
    """Who holds the licence by the kind's rule: the applicant; the enterprise (its name in the form, its
    统一社会信用代码 from the form or from the 营业执照 the same case issues); the newborn (its name; its
    birth certificate number is the licence's own). The generic licence keeps the old rule (the form's
    enterprise when there is one, else the applicant)."""
    if kind.holder == "enterprise" or (not kind.kind and form.get("enterprise_name")):
        return Holder(
            "enterprise",
            str(form.get("enterprise_name") or applicant_name),
            str(form.get("credit_code") or credit_code or applicant_id),
        )
    if kind.holder == "newborn":
        return Holder("newborn", str(form.get("newborn_name") or applicant_name), "")
    return Holder("applicant", applicant_name, applicant_id)


def face_rows(
    kind: ResultKind, *, form: Mapping, holder: Holder, number: str, validity: str, issuer: str, applicant: str
) -> list[list[str]]:
    special = {
        "@holder": holder.name,
        "@holder_id": holder.id_number,
        "@number": number,
        "@validity": validity,
        "@issuer": issuer,
        "@applicant": applicant,
    }
    rows = []
    for label, source in kind.face:
        value = special[source] if source in special else form.get(source)
        if isinstance(value, list):
            value = "、".join(str(v) for v in value)
        if value not in (None, ""):
            rows.append([label, str(value)])
    return rows


def validity_text(valid_from: dt.date, end: dt.date | None) -> str:
    start = f"{valid_from.year}年{valid_from.month}月{valid_from.day}日"
    return f"{start} 至 {end.year}年{end.month}月{end.day}日" if end else f"{start} 至 长期"
