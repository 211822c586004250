"""Merge the items' form fragments into one form (一表申请), keeping each field's provenance.

Rules (each field is compared across the items that ask for it; "first" = first item by item code):

- **Asked once.** Fields with the same name are one question. The merge is independent of the order of the
  fragments: items are sorted by item code first (duplicate item codes are refused), the lead department's
  (牵头部门, ``lead_department``) items before the others when one is given.
- **Required wins.** A field required by any item is required in the merged form; required by one item
  and optional for another is *not* a conflict.
- **Identity keywords must agree** wherever two items both state them, else the merge is refused:
  ``type`` (a list compared as a set; ``integer`` and ``number`` differ), ``enum`` (compared as a set; the
  first item's order is kept), ``pattern``, ``format``, ``const``, ``multipleOf`` and every other
  validation keyword, including the sub-schemas of object and array fields (``properties``, ``items``,
  nested ``required``…), which are compared as whole definitions with their annotations stripped. A keyword
  only one item states is kept as it is: it constrains, and nobody contradicts it.
- **Bounds intersect.** ``minLength``/``minItems``/``minimum``/``exclusiveMinimum``/… take the largest
  value, the ``max*`` keywords the smallest, ``uniqueItems`` is true if any item says so: the merged field
  accepts exactly what every item accepts. Each tightening is listed in ``report["tightened"]``. An empty
  intersection (``minLength`` 20 against ``maxLength`` 10, or a number interval with no point in it) is a
  conflict, as is a ``const`` outside another item's ``enum``.
- **Labels are cosmetic.** ``title``, ``description``, ``default``, ``examples`` and ``x-*`` keys never
  conflict: the first item's are kept; every item's own ``title`` stays in the field's provenance and the
  differing ones in ``report["title_variants"]``.
- **Cross-field rules** of a fragment (``dependentRequired``, ``allOf``, ``if``/``then``/``else``) are
  all kept: ``dependentRequired`` lists are united, the rest become entries of the merged ``allOf``; a
  conditional item's rules hold only while it applies (``if <item applies> then <rules>``).
- **Conditions** (:mod:`forms.logic`): the one-thing's item conditions and the fragments' follow-ups
  (``askWhen``) decide per field when it is asked and when it is required; a field required only sometimes is
  required through an ``if``/``then`` in the merged ``allOf``. The fields item conditions read (办理情形) come
  first, in a section of their own.
- All conflicts are collected and raised together as :class:`~forms.errors.FragmentConflict`, each one
  naming the field, both items and what each asks.

"First item" means first in merge order. Field order: fields asked by several items first (the shared
section, 共同信息), then each item's own fields, item by item; within a group, the order of first
appearance. ``ui_hints`` carries that order, the sections and, per department, the fields it needs (for
department-first rendering of its task).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from .conditions import is_declarative
from .errors import Conflict, FragmentConflict, FragmentError
from .fragments import ANNOTATIONS, ASK_WHEN, canonical, check_fragment, normalize_fragment, strip_annotations
from .logic import build_logic, wrap_item_rules
from .materials import item_ref, merge_materials

__all__ = ["MergedForm", "merge_fragments"]

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
SHARED_SECTION = "shared"
SITUATION_SECTION = "situation"

_LOWER = ("minLength", "minItems", "minProperties", "minContains", "minimum", "exclusiveMinimum")
_UPPER = (
    "maxLength",
    "maxItems",
    "maxProperties",
    "maxContains",
    "maximum",
    "exclusiveMaximum",
    "maxDaysAgo",
    "maxDaysAhead",
)
_COUNT_PAIRS = (
    ("minLength", "maxLength"),
    ("minItems", "maxItems"),
    ("minProperties", "maxProperties"),
    ("minContains", "maxContains"),
)
_FLAGS = ("uniqueItems",)
_KEY_ORDER = (
    "type",
    "title",
    "description",
    "format",
    "pattern",
    "enum",
    "const",
    "minLength",
    "maxLength",
    "minimum",
    "exclusiveMinimum",
    "maximum",
    "exclusiveMaximum",
    "multipleOf",
    "minItems",
    "maxItems",
    "uniqueItems",
    "items",
    "properties",
    "required",
    "additionalProperties",
    "default",
    "examples",
)
_KEYWORD_NAMES = {
    "type": "类型",
    "enum": "可选值",
    "pattern": "格式（正则表达式）",
    "format": "格式",
    "const": "固定值",
    "multipleOf": "倍数",
}
_TYPE_NAMES = {
    "string": "文本",
    "integer": "整数",
    "number": "数字",
    "boolean": "是/否",
    "object": "对象",
    "array": "列表",
    "null": "空",
}


@dataclass(frozen=True)
class MergedForm:
    """One form for a one-thing: the schema to validate and render, and where each part comes from.

    ``items``: the items in merge order (the lead department's first, then by item code), each with its
    ``condition`` when the one-thing gives it one (see :mod:`forms.conditions`).
    ``provenance[field]``: the items asking for the field, in merge order, each
    ``{"item_code", "item_name", "department", "required", "title"}`` (this item's own label).
    ``materials``: the merged checklist (see :mod:`forms.materials`), each with ``needed_by``.
    ``report``: what the merge saved (减材料) — ``fields_total_requested`` (Σ over items),
    ``fields_asked``, ``fields_saved`` and the same for materials, plus ``materials_from_e_licence``,
    ``materials_to_submit``, ``shared_fields``, ``shared_materials``, ``tightened``, ``title_variants``.
    ``ui_hints``: ``field_order``, ``sections`` (办理情形, shared, then per item) and ``by_department``.
    ``logic``: the compiled conditions (see :mod:`forms.logic`): ``situation_fields``, ``asked_when``,
    ``required_when``. ``to_dict()`` / ``from_dict()`` round-trip through JSON.
    """

    title: str
    lead_department: str | None
    items: list[dict[str, str]]
    schema: dict[str, Any]
    provenance: dict[str, list[dict[str, Any]]]
    materials: list[dict[str, Any]]
    report: dict[str, Any]
    ui_hints: dict[str, Any] = field(default_factory=dict)
    logic: dict[str, Any] = field(default_factory=dict)

    @property
    def departments(self) -> list[str]:
        return sorted({item["department"] for item in self.items})

    def fields_for_department(self, department: str) -> list[str]:
        """The fields ``department``'s items need, in form order (what its task should show first)."""
        return [
            name
            for name in self.ui_hints["field_order"]
            if any(use["department"] == department for use in self.provenance[name])
        ]

    def field_order_for_department(self, department: str) -> list[str]:
        """Every field, ``department``'s own first: the order for that department's review screen."""
        own = self.fields_for_department(department)
        return own + [name for name in self.ui_hints["field_order"] if name not in own]

    def materials_for_department(self, department: str) -> list[dict[str, Any]]:
        return [m for m in self.materials if any(use["department"] == department for use in m["needed_by"])]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MergedForm:
        return cls(**{key: data[key] for key in cls.__dataclass_fields__ if key in data})


@dataclass(frozen=True)
class _Use:
    item: dict[str, str]
    definition: dict[str, Any]
    required: bool
    ask_when: Any = None


def merge_fragments(
    fragments: Iterable[dict],
    *,
    title: str,
    lead_department: str | None = None,
    conditions: Mapping[str, Any] | None = None,
) -> MergedForm:
    """Merge the items' fragments into one :class:`MergedForm`.

    ``lead_department``: the one-thing's lead department; its items come first, so their labels, field
    order and enum order win. Without it, plain item-code order decides.

    ``conditions``: item code → when that item applies (a condition of :mod:`forms.conditions`; a legacy
    restricted-Python string is kept on the item but the form treats the item as always applying).

    Raises :class:`~forms.errors.FragmentError` for malformed fragments (all problems listed) and
    :class:`~forms.errors.FragmentConflict` for incompatible ones (all conflicts listed).
    """
    fragments = list(fragments)
    problems = [] if fragments else ["至少需要一个事项的表单片段"]
    if not isinstance(title, str) or not title.strip():
        problems.append("缺少表单标题")
    for fragment in fragments:
        problems += check_fragment(fragment)
    codes = Counter(str(fragment.get("item_code")) for fragment in fragments if isinstance(fragment, dict))
    problems += [f"事项编码 {code} 重复" for code, count in sorted(codes.items()) if count > 1]
    departments = {fragment.get("department") for fragment in fragments if isinstance(fragment, dict)}
    if lead_department is not None and lead_department not in departments:
        problems.append(f"牵头部门 {lead_department} 没有参与合并的事项")
    conditions = {code: condition for code, condition in (conditions or {}).items() if condition not in (None, "")}
    for code, condition in conditions.items():
        if code not in codes:
            problems.append(f"参与条件指向的事项 {code} 不在合并的事项中")
        elif not isinstance(condition, str | dict):
            problems.append(f"事项 {code} 的参与条件应为条件对象（或旧式的流程表达式文本）")
    if problems:
        raise FragmentError(problems)

    items = sorted(
        (normalize_fragment(fragment) for fragment in fragments),
        key=lambda item: (item["department"] != lead_department, item["item_code"]),
    )
    uses: dict[str, list[_Use]] = {}
    for item in items:
        required = set(item["schema"]["required"])
        for name, definition in item["schema"]["properties"].items():
            own = {key: value for key, value in definition.items() if key != ASK_WHEN}
            uses.setdefault(name, []).append(_Use(item_ref(item), own, name in required, definition.get(ASK_WHEN)))

    conflicts: list[Conflict] = []
    tightened: list[dict[str, Any]] = []
    merged_fields = {name: _merge_field(name, field_uses, conflicts, tightened) for name, field_uses in uses.items()}
    if conflicts:
        raise FragmentConflict(sorted(conflicts, key=_conflict_key))

    logic, always_required, conditionals, problems = build_logic(items, uses, merged_fields, conditions)
    if problems:
        raise FragmentError(problems)
    situation = logic["situation_fields"]
    order = [*situation]
    order += [name for name in uses if len(uses[name]) > 1 and name not in situation]
    order += [name for name in uses if len(uses[name]) == 1 and name not in situation]
    schema: dict[str, Any] = {
        "$schema": SCHEMA_DIALECT,
        "title": title,
        "type": "object",
        "properties": {name: merged_fields[name] for name in order},
        "required": sorted(always_required),
        "additionalProperties": False,
    }
    schema |= _merge_rules(items, conditions, merged_fields, conditionals)
    provenance = {
        name: [
            {
                **use.item,
                "required": use.required,
                "title": use.definition["title"],
                **({"ask_when": use.ask_when} if use.ask_when is not None else {}),
            }
            for use in uses[name]
        ]
        for name in order
    }
    conditional_items = [code for code, condition in conditions.items() if is_declarative(condition)]
    materials, inside = merge_materials(items, conditional_items)
    return MergedForm(
        title=title,
        lead_department=lead_department,
        items=[
            {
                **item_ref(item),
                **({"condition": conditions[item["item_code"]]} if item["item_code"] in conditions else {}),
            }
            for item in items
        ],
        schema=schema,
        provenance=provenance,
        materials=materials,
        report=_report(items, uses, order, materials, tightened, inside),
        ui_hints=_ui_hints(items, uses, order, situation),
        logic=logic,
    )


def _merge_field(name: str, uses: list[_Use], conflicts: list[Conflict], tightened: list[dict]) -> dict[str, Any]:
    label = uses[0].definition["title"]
    keywords = list(dict.fromkeys(key for use in uses for key in use.definition))
    merged: dict[str, Any] = {}
    for key in keywords:
        having = [(use, use.definition[key]) for use in uses if key in use.definition]
        if key in ANNOTATIONS or key.startswith("x-"):
            merged[key] = having[0][1]
        elif key in _LOWER or key in _UPPER:
            pick = max if key in _LOWER else min
            merged[key] = pick(value for _, value in having)
            if len({canonical(value) for _, value in having}) > 1:
                by = {use.item["item_code"]: value for use, value in having}
                tightened.append({"field": name, "keyword": key, "value": merged[key], "by": by})
        elif key in _FLAGS:
            merged[key] = any(value for _, value in having)
        else:
            first_use, first_value = having[0]
            for use, value in having[1:]:
                if _comparable(key, value) != _comparable(key, first_value):
                    conflicts.append(_conflict(name, label, key, (first_use, first_value), (use, value)))
            merged[key] = first_value
    _check_intervals(name, label, uses, merged, conflicts)
    if "const" in merged and "enum" in merged and canonical(merged["const"]) not in _comparable("enum", merged["enum"]):
        const_use = next(use for use in uses if "const" in use.definition)
        enum_use = next(use for use in uses if "enum" in use.definition)
        conflicts.append(_conflict(name, label, "const/enum", (const_use, merged["const"]), (enum_use, merged["enum"])))
    return _ordered(merged)


def _comparable(key: str, value: Any) -> Any:
    if key == "type":
        return frozenset(value if isinstance(value, list) else [value])
    if key == "enum":
        return frozenset(canonical(each) for each in value)
    return canonical(strip_annotations({key: value})[key])


def _check_intervals(name: str, label: str, uses: list[_Use], merged: dict, conflicts: list[Conflict]) -> None:
    def source(key: str) -> _Use:
        return next(use for use in uses if key in use.definition and use.definition[key] == merged[key])

    for low, high in _COUNT_PAIRS:
        if low in merged and high in merged and merged[low] > merged[high]:
            conflicts.append(
                _conflict(name, label, f"{low}/{high}", (source(low), merged[low]), (source(high), merged[high]))
            )
    lows = [(merged[key], key == "exclusiveMinimum", key) for key in ("minimum", "exclusiveMinimum") if key in merged]
    highs = [(merged[key], key == "exclusiveMaximum", key) for key in ("maximum", "exclusiveMaximum") if key in merged]
    if lows and highs:
        low, low_open, low_key = max(lows, key=lambda bound: (bound[0], bound[1]))
        high, high_open, high_key = min(highs, key=lambda bound: (bound[0], not bound[1]))
        if low > high or (low == high and (low_open or high_open)):
            conflicts.append(
                _conflict(name, label, f"{low_key}/{high_key}", (source(low_key), low), (source(high_key), high))
            )


def _conflict(name: str, label: str, key: str, first: tuple[_Use, Any], second: tuple[_Use, Any]) -> Conflict:
    (use_a, value_a), (use_b, value_b) = first, second
    if "/" in key:
        low_key, high_key = key.split("/")
        what = "取值范围无交集" if key != "const/enum" else "固定值不在可选值内"
        message = (
            f"字段 {name}（{label}）{what}：{_who(use_a.item)}要求 {low_key}={_show(value_a)}，"
            f"{_who(use_b.item)}要求 {high_key}={_show(value_b)}"
        )
    else:
        noun = _KEYWORD_NAMES.get(key, f"“{key}”")
        message = (
            f"字段 {name}（{label}）定义冲突：{_who(use_a.item)}要求{noun}为 {_show(value_a, key)}，"
            f"{_who(use_b.item)}要求{noun}为 {_show(value_b, key)}"
        )
    return Conflict(
        field=name,
        keyword=key,
        items=(dict(use_a.item), dict(use_b.item)),
        values=(value_a, value_b),
        message=message,
    )


def _who(item: dict[str, str]) -> str:
    return f"事项“{item['item_name']}”（{item['item_code']}，{item['department']}）"


def _show(value: Any, key: str = "") -> str:
    if key == "type":
        names = value if isinstance(value, list) else [value]
        return "、".join(f"{_TYPE_NAMES.get(each, each)}（{each}）" for each in names)
    if key == "enum":
        return "[" + "、".join(str(each) for each in value) + "]"
    if isinstance(value, str):
        return value
    return canonical(value)


def _conflict_key(conflict: Conflict) -> tuple:
    return (conflict.field, conflict.keyword, conflict.items[0]["item_code"], conflict.items[1]["item_code"])


def _ordered(definition: dict[str, Any]) -> dict[str, Any]:
    keys = [key for key in _KEY_ORDER if key in definition] + sorted(set(definition) - set(_KEY_ORDER))
    return {key: definition[key] for key in keys}


def _merge_rules(
    items: list[dict], conditions: Mapping[str, Any], properties: Mapping[str, dict], conditionals: list[dict]
) -> dict[str, Any]:
    """The items' cross-field rules (a conditional item's wrapped in its condition), then the compiled
    conditional requirements."""
    dependent: dict[str, set[str]] = {}
    rules: dict[str, Any] = {}
    for item in items:
        schema = item["schema"]
        entries = list(schema.get("allOf", []))
        conditional = {key: schema[key] for key in ("if", "then", "else") if key in schema}
        if conditional:
            entries.append(conditional)
        condition = conditions.get(item["item_code"])
        if is_declarative(condition):
            own = {}
            if schema.get("dependentRequired"):
                own["dependentRequired"] = {n: sorted(needs) for n, needs in schema["dependentRequired"].items()}
            if entries:
                own["allOf"] = entries
            entries = [wrap_item_rules(own, condition, properties)] if own else []
        else:
            for name, needs in schema.get("dependentRequired", {}).items():
                dependent.setdefault(name, set()).update(needs)
        for entry in entries:
            rules.setdefault(canonical(entry), entry)
    for entry in conditionals:
        rules.setdefault(canonical(entry), entry)
    out: dict[str, Any] = {}
    if dependent:
        out["dependentRequired"] = {name: sorted(dependent[name]) for name in sorted(dependent)}
    if rules:
        out["allOf"] = list(rules.values())
    return out


def _report(
    items: list[dict], uses: dict, order: list[str], materials: list[dict], tightened: list, inside: list[dict]
) -> dict:
    fields_requested = sum(len(item["schema"]["properties"]) for item in items)
    materials_requested = sum(len(item["materials"]) for item in items)
    from_e_licence = sum(1 for material in materials if material["source"] == "e_licence")
    title_variants = {}
    for name in order:
        titles = {use.item["item_code"]: use.definition["title"] for use in uses[name]}
        if len(set(titles.values())) > 1:
            title_variants[name] = titles
    return {
        "items": len(items),
        "departments": len({item["department"] for item in items}),
        "fields_total_requested": fields_requested,
        "fields_asked": len(order),
        "fields_saved": fields_requested - len(order),
        "materials_total_requested": materials_requested,
        "materials_asked": len(materials),
        "materials_saved": materials_requested - len(materials),
        "materials_from_e_licence": from_e_licence,
        "materials_to_submit": len(materials) - from_e_licence,
        "materials_produced_inside": inside,
        "shared_fields": {name: len(uses[name]) for name in order if len(uses[name]) > 1},
        "shared_materials": {m["code"]: len(m["needed_by"]) for m in materials if len(m["needed_by"]) > 1},
        "tightened": sorted(tightened, key=lambda entry: (entry["field"], entry["keyword"])),
        "title_variants": title_variants,
    }


def _ui_hints(items: list[dict], uses: dict[str, list[_Use]], order: list[str], situation: list[str]) -> dict:
    sections = []
    if situation:
        sections.append({"key": SITUATION_SECTION, "title": "办理情形", "fields": list(situation)})
    shared = [name for name in order if len(uses[name]) > 1 and name not in situation]
    if shared:
        sections.append({"key": SHARED_SECTION, "title": "共同信息", "fields": shared})
    for item in items:
        own = [
            name
            for name in order
            if len(uses[name]) == 1 and uses[name][0].item["item_code"] == item["item_code"] and name not in situation
        ]
        if own:
            sections.append(
                {"key": item["item_code"], "title": item["item_name"], "department": item["department"], "fields": own}
            )
    departments = sorted({item["department"] for item in items})
    return {
        "field_order": list(order),
        "sections": sections,
        "field_departments": {name: sorted({use.item["department"] for use in uses[name]}) for name in order},
        "by_department": {
            department: [name for name in order if any(use.item["department"] == department for use in uses[name])]
            for department in departments
        },
    }
