"""The hall's catalogue: importing and exporting it as a file, and composing one-things from its items."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from django.db import transaction

import bpmn
import forms

from .. import licence_kinds
from ..calendar import JOINT_LIMIT_DAYS
from ..errors import DeploymentRefused, NotFound, ValidationFailed
from ..lifecycle import TERMINAL_STATES
from ..models import (
    Case,
    CatalogueChange,
    CatalogueChangeKind,
    Department,
    HandlingLevel,
    ItemType,
    OneThing,
    OneThingItem,
    ServiceItem,
)
from .catalogue_history import composition_diff, record_change, record_item_change
from .compositions import composition_publish, current_content, published_content
from .deployment import process_versions_deploy

CATALOGUE_FORMAT = 1
# Every catalogue field of an item: declared with the model, so the export, the import, the composition
# snapshots and the change history all follow the one list.
_ITEM_FIELDS = ServiceItem.CATALOGUE_FIELDS


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
    actor=None,
    source: str = "compose",
) -> OneThing:
    """Compose a one-thing: merge its items' form fragments and materials into one form, check its promised
    limit against the joint-handling limit, optionally generate and deploy its standard BPMN process, and
    publish the result as the composition version new cases are pinned to (running cases keep theirs).
    The change is recorded in the catalogue's history (who: ``actor`` or ``deployed_by``; ``source``).

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

        one_thing, created = OneThing.objects.select_for_update().get_or_create(key=key, defaults={"name": name})
        before = None if created else published_content(one_thing)
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
            process_versions_deploy(
                files=[(f"{key}.bpmn", xml.encode("utf-8"))], deployed_by=deployed_by, actor=actor, source=source
            )
            one_thing.refresh_from_db()
        version, published = composition_publish(one_thing=one_thing, published_by=_who(actor, deployed_by))
        lines = composition_diff(before, current_content(one_thing))
        if lines or published:
            record_change(
                kind=CatalogueChangeKind.ONE_THING,
                key=key,
                name=name,
                action="composed",
                summary=("新建一件事" if before is None else "重新组合")
                + (f"，发布组合第 {version.number} 版" if published else "")
                + ("" if version is not None else "（尚未部署流程，发布待部署后进行）"),
                diff=lines,
                source=source,
                actor=actor,
                actor_label=deployed_by,
                composition=version if published else None,
            )
        return one_thing


def one_thing_recompose(*, key: str, actor=None, deployed_by: str = "", source: str = "compose") -> OneThing:
    """Compose the one-thing again from its current items and settings: picks up the items' catalogue changes
    (form fragments, limits, materials, decision tables …) and publishes them for new cases."""
    return one_thing_compose(actor=actor, deployed_by=deployed_by, source=source, **_composition_args(key))


def one_thing_recompose_preview(*, key: str) -> CompositionImpact:
    """The impact of ``one_thing_recompose`` without publishing anything."""
    return one_thing_compose_preview(**_composition_args(key))


def _composition_args(key: str) -> dict:
    one_thing = OneThing.objects.filter(key=key).first()
    if one_thing is None:
        raise NotFound(f"未找到一件事“{key}”")
    links = one_thing.item_links.select_related("item").order_by("position", "id")
    return {
        "key": key,
        "name": one_thing.name,
        "lead_department": one_thing.lead_department_id or "",
        "items": [ItemLink(link.item.code, link.condition, tuple(link.depends_on or ())) for link in links],
        "promised_limit_days": one_thing.promised_limit_days,
    }


def _who(actor, label: str) -> str:
    if actor is not None and getattr(actor, "pk", None) is not None:
        return actor.get_username()
    return label


@dataclass(frozen=True)
class CompositionImpact:
    """What publishing a composition would do, shown before publishing it."""

    key: str
    name: str
    diff: list[str]  # readable lines, current composition → proposed
    creates_version: bool  # False: identical to a published version (nothing new for new cases)
    version_number: int | None  # the version new cases would use; None while no BPMN is deployed
    running_cases: int  # cases of the one-thing not yet ended: they stay on their own versions
    running_by_version: dict[int, int]  # version number → running cases on it


class _Preview(Exception):
    """Rolls back a composition tried out for its impact."""


def one_thing_compose_preview(
    *, key: str, name: str, lead_department: str, items: list[ItemLink], promised_limit_days: int
) -> CompositionImpact:
    """The impact of composing (see one_thing_compose) without publishing anything: the composition is made
    inside a savepoint and rolled back, so the preview is exactly what publishing would do. Raises
    ValidationFailed as composing would."""
    impact: CompositionImpact | None = None
    try:
        with transaction.atomic():
            existing = OneThing.objects.filter(key=key).first()
            before = published_content(existing) if existing is not None else None
            known = set(existing.compositions.values_list("pk", flat=True)) if existing is not None else set()
            one_thing = one_thing_compose(
                key=key,
                name=name,
                lead_department=lead_department,
                items=items,
                promised_limit_days=promised_limit_days,
                source="preview",
            )
            version = one_thing.current_composition
            impact = CompositionImpact(
                key=key,
                name=name,
                diff=composition_diff(before, current_content(one_thing)),
                creates_version=version is not None and version.pk not in known,
                version_number=version.number if version is not None else None,
                **_running(one_thing),
            )
            raise _Preview()
    except _Preview:
        pass
    assert impact is not None
    return impact


@dataclass(frozen=True)
class CatalogueImportPreview:
    """What importing a catalogue file would change, shown before anything is imported."""

    items: list[dict]  # {"code", "name", "summary", "diff"} per item the file creates or changes
    one_things: list[CompositionImpact]


def catalogue_import_preview(*, data: dict) -> CatalogueImportPreview:
    """Import the file inside a savepoint, read what it would change — the items' diffs and, for each
    one-thing, the impact of publishing it — and roll everything back. Raises ValidationFailed as the import
    would."""
    preview: CatalogueImportPreview | None = None
    try:
        with transaction.atomic():
            records = data.get("one_things", []) if isinstance(data, dict) else []
            keys = [r["key"] for r in records if isinstance(r, dict) and isinstance(r.get("key"), str)]
            before = {
                one_thing.key: (published_content(one_thing), set(one_thing.compositions.values_list("pk", flat=True)))
                for one_thing in OneThing.objects.filter(key__in=keys)
            }
            mark = CatalogueChange.objects.order_by("-id").values_list("id", flat=True).first() or 0
            catalogue_import(data=data, source="preview")
            items = [
                {"code": c.key, "name": c.name, "summary": c.summary, "diff": c.diff}
                for c in CatalogueChange.objects.filter(id__gt=mark, kind=CatalogueChangeKind.ITEM).order_by("id")
            ]
            impacts = []
            for key in keys:
                one_thing = OneThing.objects.get(key=key)
                old, known = before.get(key, (None, set()))
                version = one_thing.current_composition
                impacts.append(
                    CompositionImpact(
                        key=key,
                        name=one_thing.name,
                        diff=composition_diff(old, current_content(one_thing)),
                        creates_version=version is not None and version.pk not in known,
                        version_number=version.number if version is not None else None,
                        **_running(one_thing),
                    )
                )
            preview = CatalogueImportPreview(items=items, one_things=impacts)
            raise _Preview()
    except _Preview:
        pass
    assert preview is not None
    return preview


def _running(one_thing: OneThing) -> dict:
    rows = (
        Case.objects.filter(one_thing=one_thing)
        .exclude(status__in=TERMINAL_STATES)
        .values_list("composition__number")
        .order_by()
    )
    by_version: dict[int, int] = {}
    for (number,) in rows:
        by_version[number] = by_version.get(number, 0) + 1
    return {"running_cases": sum(by_version.values()), "running_by_version": dict(sorted(by_version.items()))}


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
        suffix = bpmn.item_review_suffix(seen[department]) if per_department[department] > 1 else None
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
def catalogue_import(*, data: dict, deployed_by: str = "", source: str = "import_catalogue") -> dict[str, int]:
    """Load a catalogue file: departments, items and one-things, all or nothing. Returns counts.

    Each item or one-thing the file changes is recorded in the catalogue's history (``deployed_by`` as who);
    each one-thing is recomposed and, if its content changed, published as a new composition version."""
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
        existing = ServiceItem.objects.filter(code=record["code"]).first()
        before = existing.catalogue_values() if existing is not None else None
        item, _ = ServiceItem.objects.update_or_create(code=record["code"], defaults=values)
        record_item_change(before=before, item=item, source=source, actor_label=deployed_by)
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
                source=source,
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


@transaction.atomic
def service_item_save(*, item: ServiceItem, actor=None, source: str = "admin") -> ServiceItem:
    """Save an item edited by hand (the admin), recording what changed in the catalogue's history. Running
    cases are untouched (they read their composition's snapshot); one-things containing the item use the
    change once recomposed and published (``one_thing_compose``; the admin previews the impact first)."""
    before = None
    if item.pk is not None:
        stored = ServiceItem.objects.select_for_update().filter(pk=item.pk).first()
        before = stored.catalogue_values() if stored is not None else None
    problems = auto_approval_problems(item.auto_approval_dmn or "")
    if problems:
        raise ValidationFailed(field_errors={"auto_approval_dmn": problems})
    item.save()
    record_item_change(before=before, item=item, source=source, actor=actor)
    return item


def one_things_with_item(code: str) -> list[OneThing]:
    """The one-things whose current composition includes the item (what an item change would reach)."""
    return list(OneThing.objects.filter(item_links__item__code=code).distinct().order_by("key"))


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
    handover = record.get("handover", [])
    if not isinstance(handover, list) or not all(isinstance(h, str) and h.strip() for h in handover):
        problems.append("领取清单（handover）须为物品名称（文本）的列表")
    if not isinstance(record.get("window_decides", False), bool):
        problems.append("窗口当场决定（window_decides）须为 true 或 false")
    elif record.get("window_decides") and not record.get("is_immediate"):
        problems.append("只有即办件（is_immediate）可以授权窗口当场决定（window_decides）")
    result = record.get("result") or {}
    problems.extend(
        f"办理结果类型（result）：{p}"
        for p in licence_kinds.problems(
            result, set(Department.objects.values_list("code", flat=True)) if result else None
        )
    )
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
        "items": [{"code": item.code, **item.catalogue_values()} for item in ServiceItem.objects.order_by("code")],
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
