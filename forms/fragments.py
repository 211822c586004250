"""Item form fragments: their shape, and the check an administrator's edit must pass before any merge.

A fragment is what one service item (政务服务事项) asks of the applicant::

    {
      "item_code": "...", "item_name": "...", "department": "market_regulation",
      "schema": {                              # JSON Schema (draft 2020-12) of an object
        "properties": {"applicant_name": {"type": "string", "title": "申请人姓名", "maxLength": 50}, ...},
        "required": ["applicant_name"],
        # optional cross-field rules: "dependentRequired", "allOf", "if"/"then"/"else"
      },
      "materials": [{"code": "id_card", "name": "身份证", "required": true, "original": false,
                     "source": "applicant"}],      # source: "applicant" | "e_licence" (电子证照, 免提交)
      "produces": "business_licence"             # optional: the material this item's result stands for
    }

A **follow-up question** says when it is asked with ``askWhen`` on its definition, a condition in the format of
:mod:`forms.conditions` over the fragment's own fields::

    "signboard_text": {"type": "string", "title": "招牌文字",
                       "askWhen": {"field": "outdoor_signboard", "equals": true}}

Listed in ``required``, a follow-up is required exactly when it is asked. (``dependentRequired`` still works,
but triggers on the trigger field being *answered* — 否 included — so it is the wrong tool for 是/否 questions.)

Date fields (``format: date``) may bound the date relative to the day of submission: ``maxDaysAgo`` (not
earlier than that many days before today) and ``maxDaysAhead`` (not later than that many days after; 0 = not in
the future). Both are upper bounds, so the merge takes the smallest. ``x-unit`` (e.g. ``"米"``) labels a
number field's unit on the screens and in messages; ``examples`` gives the example messages show.

Fields are the flat top-level properties; a field may be an object or an array, its definition is then
compared as a whole. Every field needs a ``title`` (the Chinese label shown to the applicant). Fragments
are self-contained: no ``$ref``. Every ``format`` must be one :data:`forms.formats.FORMAT_CHECKER` knows,
so a typo cannot silently switch a check off.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from .conditions import check_condition, condition_fields
from .formats import FORMAT_CHECKER

__all__ = ["MATERIAL_SOURCES", "check_fragment", "normalize_fragment"]

MATERIAL_SOURCES = ("applicant", "e_licence")
FRAGMENT_KEYS = {"item_code", "item_name", "department", "schema", "materials", "produces"}
ASK_WHEN = "askWhen"
DATE_WINDOW_KEYWORDS = ("maxDaysAgo", "maxDaysAhead")
SCHEMA_KEYS = {
    "$schema",
    "$id",
    "$comment",
    "title",
    "description",
    "type",
    "properties",
    "required",
    "additionalProperties",
    "dependentRequired",
    "allOf",
    "if",
    "then",
    "else",
}
MATERIAL_KEYS = {"code", "name", "required", "original", "source", "description", "deferrable", "commitment"}
FIELD_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*", re.ASCII)

# Keywords that describe rather than constrain: they never conflict; the first item (by item code) wins.
ANNOTATIONS = frozenset(
    {"title", "description", "default", "examples", "$comment", "readOnly", "writeOnly", "deprecated"}
)
_SCHEMA_MAPS = ("properties", "patternProperties", "dependentSchemas", "$defs")
_SCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")
_SCHEMA_ONE = (
    "items",
    "additionalProperties",
    "contains",
    "not",
    "if",
    "then",
    "else",
    "propertyNames",
    "unevaluatedItems",
    "unevaluatedProperties",
)


def subschemas(schema: Any) -> Iterator[dict]:
    """``schema`` and every schema nested in it (through the keywords whose values are schemas)."""
    if not isinstance(schema, dict):
        return
    yield schema
    for key in _SCHEMA_MAPS:
        value = schema.get(key)
        if isinstance(value, dict):
            for sub in value.values():
                yield from subschemas(sub)
    for key in _SCHEMA_LISTS:
        value = schema.get(key)
        if isinstance(value, list):
            for sub in value:
                yield from subschemas(sub)
    for key in _SCHEMA_ONE:
        yield from subschemas(schema.get(key))


def strip_annotations(schema: Any) -> Any:
    """A copy of ``schema`` without annotations at any level, ``required`` sorted: for comparing definitions."""
    if not isinstance(schema, dict):
        return schema
    out = {key: value for key, value in schema.items() if key not in ANNOTATIONS and not key.startswith("x-")}
    for key in _SCHEMA_MAPS:
        if isinstance(out.get(key), dict):
            out[key] = {name: strip_annotations(sub) for name, sub in out[key].items()}
    for key in _SCHEMA_LISTS:
        if isinstance(out.get(key), list):
            out[key] = [strip_annotations(sub) for sub in out[key]]
    for key in _SCHEMA_ONE:
        if key in out:
            out[key] = strip_annotations(out[key])
    if isinstance(out.get("required"), list):
        out["required"] = sorted(out["required"], key=str)
    return out


def canonical(value: Any) -> str:
    """A stable text form of a JSON value: keys sorted, ``1.0`` written as ``1`` (JSON Schema equality)."""
    return json.dumps(_integral(value), sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _integral(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {key: _integral(sub) for key, sub in value.items()}
    if isinstance(value, list):
        return [_integral(sub) for sub in value]
    return value


def check_fragment(fragment: Any) -> list[str]:
    """Every problem of one fragment, in Chinese; an empty list means it can take part in a merge."""
    if not isinstance(fragment, dict):
        return ["表单片段应为对象（JSON object）"]
    problems: list[str] = []
    code = fragment.get("item_code")
    who = f"事项 {code}" if isinstance(code, str) and code else "事项（缺少编码）"
    for key in ("item_code", "item_name", "department"):
        if not isinstance(fragment.get(key), str) or not fragment[key].strip():
            problems.append(f"{who}：缺少 {key}")
    unknown = sorted(set(fragment) - FRAGMENT_KEYS)
    if unknown:
        problems.append(f"{who}：不认识的键 {'、'.join(unknown)}")
    produces = fragment.get("produces")
    if produces is not None and (not isinstance(produces, str) or not produces.strip()):
        problems.append(f"{who}：produces 应为材料编码（文本）")
    problems += _check_schema(who, fragment.get("schema"))
    problems += _check_materials(who, fragment.get("materials", []))
    return problems


def _check_schema(who: str, schema: Any) -> list[str]:
    if not isinstance(schema, dict):
        return [f"{who}：schema 应为对象"]
    problems = []
    unknown = sorted(set(schema) - SCHEMA_KEYS)
    if unknown:
        problems.append(f"{who}：schema 含不支持的关键字 {'、'.join(unknown)}（可用 allOf 表达跨字段规则）")
    if schema.get("type", "object") != "object":
        problems.append(f"{who}：schema 的 type 应为 object")
    properties = schema.get("properties", {})
    if not isinstance(properties, dict):
        return [*problems, f"{who}：properties 应为对象"]
    for name, definition in properties.items():
        if not FIELD_NAME.fullmatch(name):
            problems.append(f"{who}：字段名 {name!r} 只能含字母、数字和下划线，且不以数字开头")
        if not isinstance(definition, dict):
            problems.append(f"{who}：字段 {name} 的定义应为对象")
            continue
        if not isinstance(definition.get("title"), str) or not definition["title"].strip():
            problems.append(f"{who}：字段 {name} 缺少中文标题（title）")
        problems += _check_date_window(who, name, definition)
    problems += _check_follow_ups(who, properties)
    required = schema.get("required", [])
    if not isinstance(required, list) or not all(isinstance(name, str) for name in required):
        problems.append(f"{who}：required 应为字段名列表")
    else:
        missing = [name for name in required if name not in properties]
        if missing:
            problems.append(f"{who}：required 中的字段未定义：{'、'.join(missing)}")
    dependent = schema.get("dependentRequired", {})
    if isinstance(dependent, dict):
        for name, needs in dependent.items():
            names = [name, *(needs if isinstance(needs, list) else [])]
            undefined = [each for each in names if each not in properties]
            if undefined:
                problems.append(f"{who}：dependentRequired 中的字段未定义：{'、'.join(map(str, undefined))}")
    invalid = list(_schema_problems(canonical({**schema, "properties": {}}), ""))
    for name, definition in properties.items():
        if isinstance(definition, dict):
            without = {key: value for key, value in definition.items() if key != ASK_WHEN}
            invalid += _schema_problems(canonical(without), f"properties/{name}/")
    if invalid:
        return problems + [f"{who}：不是有效的 JSON Schema（{where}）" for where in invalid]
    for sub in subschemas(schema):
        if "$ref" in sub or "$dynamicRef" in sub:
            problems.append(f"{who}：表单片段应自包含，不能使用 $ref")
        fmt = sub.get("format")
        if isinstance(fmt, str) and fmt not in FORMAT_CHECKER.checkers:
            problems.append(f"{who}：未知的格式 format={fmt!r}")
    return problems


def _check_date_window(who: str, name: str, definition: dict) -> list[str]:
    problems = []
    for keyword in DATE_WINDOW_KEYWORDS:
        if keyword not in definition:
            continue
        value = definition[keyword]
        if definition.get("format") != "date":
            problems.append(f"{who}：字段 {name} 的 {keyword} 只能用于日期字段（format: date）")
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            problems.append(f"{who}：字段 {name} 的 {keyword} 应为非负整数（天数）")
    return problems


def _check_follow_ups(who: str, properties: dict) -> list[str]:
    """``askWhen``: a valid condition over the fragment's own other fields, without cycles."""
    problems = []
    triggers: dict[str, list[str]] = {}
    for name, definition in properties.items():
        if not isinstance(definition, dict) or ASK_WHEN not in definition:
            continue
        condition = definition[ASK_WHEN]
        found = check_condition(condition, properties, where=f"{who}：字段 {name} 的 askWhen")
        problems += found
        if found:
            continue
        triggers[name] = condition_fields(condition)
        if name in triggers[name]:
            problems.append(f"{who}：字段 {name} 的 askWhen 不能以它自己为条件")
    for name in [name for name in triggers if name not in triggers[name]]:
        seen, stack = set(), list(triggers[name])
        while stack:
            current = stack.pop()
            if current == name:
                problems.append(f"{who}：字段 {name} 的 askWhen 循环依赖（追问的条件最终又取决于它自己）")
                break
            if current not in seen:
                seen.add(current)
                stack.extend(triggers.get(current, []))
    return problems


@lru_cache(maxsize=4096)
def _schema_problems(text: str, prefix: str) -> tuple[str, ...]:
    """Meta-schema errors of one schema (cached by its text: checking a 2020-12 schema costs milliseconds)."""
    try:
        Draft202012Validator.check_schema(json.loads(text))
    except SchemaError as error:
        where = prefix + "/".join(str(part) for part in error.absolute_path)
        return (f"{where or 'schema'}：{error.message}",)
    return ()


def _check_materials(who: str, materials: Any) -> list[str]:
    if not isinstance(materials, list):
        return [f"{who}：materials 应为列表"]
    problems = []
    seen: set[str] = set()
    for index, material in enumerate(materials):
        if not isinstance(material, dict):
            problems.append(f"{who}：第 {index + 1} 项材料应为对象")
            continue
        code = material.get("code")
        label = f"材料 {code}" if isinstance(code, str) and code else f"第 {index + 1} 项材料"
        if not isinstance(code, str) or not code.strip():
            problems.append(f"{who}：{label}缺少编码（code）")
        elif code in seen:
            problems.append(f"{who}：材料编码 {code} 重复")
        else:
            seen.add(code)
        if not isinstance(material.get("name"), str) or not material["name"].strip():
            problems.append(f"{who}：{label}缺少名称（name）")
        for flag in ("required", "original", "deferrable"):
            if flag in material and not isinstance(material[flag], bool):
                problems.append(f"{who}：{label}的 {flag} 应为 true 或 false")
        commitment = material.get("commitment")
        if commitment is not None and (not isinstance(commitment, str) or not commitment.strip()):
            problems.append(f"{who}：{label}的 commitment（告知承诺书文本）应为非空文本")
        if material.get("source", "applicant") not in MATERIAL_SOURCES:
            problems.append(f"{who}：{label}的 source 应为 {' 或 '.join(MATERIAL_SOURCES)}")
        unknown = sorted(set(material) - MATERIAL_KEYS)
        if unknown:
            problems.append(f"{who}：{label}含不认识的键 {'、'.join(unknown)}")
    return problems


def normalize_fragment(fragment: dict) -> dict:
    """A deep copy with defaults filled in (``required`` true, ``original`` false, ``source`` applicant)."""
    fragment = copy.deepcopy(fragment)
    schema = fragment["schema"]
    schema.setdefault("properties", {})
    schema.setdefault("required", [])
    materials = []
    for material in fragment.get("materials", []):
        materials.append(
            {"required": True, "original": False, "source": "applicant", **material},
        )
    fragment["materials"] = materials
    return fragment
