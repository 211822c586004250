"""The composition a case runs on: one accessor for every case-time read, cached per process.

A case is pinned to a ``CompositionVersion`` when it opens (``Case.composition``). Everything a case needs of
its one-thing — the merged form (schema, provenance, materials), the items in order with their conditions and
snapshots, which review decides which item, the limits, the lead department — is read through
``composition_of(case)``, never from today's catalogue rows (``OneThing``, ``OneThingItem``, ``ServiceItem``).

Versions are immutable, so each is loaded once per process and kept (keyed by the database and the row id): a
pinned version costs no statement per step. The pure helpers here (the element → item mapping, the content
hash) are also what composing uses to build a version (``workflow/services/compositions.py``).
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from django.db import connections

import bpmn
import forms

from .models import CompositionVersion

# --------------------------------------------------------------------------- the view objects


@dataclass(frozen=True)
class ComposedItem:
    """One item of a composition, as it was when the version was published."""

    position: int
    code: str
    item_id: int
    condition: dict | str | None  # a condition object (forms.conditions), a legacy expression, or None: always
    review_key: str  # the key its review writes in the process data's ``reviews``
    element_id: str  # the BPMN user task that decides it ("" when the model has none for it)
    snapshot: Mapping  # every catalogue field of the item (services/catalogue.py ITEM_FIELDS)

    @property
    def name(self) -> str:
        return self.snapshot.get("name", self.code)

    @property
    def department(self) -> str:
        return self.snapshot.get("department", "")

    @property
    def promised_limit_days(self) -> int:
        return self.snapshot.get("promised_limit_days", 0)

    @property
    def statutory_limit_days(self) -> int:
        return self.snapshot.get("statutory_limit_days", 0)

    @property
    def auto_approval_dmn(self) -> str:
        return self.snapshot.get("auto_approval_dmn") or ""

    @property
    def licence_material(self) -> str:
        return self.snapshot.get("licence_material") or ""

    @property
    def handover(self) -> tuple[str, ...]:
        """一窗通取: what the window hands over for the item when approved (the catalogue's list when published)."""
        return tuple(self.snapshot.get("handover") or ())

    @property
    def is_immediate(self) -> bool:
        return bool(self.snapshot.get("is_immediate"))

    @property
    def window_decides(self) -> bool:
        """即办件 whose department delegated the decision to the window (当场办结)."""
        return bool(self.snapshot.get("is_immediate")) and bool(self.snapshot.get("window_decides"))

    @property
    def expression(self) -> str:
        """The condition as the engine evaluates it: a condition object rendered by forms (the same text the
        generated BPMN carries), a legacy restricted-Python string as stored; "" for always."""
        if isinstance(self.condition, dict):
            return forms.condition_expression(self.condition)
        return (self.condition or "").strip()

    @property
    def is_conditional(self) -> bool:
        return bool(self.expression)


@dataclass(frozen=True)
class Composition:
    id: int
    number: int
    one_thing_id: int
    name: str
    lead_department: str
    promised_limit_days: int
    merged_form: Mapping
    items: tuple[ComposedItem, ...]
    elements: Mapping[str, tuple[str, ...]]  # review element id → codes of the items it decides
    process_version_id: int
    content_hash: str
    _by_code: Mapping[str, ComposedItem] = field(default_factory=dict, repr=False, compare=False)

    @property
    def form_schema(self) -> dict:
        return self.merged_form.get("schema") or {"type": "object"}

    @property
    def provenance(self) -> Mapping:
        return self.merged_form.get("provenance") or {}

    @property
    def materials(self) -> list:
        return self.merged_form.get("materials") or []

    def item(self, code: str) -> ComposedItem | None:
        return self._by_code.get(code)

    def items_of_element(self, element_id: str, lane: str = "") -> list[ComposedItem]:
        """The items a review task decides: those mapped to its element, else (a task the mapping does not
        know, say of a hand-drawn model) its department's first item."""
        codes = self.elements.get(element_id)
        if codes is not None:
            return [self._by_code[code] for code in codes if code in self._by_code]
        first = next((item for item in self.items if item.department == lane), None)
        return [first] if first is not None else []

    def item_of_task(self, task) -> ComposedItem | None:
        """The item a review task stands for in the unified result (the first it decides)."""
        items = self.items_of_element(task.element_id, task.lane)
        return items[0] if items else None

    def review_key_of(self, element_id: str, lane: str) -> str:
        items = self.items_of_element(element_id, lane)
        return items[0].review_key if items else lane

    def review_keys(self) -> dict[str, list[ComposedItem]]:
        """Review key → the items its review decides, in item order."""
        keys: dict[str, list[ComposedItem]] = {}
        for item in self.items:
            keys.setdefault(item.review_key, []).append(item)
        return keys

    def applicable_review_keys(self, data: Mapping) -> set[str]:
        """The review keys with at least one item whose condition holds over the process ``data`` (``form``
        and the rest), evaluated as the engine evaluates it. A condition that cannot be evaluated counts as
        holding: the engine would then fail the step itself, and an item is never dropped on an error."""
        holding = set()
        for key, items in self.review_keys().items():
            for item in items:
                try:
                    applies = bpmn.evaluate_condition(item.expression, data)
                except bpmn.ProcessError:
                    applies = True
                if applies:
                    holding.add(key)
                    break
        return holding

    def fields_of_item(self, code: str) -> list[str]:
        """The form fields an item asks for (by the merged form's provenance), in form order."""
        return [name for name, uses in self.provenance.items() if any(u.get("item_code") == code for u in uses)]

    def field_title(self, name: str) -> str:
        spec = (self.form_schema.get("properties") or {}).get(name)
        return spec.get("title", name) if isinstance(spec, dict) else name

    def label_of(self, name: str) -> str:
        """A field's title, a material's name, or ``name`` itself: how papers and pages name what a correction
        asks for."""
        spec = (self.form_schema.get("properties") or {}).get(name)
        if isinstance(spec, dict):
            return spec.get("title", name)
        for material in self.materials:
            if material.get("code") == name:
                return material.get("name", name)
        return name


# --------------------------------------------------------------------------- the accessor and its cache

_CACHE: dict[tuple[str, int], Composition] = {}
_CACHE_LIMIT = 1024
_LOCK = threading.Lock()


def composition_of(case) -> Composition:
    """The composition version the case was opened with (or deliberately migrated to). No statement once
    the version is in this process's cache."""
    composition = composition_by_id(case.composition_id)
    if composition.one_thing_id != case.one_thing_id:  # a stale entry can only come from a reused id
        forget(case.composition_id)
        composition = composition_by_id(case.composition_id)
    return composition


def materials_checklist(case) -> list[dict]:
    """The materials this case's answers need (forms.materials_required over its own version's merged form):
    those of the items that apply, each recombined over them; never what one of them produces itself."""
    return forms.materials_required(composition_of(case).merged_form, case.form_data or {})


def composition_by_id(pk: int, *, using: str = "default") -> Composition:
    key = (str(connections[using].settings_dict.get("NAME")), pk)
    composition = _CACHE.get(key)
    if composition is None:
        row = CompositionVersion.objects.using(using).get(pk=pk)
        composition = view_of(row)
        with _LOCK:
            if len(_CACHE) >= _CACHE_LIMIT:
                _CACHE.clear()
            _CACHE[key] = composition
    return composition


def forget(pk: int) -> None:
    """Drop a version from this process's cache (a rolled-back id can come back with other content)."""
    with _LOCK:
        for key in [key for key in _CACHE if key[1] == pk]:
            del _CACHE[key]


def view_of(row: CompositionVersion) -> Composition:
    items = tuple(
        ComposedItem(
            position=entry.get("position", i),
            code=entry["code"],
            item_id=entry.get("item_id") or 0,
            condition=entry.get("condition") or "",
            review_key=entry.get("review_key") or entry.get("item", {}).get("department", ""),
            element_id=entry.get("element_id") or "",
            snapshot=MappingProxyType(dict(entry.get("item") or {})),
        )
        for i, entry in enumerate(row.items or [])
    )
    return Composition(
        id=row.pk,
        number=row.number,
        one_thing_id=row.one_thing_id,
        name=row.name,
        lead_department=row.lead_department,
        promised_limit_days=row.promised_limit_days,
        merged_form=row.merged_form or {},
        items=items,
        elements=MappingProxyType({k: tuple(v) for k, v in (row.elements or {}).items()}),
        process_version_id=row.process_version_id,
        content_hash=row.content_hash,
        _by_code=MappingProxyType({item.code: item for item in items}),
    )


# --------------------------------------------------------------------------- building a version (pure)


def element_mapping(items: list[dict], user_tasks: Iterable[Mapping]) -> dict[str, list[str]]:
    """Which review task decides which item: ``items`` in order ({code, name, department}), ``user_tasks`` the
    model's ({element_id, name, lane}). Per department lane, in this order of preference:

    1. the task named after the item (the generated models name a review "<item name>审查");
    2. the generated ids (the engine contract's pattern, ``bpmn/contract.py``): ``review_<department>_item<k>``
       the k-th item of the department, ``review_<department>`` the first when the department has per-item
       reviews;
    3. the rest in order; a department's last remaining task decides all its remaining items (a hand-drawn
       model with one review per department).

    Computed when a version is published, so reordering the catalogue's items later changes nothing for
    the cases already on it.
    """
    mapping: dict[str, list[str]] = {}
    lanes: dict[str, list[Mapping]] = {}
    for task in user_tasks:
        if task["lane"] not in bpmn.RESERVED_LANES:
            lanes.setdefault(task["lane"], []).append(task)
    for lane, tasks in lanes.items():
        own = [item for item in items if item["department"] == lane]
        claimed: dict[str, str] = {}  # item code → element id
        for task in tasks:
            named = [item for item in own if task["name"] in (item["name"], f"{item['name']}审查")]
            if len(named) == 1 and named[0]["code"] not in claimed:
                claimed[named[0]["code"]] = task["element_id"]
        per_item = bpmn.has_item_reviews([task["element_id"] for task in tasks], lane)
        for task in tasks:
            if task["element_id"] in claimed.values():
                continue
            k = bpmn.item_number(task["element_id"], lane)
            if k is None or (task["element_id"] == bpmn.review_element_id(lane) and not per_item):
                continue
            if 0 < k <= len(own) and own[k - 1]["code"] not in claimed:
                claimed[own[k - 1]["code"]] = task["element_id"]
        for code, element_id in claimed.items():
            mapping.setdefault(element_id, []).append(code)
        rest_tasks = [task for task in tasks if task["element_id"] not in mapping]
        rest_items = [item for item in own if item["code"] not in claimed]
        for i, task in enumerate(rest_tasks):
            last = i == len(rest_tasks) - 1
            chosen = rest_items[i:] if last else rest_items[i : i + 1]
            mapping[task["element_id"]] = [item["code"] for item in chosen]
    return mapping


def review_key_for(element_id: str, department: str, element_ids: Iterable[str] = ()) -> str:
    """The key a review's decision is kept under in the process data's ``reviews``: the department code (the
    lane: what the services write), unless the model moves it to its own key — a generated model follows a
    review ``review_<key>`` of a department with several reviews by a script task ``record_<key>``."""
    key = bpmn.review_key_of_element(element_id)
    if key is not None and key.startswith(f"{department}_") and f"record_{key}" in set(element_ids):
        return key
    return department


def content_hash(content: Mapping) -> str:
    """sha256 of the canonical JSON of a version's content (sorted keys, no whitespace)."""
    text = json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
