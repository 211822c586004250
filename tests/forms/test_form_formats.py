"""The hall's formats: citizen ID (GB 11643), unified social credit code (GB 32100), mobile, date."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st
from jsonschema import FormatChecker

from forms import FORMAT_CHECKER, is_valid_citizen_id, is_valid_date, is_valid_mobile, is_valid_uscc
from forms.formats import (
    USCC_CHARSET,
    citizen_id_check_char,
    citizen_id_problem,
    date_problem,
    mobile_problem,
    uscc_check_char,
    uscc_problem,
)

# ---- citizen ID ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("number", ["11010519491231002X", "440524188001010014", "110105199003070017"])
def test_valid_citizen_ids(number):
    assert is_valid_citizen_id(number)


def test_the_check_digit_by_hand():
    # 1·7+1·9+0·10+1·5+0·8+5·4+1·2+9·1+4·6+9·3+1·7+2·9+3·10+1·5+0·8+0·4+2·2 = 167; 167 mod 11 = 2 → "X"
    assert citizen_id_check_char("11010519491231002") == "X"


@pytest.mark.parametrize(
    ("number", "reason"),
    [
        ("110105194912310021", "校验位不符"),
        ("11010519900307001X", "校验位不符"),  # the old demo number: its check digit is 7
        ("11010519491231002x", "末位 X 应大写"),
        ("110105194902300020", "出生日期无效"),  # 30 February
        ("110105179912310020", "出生日期无效"),  # before 1800
        ("110105491231002", "应为 18 位，实为 15 位"),  # the old 15-digit numbers are not accepted
        ("1101051949123100210", "应为 18 位，实为 19 位"),
        ("11010519491231002Y", "末位应为数字或 X"),
        ("A1010519491231002X", "前 17 位应为数字"),
        ("１１０１０５１９４９１２３１００２X", "前 17 位应为数字"),  # full-width digits
        (11010519491231002, "应为文本"),
    ],
)
def test_invalid_citizen_ids(number, reason):
    assert citizen_id_problem(number) == reason
    assert not is_valid_citizen_id(number)


def test_a_birth_date_in_the_future_is_refused():
    number = "11010520260301" + "001"
    number += citizen_id_check_char(number)
    assert is_valid_citizen_id(number, today=date(2026, 3, 1))
    assert citizen_id_problem(number, today=date(2026, 2, 28)) == "出生日期无效"


@st.composite
def citizen_ids(draw) -> str:
    region = draw(st.from_regex(r"[1-8][0-9]{5}", fullmatch=True))
    born = draw(st.dates(min_value=date(1900, 1, 1), max_value=date(2025, 12, 31)))
    sequence = draw(st.from_regex(r"[0-9]{3}", fullmatch=True))
    body = region + born.strftime("%Y%m%d") + sequence
    return body + citizen_id_check_char(body)


@given(citizen_ids(), st.data())
def test_every_single_character_error_in_a_citizen_id_is_caught(number, data):
    assert is_valid_citizen_id(number)
    position = data.draw(st.integers(0, 17))
    alphabet = "0123456789X" if position == 17 else "0123456789"
    replacement = data.draw(st.sampled_from([c for c in alphabet if c != number[position]]))
    assert not is_valid_citizen_id(number[:position] + replacement + number[position + 1 :])


# ---- unified social credit code --------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["91350100M000100Y43", "91110000802100433B"])
def test_valid_usccs(code):
    assert is_valid_uscc(code)
    assert uscc_check_char(code[:17]) == code[17]


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("91350100M000100Y44", "校验位不符"),
        ("91350100m000100y43", "字母应大写"),
        ("91350100MO00100Y43", "含有不允许的字符：O"),
        ("91350100I000100Y43", "含有不允许的字符：I"),
        ("913501000M000100Y4", "校验位不符"),
        ("91A50100M000100Y43", "第 3-8 位应为行政区划码（数字）"),
        ("91350100M000100Y4", "应为 18 位，实为 17 位"),
        ("", "应为 18 位，实为 0 位"),
        (None, "应为文本"),
    ],
)
def test_invalid_usccs(code, reason):
    assert uscc_problem(code) == reason
    assert not is_valid_uscc(code)


def test_a_uscc_check_value_of_31_is_written_as_0():
    # The last body position has weight 28, invertible mod 31: exactly one of 31 characters there gives 0.
    zeros = [c for c in USCC_CHARSET if uscc_check_char("9135010000000000" + c) == "0"]
    assert len(zeros) == 1
    assert is_valid_uscc("9135010000000000" + zeros[0] + "0")


@st.composite
def usccs(draw) -> str:
    chars = st.sampled_from(USCC_CHARSET)
    head = draw(chars) + draw(chars) + draw(st.from_regex(r"[0-9]{6}", fullmatch=True))
    body = head + "".join(draw(st.lists(chars, min_size=9, max_size=9)))
    return body + uscc_check_char(body)


@given(usccs(), st.data())
def test_every_single_character_error_in_a_uscc_is_caught(code, data):
    assert is_valid_uscc(code)
    position = data.draw(st.integers(0, 17))
    replacement = data.draw(st.sampled_from([c for c in USCC_CHARSET if c != code[position]]))
    assert not is_valid_uscc(code[:position] + replacement + code[position + 1 :])


# ---- mobile and date -------------------------------------------------------------------------------------


@pytest.mark.parametrize("number", ["13800138000", "19912345678", "16612345678"])
def test_valid_mobiles(number):
    assert is_valid_mobile(number)


@pytest.mark.parametrize(
    ("number", "reason"),
    [
        ("12800138000", "号段不正确"),
        ("23800138000", "号段不正确"),
        ("1380013800", "应为 11 位，实为 10 位"),
        ("+8613800138000", "应为 11 位数字（不含空格、+86 或连字符）"),
        ("138 0013 8000", "应为 11 位数字（不含空格、+86 或连字符）"),
        ("１３８００１３８０００", "应为 11 位数字（不含空格、+86 或连字符）"),
    ],
)
def test_invalid_mobiles(number, reason):
    assert mobile_problem(number) == reason
    assert not is_valid_mobile(number)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("2024-02-29", None),
        ("2023-02-29", "没有这一天"),
        ("2024-13-01", "没有这一天"),
        ("2024-2-9", "应为 YYYY-MM-DD，如 2026-01-31"),
        ("20240229", "应为 YYYY-MM-DD，如 2026-01-31"),  # Python 3.11 fromisoformat would take it
        ("2024-02-29T00:00", "应为 YYYY-MM-DD，如 2026-01-31"),
        ("２０２４-０２-２９", "应为 YYYY-MM-DD，如 2026-01-31"),
        ("2024-02-29\n", "应为 YYYY-MM-DD，如 2026-01-31"),
    ],
)
def test_dates(value, reason):
    assert date_problem(value) == reason
    assert is_valid_date(value) is (reason is None)


def test_the_formats_are_registered_on_our_checker_only():
    assert {"citizen-id", "uscc", "mobile-cn", "date", "email"} <= set(FORMAT_CHECKER.checkers)
    assert "citizen-id" not in FormatChecker().checkers
    assert FORMAT_CHECKER.conforms(42, "citizen-id")  # formats constrain strings only
