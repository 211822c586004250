"""The one form's HTML mapping: widgets from JSON Schema, and the submitted strings back to typed values."""

from django.http import QueryDict

from web import schema_form

SCHEMA = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "title": "企业名称", "maxLength": 100},
        "scope": {"type": "string", "title": "经营范围", "maxLength": 2000},
        "kind": {"type": "string", "title": "企业类型", "enum": ["有限责任公司", "合伙企业"]},
        "capital": {"type": "number", "title": "注册资本", "exclusiveMinimum": 0},
        "seals": {"type": "integer", "title": "印章数量", "minimum": 1, "maximum": 10},
        "invoice": {"type": "boolean", "title": "申领发票"},
        "types": {"type": "array", "title": "印章种类", "items": {"type": "string", "enum": ["公章", "财务章"]}},
        "born": {"type": "string", "title": "出生日期", "format": "date"},
        "id": {"type": "string", "title": "身份证号", "format": "citizen-id"},
        "extra": {"type": "object", "title": "其他"},
    },
    "required": ["name"],
}


def post(**values) -> QueryDict:
    query = QueryDict(mutable=True)
    for name, value in values.items():
        if isinstance(value, list):
            query.setlist(f"f_{name}", value)
        else:
            query[f"f_{name}"] = value
    return query


def test_widgets():
    widgets = {name: schema_form.widget_of(d) for name, d in SCHEMA["properties"].items()}
    assert widgets == {
        "name": "text",
        "scope": "textarea",
        "kind": "select",
        "capital": "number",
        "seals": "integer",
        "invoice": "boolean",
        "types": "multi",
        "born": "date",
        "id": "text",
        "extra": "json",
    }
    field = schema_form.field_view(SCHEMA, "id", raw={})
    assert field.attrs["maxlength"] == 18 and not field.required
    assert schema_form.field_view(SCHEMA, "seals", raw={}).attrs == {"inputmode": "numeric", "min": 1, "max": 10}


def test_parse_types_values_and_leaves_empty_inputs_out():
    raw = schema_form.raw_from_post(
        SCHEMA,
        post(
            name=" 星火 ",
            scope="",
            kind="合伙企业",
            capital="100",
            seals="3",
            invoice="false",
            types=["公章"],
            born="2026-01-31",
            extra='{"a": 1}',
        ),
    )
    data, errors = schema_form.parse(SCHEMA, raw)
    assert errors == {}
    assert data == {
        "name": "星火",
        "kind": "合伙企业",
        "capital": 100,
        "seals": 3,
        "invoice": False,
        "types": ["公章"],
        "born": "2026-01-31",
        "extra": {"a": 1},
    }
    assert isinstance(schema_form.parse(SCHEMA, {"capital": "12.5"})[0]["capital"], float)


def test_what_cannot_be_converted_is_reported_in_chinese():
    data, errors = schema_form.parse(SCHEMA, {"capital": "一百", "seals": "2.5", "extra": "{"})
    assert data == {}
    assert errors == {
        "capital": ["注册资本应为数字。例：1"],
        "seals": ["印章数量应为整数。例：1"],
        "extra": ["其他的格式不正确（应为 JSON）"],
    }


def test_round_trip_from_stored_data():
    stored = {"capital": 100.0, "invoice": True, "types": ["公章", "财务章"], "kind": "有限责任公司"}
    raw = schema_form.raw_from_data(SCHEMA, stored)
    assert raw == {"capital": "100", "invoice": "true", "types": ["公章", "财务章"], "kind": "有限责任公司"}
    assert schema_form.parse(SCHEMA, raw)[0] == {**stored, "capital": 100}
    assert schema_form.field_view(SCHEMA, "invoice", raw=raw).display == "是"
    assert schema_form.field_view(SCHEMA, "types", raw=raw).display == "公章、财务章"
    assert schema_form.field_view(SCHEMA, "name", raw=raw).display == "—"


def test_service_errors_are_placed_on_their_fields():
    by_field, other = schema_form.field_errors_of(
        {
            "form.name": ["请填写企业名称"],
            "form.types.0": ["印章种类的取值不在允许范围内"],
            "form": ["含有表单未定义的字段：x"],
        }
    )
    assert by_field == {"name": ["请填写企业名称"], "types": ["印章种类的取值不在允许范围内"]}
    assert other == ["含有表单未定义的字段：x"]


def test_sections_follow_the_merge_hints():
    merged = {
        "schema": SCHEMA,
        "ui_hints": {
            "sections": [
                {"key": "shared", "title": "共同信息", "fields": ["name"]},
                {"key": "001", "title": "设立登记", "department": "market_regulation", "fields": ["kind", "capital"]},
            ],
            "field_departments": {"name": ["market_regulation", "tax"]},
        },
    }
    sections = schema_form.sections(
        merged, raw={}, department_names={"market_regulation": "市场监管局", "tax": "税务局"}
    )
    assert [s.title for s in sections] == ["共同信息", "设立登记", "其他信息"]
    assert sections[0].fields[0].departments == ["市场监管局", "税务局"] and sections[0].note
    assert sections[1].department == "市场监管局"
    only = schema_form.sections(merged, raw={}, only=["capital"])
    assert [[f.name for f in s.fields] for s in only] == [["capital"]]
