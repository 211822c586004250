"""The one form asks only what applies: declarative conditions, compiled into the merged schema, the process and
the screen from one source.

The properties: a condition's JSON Schema accepts exactly the answers for which it holds; its restricted-Python
rendering (what the generated BPMN evaluates, run here in the real sandbox) agrees on every well-typed answer;
and for the restaurant one-thing — with its own conditions and with generated ones — every answer combination the
merged form accepts opens exactly the items whose conditions hold (in the generated process too), and asks exactly
the materials of those items.
"""

from __future__ import annotations

import functools
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

import forms
from bpmn import ProcessInstance, ReviewSpec, compile_model, generate_process, load_model
from bpmn.sandbox import SAFE_ENGINE
from forms import (
    check_condition,
    condition_expression,
    condition_holds,
    condition_schema,
    describe_condition,
    merge_fragments,
)
from tests.forms.samples import RESTAURANT_FORM, catalogue_fragments, demo_merged

FOOD, SIGNBOARD, FIRE, LICENCE = "000113203000", "000120501000", "000131401000", "000113101000"
FIELDS = {
    "kind": {"type": "string", "title": "类型", "enum": ["甲", "乙", "丙"]},
    "scope": {"type": "string", "title": "经营范围"},
    "area": {"type": "number", "title": "面积"},
    "count": {"type": "integer", "title": "数量"},
    "flag": {"type": "boolean", "title": "是否"},
    "tags": {"type": "array", "title": "标签", "items": {"type": "string"}},
}

# --- the format -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("condition", "problem"),
    [
        ("flag", "应为对象"),
        ({}, "缺少 field"),
        ({"field": "flag"}, "恰好有一种判断"),
        ({"field": "flag", "equals": True, "contains": "x"}, "恰好有一种判断"),
        ({"field": "flag", "is": True}, "不认识的键 is"),
        ({"field": "nowhere", "equals": True}, "表单中没有字段 nowhere"),
        ({"field": "flag", "equals": None}, "equals 的值应为"),
        ({"field": "flag", "equals": "是"}, '不会取值 "是"'),
        ({"field": "kind", "equals": "丁"}, '不会取值 "丁"'),
        ({"field": "kind", "one_of": []}, "one_of 应为"),
        ({"field": "kind", "one_of": ["甲", "戊"]}, '不会取值 "戊"'),
        ({"field": "area", "contains": "餐饮"}, "contains 只能用于文本或多选字段"),
        ({"field": "scope", "contains": ""}, "contains 的值应为非空文本"),
        ({"field": "scope", "gt": 3}, "gt 只能用于数字字段"),
        ({"field": "area", "gt": "3"}, "gt 的值应为数字"),
        ({"field": "area", "lte": float("nan")}, "lte 的值应为数字"),
        ({"field": "flag", "answered": False}, "answered 只能为 true"),
        ({"all": []}, "all 应为非空的条件列表"),
        ({"any": [{"field": "flag", "equals": True}], "field": "flag"}, "any 须单独成为一个条件"),
        ({"not": {"field": "nowhere", "answered": True}}, "条件.not：表单中没有字段 nowhere"),
        (functools.reduce(lambda inner, _: {"not": inner}, range(9), {"field": "flag", "answered": True}), "嵌套超过"),
    ],
)
def test_a_bad_condition_is_refused_saying_why(condition, problem):
    problems = check_condition(condition, FIELDS)
    assert any(problem in text for text in problems), problems


def test_good_conditions_pass_and_read_in_chinese():
    condition = {
        "all": [
            {"field": "scope", "contains": "餐饮"},
            {"any": [{"field": "flag", "equals": True}, {"field": "area", "gt": 300}]},
            {"not": {"field": "kind", "one_of": ["甲", "乙"]}},
        ]
    }
    assert check_condition(condition, FIELDS) == []
    titles = {name: definition["title"] for name, definition in FIELDS.items()}
    assert describe_condition(condition, titles) == (
        "经营范围含“餐饮”且是否为“是”或面积大于 300且并非（类型为“甲”或“乙”）"
    )
    assert describe_condition(None) == "始终"


def test_the_restaurant_conditions_render_as_the_expressions_the_shipped_model_always_had():
    assert condition_expression({"field": "business_scope", "contains": "餐饮"}) == (
        '"餐饮" in form.get("business_scope", "")'
    )
    assert condition_expression({"field": "outdoor_signboard", "equals": True}) == (
        'form.get("outdoor_signboard") is True'
    )
    assert condition_expression('  form.get("x") == 1 ') == 'form.get("x") == 1'  # a legacy string, as it is
    assert condition_expression({"not": {"field": "floor_area", "gt": 300}}) == (
        'not ("floor_area" in form and form["floor_area"] > 300)'
    )


# --- one source, three readings -------------------------------------------------------------------

SCALARS = st.one_of(st.sampled_from(["甲", "乙", "丙", "餐饮", "x"]), st.integers(-3, 400), st.booleans())


@st.composite
def leaves(draw) -> dict:
    field = draw(st.sampled_from(sorted(FIELDS)))
    test = draw(st.sampled_from(["equals", "one_of", "contains", "gt", "gte", "lt", "lte", "answered"]))
    if test == "equals":
        value = draw(SCALARS)
    elif test == "one_of":
        value = draw(st.lists(SCALARS, min_size=1, max_size=3))
    elif test == "contains":
        value = draw(st.sampled_from(["餐饮", "甲", "a.b", "(x)", "食"]))
    elif test == "answered":
        value = True
    else:
        value = draw(st.one_of(st.integers(-3, 400), st.sampled_from([0.5, 299.5])))
    return {"field": field, test: value}


CONDITIONS = st.recursive(
    leaves(),
    lambda inner: st.one_of(
        st.builds(lambda parts: {"all": parts}, st.lists(inner, min_size=1, max_size=3)),
        st.builds(lambda parts: {"any": parts}, st.lists(inner, min_size=1, max_size=3)),
        st.builds(lambda part: {"not": part}, inner),
    ),
    max_leaves=6,
)
ANY_VALUE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 400),
    st.floats(-5, 500, allow_nan=False),
    st.sampled_from(["甲", "乙", "丙", "餐饮服务", "零售", "a.b", "axb", "(x)", "x"]),
    st.lists(st.sampled_from(["甲", "餐饮", "(x)", 1, True]), max_size=3),
)
ANY_ANSWERS = st.dictionaries(st.sampled_from(sorted(FIELDS)), ANY_VALUE)
TYPED_VALUE = {
    "kind": st.sampled_from(["甲", "乙", "丙"]),
    "scope": st.sampled_from(["餐饮服务；食品销售", "零售", "a.b", "(x)", "甲乙"]),
    "area": st.one_of(st.integers(0, 500), st.floats(0, 500, allow_nan=False)),
    "count": st.integers(-3, 400),
    "flag": st.booleans(),
    "tags": st.lists(st.sampled_from(["甲", "餐饮", "(x)", "食"]), max_size=3),
}
TYPED_ANSWERS = st.fixed_dictionaries({}, optional=TYPED_VALUE)


@settings(max_examples=300)
@given(condition=CONDITIONS, answers=ANY_ANSWERS)
def test_the_json_schema_of_a_condition_accepts_exactly_the_answers_it_holds_for(condition, answers):
    # Compiled knowing the fields' types, a test may be narrowed to the field's type (``contains`` on a text field is
    # only the text branch), so it is exact for answers of those types — the form's own types refuse the others.
    well_typed = Draft202012Validator({"properties": {k: {"type": v["type"]} for k, v in FIELDS.items()}}).is_valid(
        answers
    )
    for fields in (FIELDS, None) if well_typed else (None,):
        schema = condition_schema(condition, fields)
        Draft202012Validator.check_schema(schema)
        assert Draft202012Validator(schema).is_valid(answers) == condition_holds(condition, answers)


TYPED_TESTS = {
    "kind": st.one_of(
        st.builds(lambda v: {"equals": v}, st.sampled_from(["甲", "乙", "丙"])),
        st.builds(lambda v: {"one_of": v}, st.lists(st.sampled_from(["甲", "乙", "丙"]), min_size=1, max_size=2)),
        st.builds(lambda v: {"contains": v}, st.sampled_from(["甲", "乙"])),
    ),
    "scope": st.one_of(
        st.builds(lambda v: {"contains": v}, st.sampled_from(["餐饮", "a.b", "(x)", "甲"])),
        st.builds(lambda v: {"equals": v}, st.sampled_from(["零售", "a.b"])),
    ),
    "area": st.builds(
        lambda test, v: {test: v},
        st.sampled_from(["gt", "gte", "lt", "lte", "equals"]),
        st.sampled_from([0, 80, 299.5]),
    ),
    "count": st.builds(lambda test, v: {test: v}, st.sampled_from(["gt", "lte", "equals"]), st.integers(-3, 5)),
    "flag": st.builds(lambda v: {"equals": v}, st.booleans()),
    "tags": st.builds(lambda v: {"contains": v}, st.sampled_from(["甲", "餐饮", "(x)"])),
}
TYPED_LEAVES = st.sampled_from(sorted(FIELDS)).flatmap(
    lambda field: st.one_of(TYPED_TESTS[field], st.just({"answered": True})).map(lambda test: {"field": field, **test})
)
TYPED_CONDITIONS = st.recursive(
    TYPED_LEAVES,
    lambda inner: st.one_of(
        st.builds(lambda parts: {"all": parts}, st.lists(inner, min_size=1, max_size=3)),
        st.builds(lambda parts: {"any": parts}, st.lists(inner, min_size=1, max_size=3)),
        st.builds(lambda part: {"not": part}, inner),
    ),
    max_leaves=6,
)


@settings(max_examples=300)
@given(condition=TYPED_CONDITIONS, answers=TYPED_ANSWERS)
def test_the_process_expression_agrees_on_every_well_typed_answer(condition, answers):
    assert check_condition(condition, FIELDS) == []
    expression = condition_expression(condition)
    assert SAFE_ENGINE.environment.evaluate(expression, {"form": answers}) is condition_holds(condition, answers)


# --- the restaurant -------------------------------------------------------------------------------


def test_the_restaurant_form_compiles_its_follow_ups_into_conditionals():
    merged = demo_merged("restaurant_start")
    schema = merged.schema
    assert merged.logic["situation_fields"] == ["business_scope", "public_gathering_place", "outdoor_signboard"]
    assert list(schema["properties"])[:3] == merged.logic["situation_fields"]
    assert [section["key"] for section in merged.ui_hints["sections"]][:2] == ["situation", "shared"]
    assert {
        "if": condition_schema({"field": "outdoor_signboard", "equals": True}),
        "then": {"required": ["signboard_text", "signboard_length", "signboard_height"]},
    } in schema["allOf"]
    assert "dependentRequired" not in schema
    assert not {"signboard_text", "floor_area", "food_business_type"} & set(schema["required"])

    validator = Draft202012Validator(schema, format_checker=forms.FORMAT_CHECKER)
    assert validator.is_valid(RESTAURANT_FORM)  # 否: nothing more to say
    assert not validator.is_valid({**RESTAURANT_FORM, "outdoor_signboard": True})
    assert validator.is_valid(
        {
            **RESTAURANT_FORM,
            "outdoor_signboard": True,
            "signboard_text": "老味道",
            "signboard_length": 6.5,
            "signboard_height": 1.2,
        }
    )


def test_answers_to_questions_not_asked_are_dropped_and_decide_nothing():
    merged = demo_merged("restaurant_start")
    answers = {
        **RESTAURANT_FORM,
        "business_scope": "预包装食品销售",
        "food_business_type": "餐饮服务经营者",  # asked only for 餐饮
        "signboard_text": "不该问的",  # 设置户外招牌: 否
        "floor_area": "garbage",
    }
    checked = forms.check_answers(merged, answers)
    assert checked.errors == {}
    assert checked.answers == {**RESTAURANT_FORM, "business_scope": "预包装食品销售"}
    assert [item["item_code"] for item in forms.items_that_apply(merged, answers)] == [LICENCE]
    assert forms.fields_asked(merged, answers) == [
        name for name in merged.schema["properties"] if name not in merged.logic["asked_when"]
    ]


RESTAURANT_VALUES = {
    "food_business_type": st.sampled_from(["餐饮服务经营者", "单位食堂"]),
    "food_categories": st.lists(st.sampled_from(["热食类食品制售", "冷食类食品制售"]), unique=True, max_size=2),
    "food_safety_officer": st.sampled_from(["赵敏"]),
    "floor_area": st.sampled_from([80, 320.5]),
    "seat_count": st.integers(0, 200),
    "signboard_text": st.sampled_from(["老味道"]),
    "signboard_length": st.sampled_from([6.5, 3]),
    "signboard_height": st.sampled_from([1.2, 1]),
}


@st.composite
def restaurant_answers(draw) -> dict:
    answers = dict(RESTAURANT_FORM)
    answers["business_scope"] = draw(st.sampled_from(["餐饮服务；食品销售", "预包装食品销售", "餐饮管理"]))
    answers["registered_capital"] = draw(st.sampled_from([50, 500, 5000]))
    answers["enterprise_type"] = draw(st.sampled_from(["有限责任公司", "个人独资企业"]))
    for situation in ("public_gathering_place", "outdoor_signboard"):
        choice = draw(st.sampled_from(["absent", True, False]))
        if choice == "absent":
            del answers[situation]
        else:
            answers[situation] = choice
    for name, values in RESTAURANT_VALUES.items():
        if draw(st.booleans()):
            answers[name] = draw(values)
    return answers


@functools.cache
def restaurant_model(conditions_json: str):
    """The generated process for the restaurant items under these conditions (as process_xml builds it)."""
    conditions = json.loads(conditions_json)
    reviews = [
        ReviewSpec("market_regulation", "营业执照审查"),
        ReviewSpec(
            "market_regulation", "食品经营许可审查", element_suffix="item2", condition=_rendered(conditions, FOOD)
        ),
        ReviewSpec("fire_rescue", "消防安全检查", condition=_rendered(conditions, FIRE)),
        ReviewSpec("urban_management", "户外招牌审查", condition=_rendered(conditions, SIGNBOARD)),
    ]
    text = generate_process(process_id="restaurant", name="开办餐饮店", reviews=reviews)
    compiled = compile_model(
        "restaurant.bpmn", text.encode(), departments=("market_regulation", "fire_rescue", "urban_management")
    )
    return load_model(compiled.content_hash, compiled.compiled)


def _rendered(conditions: dict, code: str) -> str | None:
    return condition_expression(conditions[code]) if conditions.get(code) else None


REVIEW_OF = {
    LICENCE: "market_regulation",
    FOOD: "market_regulation_item2",
    FIRE: "fire_rescue",
    SIGNBOARD: "urban_management",
}


def opened_reviews(conditions: dict, stored: dict) -> set[str]:
    model = restaurant_model(json.dumps(conditions, sort_keys=True, ensure_ascii=False))
    data = {
        "case_no": "X",
        "one_thing": "restaurant",
        "form": stored,
        "intake": {},
        "reviews": {},
        "review_round": 0,
        "correction": {},
        "outcome": None,
    }
    instance = ProcessInstance.start(model, data)
    [accept] = instance.ready_tasks()
    instance.complete(accept.id, {"intake": {"decision": "accept"}})
    instance = ProcessInstance.restore(model, instance.dump())
    return {task.element_id.removeprefix("review_") for task in instance.ready_tasks()}


def expected_materials(fragments: list[dict], applying: set[str]) -> set[str]:
    produced = {
        fragment["produces"] for fragment in fragments if fragment["item_code"] in applying and "produces" in fragment
    }
    return {
        material["code"]
        for fragment in fragments
        if fragment["item_code"] in applying
        for material in fragment["materials"]
    } - produced


def check_the_properties(merged, fragments: list[dict], conditions: dict, answers: dict) -> None:
    checked = forms.check_answers(merged, answers)
    if checked.errors:
        return
    stored = checked.answers
    # The schema itself (no pruning) accepts what is stored: no validator but ours is needed to agree.
    assert Draft202012Validator(merged.schema, format_checker=forms.FORMAT_CHECKER).is_valid(stored)
    applying = {item["item_code"] for item in forms.items_that_apply(merged, stored)}
    assert applying == {code for code in REVIEW_OF if condition_holds(conditions.get(code), stored)}
    # The generated process opens exactly those reviews.
    assert opened_reviews(conditions, stored) == {REVIEW_OF[code] for code in applying}
    # Exactly the materials of the items that apply, none of what an applying item produces.
    asked = forms.materials_required(merged, stored)
    assert {material["code"] for material in asked} == expected_materials(fragments, applying)
    for material in asked:
        assert {use["item_code"] for use in material["needed_by"]} <= applying
        assert material["required"] == any(use["required"] for use in material["needed_by"])
    # Nothing of an item that does not apply is stored, unless another applying item or the situation asks it.
    asked_fields = set(forms.fields_asked(merged, stored))
    assert set(stored) <= asked_fields
    for name in asked_fields:
        askers = {use["item_code"] for use in merged.provenance[name]}
        assert name in merged.logic["situation_fields"] or askers & applying
    # Every field required by an applying item (and asked) is answered; leaving one out is refused.
    for name in asked_fields:
        required_by = {use["item_code"] for use in merged.provenance[name] if use["required"]}
        if required_by & applying:
            assert name in stored
            without = {key: value for key, value in stored.items() if key != name}
            assert forms.check_answers(merged, without).errors.get(name), name


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(answers=restaurant_answers())
def test_every_accepted_restaurant_answer_opens_exactly_the_items_whose_conditions_hold(answers):
    fragments, conditions, _, _ = catalogue_fragments("restaurant_start")
    check_the_properties(demo_merged("restaurant_start"), fragments, conditions, answers)


GENERATED_CONDITIONS = st.sampled_from(
    [
        None,
        {"field": "business_scope", "contains": "餐饮"},
        {"field": "registered_capital", "gte": 500},
        {"field": "enterprise_type", "one_of": ["个人独资企业"]},
        {"field": "public_gathering_place", "equals": True},
        {"not": {"field": "outdoor_signboard", "equals": False}},
        {"any": [{"field": "outdoor_signboard", "equals": True}, {"field": "registered_capital", "lt": 100}]},
        {
            "all": [
                {"field": "business_scope", "contains": "餐饮"},
                {"field": "public_gathering_place", "answered": True},
            ]
        },
    ]
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    chosen=st.fixed_dictionaries(
        {FOOD: GENERATED_CONDITIONS, FIRE: GENERATED_CONDITIONS, SIGNBOARD: GENERATED_CONDITIONS}
    ),
    answers=restaurant_answers(),
)
def test_generated_compositions_open_exactly_the_items_whose_conditions_hold(chosen, answers):
    fragments, _, lead, title = catalogue_fragments("restaurant_start")
    conditions = {code: condition for code, condition in chosen.items() if condition is not None}
    merged = merge_fragments(fragments, title=title, lead_department=lead, conditions=conditions)
    Draft202012Validator.check_schema(merged.schema)
    check_the_properties(merged, fragments, conditions, answers)


# --- refused compositions -------------------------------------------------------------------------


def test_an_item_condition_naming_no_field_of_the_form_is_refused():
    fragments, conditions, lead, title = catalogue_fragments("restaurant_start")
    with pytest.raises(forms.FragmentError, match="表单中没有字段 outdoor_sign"):
        merge_fragments(
            fragments,
            title=title,
            lead_department=lead,
            conditions={**conditions, SIGNBOARD: {"field": "outdoor_sign", "equals": True}},
        )
    with pytest.raises(forms.FragmentError, match="不在合并的事项中"):
        merge_fragments(
            fragments, title=title, lead_department=lead, conditions={"999": {"field": "x", "answered": True}}
        )


def test_a_legacy_condition_string_keeps_the_item_always_asked():
    fragments, _, lead, title = catalogue_fragments("restaurant_start")
    merged = merge_fragments(
        fragments, title=title, lead_department=lead, conditions={SIGNBOARD: 'form.get("outdoor_signboard") is True'}
    )
    assert merged.items[2]["condition"] == 'form.get("outdoor_signboard") is True'
    assert forms.item_applies(merged, SIGNBOARD, {})
    # Its follow-ups still follow their own trigger.
    assert "signboard_text" in merged.logic["asked_when"]
    assert "signboard_design" in {m["code"] for m in forms.materials_required(merged, RESTAURANT_FORM)}


@pytest.mark.parametrize(
    ("ask_when", "problem"),
    [
        ({"field": "signboard_text", "answered": True}, "不能以它自己为条件"),
        ({"field": "nowhere", "equals": True}, "表单中没有字段 nowhere"),
        ({"field": "outdoor_signboard", "equals": "是"}, "不会取值"),
    ],
)
def test_a_bad_follow_up_is_refused(ask_when, problem):
    fragments, _, _, _ = catalogue_fragments("restaurant_start")
    signboard = next(fragment for fragment in fragments if fragment["item_code"] == SIGNBOARD)
    signboard["schema"]["properties"]["signboard_text"]["askWhen"] = ask_when
    assert any(problem in text for text in forms.check_fragment(signboard))


def test_follow_ups_may_not_go_round_in_a_circle():
    fragments, _, _, _ = catalogue_fragments("restaurant_start")
    signboard = next(fragment for fragment in fragments if fragment["item_code"] == SIGNBOARD)
    properties = signboard["schema"]["properties"]
    properties["outdoor_signboard"]["askWhen"] = {"field": "signboard_height", "answered": True}
    properties["signboard_height"]["askWhen"] = {"field": "signboard_length", "answered": True}
    properties["signboard_length"]["askWhen"] = {"field": "outdoor_signboard", "equals": True}
    assert any("循环依赖" in text for text in forms.check_fragment(signboard))
