"""The formats a service hall needs, checked strictly, each with a Chinese reason and an example.

Each format has a ``*_problem(value) -> str | None`` function (``None`` = valid, otherwise the reason, written to
follow the field's label: "证件号码" + "的校验位不正确，请核对"), an ``is_valid_*`` predicate, an example, and a JSON
Schema format name registered on :data:`FORMAT_CHECKER`, so a fragment writes ``{"format": "citizen-id"}``:

====================  =====================================================================================
format                meaning
====================  =====================================================================================
``citizen-id``        居民身份证 / 公民身份号码, GB 11643-1999: 6-digit region, 8-digit birth date, 3-digit
                      sequence, check character (ISO 7064 MOD 11-2, ``X`` for 10, upper case only). The birth
                      date must be a real day, not after today and not more than 120 years ago.
``hk-macao-permit``   港澳居民来往内地通行证 (回乡证): ``H`` (Hong Kong) or ``M`` (Macao) and 8 digits — the
                      holder's lifelong number on the card issued since 2013 — or 10 digits, the older
                      11-character number whose last two digits count the renewals (公安部出入境管理局，
                      《港澳居民来往内地通行证号码规则》，2010: "共11位。第1位为字母，H字头签发给香港居民，M字头
                      签发给澳门居民；第2位至第11位为数字，前8位数字为通行证持有人的终身号，后2位数字表示换证次数").
``taiwan-permit``     台湾居民来往大陆通行证 (台胞证), card version issued since 2015: 8 digits (the holder's
                      lifelong number; the card also prints a 2-digit renewal count, not part of the number).
``passport-cn``       中华人民共和国护照 (ordinary passport): ``E`` and 8 characters — 8 digits, or a letter
                      (not I or O) and 7 digits since the E-digit series ran out — or ``G`` and 8 digits (the
                      earlier series, still valid until expiry).
``passport``          a foreign passport: 5–20 upper-case Latin letters and digits (ICAO 9303 leaves the number's
                      format to the issuing state; machine-readable zones hold 9 characters, some states more).
``uscc``              统一社会信用代码, GB 32100-2015: 18 characters from ``0-9 A-H J-N P-R T U W-Y``, a 6-digit
                      region code at positions 3-8, check character (MOD 31, upper case only)
``mobile-cn``         mainland mobile number: 11 ASCII digits ``1[3-9]x{9}``, no ``+86``, spaces or dashes
``date``              calendar date ``YYYY-MM-DD`` (ISO 8601 / RFC 3339 full-date), ASCII digits, a real day
``ethnicity``         民族: one of the 56 names of GB/T 3304-1991 (中国各民族名称的罗马字母拼写法和代码), stored as
                      the full name ("汉族"); :func:`ethnicity_name` maps the short form ("汉") to it
====================  =====================================================================================

Values are not normalised by the checks: a form stores the canonical form, so ``11010519491231002x`` (lower-case x)
is refused with the reason "末位 X 应大写" rather than silently accepted (民族 is the one exception, mapped by
:func:`forms.check_answers` before validation).

**Document types** (:data:`ID_TYPES`): the applicant's identity document, ``id_type`` on a case, each with its
format: ``resident_id`` 居民身份证 (the default), ``hk_macao_permit``, ``taiwan_permit``, ``passport_cn``,
``passport_foreign``, and ``uscc`` for an applicant that is an organisation.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from contextvars import ContextVar
from datetime import date, datetime
from zoneinfo import ZoneInfo

from jsonschema import FormatChecker

__all__ = [
    "DEFAULT_ID_TYPE",
    "ETHNICITIES",
    "FORMAT_CHECKER",
    "FORMAT_EXAMPLES",
    "FORMAT_NAMES",
    "ID_TYPES",
    "MAX_AGE_YEARS",
    "USCC_CHARSET",
    "InvalidFormat",
    "citizen_id_check_char",
    "citizen_id_problem",
    "current_day",
    "date_problem",
    "ethnicity_name",
    "ethnicity_problem",
    "format_problem",
    "id_number_message",
    "id_number_problem",
    "is_valid_citizen_id",
    "is_valid_date",
    "is_valid_mobile",
    "is_valid_uscc",
    "mobile_problem",
    "uscc_check_char",
    "uscc_problem",
]

CHINA = ZoneInfo("Asia/Shanghai")
MAX_AGE_YEARS = 120

# The day validation takes as "today" (Asia/Shanghai); forms.validate_form sets it for one call when given.
_TODAY: ContextVar[date | None] = ContextVar("forms_today", default=None)


def current_day() -> date:
    """Today in China, or the day a validation was asked to take as today."""
    return _TODAY.get() or datetime.now(CHINA).date()


# GB 11643-1999 (ISO 7064 MOD 11-2): weight of position i is 2^(17-i) mod 11.
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_ID_BODY = re.compile(r"[0-9]{17}", re.ASCII)

# GB 32100-2015: 31 characters (no I, O, S, V, Z); weight of position i is 3^i mod 31.
USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_VALUE = {char: value for value, char in enumerate(USCC_CHARSET)}
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_DIGITS = re.compile(r"[0-9]+", re.ASCII)

_MOBILE = re.compile(r"1[3-9][0-9]{9}", re.ASCII)
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)
_HK_MACAO = re.compile(r"[HM]([0-9]{8}|[0-9]{10})", re.ASCII)
_TAIWAN = re.compile(r"[0-9]{8}", re.ASCII)
_PASSPORT_CN = re.compile(r"E[0-9]{8}|E[A-HJ-NP-Z][0-9]{7}|G[0-9]{8}", re.ASCII)
_PASSPORT = re.compile(r"[A-Z0-9]{5,20}", re.ASCII)

# GB/T 3304-1991, in the order of its numeric codes (01 汉族 … 56 基诺族).
ETHNICITIES = (
    "汉族",
    "蒙古族",
    "回族",
    "藏族",
    "维吾尔族",
    "苗族",
    "彝族",
    "壮族",
    "布依族",
    "朝鲜族",
    "满族",
    "侗族",
    "瑶族",
    "白族",
    "土家族",
    "哈尼族",
    "哈萨克族",
    "傣族",
    "黎族",
    "傈僳族",
    "佤族",
    "畲族",
    "高山族",
    "拉祜族",
    "水族",
    "东乡族",
    "纳西族",
    "景颇族",
    "柯尔克孜族",
    "土族",
    "达斡尔族",
    "仫佬族",
    "羌族",
    "布朗族",
    "撒拉族",
    "毛南族",
    "仡佬族",
    "锡伯族",
    "阿昌族",
    "普米族",
    "塔吉克族",
    "怒族",
    "乌孜别克族",
    "俄罗斯族",
    "鄂温克族",
    "德昂族",
    "保安族",
    "裕固族",
    "京族",
    "塔塔尔族",
    "独龙族",
    "鄂伦春族",
    "赫哲族",
    "门巴族",
    "珞巴族",
    "基诺族",
)
_ETHNICITY_BY_SHORT = {name.removesuffix("族"): name for name in ETHNICITIES}


class InvalidFormat(ValueError):
    """Raised by the registered format checks; ``str(exc)`` is the Chinese reason."""


# --------------------------------------------------------------------------- 居民身份证


def citizen_id_check_char(first17: str) -> str:
    """The check character for the first 17 digits of a citizen ID number."""
    if not _ID_BODY.fullmatch(first17):
        raise ValueError("需要 17 位数字")
    total = sum(int(digit) * weight for digit, weight in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def citizen_id_problem(value: object, *, today: date | None = None) -> str | None:
    """``None`` when ``value`` is a valid 18-digit citizen ID number, else the reason in Chinese."""
    if not isinstance(value, str):
        return "应为文本"
    if len(value) != 18:
        return f"应为 18 位，现为 {len(value)} 位"
    if not _ID_BODY.fullmatch(value[:17]):
        return "的前 17 位应为数字"
    last = value[17]
    if last == "x":
        return "的末位 X 应大写"
    if last not in _ID_CHECK:
        return "的末位应为数字或 X"
    try:
        born = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return "中的出生日期（第 7–14 位）不是有效日期"
    day = today or current_day()
    if born > day:
        return "中的出生日期（第 7–14 位）晚于今天"
    if born.year < day.year - MAX_AGE_YEARS:
        return f"中的出生日期（第 7–14 位）早于 {MAX_AGE_YEARS} 年前"
    if citizen_id_check_char(value[:17]) != last:
        return "的校验位不正确，请核对"
    return None


def is_valid_citizen_id(value: object, *, today: date | None = None) -> bool:
    return citizen_id_problem(value, today=today) is None


# --------------------------------------------------------------------------- 统一社会信用代码


def uscc_check_char(first17: str) -> str:
    """The check character for the first 17 characters of a unified social credit code."""
    if len(first17) != 17 or any(char not in _USCC_VALUE for char in first17):
        raise ValueError("需要 17 位代码字符")
    total = sum(_USCC_VALUE[char] * weight for char, weight in zip(first17, _USCC_WEIGHTS, strict=True))
    return USCC_CHARSET[(31 - total % 31) % 31]


def uscc_problem(value: object) -> str | None:
    """``None`` when ``value`` is a valid unified social credit code, else the reason in Chinese."""
    if not isinstance(value, str):
        return "应为文本"
    if len(value) != 18:
        return f"应为 18 位，现为 {len(value)} 位"
    if value != value.upper() and all(char in _USCC_VALUE for char in value.upper()):
        return "的字母应大写"
    bad = sorted({char for char in value if char not in _USCC_VALUE})
    if bad:
        return "含有不允许的字符：" + "、".join(bad) + "（不用 I、O、S、V、Z）"
    if not _DIGITS.fullmatch(value[2:8]):
        return "的第 3–8 位应为行政区划码（数字）"
    if uscc_check_char(value[:17]) != value[17]:
        return "的校验位不正确，请核对"
    return None


def is_valid_uscc(value: object) -> bool:
    return uscc_problem(value) is None


# --------------------------------------------------------------------------- other documents


def hk_macao_permit_problem(value: object) -> str | None:
    if not isinstance(value, str):
        return "应为文本"
    if not _HK_MACAO.fullmatch(value):
        return "应为 H（香港）或 M（澳门）开头，后接 8 位或 10 位数字"
    return None


def taiwan_permit_problem(value: object) -> str | None:
    if not isinstance(value, str):
        return "应为文本"
    if not _TAIWAN.fullmatch(value):
        return "应为 8 位数字"
    return None


def passport_cn_problem(value: object) -> str | None:
    if not isinstance(value, str):
        return "应为文本"
    if value != value.upper() and _PASSPORT_CN.fullmatch(value.upper()):
        return "的字母应大写"
    if not _PASSPORT_CN.fullmatch(value):
        return "应为 E 或 G 开头的 9 位护照号码（E 后可为 8 位数字，或 1 个字母加 7 位数字）"
    return None


def passport_problem(value: object) -> str | None:
    if not isinstance(value, str):
        return "应为文本"
    if value != value.upper() and _PASSPORT.fullmatch(value.upper()):
        return "的字母应大写"
    if not _PASSPORT.fullmatch(value):
        return "应为 5–20 位拉丁字母或数字（不含空格和符号）"
    return None


# --------------------------------------------------------------------------- mobile, date, 民族


def mobile_problem(value: object) -> str | None:
    """``None`` when ``value`` is a mainland mobile number (11 digits, 1[3-9]…), else the reason in Chinese."""
    if not isinstance(value, str):
        return "应为文本"
    if not value.isascii() or not value.isdigit():
        return "应为 11 位数字（不含空格、+86 或连字符）"
    if len(value) != 11:
        return f"应为 11 位，现为 {len(value)} 位"
    if not _MOBILE.fullmatch(value):
        return "的号段不正确（应以 13–19 开头）"
    return None


def is_valid_mobile(value: object) -> bool:
    return mobile_problem(value) is None


def date_problem(value: object) -> str | None:
    """``None`` when ``value`` is a real calendar date written ``YYYY-MM-DD``, else the reason in Chinese."""
    if not isinstance(value, str):
        return "应为文本"
    if not _DATE.fullmatch(value):
        return "应写成“年-月-日”（YYYY-MM-DD）"
    try:
        date.fromisoformat(value)
    except ValueError:
        return "不是日历上的日期（没有这一天）"
    return None


def is_valid_date(value: object) -> bool:
    return date_problem(value) is None


def ethnicity_name(value: object) -> object:
    """The GB/T 3304 full name for a short one ("汉" → "汉族"); anything else unchanged."""
    if isinstance(value, str) and value not in ETHNICITIES:
        return _ETHNICITY_BY_SHORT.get(value, value)
    return value


def ethnicity_problem(value: object) -> str | None:
    if not isinstance(value, str):
        return "应为文本"
    if value not in ETHNICITIES:
        return "不是 GB/T 3304 所列的 56 个民族名称之一，请选择"
    return None


# --------------------------------------------------------------------------- registry

# Chinese names of the formats, for messages, and an example of each.
FORMAT_NAMES = {
    "citizen-id": "居民身份证号码",
    "hk-macao-permit": "港澳居民来往内地通行证号码",
    "taiwan-permit": "台湾居民来往大陆通行证号码",
    "passport-cn": "护照号码",
    "passport": "护照号码",
    "uscc": "统一社会信用代码",
    "mobile-cn": "手机号码",
    "date": "日期",
    "ethnicity": "民族",
    "email": "电子邮箱",
}
FORMAT_EXAMPLES = {
    "citizen-id": "11010519491231002X",
    "hk-macao-permit": "H12345678",
    "taiwan-permit": "12345678",
    "passport-cn": "E12345678",
    "passport": "X12345678",
    "uscc": "91350100M000100Y43",
    "mobile-cn": "13800138000",
    "ethnicity": "汉族",
    "email": "name@example.cn",
}

_PROBLEMS: dict[str, Callable[[object], str | None]] = {
    "citizen-id": citizen_id_problem,
    "hk-macao-permit": hk_macao_permit_problem,
    "taiwan-permit": taiwan_permit_problem,
    "passport-cn": passport_cn_problem,
    "passport": passport_problem,
    "uscc": uscc_problem,
    "mobile-cn": mobile_problem,
    "date": date_problem,
    "ethnicity": ethnicity_problem,
}


def format_problem(fmt: str, value: object) -> str | None:
    """The reason ``value`` fails one of our formats (None if it passes, or the format is not ours)."""
    problem = _PROBLEMS.get(fmt)
    return problem(value) if problem else None


# The applicant's identity document: code → (Chinese name, format).
ID_TYPES = {
    "resident_id": ("居民身份证", "citizen-id"),
    "hk_macao_permit": ("港澳居民来往内地通行证", "hk-macao-permit"),
    "taiwan_permit": ("台湾居民来往大陆通行证", "taiwan-permit"),
    "passport_cn": ("中华人民共和国护照", "passport-cn"),
    "passport_foreign": ("外国护照", "passport"),
    "uscc": ("统一社会信用代码（单位）", "uscc"),
}
DEFAULT_ID_TYPE = "resident_id"


def id_number_problem(id_type: str, number: object) -> str | None:
    """The reason ``number`` is not a valid number of the document type (an unknown type is a reason too)."""
    if id_type not in ID_TYPES:
        return "的证件类型不正确"
    return format_problem(ID_TYPES[id_type][1], number)


def id_number_message(id_type: str, number: object, *, title: str = "证件号码") -> str | None:
    """The whole Chinese message for a wrong document number, with an example; None when it is valid."""
    if id_type not in ID_TYPES:
        return "证件类型只能是：" + "、".join(f"{code}（{name}）" for code, (name, _) in ID_TYPES.items())
    reason = id_number_problem(id_type, number)
    if reason is None:
        return None
    name, fmt = ID_TYPES[id_type]
    return f"{title}{reason}（{name}）。例：{FORMAT_EXAMPLES[fmt]}"


def _checker() -> FormatChecker:
    """jsonschema's standard formats plus ours; ours raise :class:`InvalidFormat` carrying the reason."""
    checker = FormatChecker()
    for name, problem in _PROBLEMS.items():

        def check(instance: object, problem: Callable[[object], str | None] = problem) -> bool:
            if not isinstance(instance, str):
                return True  # formats constrain strings only; ``type`` handles the rest
            reason = problem(instance)
            if reason:
                raise InvalidFormat(reason)
            return True

        checker.checks(name, raises=InvalidFormat)(check)
    return checker


FORMAT_CHECKER = _checker()
