"""The catalogue as the window reads it: one-things to open cases for (with their one form and limits), halls,
and department names."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from .. import halls
from ..access import staff_of
from ..errors import NotFound, PermissionDenied
from ..models import Department, OneThing
from .materials import Material, checklist
from .statistics import one_thing_limits

RESERVED_LANE_NAMES = {"window": "综合窗口", "applicant": "申请人"}


def department_names() -> dict[str, str]:
    """Code → name of every department, and of the reserved lanes."""
    return {**RESERVED_LANE_NAMES, **dict(Department.objects.values_list("code", "name"))}


def one_thing_list() -> QuerySet[OneThing]:
    """The one-things a case can be opened for: active, with a published composition (on a BPMN version)."""
    return (
        OneThing.objects.filter(is_active=True, current_composition__isnull=False)
        .select_related("lead_department", "current_version")
        .defer("current_version__compiled", "current_version__bpmn_xml")
    )


@dataclass(frozen=True)
class OneThingBrief:
    """A one-thing the window can open cases for."""

    key: str
    name: str
    lead_department: str | None  # code
    lead_department_name: str | None
    promised_limit_days: int
    version: int
    departments: list[str]


def _brief(one_thing: OneThing) -> dict:
    return {
        "key": one_thing.key,
        "name": one_thing.name,
        "lead_department": one_thing.lead_department_id or None,
        "lead_department_name": one_thing.lead_department.name if one_thing.lead_department_id else None,
        "promised_limit_days": one_thing.promised_limit_days,
        "version": one_thing.current_version.number,
        "departments": list(one_thing.current_version.departments),
    }


def one_things() -> list[OneThingBrief]:
    # A brief reads no merged form (tens of kilobytes of JSON each, decoded on every window screen otherwise).
    one_things = one_thing_list().defer("merged_form", "current_version__user_tasks").order_by("key")
    return [OneThingBrief(**_brief(one_thing)) for one_thing in one_things]


@dataclass(frozen=True)
class OneThingView(OneThingBrief):
    """With its one form (``form_schema``), its merged materials and its limits (``statistics.one_thing_limits``),
    as new cases get them."""

    form_schema: dict
    ui_hints: dict
    provenance: dict
    items: list[dict]
    logic: dict  # situation_fields, asked_when, required_when (docs/forms.md)
    materials: list[Material]
    report: dict
    limits: dict
    merged_form: dict  # the whole merged form, for rendering the one form (not in the API's answer)


def one_thing_get(*, key: str) -> OneThingView:
    one_thing = one_thing_list().filter(key=key).first()
    if one_thing is None:
        raise NotFound("未找到该一件事")
    merged = one_thing.merged_form or {}
    names = department_names()
    return OneThingView(
        **_brief(one_thing),
        form_schema=one_thing.form_schema,
        ui_hints=merged.get("ui_hints") or {},
        provenance=merged.get("provenance") or {},
        items=[{**item, "department_name": names.get(item["department"], "")} for item in merged.get("items") or []],
        logic=merged.get("logic") or {},
        materials=checklist(merged.get("materials"), names),
        report=merged.get("report") or {},
        limits=one_thing_limits(one_thing),
        merged_form=merged,
    )


def hall_list(*, user) -> list[dict]:
    """The active halls (收受分离: where a case may be decided), the clerk's own hall marked ``is_mine``."""
    staff = staff_of(user)
    if staff is None:
        raise PermissionDenied()
    mine = halls.hall_of(staff)
    rows = [{**halls.hall_row(hall), "is_mine": hall.pk == mine.pk} for hall in halls.active_halls()]
    return sorted(rows, key=lambda row: (not row["is_mine"], row["code"]))
