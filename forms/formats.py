"""The formats a service hall needs, checked strictly, with the reason in Chinese when a value fails.

Each format has a ``*_problem(value) -> str | None`` function (``None`` = valid, otherwise a short Chinese
reason such as "校验位不符"), an ``is_valid_*`` predicate, and a JSON Schema format name registered on
:data:`FORMAT_CHECKER`, so a form fragment writes ``{"type": "string", "format": "citizen-id"}``:

==============  ===========================================================================================
format          meaning
==============  ===========================================================================================
``citizen-id``  18-digit citizen ID number (公民身份号码, GB 11643-1999): 6-digit region, 8-digit birth date,
                3-digit sequence, check character (ISO 7064 MOD 11-2, ``X`` for 10, upper case only)
``uscc``        unified social credit code (统一社会信用代码, GB 32100-2015): 18 characters from
                ``0-9 A-H J-N P-R T U W-Y``, a 6-digit region code at positions 3-8, check character
                (MOD 31, upper case only)
``mobile-cn``   mainland mobile number: 11 ASCII digits ``1[3-9]x{9}``, no ``+86``, spaces or dashes
``date``        calendar date ``YYYY-MM-DD`` (ISO 8601 / RFC 3339 full-date), ASCII digits, a real day
==============  ===========================================================================================

Values are not normalised: a form stores the canonical form, so ``11010519491231002x`` (lower-case x) is
refused with the reason "末位 X 应大写" rather than silently accepted.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from zoneinfo import ZoneInfo

from jsonschema import FormatChecker

__all__ = [
    "FORMAT_CHECKER",
    "FORMAT_NAMES",
    "USCC_CHARSET",
    "InvalidFormat",
    "citizen_id_check_char",
    "citizen_id_problem",
    "date_problem",
    "is_valid_citizen_id",
    "is_valid_date",
    "is_valid_mobile",
    "is_valid_uscc",
    "mobile_problem",
    "uscc_check_char",
    "uscc_problem",
]

CHINA = ZoneInfo("Asia/Shanghai")

# GB 11643-1999 (ISO 7064 MOD 11-2): weight of position i is 2^(17-i) mod 11.
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_ID_BODY = re.compile(r"[0-9]{17}", re.ASCII)
_EARLIEST_BIRTH = date(1800, 1, 1)

# GB 32100-2015: 31 characters (no I, O, S, V, Z); weight of position i is 3^i mod 31.
USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_VALUE = {char: value for value, char in enumerate(USCC_CHARSET)}
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_DIGITS = re.compile(r"[0-9]+", re.ASCII)

_MOBILE = re.compile(r"1[3-9][0-9]{9}", re.ASCII)
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)


class InvalidFormat(ValueError):
    """Raised by the registered format checks; ``str(exc)`` is the Chinese reason."""


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
        return f"应为 18 位，实为 {len(value)} 位"
    if not _ID_BODY.fullmatch(value[:17]):
        return "前 17 位应为数字"
    last = value[17]
    if last == "x":
        return "末位 X 应大写"
    if last not in _ID_CHECK:
        return "末位应为数字或 X"
    try:
        born = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return "出生日期无效"
    today = today or datetime.now(CHINA).date()
    if born < _EARLIEST_BIRTH or born > today:
        return "出生日期无效"
    if citizen_id_check_char(value[:17]) != last:
        return "校验位不符"
    return None


def is_valid_citizen_id(value: object, *, today: date | None = None) -> bool:
    return citizen_id_problem(value, today=today) is None


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
        return f"应为 18 位，实为 {len(value)} 位"
    if value != value.upper() and all(char in _USCC_VALUE for char in value.upper()):
        return "字母应大写"
    bad = sorted({char for char in value if char not in _USCC_VALUE})
    if bad:
        return "含有不允许的字符：" + "、".join(bad)
    if not _DIGITS.fullmatch(value[2:8]):
        return "第 3-8 位应为行政区划码（数字）"
    if uscc_check_char(value[:17]) != value[17]:
        return "校验位不符"
    return None


def is_valid_uscc(value: object) -> bool:
    return uscc_problem(value) is None


def mobile_problem(value: object) -> str | None:
    """``None`` when ``value`` is a mainland mobile number (11 digits, 1[3-9]…), else the reason in Chinese."""
    if not isinstance(value, str):
        return "应为文本"
    if not value.isascii() or not value.isdigit():
        return "应为 11 位数字（不含空格、+86 或连字符）"
    if len(value) != 11:
        return f"应为 11 位，实为 {len(value)} 位"
    if not _MOBILE.fullmatch(value):
        return "号段不正确"
    return None


def is_valid_mobile(value: object) -> bool:
    return mobile_problem(value) is None


def date_problem(value: object) -> str | None:
    """``None`` when ``value`` is a real calendar date written ``YYYY-MM-DD``, else the reason in Chinese."""
    if not isinstance(value, str):
        return "应为文本"
    if not _DATE.fullmatch(value):
        return "应为 YYYY-MM-DD，如 2026-01-31"
    try:
        date.fromisoformat(value)
    except ValueError:
        return "没有这一天"
    return None


def is_valid_date(value: object) -> bool:
    return date_problem(value) is None


# Chinese names of the formats, for messages ("{title}不是有效的{name}").
FORMAT_NAMES = {
    "citizen-id": "身份证号码",
    "uscc": "统一社会信用代码",
    "mobile-cn": "手机号码",
    "date": "日期",
    "email": "电子邮箱",
}

_PROBLEMS: dict[str, Callable[[object], str | None]] = {
    "citizen-id": citizen_id_problem,
    "uscc": uscc_problem,
    "mobile-cn": mobile_problem,
    "date": date_problem,
}


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
