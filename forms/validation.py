"""Validate submitted answers against a one-thing's form, with field errors in Chinese that say what is wrong and
give an example ("证件号码的校验位不正确，请核对。例：11010519491231002X"); choice fields say 请选择.

- :func:`check_answers` is what a service calls: maps 民族 short names to the stored full name, drops answers to
  questions that do not apply (:func:`forms.answers_that_apply`), then validates; returns the answers to store and
  the errors.
- :func:`validate_form` validates data against a JSON Schema (draft 2020-12, our formats, and the date-window
  keywords ``maxDaysAgo``/``maxDaysAhead`` relative to today in China).

Examples in messages come from the field's ``examples`` annotation, else from its format, choices or bounds.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from jsonschema import Draft202012Validator, validators
from jsonschema.exceptions import ValidationError

from .formats import (
    _TODAY,
    FORMAT_CHECKER,
    FORMAT_EXAMPLES,
    FORMAT_NAMES,
    InvalidFormat,
    current_day,
    ethnicity_name,
    is_valid_date,
)
from .logic import answers_that_apply

__all__ = ["CheckedAnswers", "check_answers", "example_of", "normalize_answers", "type_message", "validate_form"]


@dataclass(frozen=True)
class CheckedAnswers:
    """The answers to store (normalised, only what applies) and the field errors (empty when valid)."""

    answers: dict[str, Any]
    errors: dict[str, list[str]] = field(default_factory=dict)


def check_answers(merged_form: Any, answers: object, *, today: date | None = None) -> CheckedAnswers:
    """Normalise, keep what applies, validate: the one check of a one-thing's answers (opening, correcting)."""
    merged = merged_form.to_dict() if hasattr(merged_form, "to_dict") else (merged_form or {})
    schema = merged.get("schema") or {"type": "object"}
    if not isinstance(answers, dict):
        return CheckedAnswers({}, {"form": ["申请表应为对象（JSON object）"]})
    kept = answers_that_apply(merged, normalize_answers(schema, answers))
    return CheckedAnswers(kept, validate_form(schema, kept, today=today))


def normalize_answers(schema: Mapping[str, Any], answers: Mapping[str, Any]) -> dict[str, Any]:
    """The answers with 民族 (``format: ethnicity``) short names mapped to the GB/T 3304 full name (汉 → 汉族)."""
    properties = schema.get("properties") or {}
    out = dict(answers)
    for name, definition in properties.items():
        if name in out and isinstance(definition, dict) and definition.get("format") == "ethnicity":
            out[name] = ethnicity_name(out[name])
    return out


# --------------------------------------------------------------------------- the validator


def _day(instance: object) -> date | None:
    """The date a valid ``YYYY-MM-DD`` string names; None for anything else (format and type report those)."""
    return date.fromisoformat(instance) if isinstance(instance, str) and is_valid_date(instance) else None


def _max_days_ago(validator, days, instance, schema) -> Iterator[ValidationError]:
    if _day(instance) and _day(instance) < current_day() - timedelta(days=days):
        yield ValidationError(f"{instance} is more than {days} days ago")


def _max_days_ahead(validator, days, instance, schema) -> Iterator[ValidationError]:
    if _day(instance) and _day(instance) > current_day() + timedelta(days=days):
        yield ValidationError(f"{instance} is more than {days} days ahead")


_Validator = validators.extend(Draft202012Validator, {"maxDaysAgo": _max_days_ago, "maxDaysAhead": _max_days_ahead})


def validate_form(schema: dict, data: object, *, today: date | None = None) -> dict[str, list[str]]:
    """Field path → Chinese messages; an empty dict means the data is valid. ``today`` (default: today in
    China) is the day date windows and birth dates are measured from."""
    if not isinstance(data, dict):
        return {"form": ["申请表应为对象（JSON object）"]}
    token = _TODAY.set(today)
    try:
        validator = _Validator(schema or {"type": "object"}, format_checker=FORMAT_CHECKER)
        found = sorted(validator.iter_errors(data), key=lambda e: [str(p) for p in e.path])
        # A value outside a field's choices needs no second message about its format (民族 has both).
        chosen_wrong = {tuple(error.absolute_path) for error in found if error.validator == "enum"}
        errors: dict[str, list[str]] = {}
        for error in found:
            if error.validator == "format" and tuple(error.absolute_path) in chosen_wrong:
                continue
            field_name, message = _describe(error, schema)
            errors.setdefault(field_name, [])
            if message not in errors[field_name]:
                errors[field_name].append(message)
        return errors
    finally:
        _TODAY.reset(token)


# --------------------------------------------------------------------------- messages


def _definition(schema: Mapping, path: list) -> dict:
    """The definition at ``path``; a list element without its own title borrows the list's."""
    node: Mapping = schema
    for part in path:
        if isinstance(part, str):
            node = (node.get("properties") or {}).get(part, {})
        else:
            items = node.get("items", {})
            node = items if items.get("title") else {**items, "title": node.get("title", "")}
    return dict(node)


def _is_choice(definition: Mapping) -> bool:
    items = definition.get("items") if isinstance(definition.get("items"), dict) else {}
    return "enum" in definition or definition.get("type") == "boolean" or "enum" in items


def _number(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _unit(definition: Mapping) -> str:
    unit = definition.get("x-unit")
    return f" {unit}" if isinstance(unit, str) and unit else ""


def example_of(definition: Mapping) -> str | None:
    """A value the field accepts, to show in messages: ``examples``, else by format, choices or bounds."""
    examples = definition.get("examples")
    if isinstance(examples, list) and examples:
        return _number(examples[0]) if not isinstance(examples[0], bool) else ("是" if examples[0] else "否")
    fmt = definition.get("format")
    if fmt == "date":
        return current_day().isoformat()  # today lies in every window maxDaysAgo/maxDaysAhead allow
    if fmt in FORMAT_EXAMPLES:
        return FORMAT_EXAMPLES[fmt]
    if definition.get("enum"):
        return _number(definition["enum"][0])
    kind = definition.get("type")
    if kind in ("integer", "number"):
        return _number(_example_number(definition, kind == "integer"))
    return None


def _example_number(definition: Mapping, integer: bool) -> float:
    low = definition.get("minimum", definition.get("exclusiveMinimum"))
    high = definition.get("maximum", definition.get("exclusiveMaximum"))
    candidate = 1 if low is None else (low if "minimum" in definition else low + 1)
    if integer:
        candidate = math.ceil(candidate)
    if high is not None and candidate > high:
        candidate = high if "maximum" in definition else (low + high) / 2 if low is not None else high - 1
    multiple = definition.get("multipleOf")
    if multiple:
        candidate = math.ceil(candidate / multiple) * multiple
    return candidate


def _with_example(message: str, definition: Mapping) -> str:
    example = example_of(definition)
    return f"{message}。例：{example}" if example else message


def type_message(definition: Mapping, name: str = "") -> str:
    """The message for an answer of the wrong type (also what the screens say for letters in a number box)."""
    title = definition.get("title") or name
    kind = definition.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    if kind == "boolean":
        return f"请选择{title}（是或否）"
    if kind in ("integer", "number"):
        unit = definition.get("x-unit")
        noun = "整数" if kind == "integer" else "数字"
        return _with_example(f"{title}应为{noun}" + (f"（单位：{unit}）" if unit else ""), definition)
    return _with_example(f"{title}应为{_TYPE_NAMES.get(str(kind), kind)}", definition)


def _describe(error: ValidationError, schema: dict) -> tuple[str, str]:
    path = [str(p) for p in error.absolute_path]
    validator, value = error.validator, error.validator_value
    if validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else ""
        definition = _definition(schema, [*error.absolute_path, missing])
        title = definition.get("title") or missing
        return ".".join([*path, missing]), f"{'请选择' if _is_choice(definition) else '请填写'}{title}"
    if validator == "dependentRequired":
        quoted = error.message.split("'")
        missing, because = (quoted[1], quoted[3]) if len(quoted) > 3 else ("", "")
        definition = _definition(schema, [*error.absolute_path, missing])
        title = definition.get("title") or missing
        reason = _definition(schema, [*error.absolute_path, because]).get("title") or because
        return ".".join(
            [*path, missing]
        ), f"填写了{reason}时，{'请选择' if _is_choice(definition) else '请填写'}{title}"
    definition = _definition(schema, list(error.absolute_path))
    title = definition.get("title") or (path[-1] if path else "表单")
    field_name = ".".join(path) or "form"
    unit = _unit(definition)
    instance = error.instance
    if validator == "type":
        return field_name, type_message(definition, title)
    if validator == "enum":
        shown = instance if isinstance(instance, str) else _number(instance)
        return field_name, _with_example(f"{title}“{shown}”不在可选项中，请选择", definition)
    if validator == "format":
        return field_name, _format_message(title, str(value), error, definition)
    if validator == "pattern":
        return field_name, _with_example(f"{title}的格式不正确", definition)
    if validator in ("maxDaysAgo", "maxDaysAhead"):
        day = current_day()
        if validator == "maxDaysAgo":
            earliest = day - timedelta(days=value)
            text = f"{title}不能早于 {earliest.isoformat()}（{value} 天前）"
        elif value == 0:
            text = f"{title}不能晚于今天（{day.isoformat()}）"
        else:
            text = f"{title}不能晚于 {(day + timedelta(days=value)).isoformat()}（{value} 天后）"
        return field_name, _with_example(text, definition)
    messages = {
        "const": f"{title}的取值不正确",
        "multipleOf": _with_example(f"{title}应为 {_number(value)}{unit} 的倍数", definition),
        "uniqueItems": f"{title}不能有重复项",
        "minLength": _with_example(f"{title}至少 {value} 个字", definition),
        "maxLength": f"{title}最多 {value} 个字，现为 {len(instance) if isinstance(instance, str) else '?'} 个",
        "minimum": _with_example(f"{title}不能小于 {_number(value)}{unit}", definition),
        "maximum": _with_example(f"{title}不能大于 {_number(value)}{unit}", definition),
        "exclusiveMinimum": _with_example(f"{title}应大于 {_number(value)}{unit}", definition),
        "exclusiveMaximum": _with_example(f"{title}应小于 {_number(value)}{unit}", definition),
        "minItems": f"{title}至少选 {value} 项",
        "maxItems": f"{title}最多选 {value} 项",
        "additionalProperties": "含有表单未定义的字段：" + "、".join(_extra_fields(error)),
    }
    return field_name, messages.get(validator, f"{title}不符合要求")


def _format_message(title: str, fmt: str, error: ValidationError, definition: Mapping) -> str:
    if isinstance(error.cause, InvalidFormat):
        return _with_example(f"{title}{error.cause}", definition)
    return _with_example(f"{title}不是有效的{FORMAT_NAMES.get(fmt, fmt)}", definition)


def _extra_fields(error: ValidationError) -> list[str]:
    allowed = set((error.schema or {}).get("properties", {}))
    instance = error.instance if isinstance(error.instance, dict) else {}
    return sorted(str(key) for key in instance if key not in allowed)


_TYPE_NAMES = {
    "string": "文本",
    "integer": "整数",
    "number": "数字",
    "boolean": "是/否",
    "object": "对象",
    "array": "列表",
}
