"""The one form's logic: which items apply, which questions are asked and required, which materials are due.

Two sources of conditions (both in the format of :mod:`forms.conditions`):

- an **item condition** — the one-thing says when one of its items applies (开办餐饮店: the food licence only
  when the business scope contains 餐饮);
- a **follow-up** — a fragment says when one of its questions is asked, with ``askWhen`` on the field's
  definition (招牌文字 only when 设置户外招牌 is 是).

The merge compiles them, per field, over every item asking for it:

- *asked when* = any item asking for it applies and (if that item made it a follow-up) its trigger holds;
  a **situation question** (办理情形) — a field some item condition reads — is asked whatever the items, since it
  decides them (its own follow-up trigger still counts);
- *required when* = the same, over the items that require it.

A field required always goes into the schema's ``required``; one required only sometimes gets an
``if``/``then`` in the schema's ``allOf`` (draft 2020-12), so any JSON Schema validator requires it exactly when
its condition holds. A conditional item's own cross-field rules (``dependentRequired``, ``allOf``, ``if``) are
wrapped in ``if <item applies> then <rule>``. What JSON Schema cannot say — that a question not asked should
not be answered — the service does: :func:`answers_that_apply` drops those answers before validating, so the
record holds only what applies.

The merged form keeps the compiled logic in ``MergedForm.logic``: ``asked_when`` and ``required_when`` (field →
condition, only the fields that are not always asked / always required), ``situation_fields``, and each item's
``condition`` in ``MergedForm.items``. A merged form stored before this existed has no ``logic``: everything
applies, as it did.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .conditions import (
    check_condition,
    condition_fields,
    condition_holds,
    condition_schema,
    is_declarative,
    simplify_all,
    simplify_any,
)
from .fragments import canonical
from .materials import recombine

__all__ = [
    "ASK_WHEN",
    "answers_that_apply",
    "build_logic",
    "fields_asked",
    "item_applies",
    "items_that_apply",
    "materials_required",
]

ASK_WHEN = "askWhen"
_NEVER = object()


def build_logic(
    items: list[dict],
    uses: Mapping[str, list],
    properties: Mapping[str, dict],
    conditions: Mapping[str, Any],
) -> tuple[dict[str, Any], list[str], list[dict[str, Any]], list[str]]:
    """Compile item conditions and follow-ups: (logic, always-required fields, ``allOf`` entries, problems).

    ``uses[field]``: the merge's uses (``item``, ``required``, ``ask_when``) in merge order; ``properties``: the
    merged field definitions; ``conditions``: item code → condition (declarative, legacy string or None).
    """
    problems: list[str] = []
    declarative = {code: condition for code, condition in conditions.items() if is_declarative(condition)}
    for item in items:
        condition = declarative.get(item["item_code"])
        if condition is not None:
            problems += check_condition(condition, properties, where=f"事项 {item['item_code']} 的参与条件")
    if problems:
        return {}, [], [], problems
    situation = list(dict.fromkeys(name for c in declarative.values() for name in condition_fields(c)))

    asked_when: dict[str, Any] = {}
    required_when: dict[str, Any] = {}
    always_required: list[str] = []
    for name, field_uses in uses.items():
        asked_terms, required_terms = [], []
        for use in field_uses:
            applies = None if name in situation else declarative.get(use.item["item_code"])
            term = simplify_all([applies, use.ask_when])
            asked_terms.append(term)
            if use.required:
                required_terms.append(term)
        asked = simplify_any(asked_terms)
        if asked is not None:
            asked_when[name] = asked
        required = simplify_any(required_terms) if required_terms else _NEVER
        if required is None:
            always_required.append(name)
        elif required is not _NEVER:
            required_when[name] = required

    entries: list[dict[str, Any]] = []
    grouped: dict[str, tuple[Any, list[str]]] = {}
    for name, condition in required_when.items():
        grouped.setdefault(canonical(condition), (condition, []))[1].append(name)
    for condition, names in grouped.values():
        entries.append({"if": condition_schema(condition, properties), "then": {"required": names}})
    logic = {"situation_fields": situation, "asked_when": asked_when, "required_when": required_when}
    return logic, always_required, entries, []


def wrap_item_rules(rules: dict[str, Any], condition: Any, properties: Mapping[str, dict]) -> dict[str, Any]:
    """A conditional item's cross-field rules, holding only while the item applies."""
    return {"if": condition_schema(condition, properties), "then": rules}


# --------------------------------------------------------------------------- at run time


def _merged(form: Any) -> Mapping[str, Any]:
    return form.to_dict() if hasattr(form, "to_dict") else (form or {})


def item_applies(merged_form: Any, item_code: str, answers: Mapping[str, Any]) -> bool:
    """Whether one item of the one-thing applies to these answers (a legacy string condition: always)."""
    merged = _merged(merged_form)
    item = next((item for item in merged.get("items") or [] if item["item_code"] == item_code), None)
    return item is not None and condition_holds(item.get("condition"), answers)


def items_that_apply(merged_form: Any, answers: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The items (as in ``MergedForm.items``, merge order) whose conditions hold over the answers.

    Evaluated on the answers that apply (:func:`answers_that_apply`): an answer to a question that is not asked
    does not decide anything — as in the process, which sees only the stored (pruned) answers."""
    merged = _merged(merged_form)
    kept = answers_that_apply(merged, answers)
    return [item for item in merged.get("items") or [] if condition_holds(item.get("condition"), kept)]


def fields_asked(merged_form: Any, answers: Mapping[str, Any]) -> list[str]:
    """The questions asked for these answers, in form order."""
    merged = _merged(merged_form)
    kept = answers_that_apply(merged, answers)
    return _asked(merged, kept)


def _asked(merged: Mapping[str, Any], answers: Mapping[str, Any]) -> list[str]:
    asked_when = (merged.get("logic") or {}).get("asked_when") or {}
    properties = (merged.get("schema") or {}).get("properties") or {}
    return [name for name in properties if condition_holds(asked_when.get(name), answers)]


def answers_that_apply(merged_form: Any, answers: Mapping[str, Any]) -> dict[str, Any]:
    """The answers without those to questions not asked (a dropped answer can un-ask its own follow-ups, so
    this repeats until nothing changes). Keys the form does not define are kept, for validation to name."""
    merged = _merged(merged_form)
    properties = (merged.get("schema") or {}).get("properties") or {}
    current = dict(answers)
    while True:
        asked = set(_asked(merged, current))
        kept = {name: value for name, value in current.items() if name in asked or name not in properties}
        if len(kept) == len(current):
            return kept
        current = kept


def materials_required(merged_form: Any, answers: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The merged checklist for these answers: only the materials of items that apply, each recombined over those
    items (``required``/``original``/``source``/``deferrable`` as :mod:`forms.materials` says, ``needed_by``
    narrowed); a material one of the applying items itself produces (``produced_by``) is not asked for."""
    merged = _merged(merged_form)
    applying = {item["item_code"] for item in items_that_apply(merged, answers)}
    out = []
    for material in merged.get("materials") or []:
        if applying & set(material.get("produced_by") or []):
            continue
        uses = [use for use in material.get("needed_by") or [] if use["item_code"] in applying]
        if not uses:
            continue
        out.append(recombine(material, uses))
    return out
