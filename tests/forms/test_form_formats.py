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


@pytest.mark.parametrize("number", ["11010519491231002X", "440524198801010011", "110105199003070017"])
def test_valid_citizen_ids(number):
    assert is_valid_citizen_id(number)


def test_the_standards_own_example_is_too_old_to_be_a_living_applicant():
    """GB 11643's example 440524188001010014 has a right check digit, but a holder born in 1880."""
    assert citizen_id_check_char("44052418800101001") == "4"
    assert citizen_id_problem("440524188001010014", today=date(2000, 1, 1)) is None
    assert (
        citizen_id_problem("440524188001010014", today=date(2026, 12, 7)) == "中的出生日期（第 7–14 位）早于 120 年前"
    )


def test_the_check_digit_by_hand():
    # 1·7+1·9+0·10+1·5+0·8+5·4+1·2+9·1+4·6+9·3+1·7+2·9+3·10+1·5+0·8+0·4+2·2 = 167; 167 mod 11 = 2 → "X"
    assert citizen_id_check_char("11010519491231002") == "X"


@pytest.mark.parametrize(
    ("number", "reason"),
    [
        ("110105194912310021", "的校验位不正确，请核对"),
        ("11010519900307001X", "的校验位不正确，请核对"),  # the old demo number: its check digit is 7
        ("11010519491231002x", "的末位 X 应大写"),
        ("110105194902300020", "中的出生日期（第 7–14 位）不是有效日期"),  # 30 February
        ("110105179912310020", "中的出生日期（第 7–14 位）早于 120 年前"),
        ("110105491231002", "应为 18 位，现为 15 位"),  # the old 15-digit numbers are not accepted
        ("1101051949123100210", "应为 18 位，现为 19 位"),
        ("11010519491231002Y", "的末位应为数字或 X"),
        ("A1010519491231002X", "的前 17 位应为数字"),
        ("１１０１０５１９４９１２３１００２X", "的前 17 位应为数字"),  # full-width digits
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
    assert citizen_id_problem(number, today=date(2026, 2, 28)) == "中的出生日期（第 7–14 位）晚于今天"


@st.composite
def citizen_ids(draw) -> str:
    region = draw(st.from_regex(r"[1-8][0-9]{5}", fullmatch=True))
    born = draw(st.dates(min_value=date(1910, 1, 1), max_value=date(2025, 12, 31)))
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
        ("91350100M000100Y44", "的校验位不正确，请核对"),
        ("91350100m000100y43", "的字母应大写"),
        ("91350100MO00100Y43", "含有不允许的字符：O（不用 I、O、S、V、Z）"),
        ("91350100I000100Y43", "含有不允许的字符：I（不用 I、O、S、V、Z）"),
        ("913501000M000100Y4", "的校验位不正确，请核对"),
        ("91A50100M000100Y43", "的第 3–8 位应为行政区划码（数字）"),
        ("91350100M000100Y4", "应为 18 位，现为 17 位"),
        ("", "应为 18 位，现为 0 位"),
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
        ("12800138000", "的号段不正确（应以 13–19 开头）"),
        ("23800138000", "的号段不正确（应以 13–19 开头）"),
        ("1380013800", "应为 11 位，现为 10 位"),
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
        ("2023-02-29", "不是日历上的日期（没有这一天）"),
        ("2024-13-01", "不是日历上的日期（没有这一天）"),
        ("2024-2-9", "应写成“年-月-日”（YYYY-MM-DD）"),
        ("20240229", "应写成“年-月-日”（YYYY-MM-DD）"),  # Python 3.11 fromisoformat would take it
        ("2024-02-29T00:00", "应写成“年-月-日”（YYYY-MM-DD）"),
        ("２０２４-０２-２９", "应写成“年-月-日”（YYYY-MM-DD）"),
        ("2024-02-29\n", "应写成“年-月-日”（YYYY-MM-DD）"),
    ],
)
def test_dates(value, reason):
    assert date_problem(value) == reason
    assert is_valid_date(value) is (reason is None)


def test_the_formats_are_registered_on_our_checker_only():
    assert {"citizen-id", "uscc", "mobile-cn", "date", "email"} <= set(FORMAT_CHECKER.checkers)
    assert "citizen-id" not in FormatChecker().checkers
    assert FORMAT_CHECKER.conforms(42, "citizen-id")  # formats constrain strings only
