"""Prefill and the one pre-check (智能预审) of an applicant's draft, before the application exists.

- ``prefill``: the fields the applicant's valid e-licences already answer. A licence was issued on an earlier case;
  the fields its item asked for (the merged form's provenance of that case's composition) hold the licence's
  facts, and those the new one-thing also asks are offered, each marked with the licence it comes from.
- ``precheck``: ONE list (一次告知) of what is missing or will not pass — every department's validation of the
  merged form (the window's ``forms.check_answers``, messages named with the departments that need the field),
  every required material for these answers (uploaded, an e-licence held or fetched from the library), each
  秒批 decision table of the items that apply, evaluated on the draft as the engine would — and an estimated
  completion date: accepted on the next working day, then the one-thing's promised limit in working days, by
  the working-day calendar.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from django.utils import timezone

import bpmn
import forms

from .. import clock
from ..calendar import CalendarUnknown
from ..compositions import Composition, composition_by_id, composition_of
from ..results import held_licences
from .catalogue import department_names


@dataclass(frozen=True)
class Prefilled:
    field: str
    title: str
    value: object
    licence_no: str
    licence_name: str  # the licence's item name, e.g. 营业执照


def _held(id_number: str, credit_code: str, today: dt.date):
    licences = held_licences(id_number=id_number, credit_code=credit_code, today=today)
    return licences.select_related("case", "item").order_by("-issued_at")


def prefill(*, id_number: str, composition: Composition, credit_code: str = "") -> list[Prefilled]:
    """What the applicant's e-licences answer of this form, newest licence first, each field once."""
    properties = composition.form_schema.get("properties") or {}
    out: dict[str, Prefilled] = {}
    for licence in _held(id_number, credit_code, timezone.localdate())[:20]:
        issued_on = composition_of(licence.case)
        for name in issued_on.fields_of_item(licence.item.code):
            value = (licence.case.form_data or {}).get(name)
            if name in properties and name not in out and value not in (None, "", []):
                out[name] = Prefilled(name, composition.field_title(name), value, licence.number, licence.item_name)
    return list(out.values())


@dataclass(frozen=True)
class Problem:
    kind: str  # field / material / applicant / auto_approval / licence
    target: str  # field name, material code, item code
    label: str  # the field's title, the material's or the item's name
    message: str
    departments: list[str] = field(default_factory=list)  # codes of the departments concerned
    department_names: list[str] = field(default_factory=list)  # their names, in the same order
    blocking: bool = True  # False: it will not stop the application, but the applicant should know

    @property
    def kind_label(self) -> str:
        return PROBLEM_KINDS.get(self.kind, self.kind)


PROBLEM_KINDS = {
    "applicant": "申请人",
    "field": "申请表",
    "material": "材料",
    "licence": "电子证照",
    "auto_approval": "秒批规则",
}


@dataclass(frozen=True)
class ItemOutlook:
    code: str
    name: str
    department: str  # code
    department_name: str
    auto_approval: str  # "" (a person reviews), "approve" (秒批 will approve), "manual" (rules send it to a person)
    rule: str


@dataclass(frozen=True)
class Precheck:
    ok: bool  # nothing blocking: the window can accept it as it is
    problems: list[Problem]
    items: list[ItemOutlook]  # the items that apply to these answers
    reused: list[dict]  # [{material_code, material_name, licence_no}] 免提交: held e-licences that stand for them
    uploaded: list[str]  # material codes with a file
    promised_limit_days: int
    estimated_completion_date: dt.date | None  # None: the calendar does not know the year yet
    estimated_provisional: bool  # the date runs into a year whose holiday arrangement is not published yet


def _departments(codes: Iterable[str], names: Mapping[str, str]) -> dict[str, list[str]]:
    """``departments`` (codes) and ``department_names`` of a problem, each department once, in order."""
    codes = [code for code in dict.fromkeys(codes) if code]
    return {"departments": codes, "department_names": [names.get(code, code) for code in codes]}


def _field_departments(composition: Composition, name: str, names: Mapping[str, str]) -> dict[str, list[str]]:
    return _departments((u.get("department", "") for u in composition.provenance.get(name) or []), names)


def precheck(
    *,
    id_number: str,
    composition: Composition,
    form: dict,
    applicant_name: str,
    uploaded: Iterable[str],
    today: dt.date | None = None,
) -> Precheck:
    names = department_names()
    today = today or timezone.localdate()
    problems: list[Problem] = []
    if not (applicant_name or "").strip():
        problems.append(Problem("applicant", "name", "申请人姓名", "请填写申请人姓名"))

    merged = composition.merged_form
    checked = forms.check_answers(merged, form if isinstance(form, dict) else {})
    for name, messages in checked.errors.items():
        title = composition.field_title(name) if name != "form" else "申请表"
        for message in messages:
            problems.append(Problem("field", name, title, message, **_field_departments(composition, name, names)))
    answers = checked.answers

    # Materials for these answers: uploaded, an e-licence the applicant holds (免提交), or fetched by the system.
    uploaded = set(uploaded)
    required = forms.materials_required(merged, answers)
    wanted = {m["code"]: m for m in required}
    credit_code = str(answers.get("credit_code") or "")
    held = {}
    for licence in _held(id_number, credit_code, today):
        material = licence.item.licence_material
        if material in wanted and material not in held:
            held[material] = licence
    reused = [
        {"material_code": code, "material_name": wanted[code]["name"], "licence_no": licence.number}
        for code, licence in held.items()
    ]
    for material in required:
        code = material["code"]
        departments = _departments((u.get("department", "") for u in material.get("needed_by", [])), names)
        if code in uploaded or code in held:
            continue
        if material.get("source") == "e_licence":
            problems.append(
                Problem(
                    "licence",
                    code,
                    material["name"],
                    "将由窗口从电子证照库调取；如库中没有，受理时会请您补交",
                    **departments,
                    blocking=False,
                )
            )
        elif material.get("required"):
            message = "请上传" + ("（原件扫描件）" if material.get("original") else "")
            if material.get("deferrable"):
                message += "；可容缺：也可承诺日后补交，由窗口决定是否容缺受理"
            problems.append(Problem("material", code, material["name"], message, **departments))

    # The items that apply, and what their 秒批 decision tables say on this draft.
    applying = {item["item_code"] for item in forms.items_that_apply(merged, answers)}
    licences = sorted(
        {
            code
            for licence in _held(id_number, credit_code, today)
            for code in (licence.item.code, licence.item.licence_material)
            if code
        }
    )
    items = []
    for item in composition.items:
        if item.code not in applying:
            continue
        outlook, rule = "", ""
        if item.auto_approval_dmn.strip():
            try:
                outcome = bpmn.compile_decision(item.auto_approval_dmn, filename=item.code).evaluate(
                    {"form": dict(answers), "licences": licences}
                )
                outlook, rule = ("approve" if outcome.approve else "manual"), outcome.rule
                if not outcome.approve:
                    reason = outcome.outputs.get("reason") or outcome.rule or "无规则命中"
                    problems.append(
                        Problem(
                            "auto_approval",
                            item.code,
                            item.name,
                            f"不符合秒批（即时自动准予）条件：{reason}；将转人工审查",
                            **_departments([item.department], names),
                            blocking=False,
                        )
                    )
            except (bpmn.ModelInvalid, bpmn.DecisionFailed):
                outlook = "manual"
        department = names.get(item.department, item.department)
        items.append(ItemOutlook(item.code, item.name, item.department, department, outlook, rule))

    limits = clock.limits_of(composition)
    calendar = clock.working_calendar()
    try:
        accepted = calendar.add_working_days(today, 1)
        estimated = calendar.add_working_days(accepted, limits.promised)
        provisional = calendar.provisional_between(today, estimated)
    except CalendarUnknown:
        estimated, provisional = None, False
    return Precheck(
        ok=not any(problem.blocking for problem in problems),
        problems=problems,
        items=items,
        reused=reused,
        uploaded=sorted(uploaded),
        promised_limit_days=limits.promised,
        estimated_completion_date=estimated,
        estimated_provisional=provisional,
    )


def draft_composition(draft) -> Composition:
    return composition_by_id(draft.one_thing.current_composition_id)
