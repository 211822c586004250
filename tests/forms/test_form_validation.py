"""validate_form: field path → Chinese messages, including the hall's formats."""

from __future__ import annotations

import json
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
        ("legal_representative_id", "11010519900307001X", "法定代表人身份证号不是有效的身份证号码（校验位不符）"),
        ("legal_representative_id", "110105194902300020", "法定代表人身份证号不是有效的身份证号码（出生日期无效）"),
        ("legal_representative_id", "11010519491231002x", "法定代表人身份证号不是有效的身份证号码（末位 X 应大写）"),
        ("credit_code", "91350100M000100Y44", "统一社会信用代码不是有效的统一社会信用代码（校验位不符）"),
        ("mobile", "12800138000", "联系电话不是有效的手机号码（号段不正确）"),
        ("founded", "2023-02-29", "成立日期不是有效的日期（没有这一天）"),
        ("founded", "2023/02/28", "成立日期不是有效的日期（应为 YYYY-MM-DD，如 2026-01-31）"),
        ("email", "not-an-email", "电子邮箱不是有效的电子邮箱"),
        ("capital", 10.2, "注册资本应为 0.5 的倍数"),
    ],
)
def test_format_errors_are_in_chinese_with_the_reason(field, value, message):
    assert validate_form(SCHEMA, {**VALID, field: value}) == {field: [message]}


def test_nested_and_list_errors_have_their_path():
    errors = validate_form(SCHEMA, {**VALID, "shareholders": [{"id": "1"}, {"id": "1"}]})
    assert errors == {
        "shareholders": ["股东不能有重复项"],
        "shareholders.0.id": ["股东身份证号不是有效的身份证号码（应为 18 位，实为 1 位）"],
        "shareholders.1.id": ["股东身份证号不是有效的身份证号码（应为 18 位，实为 1 位）"],
    }


def test_a_wrong_type_is_a_type_error_not_a_format_error():
    assert validate_form(SCHEMA, {**VALID, "mobile": 13800138000}) == {"mobile": ["联系电话的类型不正确（应为文本）"]}


def test_dependent_required_names_both_fields():
    data = {key: value for key, value in VALID.items() if key != "credit_code"}
    assert validate_form(SCHEMA, data) == {"credit_code": ["填写了成立日期时，请填写统一社会信用代码"]}


def test_the_merged_enterprise_form_accepts_the_demo_data_and_explains_errors():
    path = Path(__file__).parent / "golden" / "enterprise_start.json"
    schema = json.loads(path.read_text(encoding="utf-8"))["schema"]
    assert validate_form(schema, ENTERPRISE_FORM) == {}
    errors = validate_form(schema, {**ENTERPRISE_FORM, "contact_phone": "1380013800", "extra": 1})
    assert errors == {
        "contact_phone": ["联系电话不是有效的手机号码（应为 11 位，实为 10 位）"],
        "form": ["含有表单未定义的字段：extra"],
    }
    missing = {key: value for key, value in ENTERPRISE_FORM.items() if key != "enterprise_name"}
    assert validate_form(schema, missing) == {"enterprise_name": ["请填写企业名称"]}


def test_non_object_data():
    assert validate_form(SCHEMA, ["x"]) == {"form": ["申请表应为对象（JSON object）"]}
