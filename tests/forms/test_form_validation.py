"""validate_form: field path → Chinese messages, including the hall's formats."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from forms import validate_form
from tests.forms.samples import CITIZEN_ID, ENTERPRISE_FORM, USCC

SCHEMA = {
    "type": "object",
    "properties": {
        "legal_representative_id": {"type": "string", "title": "法定代表人身份证号", "format": "citizen-id"},
        "credit_code": {"type": "string", "title": "统一社会信用代码", "format": "uscc"},
        "mobile": {"type": "string", "title": "联系电话", "format": "mobile-cn"},
        "founded": {"type": "string", "title": "成立日期", "format": "date"},
        "email": {"type": "string", "title": "电子邮箱", "format": "email"},
        "shareholders": {
            "type": "array",
            "title": "股东",
            "uniqueItems": True,
            "items": {
                "type": "object",
                "title": "股东",
                "properties": {"id": {"type": "string", "title": "股东身份证号", "format": "citizen-id"}},
            },
        },
        "capital": {"type": "number", "title": "注册资本", "multipleOf": 0.5},
    },
    "dependentRequired": {"founded": ["credit_code"]},
    "additionalProperties": False,
}

TODAY = date(2026, 12, 7)
VALID = {
    "legal_representative_id": CITIZEN_ID,
    "credit_code": USCC,
    "mobile": "13800138000",
    "founded": "2024-02-29",
    "email": "a@example.cn",
    "shareholders": [{"id": "11010519491231002X"}],
    "capital": 10.5,
}


def test_valid_data_has_no_errors():
    assert validate_form(SCHEMA, VALID) == {}


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        (
            "legal_representative_id",
            "11010519900307001X",
            "法定代表人身份证号的校验位不正确，请核对。例：11010519491231002X",
        ),
        (
            "legal_representative_id",
            "110105194902300020",
            "法定代表人身份证号中的出生日期（第 7–14 位）不是有效日期。例：11010519491231002X",
        ),
        ("legal_representative_id", "11010519491231002x", "法定代表人身份证号的末位 X 应大写。例：11010519491231002X"),
        ("credit_code", "91350100M000100Y44", "统一社会信用代码的校验位不正确，请核对。例：91350100M000100Y43"),
        ("mobile", "12800138000", "联系电话的号段不正确（应以 13–19 开头）。例：13800138000"),
        ("founded", "2023-02-29", "成立日期不是日历上的日期（没有这一天）。例：2026-12-07"),
        ("founded", "2023/02/28", "成立日期应写成“年-月-日”（YYYY-MM-DD）。例：2026-12-07"),
        ("email", "not-an-email", "电子邮箱不是有效的电子邮箱。例：name@example.cn"),
        ("capital", 10.2, "注册资本应为 0.5 的倍数。例：1"),
    ],
)
def test_format_errors_say_what_is_wrong_and_give_an_example(field, value, message):
    assert validate_form(SCHEMA, {**VALID, field: value}, today=TODAY) == {field: [message]}


def test_nested_and_list_errors_have_their_path():
    errors = validate_form(SCHEMA, {**VALID, "shareholders": [{"id": "1"}, {"id": "1"}]})
    assert errors == {
        "shareholders": ["股东不能有重复项"],
        "shareholders.0.id": ["股东身份证号应为 18 位，现为 1 位。例：11010519491231002X"],
        "shareholders.1.id": ["股东身份证号应为 18 位，现为 1 位。例：11010519491231002X"],
    }


def test_a_wrong_type_is_a_type_error_not_a_format_error():
    assert validate_form(SCHEMA, {**VALID, "mobile": 13800138000}) == {"mobile": ["联系电话应为文本。例：13800138000"]}


def test_dependent_required_names_both_fields():
    data = {key: value for key, value in VALID.items() if key != "credit_code"}
    assert validate_form(SCHEMA, data) == {"credit_code": ["填写了成立日期时，请填写统一社会信用代码"]}


def test_the_merged_enterprise_form_accepts_the_demo_data_and_explains_errors():
    path = Path(__file__).parent / "golden" / "enterprise_start.json"
    schema = json.loads(path.read_text(encoding="utf-8"))["schema"]
    assert validate_form(schema, ENTERPRISE_FORM) == {}
    errors = validate_form(schema, {**ENTERPRISE_FORM, "contact_phone": "1380013800", "extra": 1})
    assert errors == {
        "contact_phone": ["联系电话应为 11 位，现为 10 位。例：13800138000"],
        "form": ["含有表单未定义的字段：extra"],
    }
    missing = {key: value for key, value in ENTERPRISE_FORM.items() if key != "enterprise_name"}
    assert validate_form(schema, missing) == {"enterprise_name": ["请填写企业名称"]}


def test_non_object_data():
    assert validate_form(SCHEMA, ["x"]) == {"form": ["申请表应为对象（JSON object）"]}
