"""Malformed fragments are refused before any merge, with every problem listed in Chinese."""

from __future__ import annotations

import copy

import pytest

from forms import FragmentError, check_fragment, merge_fragments
from tests.forms.samples import fragment, fragments_of


def broken(**changes) -> dict:
    data = fragment("seal_filing")
    for path, value in changes.items():
        node = data
        *parents, last = path.split("__")
        for part in parents:
            node = node[part]
        if value is None:
            del node[last]
        else:
            node[last] = value
    return data


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"department": None}, "缺少 department"),
        ({"owner": "x"}, "不认识的键 owner"),
        ({"schema__properties__seal_maker__title": None}, "字段 seal_maker 缺少中文标题"),
        ({"schema__required": ["seal_count", "seal_colour"]}, "required 中的字段未定义：seal_colour"),
        ({"schema__properties__seal_maker__format": "uscc-code"}, "未知的格式 format='uscc-code'"),
        ({"schema__properties__seal_maker__pattern": "[unclosed"}, "不是有效的 JSON Schema"),
        ({"schema__properties__seal_maker": {"$ref": "#/$defs/x", "title": "刻章企业"}}, "不能使用 $ref"),
        ({"schema__properties__seal_count__minimum": "1"}, "不是有效的 JSON Schema"),
        ({"schema__properties__seal_maker": True}, "字段 seal_maker 的定义应为对象"),
        ({"schema__oneOf": []}, "不支持的关键字 oneOf"),
        ({"schema__type": "array"}, "type 应为 object"),
        ({"materials": [{"code": "x", "name": "甲", "source": "mail"}]}, "source 应为 applicant 或 e_licence"),
        ({"materials": [{"code": "x", "name": "甲"}, {"code": "x", "name": "乙"}]}, "材料编码 x 重复"),
        ({"materials": [{"code": "x", "name": "甲", "original": "yes"}]}, "original 应为 true 或 false"),
        ({"materials": [{"name": "甲"}]}, "缺少编码"),
    ],
)
def test_check_fragment_finds_the_problem(changes, problem):
    problems = check_fragment(broken(**changes))
    assert any(problem in each for each in problems), problems


def test_field_names_cannot_contain_dots():
    data = fragment("seal_filing")
    data["schema"]["properties"]["seal.maker"] = {"type": "string", "title": "刻章企业"}
    assert any("seal.maker" in problem for problem in check_fragment(data))


def test_merge_lists_every_problem_of_every_fragment():
    one = broken(department=None)
    two = fragment("tax_registration")
    two["schema"]["properties"]["invoice_types"]["format"] = "nope"
    with pytest.raises(FragmentError) as caught:
        merge_fragments([one, two], title="企业开办")
    assert len(caught.value.problems) == 2
    assert "事项 000105402000：缺少 department" in caught.value.problems


def test_duplicate_item_codes_empty_input_missing_title_and_unknown_lead_are_refused():
    with pytest.raises(FragmentError, match="事项编码 000105402000 重复"):
        merge_fragments([fragment("seal_filing"), fragment("seal_filing")], title="t")
    with pytest.raises(FragmentError, match="至少需要一个"):
        merge_fragments([], title="t")
    with pytest.raises(FragmentError, match="缺少表单标题"):
        merge_fragments([fragment("seal_filing")], title=" ")
    with pytest.raises(FragmentError, match="牵头部门 health 没有参与合并的事项"):
        merge_fragments(fragments_of("enterprise_start"), title="t", lead_department="health")


def test_merge_neither_mutates_its_input_nor_shares_it_with_the_result():
    fragments = fragments_of("enterprise_start")
    before = copy.deepcopy(fragments)
    form = merge_fragments(fragments, title="企业开办")
    assert fragments == before
    form.schema["properties"]["seal_types"]["items"]["enum"].append("x")
    assert fragments == before


def test_materials_default_to_required_copy_from_the_applicant():
    data = fragment("seal_filing")
    data["materials"] = [{"code": "lease", "name": "租赁合同"}]
    [material] = merge_fragments([data], title="t").materials
    assert {key: material[key] for key in ("required", "original", "source")} == {
        "required": True,
        "original": False,
        "source": "applicant",
    }


def test_a_fragment_without_materials_or_properties_merges():
    data = {"item_code": "X1", "item_name": "只收材料", "department": "tax", "schema": {}}
    form = merge_fragments([data, fragment("seal_filing")], title="t")
    assert form.report["fields_total_requested"] == 7
    assert form.fields_for_department("tax") == []
