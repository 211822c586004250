"""Golden files of the merged sample one-things. Regenerate with ``UPDATE_GOLDEN=1 pytest tests/forms``."""

from __future__ import annotations

import json
import os
from datetime import date

import pytest
from jsonschema import Draft202012Validator

import forms
from tests.forms.samples import ENTERPRISE_FORM, GOLDEN_DIR, NEWBORN_FORM, ONE_THINGS, demo_merged, fragment, merged

UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"


def dump(data: dict) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


# The restaurant one-thing (conditional items, follow-ups) merges from the demo catalogue itself.
GOLDEN = {**{key: merged for key in ONE_THINGS}, "restaurant_start": demo_merged}


@pytest.mark.parametrize("key", sorted(GOLDEN))
def test_merged_form_matches_golden(key):
    actual = dump(GOLDEN[key](key).to_dict())
    path = GOLDEN_DIR / f"{key}.json"
    if UPDATE or not path.exists():
        path.write_text(actual, encoding="utf-8")
        if not UPDATE:
            pytest.fail(f"wrote the missing golden file {path.name}; check it and commit it")
    expected = path.read_text(encoding="utf-8")
    assert json.loads(actual) == json.loads(expected), "merge changed; if intended, rerun with UPDATE_GOLDEN=1"
    assert actual == expected, "same content, different key order (field order matters); UPDATE_GOLDEN=1"


@pytest.mark.parametrize("key", sorted(ONE_THINGS))
def test_sample_fragments_are_well_formed_and_golden_schema_is_valid(key):
    for name in ONE_THINGS[key][2]:
        assert forms.check_fragment(fragment(name)) == []
    Draft202012Validator.check_schema(merged(key).schema)


@pytest.mark.parametrize("key", sorted(ONE_THINGS))
def test_golden_round_trips_through_json(key):
    form = merged(key)
    again = forms.MergedForm.from_dict(json.loads(json.dumps(form.to_dict())))
    assert again == form
    assert again.fields_for_department(form.lead_department) == form.fields_for_department(form.lead_department)


def test_enterprise_start_asks_shared_questions_once():
    form = merged("enterprise_start")
    report = form.report
    assert (report["fields_total_requested"], report["fields_asked"], report["fields_saved"]) == (26, 17, 9)
    # 营业执照 is what the one-thing itself produces: never asked for (a fourth material saved).
    assert (report["materials_total_requested"], report["materials_asked"], report["materials_saved"]) == (11, 7, 4)
    assert report["materials_produced_inside"] == [
        {
            "code": "business_licence",
            "name": "营业执照",
            "produced_by": ["000113101000"],
            "needed_by": ["000105402000", "000112103000"],
        }
    ]
    assert report["shared_fields"] == {
        "enterprise_name": 3,
        "address": 2,
        "legal_representative": 3,
        "legal_representative_id": 3,
        "contact_phone": 3,
    }
    # The lead department's labels win; the others' are kept in the provenance.
    assert form.schema["properties"]["enterprise_name"]["title"] == "企业名称"
    assert [use["title"] for use in form.provenance["enterprise_name"]] == ["企业名称", "单位名称", "纳税人名称"]
    # The stricter bound wins and is reported.
    assert form.schema["properties"]["enterprise_name"]["maxLength"] == 60
    assert {"field": "enterprise_name", "keyword": "maxLength", "value": 60} in [
        {key: entry[key] for key in ("field", "keyword", "value")} for entry in report["tightened"]
    ]


def test_enterprise_start_materials_take_the_strictest_wish():
    materials = {m["code"]: m for m in merged("enterprise_start").materials}
    id_card = materials["legal_rep_id_card"]
    # Two departments would take the e-licence, but the police want the original: the applicant brings it.
    assert (id_card["required"], id_card["original"], id_card["source"]) == (True, True, "applicant")
    assert [use["department"] for use in id_card["needed_by"]] == ["market_regulation", "public_security", "tax"]
    assert [use["source"] for use in id_card["needed_by"]] == ["e_licence", "applicant", "e_licence"]
    assert "business_licence" not in materials  # produced by the one-thing's own business licence item
    assert materials["agent_id_card"]["required"] is False


def test_department_views_of_the_enterprise_form():
    form = merged("enterprise_start")
    police = form.fields_for_department("public_security")
    assert police == [
        "enterprise_name",
        "legal_representative",
        "legal_representative_id",
        "contact_phone",
        "seal_count",
        "seal_types",
        "seal_maker",
    ]
    order = form.field_order_for_department("tax")
    assert order[: len(form.fields_for_department("tax"))] == form.fields_for_department("tax")
    assert sorted(order) == sorted(form.schema["properties"])
    assert [m["code"] for m in form.materials_for_department("public_security")] == [
        "legal_rep_id_card",
        "agent_id_card",
    ]
    assert form.fields_for_department("civil_affairs") == []
    sections = form.ui_hints["sections"]
    assert [section["key"] for section in sections] == ["shared", "000113101000", "000105402000", "000112103000"]
    assert sum(len(section["fields"]) for section in sections) == len(form.schema["properties"])
    assert form.ui_hints["by_department"]["public_security"] == police


def test_enterprise_demo_data_fits_the_merged_form():
    schema = merged("enterprise_start").schema
    assert forms.validate_form(schema, ENTERPRISE_FORM) == {}
    errors = forms.validate_form(schema, {**ENTERPRISE_FORM, "financial_officer_name": "赵会计"})
    assert errors == {"financial_officer_phone": ["填写了财务负责人时，请填写财务负责人手机号码"]}


def test_newborn_form_validates_in_chinese():
    form = merged("newborn")
    assert form.report["fields_saved"] == 21
    # 出生医学证明 is issued by the one-thing's own first item: not fetched, not asked.
    assert form.report["materials_from_e_licence"] == 2
    assert [m["code"] for m in form.report["materials_produced_inside"]] == ["birth_medical_certificate"]
    assert forms.validate_form(form.schema, NEWBORN_FORM) == {}
    bad = {
        **NEWBORN_FORM,
        "mother_id": NEWBORN_FORM["mother_id"][:-1] + "1",
        "birth_date": "2026-02-30",
        "pickup_method": "邮寄",
        "newborn_gender": "未知",
        "ethnicity": "汉",  # validate_form alone does not map the short name; check_answers does
    }
    assert forms.validate_form(form.schema, bad, today=date(2026, 12, 7)) == {
        "birth_date": ["出生日期不是日历上的日期（没有这一天）。例：2026-12-07"],
        "ethnicity": ["民族“汉”不在可选项中，请选择。例：汉族"],
        "mailing_address": ["请填写邮寄地址"],
        "mother_id": ["母亲身份证号的校验位不正确，请核对。例：11010519491231002X"],
        "newborn_gender": ["新生儿性别“未知”不在可选项中，请选择。例：男"],
    }
