"""Declarative conditions over the answers of the one form: when an item applies, when a question is asked.

One condition, four readings that cannot disagree, because they all come from the same JSON value:

- :func:`condition_holds` evaluates it in Python over an answers dict;
- :func:`condition_schema` compiles it into JSON Schema (draft 2020-12) that accepts exactly the answer objects
  for which it holds — the merge puts it under ``if`` so required fields follow the answers;
- :func:`condition_expression` renders it as the restricted-Python expression over ``form`` that the generated
  BPMN model evaluates on its gateway (so the process and the form decide alike);
- :func:`describe_condition` says it in Chinese for the screens ("设置户外招牌为“是”").

The format (JSON)::

    {"field": "outdoor_signboard", "equals": true}           # the answer is exactly this value
    {"field": "payment_method", "one_of": ["银行代扣", "线上缴费"]}
    {"field": "business_scope", "contains": "餐饮"}          # text: contains the words; list: has the element
    {"field": "floor_area", "gt": 300}                       # also "gte", "lt", "lte"; numbers only
    {"field": "agent_name", "answered": true}                # the question has an answer
    {"all": [c1, c2, ...]}   {"any": [c1, c2, ...]}   {"not": c}

A leaf names one field and exactly one test. **Every leaf is false when its field is unanswered** (``not``
turns that around on purpose: ``{"not": {"field": "x", "equals": true}}`` holds when x is unanswered). Values are
JSON scalars (no null); ``equals``/``one_of`` compare as JSON does (``1`` equals ``1.0``, ``true`` is not ``1``);
``gt``…``lte`` hold only for a number (not a boolean); ``contains`` holds for a text containing the string or a
list holding it as an element. The restricted-Python rendering agrees with these rules on every answer the
merged form accepts (it does not re-check types the form has already checked).

Legacy conditions: a one-thing item may still carry a restricted-Python *string* (the format before this one).
The form cannot evaluate or compile a string, so for the form such an item always applies (its fields and
materials are asked, as they were); only the process evaluates it. :func:`is_declarative` tells them apart.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = [
    "COMPARISONS",
    "LEAF_TESTS",
    "MAX_DEPTH",
    "check_condition",
    "condition_expression",
    "condition_fields",
    "condition_holds",
    "condition_schema",
    "describe_condition",
    "is_declarative",
    "simplify_all",
    "simplify_any",
]

COMPARISONS = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}
LEAF_TESTS = ("equals", "one_of", "contains", "answered", *COMPARISONS)
COMBINATORS = ("all", "any", "not")
MAX_DEPTH = 8
_MAX_ONE_OF = 200
_PATTERN_SPECIALS = set("^$\\.*+?()[]{}|/")
_COMPARISON_WORDS = {"gt": "大于", "gte": "不小于", "lt": "小于", "lte": "不大于"}


def is_declarative(condition: Any) -> bool:
    """True for a condition in this module's JSON format, False for none (None/"") or a legacy expression string."""
    return isinstance(condition, dict)


# --------------------------------------------------------------------------- checking


def check_condition(condition: Any, fields: Mapping[str, Mapping] | None = None, *, where: str = "条件") -> list[str]:
    """Every problem of a condition, in Chinese; empty means it can be used.

    ``fields`` (name → JSON Schema definition), when given, must hold every field the condition names, and each
    test must fit the field's type (``contains`` on text or a list, ``gt``… on numbers, ``equals`` a value the
    field can take).
    """
    problems: list[str] = []
    _check(condition, fields, where, 1, problems)
    return problems


def _check(condition: Any, fields: Mapping[str, Mapping] | None, where: str, depth: int, problems: list[str]) -> None:
    if depth > MAX_DEPTH:
        problems.append(f"{where}：嵌套超过 {MAX_DEPTH} 层")
        return
    if not isinstance(condition, dict):
        problems.append(f'{where}应为对象，如 {{"field": "outdoor_signboard", "equals": true}}')
        return
    combinators = [key for key in COMBINATORS if key in condition]
    if combinators:
        if len(condition) != 1:
            problems.append(f"{where}：{combinators[0]} 须单独成为一个条件（不能与其他键并列）")
            return
        key = combinators[0]
        value = condition[key]
        if key == "not":
            _check(value, fields, f"{where}.not", depth + 1, problems)
            return
        if not isinstance(value, list) or not value:
            problems.append(f"{where}：{key} 应为非空的条件列表")
            return
        for index, sub in enumerate(value):
            _check(sub, fields, f"{where}.{key}[{index}]", depth + 1, problems)
        return
    field = condition.get("field")
    if not isinstance(field, str) or not field:
        problems.append(f"{where}：缺少 field（字段名），或使用 all / any / not 组合条件")
        return
    tests = [key for key in condition if key != "field"]
    unknown = [key for key in tests if key not in LEAF_TESTS]
    if unknown:
        problems.append(f"{where}：不认识的键 {'、'.join(unknown)}（可用 {'、'.join(LEAF_TESTS)}）")
        return
    if len(tests) != 1:
        problems.append(f"{where}：字段 {field} 须恰好有一种判断（{'、'.join(LEAF_TESTS)} 之一）")
        return
    test = tests[0]
    value = condition[test]
    definition = None
    if fields is not None:
        definition = fields.get(field)
        if definition is None:
            problems.append(f"{where}：表单中没有字段 {field}")
            return
    kinds = _types_of(definition)
    if test == "equals":
        if not _is_scalar(value):
            problems.append(f"{where}：equals 的值应为文本、数字或 true/false")
        elif definition is not None and not _fits(value, definition):
            problems.append(f"{where}：字段 {field} 不会取值 {_show(value)}")
    elif test == "one_of":
        if not isinstance(value, list) or not value or len(value) > _MAX_ONE_OF or not all(map(_is_scalar, value)):
            problems.append(f"{where}：one_of 应为 1–{_MAX_ONE_OF} 个文本、数字或 true/false 的列表")
        elif definition is not None:
            impossible = [_show(each) for each in value if not _fits(each, definition)]
            if impossible:
                problems.append(f"{where}：字段 {field} 不会取值 {'、'.join(impossible)}")
    elif test == "contains":
        if not isinstance(value, str) or not value:
            problems.append(f"{where}：contains 的值应为非空文本")
        elif kinds is not None and not kinds & {"string", "array"}:
            problems.append(f"{where}：contains 只能用于文本或多选字段，字段 {field} 不是")
    elif test == "answered":
        if value is not True:
            problems.append(f"{where}：answered 只能为 true（未回答请用 not 包住）")
    else:
        if not _is_number(value) or not math.isfinite(value):
            problems.append(f"{where}：{test} 的值应为数字")
        elif kinds is not None and not kinds & {"number", "integer"}:
            problems.append(f"{where}：{test} 只能用于数字字段，字段 {field} 不是")


def _types_of(definition: Mapping | None) -> set[str] | None:
    if definition is None or "type" not in definition:
        return None
    kind = definition["type"]
    return set(kind) if isinstance(kind, list) else {kind}


def _fits(value: Any, definition: Mapping) -> bool:
    """Could the field take this value at all (type and enum)? Bounds and formats are not second-guessed."""
    if "enum" in definition and not any(_json_equal(value, option) for option in definition["enum"]):
        return False
    if "const" in definition and not _json_equal(value, definition["const"]):
        return False
    kinds = _types_of(definition)
    if kinds is None:
        return True
    if isinstance(value, bool):
        return "boolean" in kinds
    if isinstance(value, int | float):
        return bool(kinds & {"number"}) or ("integer" in kinds and float(value).is_integer())
    return "string" in kinds


# --------------------------------------------------------------------------- evaluating


def condition_holds(condition: Any, answers: Mapping[str, Any]) -> bool:
    """Whether the condition holds over the answers (a legacy string or None counts as holding: see the module)."""
    if not is_declarative(condition):
        return True
    if "all" in condition:
        return all(condition_holds(sub, answers) for sub in condition["all"])
    if "any" in condition:
        return any(condition_holds(sub, answers) for sub in condition["any"])
    if "not" in condition:
        return not condition_holds(condition["not"], answers)
    field = condition["field"]
    if field not in answers:
        return False
    answer = answers[field]
    if "equals" in condition:
        return _json_equal(answer, condition["equals"])
    if "one_of" in condition:
        return any(_json_equal(answer, option) for option in condition["one_of"])
    if "contains" in condition:
        needle = condition["contains"]
        if isinstance(answer, str):
            return needle in answer
        if isinstance(answer, list):
            return any(_json_equal(element, needle) for element in answer)
        return False
    if "answered" in condition:
        return True
    for test, symbol in COMPARISONS.items():
        if test in condition:
            if not _is_number(answer):
                return False
            bound = condition[test]
            return {">": answer > bound, ">=": answer >= bound, "<": answer < bound, "<=": answer <= bound}[symbol]
    raise ValueError(f"not a condition: {condition!r}")


def condition_fields(condition: Any) -> list[str]:
    """The fields a condition reads, in order of first mention (none for a legacy string)."""
    out: dict[str, None] = {}

    def walk(node: Any) -> None:
        if not isinstance(node, dict):
            return
        for key in ("all", "any"):
            for sub in node.get(key, []) if isinstance(node.get(key), list) else []:
                walk(sub)
        if "not" in node:
            walk(node["not"])
        if isinstance(node.get("field"), str):
            out.setdefault(node["field"], None)

    walk(condition)
    return list(out)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_scalar(value: Any) -> bool:
    return isinstance(value, str | bool) or (_is_number(value) and math.isfinite(value))


def _json_equal(a: Any, b: Any) -> bool:
    """Equality as JSON Schema's ``const``/``enum`` see it: booleans are not numbers, 1 equals 1.0."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if _is_number(a) and _is_number(b):
        return a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_json_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_json_equal(a[key], b[key]) for key in a)
    return type(a) is type(b) and a == b


# --------------------------------------------------------------------------- compiling to JSON Schema


def condition_schema(condition: Any, fields: Mapping[str, Mapping] | None = None) -> dict[str, Any]:
    """JSON Schema (draft 2020-12) accepting exactly the answer objects for which the condition holds.

    ``fields`` lets ``contains`` compile to the one branch the field's type needs; without it both are kept.
    """
    if "all" in condition:
        return {"allOf": [condition_schema(sub, fields) for sub in condition["all"]]}
    if "any" in condition:
        return {"anyOf": [condition_schema(sub, fields) for sub in condition["any"]]}
    if "not" in condition:
        return {"not": condition_schema(condition["not"], fields)}
    field = condition["field"]
    if "answered" in condition:
        return {"required": [field]}
    if "equals" in condition:
        test: dict[str, Any] = {"const": condition["equals"]}
    elif "one_of" in condition:
        test = {"enum": list(condition["one_of"])}
    elif "contains" in condition:
        needle = condition["contains"]
        text = {"type": "string", "pattern": _literal_pattern(needle)}
        listed = {"type": "array", "contains": {"const": needle}}
        kinds = _types_of((fields or {}).get(field))
        # narrowed only for a text or a list field (a condition on another type is refused by check_condition)
        if kinds is not None and "string" in kinds and "array" not in kinds:
            test = text
        elif kinds is not None and "array" in kinds and "string" not in kinds:
            test = listed
        else:
            test = {"anyOf": [text, listed]}
    else:
        test_key = next(key for key in COMPARISONS if key in condition)
        keyword = {"gt": "exclusiveMinimum", "gte": "minimum", "lt": "exclusiveMaximum", "lte": "maximum"}[test_key]
        test = {"type": "number", keyword: condition[test_key]}
    return {"properties": {field: test}, "required": [field]}


def _literal_pattern(text: str) -> str:
    """A regular expression matching ``text`` literally, the same in Python ``re`` and ECMA-262 (``u`` mode)."""
    return "".join("\\" + char if char in _PATTERN_SPECIALS else char for char in text)


# --------------------------------------------------------------------------- rendering for the process


def condition_expression(condition: Any) -> str:
    """The restricted-Python expression over ``form`` the generated BPMN evaluates; a legacy string is returned as
    it is. Leaves are written as the shipped models wrote them (``form.get("x") is True``,
    ``"餐饮" in form.get("business_scope", "")``)."""
    if isinstance(condition, str):
        return condition.strip()
    return _expression(condition, top=True)


def _expression(condition: dict, *, top: bool = False) -> str:
    if "all" in condition or "any" in condition:
        key = "all" if "all" in condition else "any"
        joined = f" {'and' if key == 'all' else 'or'} ".join(_expression(sub) for sub in condition[key])
        return joined if top or len(condition[key]) == 1 else f"({joined})"
    if "not" in condition:
        inner = _expression(condition["not"])
        return f"not {inner}" if inner.startswith("(") else f"not ({inner})"
    field = condition["field"]
    name = _python_literal(field)
    if "answered" in condition:
        return f"{name} in form"
    if "equals" in condition:
        value = condition["equals"]
        if isinstance(value, bool):
            return f"form.get({name}) is {value}"
        return f"form.get({name}) == {_python_literal(value)}"
    if "one_of" in condition:
        options = ", ".join(_python_literal(each) for each in condition["one_of"])
        return f"form.get({name}) in [{options}]"
    if "contains" in condition:
        return f'{_python_literal(condition["contains"])} in form.get({name}, "")'
    test = next(key for key in COMPARISONS if key in condition)
    expression = f"{name} in form and form[{name}] {COMPARISONS[test]} {_python_literal(condition[test])}"
    return expression if top else f"({expression})"


def _python_literal(value: Any) -> str:
    if isinstance(value, bool):
        return repr(value)
    if isinstance(value, str):
        # A JSON string literal is a Python string literal with the same value (json.dumps never writes "\/").
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, float) and value.is_integer():
        return repr(value)
    return repr(value)


# --------------------------------------------------------------------------- saying it in Chinese


def describe_condition(condition: Any, titles: Mapping[str, str] | None = None) -> str:
    """The condition in Chinese for people (``titles``: field → label), e.g. 设置户外招牌为“是”."""
    if condition is None or condition == "":
        return "始终"
    if isinstance(condition, str):
        return f"满足流程条件 {condition.strip()}"
    return _describe(condition, titles or {})


def _describe(condition: dict, titles: Mapping[str, str]) -> str:
    if "all" in condition:
        return "且".join(_describe(sub, titles) for sub in condition["all"])
    if "any" in condition:
        return "或".join(_describe(sub, titles) for sub in condition["any"])
    if "not" in condition:
        return f"并非（{_describe(condition['not'], titles)}）"
    field = condition["field"]
    title = titles.get(field, field)
    if "answered" in condition:
        return f"填写了{title}"
    if "equals" in condition:
        return f"{title}为“{_word(condition['equals'])}”"
    if "one_of" in condition:
        return f"{title}为" + "或".join(f"“{_word(each)}”" for each in condition["one_of"])
    if "contains" in condition:
        return f"{title}含“{condition['contains']}”"
    test = next(key for key in COMPARISONS if key in condition)
    return f"{title}{_COMPARISON_WORDS[test]} {_word(condition[test])}"


def _word(value: Any) -> str:
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _show(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


# --------------------------------------------------------------------------- combining (None = always)


def simplify_all(conditions: Iterable[Any]) -> Any:
    """The conjunction of conditions, None standing for "always": None if all are None, the one if one."""
    parts: list[Any] = []
    seen: set[str] = set()
    for condition in conditions:
        if condition is None:
            continue
        for part in condition["all"] if is_declarative(condition) and "all" in condition else [condition]:
            key = _key(part)
            if key not in seen:
                seen.add(key)
                parts.append(part)
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else {"all": parts}


def simplify_any(conditions: Iterable[Any]) -> Any:
    """The disjunction of at least one condition; None ("always") if any of them is None."""
    conditions = list(conditions)
    if not conditions:
        raise ValueError("simplify_any needs at least one condition (an empty disjunction never holds)")
    parts: list[Any] = []
    seen: set[str] = set()
    for condition in conditions:
        if condition is None:
            return None
        for part in condition["any"] if is_declarative(condition) and "any" in condition else [condition]:
            key = _key(part)
            if key not in seen:
                seen.add(key)
                parts.append(part)
    return parts[0] if len(parts) == 1 else {"any": parts}


def _key(condition: Any) -> str:
    return json.dumps(condition, sort_keys=True, ensure_ascii=False)
