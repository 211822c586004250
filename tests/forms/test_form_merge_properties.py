"""Property tests of the merge: order-independent, keeps every required field and every constraint."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from forms import FORMAT_CHECKER, FragmentConflict, merge_fragments
from tests.forms.samples import CITIZEN_ID, USCC

FIELD_NAMES = ("applicant_name", "citizen_id", "phone", "address", "capital", "kind", "tags", "agree", "count")
DEPARTMENTS = ("market_regulation", "public_security", "tax", "health", "social_security")
MATERIALS = ("id_card", "licence", "lease", "photo", "register")
ENUM_VALUES = ("甲", "乙", "丙", "丁")
ARRAY_VALUES = ("a", "b", "c")
LOWER = ("minLength", "minItems", "minimum", "exclusiveMinimum")
UPPER = ("maxLength", "maxItems", "maximum", "exclusiveMaximum")

pytestmark = pytest.mark.filterwarnings("ignore::hypothesis.errors.NonInteractiveExampleWarning")


@st.composite
def base_definitions(draw) -> dict:
    """What all items agree on for one field (its identity)."""
    kind = draw(st.sampled_from(["string", "enum", "integer", "number", "boolean", "array"]))
    if kind == "string":
        definition = {"type": "string"}
        fmt = draw(st.sampled_from([None, "citizen-id", "mobile-cn", "date", "uscc"]))
        pattern = draw(st.sampled_from([None, r"^[^<>]*$", r"^\S+$", r"^[0-9A-Z]+$"]))
        definition |= {"format": fmt} if fmt else {}
        definition |= {"pattern": pattern} if pattern else {}
        return definition
    if kind == "enum":
        return {"type": "string", "enum": draw(st.lists(st.sampled_from(ENUM_VALUES), min_size=1, unique=True))}
    if kind == "array":
        return {"type": "array", "items": {"type": "string", "enum": list(ARRAY_VALUES)}}
    return {"type": kind}


def maybe(draw, key: str, values: st.SearchStrategy) -> dict:
    return {key: draw(values)} if draw(st.booleans()) else {}


@st.composite
def field_definitions(draw, name: str, base: dict) -> dict:
    """One item's definition of a field: the identity (some keywords possibly left out), its own bounds."""
    definition = {"type": base["type"], "title": name + draw(st.sampled_from(["", "（申请人）", "（经办人）"]))}
    for key in ("format", "pattern", "items"):
        if key in base and (key == "items" or draw(st.booleans())):
            definition[key] = base[key]
    if "enum" in base and draw(st.booleans()):
        definition["enum"] = draw(st.permutations(base["enum"]))
    if base["type"] == "string":
        definition |= maybe(draw, "minLength", st.integers(0, 3)) | maybe(draw, "maxLength", st.integers(12, 40))
    elif base["type"] in ("integer", "number"):
        definition |= maybe(draw, "minimum", st.integers(-5, 0)) | maybe(draw, "exclusiveMinimum", st.integers(-9, -6))
        definition |= maybe(draw, "maximum", st.integers(100, 200)) | maybe(
            draw, "exclusiveMaximum", st.integers(201, 300)
        )
    elif base["type"] == "array":
        definition |= maybe(draw, "minItems", st.integers(0, 1)) | maybe(draw, "maxItems", st.integers(2, 3))
        definition |= maybe(draw, "uniqueItems", st.booleans())
    return definition


@st.composite
def materials(draw) -> list[dict]:
    codes = draw(st.lists(st.sampled_from(MATERIALS), unique=True, max_size=4))
    return [
        {
            "code": code,
            "name": draw(st.sampled_from(["证件", "证明", "材料"])) + code,
            "required": draw(st.booleans()),
            "original": draw(st.booleans()),
            "source": draw(st.sampled_from(["applicant", "e_licence"])),
        }
        for code in codes
    ]


@st.composite
def compatible_fragments(draw, min_items: int = 1) -> list[dict]:
    """Random fragments that can be merged; the first field of the universe is asked by every item."""
    universe = draw(st.dictionaries(st.sampled_from(FIELD_NAMES), base_definitions(), min_size=1, max_size=6))
    names = list(universe)
    numbers = draw(st.lists(st.integers(0, 999_999), min_size=min_items, max_size=5, unique=True))
    codes = [f"{number:06d}" for number in numbers]
    fragments = []
    for code in codes:
        chosen = [names[0], *draw(st.lists(st.sampled_from(names[1:]), unique=True))] if names[1:] else names[:1]
        chosen = draw(st.permutations(chosen))
        fragments.append(
            {
                "item_code": code,
                "item_name": f"事项{code}",
                "department": draw(st.sampled_from(DEPARTMENTS)),
                "schema": {
                    "type": "object",
                    "properties": {name: draw(field_definitions(name, universe[name])) for name in chosen},
                    "required": draw(st.lists(st.sampled_from(chosen), unique=True)),
                },
                "materials": draw(materials()),
            }
        )
    return fragments


ANSWERS = st.one_of(
    st.text(max_size=45),
    st.sampled_from([CITIZEN_ID, "13800138000", "2024-02-29", USCC, *ENUM_VALUES, "", "ABC123", "a b", "<x>"]),
    st.integers(-12, 320),
    st.floats(-12, 320, allow_nan=False),
    st.booleans(),
    st.lists(st.sampled_from([*ARRAY_VALUES, "d"]), max_size=4),
)


def valid(schema: dict, data: dict) -> bool:
    return Draft202012Validator(schema, format_checker=FORMAT_CHECKER).is_valid(data)


def dump(form) -> str:
    return json.dumps(form.to_dict(), ensure_ascii=False)


@given(compatible_fragments(), st.data())
def test_merging_does_not_depend_on_fragment_order(fragments, data):
    lead = data.draw(st.sampled_from([None, *sorted({fragment["department"] for fragment in fragments})]))
    expected = dump(merge_fragments(fragments, title="测试", lead_department=lead))
    shuffled = data.draw(st.permutations(fragments))
    assert dump(merge_fragments(shuffled, title="测试", lead_department=lead)) == expected


@given(compatible_fragments())
def test_every_required_field_stays_required_and_nothing_else_becomes_required(fragments):
    form = merge_fragments(fragments, title="测试")
    assert form.schema["required"] == sorted({name for f in fragments for name in f["schema"]["required"]})


@given(compatible_fragments())
def test_every_constraint_of_every_item_is_kept(fragments):
    form = merge_fragments(fragments, title="测试")
    merged = form.schema["properties"]
    for fragment in fragments:
        for name, definition in fragment["schema"]["properties"].items():
            field = merged[name]
            for key, value in definition.items():
                if key == "title":
                    continue
                if key in LOWER:
                    assert field[key] >= value
                elif key in UPPER:
                    assert field[key] <= value
                elif key == "uniqueItems":
                    assert field[key] or not value
                elif key == "enum":
                    assert sorted(field[key]) == sorted(value)
                else:
                    assert field[key] == value, (name, key)
            uses = [(use["item_code"], use["required"]) for use in form.provenance[name]]
            assert (fragment["item_code"], name in fragment["schema"]["required"]) in uses


@given(compatible_fragments())
def test_materials_are_asked_once_with_the_strictest_wish(fragments):
    form = merge_fragments(fragments, title="测试")
    merged = {material["code"]: material for material in form.materials}
    wanted = [(f["item_code"], m) for f in fragments for m in f["materials"]]
    assert len(merged) == len(form.materials) == len({m["code"] for _, m in wanted})
    for code, material in wanted:
        entry = merged[material["code"]]
        assert code in [use["item_code"] for use in entry["needed_by"]]
        assert entry["required"] >= material["required"] and entry["original"] >= material["original"]
        if material["source"] == "applicant":
            assert entry["source"] == "applicant"
    report = form.report
    assert report["materials_total_requested"] == len(wanted)
    assert report["materials_asked"] + report["materials_saved"] == len(wanted)
    assert report["fields_asked"] + report["fields_saved"] == report["fields_total_requested"]


@settings(max_examples=200)
@given(compatible_fragments(), st.data())
def test_the_merged_form_accepts_exactly_what_every_item_accepts(fragments, data):
    form = merge_fragments(fragments, title="测试")
    answers = {name: data.draw(ANSWERS) for name in form.schema["properties"] if data.draw(st.booleans())}
    assert valid(form.schema, answers) == all(valid(fragment["schema"], answers) for fragment in fragments)


@given(compatible_fragments(min_items=2), st.data())
def test_a_type_clash_in_any_item_is_refused_naming_that_item(fragments, data):
    shared = sorted(set.intersection(*(set(f["schema"]["properties"]) for f in fragments)))
    name = data.draw(st.sampled_from(shared))
    victim = data.draw(st.sampled_from(fragments))
    definition = victim["schema"]["properties"][name]
    definition["type"] = "boolean" if definition["type"] != "boolean" else "string"
    with pytest.raises(FragmentConflict) as caught:
        merge_fragments(fragments, title="测试")
    clashes = [c for c in caught.value.conflicts if (c.field, c.keyword) == (name, "type")]
    assert clashes
    for clash in clashes:
        codes = [item["item_code"] for item in clash.items]
        assert victim["item_code"] in codes and len(set(codes)) == 2
        assert all(item["item_name"] in clash.message for item in clash.items)
