"""The one form (一表申请) as HTML inputs, and back.

The merged JSON Schema of a one-thing is rendered on the server: one input per property, grouped by the merge's
``ui_hints.sections`` (共同信息 first, then each item's own fields). What the browser sends comes back as typed
values (numbers, booleans, lists). Validation itself stays in the service (``forms.validate_form`` inside
``case_open`` / ``case_correction_submit``), so the Chinese messages shown next to the fields are the service's;
this module only reports what it cannot even convert (letters in a number field).

Input names carry a prefix (``f_enterprise_name``) so that form fields never clash with the page's own inputs.

Conditional questions (docs/forms.md). A field not asked for the current answers (a follow-up whose trigger
does not hold, a question of an item that does not apply) is rendered ``hidden``, and a section whose fields
are all hidden is hidden too — decided here with the forms package's own functions, so a page without JavaScript
shows exactly what applies to the answers last submitted. Each field carries its conditions as JSON
(``data-asked-when``, ``data-required-when``) and the page the merged logic (``form_logic``), so
``web/static/web/app.js`` shows, hides and marks required as the answers change, by the same rules.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import forms

PREFIX = "f_"
_INTEGER = re.compile(r"[+-]?[0-9]+")
_NUMBER = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)")
_TEXTAREA_FROM = 200  # a string that may be longer than this gets a textarea
_FORMAT_ATTRS = {
    "citizen-id": {"maxlength": 18, "autocomplete": "off", "placeholder": "18 位公民身份号码"},
    "uscc": {"maxlength": 18, "autocomplete": "off", "placeholder": "18 位统一社会信用代码"},
    "mobile-cn": {"maxlength": 11, "inputmode": "tel", "placeholder": "11 位手机号码"},
}


@dataclass
class FieldView:
    """One field as a template needs it (for input or for read-only display)."""

    name: str
    title: str
    widget: str  # text | textarea | select | date | integer | number | boolean | multi | json
    required: bool = False
    description: str = ""
    options: list[str] = field(default_factory=list)
    value: Any = ""  # what the input shows: a string, or a list of strings for ``multi``
    errors: list[str] = field(default_factory=list)
    attrs: dict[str, Any] = field(default_factory=dict)
    departments: list[str] = field(default_factory=list)  # names of the departments asking for it
    highlight: str = ""  # a short note when the field is singled out (需补正, 已补正)
    hidden: bool = False  # not asked for the current answers
    asked_when: str = ""  # JSON of the condition under which it is asked ("" = always)
    required_when: str = ""  # JSON of the condition under which it is required ("" = per ``required``)
    unit: str = ""  # x-unit, shown beside a number input

    @property
    def input_name(self) -> str:
        return PREFIX + self.name

    @property
    def input_id(self) -> str:
        return "id_" + PREFIX + self.name

    @property
    def display(self) -> str:
        """The stored value for reading: 是/否, lists joined with 、, a dash when empty."""
        value = self.value
        if self.widget == "boolean":
            return {"true": "是", "false": "否"}.get(value, "—")
        if isinstance(value, list):
            return "、".join(value) or "—"
        return value if value not in ("", None) else "—"


@dataclass
class SectionView:
    key: str
    title: str
    fields: list[FieldView]
    department: str = ""  # the department name of an item's own section
    note: str = ""
    hidden: bool = False  # every field hidden: the item does not apply to the current answers
    condition: str = ""  # when an item's section applies, in Chinese ("设置户外招牌为“是”时办理")


def properties(schema: Mapping) -> dict[str, dict]:
    return dict(schema.get("properties") or {})


def widget_of(definition: Mapping) -> str:
    kind = definition.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    items = definition.get("items") if isinstance(definition.get("items"), dict) else {}
    if "enum" in definition and kind != "array":
        return "select"
    if kind == "boolean":
        return "boolean"
    if kind in ("integer", "number"):
        return kind
    if kind == "array" and "enum" in items:
        return "multi"
    if kind in ("string", None):
        if definition.get("format") == "date":
            return "date"
        if definition.get("maxLength", 0) > _TEXTAREA_FROM:
            return "textarea"
        return "text"
    return "json"


def _attrs(definition: Mapping, widget: str) -> dict[str, Any]:
    attrs: dict[str, Any] = {}
    if widget in ("text", "textarea"):
        if "maxLength" in definition:
            attrs["maxlength"] = definition["maxLength"]
        attrs |= _FORMAT_ATTRS.get(definition.get("format", ""), {})
    elif widget in ("integer", "number"):
        attrs["inputmode"] = "numeric" if widget == "integer" else "decimal"
        for key, attr in (("minimum", "min"), ("maximum", "max")):
            if key in definition:
                attrs[attr] = definition[key]
    return attrs


def _options(definition: Mapping, widget: str) -> list[str]:
    if widget == "select":
        return [_text(v) for v in definition["enum"]]
    if widget == "multi":
        return [_text(v) for v in definition["items"]["enum"]]
    return []


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return "" if value is None else str(value)


# --------------------------------------------------------------------------- values in and out


def raw_from_data(schema: Mapping, data: Mapping) -> dict[str, Any]:
    """Stored form data → what the inputs show."""
    raw: dict[str, Any] = {}
    for name, definition in properties(schema).items():
        if name not in data:
            continue
        value = data[name]
        if widget_of(definition) == "multi" and isinstance(value, list):
            raw[name] = [_text(v) for v in value]
        else:
            raw[name] = _text(value)
    return raw


def raw_from_post(schema: Mapping, post, names: Iterable[str] | None = None) -> dict[str, Any]:
    """The submitted strings of the form's fields (``post`` is a QueryDict)."""
    props = properties(schema)
    raw: dict[str, Any] = {}
    for name in props if names is None else names:
        if name not in props:
            continue
        key = PREFIX + name
        if widget_of(props[name]) == "multi":
            raw[name] = [v for v in post.getlist(key) if v]
        elif key in post:
            raw[name] = post.get(key, "")
    return raw


def parse(schema: Mapping, raw: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """Submitted strings → typed form data. Empty inputs are left out, so the service says 请填写… for them."""
    props = properties(schema)
    data: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for name, value in raw.items():
        definition = props.get(name)
        if definition is None:
            continue
        widget = widget_of(definition)
        title = definition.get("title", name)
        if widget == "multi":
            chosen = _from_options(definition["items"]["enum"], value)
            if chosen:
                data[name] = chosen
            continue
        text = str(value).strip()
        if not text:
            continue
        if widget == "boolean":
            if text in ("true", "false"):
                data[name] = text == "true"
        elif widget == "integer":
            if _INTEGER.fullmatch(text):
                data[name] = int(text)
            else:
                errors[name] = [forms.type_message(definition, name)]
        elif widget == "number":
            if _NUMBER.fullmatch(text):
                number = float(text)
                data[name] = int(number) if number.is_integer() and "." not in text else number
            else:
                errors[name] = [forms.type_message(definition, name)]
        elif widget == "select":
            chosen = _from_options(definition["enum"], [text])
            data[name] = chosen[0] if chosen else text  # an unknown value: the service names it
        elif widget == "json":
            try:
                data[name] = json.loads(text)
            except ValueError:
                errors[name] = [f"{title}的格式不正确（应为 JSON）"]
        else:
            data[name] = text
    return data, errors


def _from_options(options: list[Any], chosen: Iterable[str]) -> list[Any]:
    by_text = {_text(option): option for option in options}
    return [by_text.get(text, text) for text in chosen]


def field_errors_of(service_errors: Mapping[str, list[str]]) -> tuple[dict[str, list[str]], list[str]]:
    """A ValidationFailed's ``form.<field>[.<index>]`` keys → per-field messages, plus the rest (whole form)."""
    by_field: dict[str, list[str]] = {}
    other: list[str] = []
    for key, messages in service_errors.items():
        if key.startswith("form."):
            name = key.split(".")[1]
            bucket = by_field.setdefault(name, [])
            bucket.extend(m for m in messages if m not in bucket)
        else:
            other.extend(messages)
    return by_field, other


# --------------------------------------------------------------------------- views for templates


def field_view(
    schema: Mapping,
    name: str,
    *,
    raw: Mapping[str, Any],
    errors: Mapping[str, list[str]] | None = None,
    departments: list[str] | None = None,
    highlight: str = "",
    logic: Mapping[str, Any] | None = None,
    answers: Mapping[str, Any] | None = None,
) -> FieldView:
    """One field; with the merged form's ``logic`` and the current ``answers`` it is hidden when not asked and
    required when its condition holds."""
    definition = properties(schema).get(name, {})
    widget = widget_of(definition)
    default = [] if widget == "multi" else ""
    logic = logic or {}
    asked_when = (logic.get("asked_when") or {}).get(name)
    required_when = (logic.get("required_when") or {}).get(name)
    required = name in (schema.get("required") or [])
    hidden = False
    if answers is not None:
        required = required or (required_when is not None and forms.condition_holds(required_when, answers))
        hidden = asked_when is not None and not forms.condition_holds(asked_when, answers)
    return FieldView(
        name=name,
        title=definition.get("title", name),
        widget=widget,
        required=required,
        description=definition.get("description", ""),
        options=_options(definition, widget),
        value=raw.get(name, default),
        errors=list((errors or {}).get(name, [])),
        attrs=_attrs(definition, widget),
        departments=departments or [],
        highlight=highlight,
        hidden=hidden,
        asked_when=_json(asked_when),
        required_when=_json(required_when),
        unit=definition.get("x-unit", "") if isinstance(definition.get("x-unit"), str) else "",
    )


def _json(condition: Any) -> str:
    return "" if condition is None else json.dumps(condition, ensure_ascii=False, separators=(",", ":"))


def answers_of(merged_form: Mapping, raw: Mapping[str, Any]) -> dict[str, Any]:
    """What the inputs hold, typed, without the answers to questions not asked: what conditions are read on."""
    data, _ = parse((merged_form.get("schema") or {}), raw)
    return forms.answers_that_apply(merged_form, data)


def sections(
    merged_form: Mapping,
    *,
    raw: Mapping[str, Any],
    errors: Mapping[str, list[str]] | None = None,
    department_names: Mapping[str, str] | None = None,
    only: Iterable[str] | None = None,
    highlight: Mapping[str, str] | None = None,
) -> list[SectionView]:
    """The form's fields grouped as the merge's ui_hints say; ``only`` restricts to some fields. Fields not asked
    for the answers ``raw`` holds are hidden, and sections left with no visible field."""
    schema = merged_form.get("schema") or {}
    hints = merged_form.get("ui_hints") or {}
    logic = merged_form.get("logic") or {}
    answers = answers_of(merged_form, raw)
    conditions = {item["item_code"]: item_condition_text(merged_form, item) for item in merged_form.get("items") or []}
    names = department_names or {}
    wanted = list(properties(schema)) if only is None else [n for n in only if n in properties(schema)]
    wanted_set = set(wanted)
    field_departments = hints.get("field_departments") or {}
    highlight = highlight or {}

    def view(name: str) -> FieldView:
        departments = [names.get(code, code) for code in field_departments.get(name, [])]
        return field_view(
            schema,
            name,
            raw=raw,
            errors=errors,
            departments=departments,
            highlight=highlight.get(name, ""),
            logic=logic,
            answers=answers,
        )

    out: list[SectionView] = []
    placed: set[str] = set()
    for section in hints.get("sections") or []:
        fields = [view(n) for n in section.get("fields", []) if n in wanted_set]
        placed.update(section.get("fields", []))
        if fields:
            out.append(
                SectionView(
                    key=section.get("key", ""),
                    title=section.get("title", ""),
                    department=names.get(section.get("department", ""), section.get("department", "")),
                    note=_SECTION_NOTES.get(section.get("key", ""), ""),
                    fields=fields,
                    hidden=all(f.hidden for f in fields),
                    condition=conditions.get(section.get("key", ""), ""),
                )
            )
    rest = [view(n) for n in wanted if n not in placed]
    if rest:
        out.append(SectionView(key="other", title="其他信息", fields=rest))
    return out


_SECTION_NOTES = {
    "shared": "多个部门共用，只填一次",
    "situation": "请先回答：这些情形决定需要办理哪些事项，下面只显示适用的内容",
}


def item_condition_text(merged_form: Mapping, item: Mapping) -> str:
    """When an item of the one-thing applies, in Chinese ("经营范围含“餐饮”时办理"); "" for always."""
    condition = item.get("condition")
    if not forms.is_declarative(condition):
        return ""
    titles = {name: d.get("title", name) for name, d in properties(merged_form.get("schema") or {}).items()}
    return f"{forms.describe_condition(condition, titles)}时办理"


def form_logic(merged_form: Mapping) -> dict[str, Any]:
    """What app.js needs to show and hide as the answers change: each field's and item's conditions, and which
    items need each material (the page embeds it with ``json_script``)."""
    logic = merged_form.get("logic") or {}
    return {
        "asked_when": logic.get("asked_when") or {},
        "required_when": logic.get("required_when") or {},
        "items": {
            item["item_code"]: item["condition"]
            for item in merged_form.get("items") or []
            if forms.is_declarative(item.get("condition"))
        },
    }


def flat(fields_in_order: Iterable[str], schema: Mapping, **kwargs) -> list[FieldView]:
    """Fields in a given order, ungrouped (a department's review screen)."""
    return [field_view(schema, name, **kwargs) for name in fields_in_order if name in properties(schema)]
