"""Incompatible fragments are refused at composition time, naming the field and both items."""

from __future__ import annotations

import pytest

from forms import Conflict, FragmentConflict, FragmentError, merge_fragments


def item(code: str, department: str, properties: dict, required: list[str] | None = None) -> dict:
    return {
        "item_code": code,
        "item_name": f"事项{code}",
        "department": department,
        "schema": {"type": "object", "properties": properties, "required": required or []},
        "materials": [],
    }


def text(title: str, **keywords) -> dict:
    return {"type": "string", "title": title, **keywords}


def refused(*fragments: dict) -> FragmentConflict:
    with pytest.raises(FragmentConflict) as caught:
        merge_fragments(list(fragments), title="测试一件事")
    return caught.value


def test_type_clash_names_the_field_and_both_items():
    error = refused(
        item("A001", "market_regulation", {"capital": {"type": "number", "title": "注册资本"}}),
        item("B002", "tax", {"capital": {"type": "string", "title": "注册资本"}}),
    )
    [conflict] = error.conflicts
    assert isinstance(conflict, Conflict)
    assert (conflict.field, conflict.keyword) == ("capital", "type")
    assert [entry["item_code"] for entry in conflict.items] == ["A001", "B002"]
    assert conflict.values == ("number", "string")
    assert conflict.message == (
        "字段 capital（注册资本）定义冲突：事项“事项A001”（A001，market_regulation）要求类型为 数字（number），"
        "事项“事项B002”（B002，tax）要求类型为 文本（string）"
    )
    assert "1 处冲突" in str(error)
    assert conflict.message in str(error)
    assert isinstance(error, FragmentError) and isinstance(error, ValueError)


def test_integer_and_number_are_different_types():
    error = refused(
        item("A", "tax", {"n": {"type": "integer", "title": "数量"}}),
        item("B", "tax", {"n": {"type": "number", "title": "数量"}}),
    )
    assert [c.keyword for c in error.conflicts] == ["type"]


def test_type_lists_compare_as_sets():
    form = merge_fragments(
        [
            item("A", "tax", {"n": {"type": ["string", "null"], "title": "备注"}}),
            item("B", "tax", {"n": {"type": ["null", "string"], "title": "备注"}}),
        ],
        title="t",
    )
    assert form.schema["properties"]["n"]["type"] == ["string", "null"]


def test_enum_clash_is_refused_but_reordered_enums_merge():
    error = refused(
        item("A", "health", {"gender": text("性别", enum=["男", "女"])}),
        item("B", "public_security", {"gender": text("性别", enum=["男", "女", "未说明"])}),
    )
    [conflict] = error.conflicts
    assert conflict.keyword == "enum"
    assert "可选值为 [男、女]" in conflict.message and "[男、女、未说明]" in conflict.message
    form = merge_fragments(
        [
            item("B", "public_security", {"gender": text("性别", enum=["女", "男"])}),
            item("A", "health", {"gender": text("性别", enum=["男", "女"])}),
        ],
        title="t",
        lead_department="health",
    )
    assert form.schema["properties"]["gender"]["enum"] == ["男", "女"]  # the lead department's order


def test_pattern_and_format_clashes():
    error = refused(
        item("A", "tax", {"phone": text("电话", pattern="^1[3-9][0-9]{9}$"), "id": text("证件", format="citizen-id")}),
        item("B", "tax", {"phone": text("电话", pattern="^[0-9]{11}$"), "id": text("证件", format="uscc")}),
    )
    assert [(c.field, c.keyword) for c in error.conflicts] == [("id", "format"), ("phone", "pattern")]
    assert "格式（正则表达式）为 ^1[3-9][0-9]{9}$" in error.conflicts[1].message


def test_all_conflicts_are_reported_not_only_the_first():
    error = refused(
        item("A", "market_regulation", {"a": text("甲"), "b": text("乙", enum=["x"]), "c": text("丙")}),
        item("B", "public_security", {"a": {"type": "integer", "title": "甲"}, "b": text("乙", enum=["y"])}),
        item("C", "tax", {"c": text("丙", pattern="^c$"), "a": {"type": "boolean", "title": "甲"}}),
        item("D", "tax", {"c": text("丙", pattern="^d$")}),
    )
    assert [(c.field, c.keyword, c.items[0]["item_code"], c.items[1]["item_code"]) for c in error.conflicts] == [
        ("a", "type", "A", "B"),
        ("a", "type", "A", "C"),
        ("b", "enum", "A", "B"),
        ("c", "pattern", "C", "D"),
    ]
    assert "4 处冲突" in str(error)
    assert len(error.problems) == 4


def test_the_conflict_list_does_not_depend_on_fragment_order():
    fragments = [
        item("A", "market_regulation", {"a": text("甲"), "b": text("乙", enum=["x"])}),
        item("B", "public_security", {"a": {"type": "integer", "title": "甲"}, "b": text("乙", enum=["y"])}),
        item("C", "tax", {"a": {"type": "boolean", "title": "甲"}}),
    ]
    first = refused(*fragments).conflicts
    assert refused(*reversed(fragments)).conflicts == first


def test_required_in_one_item_and_optional_in_another_is_not_a_conflict():
    form = merge_fragments(
        [
            item("A", "tax", {"phone": text("电话", format="mobile-cn")}, required=["phone"]),
            item("B", "health", {"phone": text("手机", format="mobile-cn")}),
        ],
        title="t",
    )
    assert form.schema["required"] == ["phone"]
    assert [use["required"] for use in form.provenance["phone"]] == [True, False]


def test_a_keyword_only_one_item_states_is_kept():
    form = merge_fragments(
        [item("A", "tax", {"id": text("证件")}), item("B", "tax", {"id": text("证件", format="citizen-id")})],
        title="t",
    )
    assert form.schema["properties"]["id"]["format"] == "citizen-id"


def test_bounds_intersect_and_an_empty_intersection_is_refused():
    form = merge_fragments(
        [
            item("A", "tax", {"name": text("名称", minLength=2, maxLength=100), "n": {"type": "number", "title": "n"}}),
            item("B", "tax", {"name": text("名称", minLength=4, maxLength=60), "n": {"type": "number", "title": "n"}}),
        ],
        title="t",
    )
    assert form.schema["properties"]["name"] == {"type": "string", "title": "名称", "minLength": 4, "maxLength": 60}
    error = refused(
        item("A", "tax", {"name": text("名称", minLength=20)}),
        item("B", "market_regulation", {"name": text("名称", maxLength=10)}),
    )
    [conflict] = error.conflicts
    assert conflict.keyword == "minLength/maxLength"
    assert conflict.message == (
        "字段 name（名称）取值范围无交集：事项“事项A”（A，tax）要求 minLength=20，"
        "事项“事项B”（B，market_regulation）要求 maxLength=10"
    )


@pytest.mark.parametrize(
    ("low", "high", "ok"),
    [
        ({"minimum": 10}, {"maximum": 10}, True),
        ({"minimum": 10}, {"exclusiveMaximum": 10}, False),
        ({"exclusiveMinimum": 10}, {"maximum": 10}, False),
        ({"exclusiveMinimum": 0}, {"maximum": 0.5}, True),
        ({"minimum": 11}, {"maximum": 10}, False),
    ],
)
def test_number_intervals(low, high, ok):
    fragments = [
        item("A", "tax", {"n": {"type": "number", "title": "n", **low}}),
        item("B", "tax", {"n": {"type": "number", "title": "n", **high}}),
    ]
    if ok:
        merged = merge_fragments(fragments, title="t").schema["properties"]["n"]
        assert merged == {"type": "number", "title": "n", **low, **high}
    else:
        [conflict] = refused(*fragments).conflicts
        assert "取值范围无交集" in conflict.message


def test_const_outside_another_items_enum_is_refused():
    [conflict] = refused(
        item("A", "tax", {"kind": text("类型", const="个体")}),
        item("B", "tax", {"kind": text("类型", enum=["公司", "合伙"])}),
    ).conflicts
    assert conflict.keyword == "const/enum"
    assert "固定值不在可选值内" in conflict.message


def test_nested_definitions_compare_as_a_whole_ignoring_labels():
    def shareholders(item_title: str, enum: list[str]) -> dict:
        return {
            "type": "array",
            "title": "股东",
            "items": {
                "type": "object",
                "properties": {"name": {"type": "string", "title": item_title}, "kind": {"enum": enum}},
                "required": ["kind", "name"],
            },
        }

    same = [
        item("A", "tax", {"holders": shareholders("姓名", ["自然人", "法人"])}),
        item("B", "tax", {"holders": shareholders("股东名称", ["自然人", "法人"])}),
    ]
    same[1]["schema"]["properties"]["holders"]["items"]["required"] = ["name", "kind"]
    assert merge_fragments(same, title="t").schema["properties"]["holders"]["items"]["properties"]["name"] == {
        "type": "string",
        "title": "姓名",
    }
    [conflict] = refused(
        item("A", "tax", {"holders": shareholders("姓名", ["自然人", "法人"])}),
        item("B", "tax", {"holders": shareholders("姓名", ["自然人"])}),
    ).conflicts
    assert (conflict.field, conflict.keyword) == ("holders", "items")


def test_titles_may_differ_and_are_recorded():
    form = merge_fragments(
        [
            item("A", "market_regulation", {"addr": text("住所")}),
            item("B", "tax", {"addr": text("生产经营地址", description="税务登记用")}),
        ],
        title="t",
    )
    assert form.schema["properties"]["addr"] == {"type": "string", "title": "住所", "description": "税务登记用"}
    assert form.report["title_variants"] == {"addr": {"A": "住所", "B": "生产经营地址"}}
