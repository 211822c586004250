"""The hall's catalogue: importing and exporting it as a file, and composing one-things from its items."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from django.db import transaction

import bpmn
import forms

from ..calendar import JOINT_LIMIT_DAYS
from ..errors import DeploymentRefused, ValidationFailed
from ..models import Department, HandlingLevel, ItemType, OneThing, OneThingItem, ServiceItem
from .deployment import process_versions_deploy

CATALOGUE_FORMAT = 1
_ITEM_FIELDS = (
    "name",
    "item_type",
    "legal_basis",
    "department",
    "handling_level",
    "statutory_limit_days",
    "promised_limit_days",
    "is_immediate",
    "onsite_trips",
    "materials",
    "form_fragment",
    "licence_material",
    "auto_approval_dmn",
)


@dataclass(frozen=True)
class ItemLink:
    """An item in a composition: when it applies (a condition of forms.conditions, or a legacy restricted-Python
    string; None = always) and the items of the same one-thing whose results its review needs first."""

    code: str
    condition: dict | str | None = None
    depends_on: tuple[str, ...] = ()


def one_thing_compose(
    *,
    key: str,
    name: str,
    lead_department: str,
    items: list[ItemLink],
    promised_limit_days: int,
    generate_process: bool = False,
    deployed_by: str = "",
) -> OneThing:
    """Compose a one-thing: merge its items' form fragments and materials into one form, check its promised
    limit against the joint-handling limit, and optionally generate and deploy its standard BPMN process.

    Raises ValidationFailed naming every problem (both items for each conflicting field).
    """
    with transaction.atomic():
        errors: dict[str, list[str]] = {}
        if not 0 <= promised_limit_days <= JOINT_LIMIT_DAYS:
            errors["promised_limit_days"] = [
                f"一件事承诺时限须在 0–{JOINT_LIMIT_DAYS} 个工作日之间（联合办理法定时限）"
            ]
        if not Department.objects.filter(code=lead_department).exists():
            errors["lead_department"] = [f"牵头部门“{lead_department}”未登记"]
        codes = [link.code for link in items]
        found = ServiceItem.objects.in_bulk(codes, field_name="code")
        missing = [code for code in codes if code not in found]
        if missing:
            errors["items"] = [f"事项“{code}”不在事项目录中" for code in missing]
        elif not codes:
            errors["items"] = ["一件事至少包含一个事项"]
        elif len(set(codes)) != len(codes):
            errors["items"] = ["同一事项不能重复加入"]
        else:
            problems = _link_problems(items)
            if problems:
                errors["items"] = problems
        if errors:
            raise ValidationFailed(field_errors=errors)
        conditions = {link.code: _condition(link.condition) for link in items}
        merged = _merge(name, lead_department, [found[code] for code in codes], conditions)

        one_thing, _ = OneThing.objects.select_for_update().get_or_create(key=key, defaults={"name": name})
        one_thing.name = name
        one_thing.lead_department_id = lead_department
        one_thing.promised_limit_days = promised_limit_days
        one_thing.merged_form = merged.to_dict()
        one_thing.save()
        OneThingItem.objects.filter(one_thing=one_thing).delete()
        OneThingItem.objects.bulk_create(
            OneThingItem(
                one_thing=one_thing,
                item=found[link.code],
                position=i,
                condition=conditions[link.code],
                depends_on=list(link.depends_on),
            )
            for i, link in enumerate(items)
        )
        if generate_process:
            xml = process_xml(one_thing)
            process_versions_deploy(files=[(f"{key}.bpmn", xml.encode("utf-8"))], deployed_by=deployed_by)
            one_thing.refresh_from_db()
        return one_thing


def _condition(condition) -> dict | str | None:
    """None for "always"; a legacy expression string is kept (stripped), a condition object as it is."""
    if isinstance(condition, str):
        return condition.strip() or None
    return condition or None


def _link_problems(items: list[ItemLink]) -> list[str]:
    """``depends_on``: item codes of the same one-thing, not itself, without cycles."""
    problems = []
    codes = {link.code for link in items}
    needs = {}
    for link in items:
        if not isinstance(link.condition, dict | str | type(None)):
            problems.append(f"事项“{link.code}”的参与条件应为条件对象（见 docs/forms.md）")
        depends = list(link.depends_on)
        if not all(isinstance(code, str) for code in depends):
            problems.append(f"事项“{link.code}”的 depends_on 应为事项编码列表")
            continue
        unknown = [code for code in depends if code not in codes]
        if unknown:
            problems.append(f"事项“{link.code}”依赖的事项不在本一件事中：{'、'.join(unknown)}")
        if link.code in depends:
            problems.append(f"事项“{link.code}”不能依赖它自己")
        needs[link.code] = [code for code in depends if code in codes and code != link.code]
    for code in needs:
        seen, stack = set(), list(needs[code])
        while stack:
            current = stack.pop()
            if current == code:
                problems.append(f"事项“{code}”的前置事项循环依赖")
                break
            if current not in seen:
                seen.add(current)
                stack.extend(needs.get(current, []))
    return problems


def _merge(name: str, lead_department: str, items: list[ServiceItem], conditions: dict) -> forms.MergedForm:
    try:
        return forms.merge_fragments(
            [item.as_fragment() for item in items],
            title=f"{name}申请表",
            lead_department=lead_department,
            conditions=conditions,
        )
    except forms.FragmentConflict as exc:
        raise ValidationFailed(
            "事项表单存在冲突，不能组成一件事", field_errors={"items": [c.message for c in exc.conflicts]}
        ) from None
    except forms.FragmentError as exc:
        raise ValidationFailed("事项表单片段有误", field_errors={"items": list(exc.problems)}) from None


def process_xml(one_thing: OneThing) -> str:
    """The standard parallel-review BPMN for a composition, to deploy or to edit in a modeler."""
    links = list(one_thing.item_links.select_related("item").order_by("position", "id"))
    per_department = Counter(link.item.department_id for link in links)
    seen: Counter = Counter()
    keys = {}
    for link in links:
        department = link.item.department_id
        seen[department] += 1
        suffix = f"item{seen[department]}" if per_department[department] > 1 and seen[department] > 1 else None
        keys[link.item.code] = (department, suffix)
    reviews = []
    for link in links:
        department, suffix = keys[link.item.code]
        reviews.append(
            bpmn.ReviewSpec(
                department=department,
                task_name=f"{link.item.name}审查",
                # One source: the form's condition, rendered as the process's expression.
                condition=forms.condition_expression(link.condition) if link.condition else None,
                element_suffix=suffix,
                after=tuple(
                    f"{keys[code][0]}_{keys[code][1]}" if keys[code][1] else keys[code][0]
                    for code in link.depends_on or []
                    if code in keys
                ),
            )
        )
    try:
        return bpmn.generate_process(process_id=one_thing.key, name=one_thing.name, reviews=reviews)
    except ValueError as exc:
        raise ValidationFailed(str(exc), field_errors={"items": [str(exc)]}) from None


@transaction.atomic
def catalogue_import(*, data: dict, deployed_by: str = "") -> dict[str, int]:
    """Load a catalogue file: departments, items and one-things, all or nothing. Returns counts."""
    if not isinstance(data, dict) or data.get("format", CATALOGUE_FORMAT) != CATALOGUE_FORMAT:
        raise ValidationFailed(field_errors={"format": [f"不支持的目录文件格式（应为 format: {CATALOGUE_FORMAT}）"]})
    errors: dict[str, list[str]] = {}
    for i, record in enumerate(data.get("departments", [])):
        if not isinstance(record, dict) or not record.get("code") or not record.get("name"):
            errors.setdefault(f"departments.{i}", []).append("部门须有 code 和 name")
            continue
        Department.objects.update_or_create(code=record["code"], defaults={"name": record["name"]})
    for i, record in enumerate(data.get("items", [])):
        problems = _item_problems(record)
        if problems:
            errors[f"items.{i}"] = problems
            continue
        values = {field: record[field] for field in _ITEM_FIELDS if field in record}
        values["department_id"] = values.pop("department")
        ServiceItem.objects.update_or_create(code=record["code"], defaults=values)
    if errors:
        raise ValidationFailed("目录文件有误，未导入任何内容", field_errors=errors)
    one_things = 0
    for i, record in enumerate(data.get("one_things", [])):
        try:
            one_thing_compose(
                key=record["key"],
                name=record["name"],
                lead_department=record["lead_department"],
                items=[_item_link(link) for link in record["items"]],
                promised_limit_days=record.get("promised_limit_days", 5),
                generate_process=record.get("process") == "generate",
                deployed_by=deployed_by,
            )
        except (KeyError, TypeError) as exc:
            errors[f"one_things.{i}"] = [f"一件事记录缺少字段：{exc}"]
        except ValidationFailed as exc:
            errors.update({f"one_things.{i}.{k}": v for k, v in exc.field_errors.items()})
        except DeploymentRefused as exc:
            errors[f"one_things.{i}.process"] = [str(p) for p in exc.extra.get("problems", [])] or [exc.message]
        one_things += 1
    if errors:
        raise ValidationFailed("目录文件有误，未导入任何内容", field_errors=errors)
    return {
        "departments": len(data.get("departments", [])),
        "items": len(data.get("items", [])),
        "one_things": one_things,
    }


def _item_link(link: dict) -> ItemLink:
    depends = link.get("depends_on") or []
    if not isinstance(depends, list):
        raise ValidationFailed(field_errors={"items": [f"事项“{link['code']}”的 depends_on 应为事项编码列表"]})
    return ItemLink(link["code"], link.get("condition"), tuple(depends))


def _item_problems(record) -> list[str]:
    if not isinstance(record, dict):
        return ["事项须为对象"]
    problems = [f"缺少字段 {field}" for field in ("code", "name", "department") if not record.get(field)]
    if problems:
        return problems
    if not Department.objects.filter(code=record["department"]).exists():
        problems.append(f"实施部门“{record['department']}”未登记")
    if record.get("item_type", ItemType.LICENSING) not in ItemType.values:
        problems.append(f"事项类型“{record.get('item_type')}”不在 {'、'.join(ItemType.labels)} 之内")
    if record.get("handling_level", HandlingLevel.COUNTY) not in HandlingLevel.values:
        problems.append(f"行使层级“{record.get('handling_level')}”不正确")
    statutory, promised = record.get("statutory_limit_days", 20), record.get("promised_limit_days", 5)
    if not (isinstance(statutory, int) and isinstance(promised, int) and 0 <= promised <= statutory):
        problems.append("时限须为整数，且承诺时限不超过法定时限")
    fragment = {
        "item_code": record["code"],
        "item_name": record["name"],
        "department": record["department"],
        "schema": record.get("form_fragment") or {"type": "object", "properties": {}},
        "materials": record.get("materials", []),
    }
    problems.extend(forms.check_fragment(fragment))
    dmn = record.get("auto_approval_dmn", "")
    if not isinstance(dmn, str):
        problems.append("秒批规则（auto_approval_dmn）须为 DMN XML 文本")
    else:
        problems.extend(auto_approval_problems(dmn))
    return problems


def auto_approval_problems(text: str) -> list[str]:
    """A 秒批 decision table's problems in Chinese, each with its element id; empty for a blank or good one.
    Checked wherever an item is saved (catalogue import, the admin) so no case meets a broken table."""
    if not text.strip():
        return []
    return [f"秒批规则{f'（{p.element_id}）' if p.element_id else ''}：{p.message}" for p in bpmn.check_decision(text)]


def catalogue_export() -> dict:
    """The whole catalogue in the import format."""
    return {
        "format": CATALOGUE_FORMAT,
        "departments": [{"code": d.code, "name": d.name} for d in Department.objects.order_by("code")],
        "items": [
            {"code": item.code, **{f: getattr(item, f if f != "department" else "department_id") for f in _ITEM_FIELDS}}
            for item in ServiceItem.objects.order_by("code")
        ],
        "one_things": [
            {
                "key": one_thing.key,
                "name": one_thing.name,
                "lead_department": one_thing.lead_department_id,
                "promised_limit_days": one_thing.promised_limit_days,
                "items": [
                    {
                        "code": link.item.code,
                        **({"condition": link.condition} if link.condition else {}),
                        **({"depends_on": list(link.depends_on)} if link.depends_on else {}),
                    }
                    for link in one_thing.item_links.select_related("item").order_by("position", "id")
                ],
            }
            for one_thing in OneThing.objects.order_by("key")
        ],
    }
