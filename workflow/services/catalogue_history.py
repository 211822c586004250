"""The catalogue's change history: who changed which item or one-thing, when, as a readable Chinese diff.

Every service that changes the catalogue (the import, the admin's item form, composing, deploying a BPMN
version) records one ``CatalogueChange`` per changed item or one-thing in its own transaction. The diff lines
name fields by their Chinese labels and summarise structured values (form fragments, materials, merged forms)
by what a reader cares about: questions added or removed, answers made required, materials added or removed.
"""

from __future__ import annotations

import json

from ..models import CatalogueChange, CatalogueChangeKind, CompositionVersion, ServiceItem

_LONG = 60


def record_change(
    *,
    kind: str,
    key: str,
    name: str,
    action: str,
    summary: str,
    diff: list[str],
    source: str,
    actor=None,
    actor_label: str = "",
    composition: CompositionVersion | None = None,
) -> CatalogueChange:
    if actor is not None and getattr(actor, "pk", None) is None:
        actor = None
    label = actor_label or (actor.get_full_name() or actor.get_username() if actor is not None else "") or source
    return CatalogueChange.objects.create(
        kind=kind,
        key=key,
        name=name[:200],
        action=action,
        summary=summary[:300],
        diff=diff,
        source=source,
        actor=actor,
        actor_label=label[:150],
        composition=composition,
    )


def record_item_change(*, before: dict | None, item: ServiceItem, source: str, actor=None, actor_label="") -> None:
    """An item was created or changed (``before``: its catalogue values before, None when new); nothing is
    recorded when no catalogue field changed."""
    after = item.catalogue_values()
    lines = item_diff(before, after)
    if before is not None and not lines:
        return
    record_change(
        kind=CatalogueChangeKind.ITEM,
        key=item.code,
        name=item.name,
        action="created" if before is None else "changed",
        summary="新增事项" if before is None else f"修改了 {len(lines)} 项：" + "、".join(_heads(lines)),
        diff=lines,
        source=source,
        actor=actor,
        actor_label=actor_label,
    )


# --------------------------------------------------------------------------- diffs


def _label(name: str) -> str:
    try:
        return str(ServiceItem._meta.get_field(name).verbose_name)
    except Exception:  # a field of the file format that is not a model field
        return name


def _heads(lines: list[str]) -> list[str]:
    heads = []
    for line in lines:
        head = line.split("：", 1)[0]
        if head not in heads:
            heads.append(head)
    return heads[:6]


def _short(value) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    text = " ".join(text.split()) or "（空）"
    return text if len(text) <= _LONG else text[: _LONG - 1] + "…"


def item_diff(before: dict | None, after: dict) -> list[str]:
    """Readable lines for an item's catalogue fields, before → after."""
    if before is None:
        return [f"{_label(name)}：{_short(value)}" for name, value in after.items() if value not in ("", [], {}, None)]
    lines = []
    for name in ServiceItem.CATALOGUE_FIELDS:
        old, new = before.get(name), after.get(name)
        if old == new:
            continue
        if name == "form_fragment":
            lines += [f"{_label(name)}：{line}" for line in schema_diff(old or {}, new or {})] or [
                f"{_label(name)}：已修改"
            ]
        elif name == "materials":
            lines += [f"{_label(name)}：{line}" for line in materials_diff(old or [], new or [])] or [
                f"{_label(name)}：已修改"
            ]
        elif name == "auto_approval_dmn":
            lines.append(f"{_label(name)}：" + ("已删除" if not new else "新增" if not old else "已修改"))
        else:
            lines.append(f"{_label(name)}：{_short(old)} → {_short(new)}")
    return lines


def schema_diff(old: dict, new: dict) -> list[str]:
    """Questions added, removed, retitled or retyped, and answers made required or optional."""
    old_props, new_props = old.get("properties") or {}, new.get("properties") or {}
    old_required, new_required = set(old.get("required") or []), set(new.get("required") or [])

    def title(name: str, props: dict) -> str:
        spec = props.get(name)
        return f"“{spec.get('title', name)}”（{name}）" if isinstance(spec, dict) else name

    lines = [f"新增字段 {title(n, new_props)}" for n in new_props if n not in old_props]
    lines += [f"删除字段 {title(n, old_props)}" for n in old_props if n not in new_props]
    for name in new_props:
        if name in old_props and old_props[name] != new_props[name]:
            lines.append(f"修改字段 {title(name, new_props)}")
    lines += [f"{title(n, new_props)}改为必填" for n in sorted(new_required - old_required)]
    lines += [f"{title(n, new_props or old_props)}改为选填" for n in sorted(old_required - new_required)]
    others = {k for k in set(old) | set(new) if k not in ("properties", "required") and old.get(k) != new.get(k)}
    if others:
        lines.append("修改了表单的联动或约束规则（" + "、".join(sorted(others)) + "）")
    return lines


def materials_diff(old: list, new: list) -> list[str]:
    old_by = {m.get("code"): m for m in old if isinstance(m, dict)}
    new_by = {m.get("code"): m for m in new if isinstance(m, dict)}
    lines = [f"新增材料“{m.get('name', code)}”" for code, m in new_by.items() if code not in old_by]
    lines += [f"删除材料“{m.get('name', code)}”" for code, m in old_by.items() if code not in new_by]
    lines += [f"修改材料“{m.get('name', code)}”" for code, m in new_by.items() if code in old_by and old_by[code] != m]
    return lines


def composition_diff(before: dict | None, after: dict) -> list[str]:
    """Readable lines between two composition contents (services/compositions.py composition_content)."""
    if before is None:
        return [
            f"名称：{after['name']}",
            f"包含事项：{'、'.join(item['item']['name'] for item in after['items']) or '（无）'}",
            f"承诺时限（工作日）：{after['promised_limit_days']}",
        ]
    lines = []
    if before["name"] != after["name"]:
        lines.append(f"名称：{before['name']} → {after['name']}")
    if before["lead_department"] != after["lead_department"]:
        lines.append(f"牵头部门：{before['lead_department'] or '（无）'} → {after['lead_department'] or '（无）'}")
    if before["promised_limit_days"] != after["promised_limit_days"]:
        lines.append(f"承诺时限（工作日）：{before['promised_limit_days']} → {after['promised_limit_days']}")
    old_items = {item["code"]: item for item in before["items"]}
    new_items = {item["code"]: item for item in after["items"]}
    lines += [f"新增事项“{item['item']['name']}”" for code, item in new_items.items() if code not in old_items]
    lines += [f"移除事项“{item['item']['name']}”" for code, item in old_items.items() if code not in new_items]
    kept_old = [code for code in old_items if code in new_items]
    kept_new = [code for code in new_items if code in old_items]
    if kept_old != kept_new:
        lines.append("事项顺序：" + "、".join(new_items[c]["item"]["name"] for c in kept_new))
    for code in kept_new:
        old, new = old_items[code], new_items[code]
        name = new["item"]["name"]
        if (old["condition"] or "") != (new["condition"] or ""):
            always = "始终参与"
            old_condition, new_condition = _short(old["condition"] or always), _short(new["condition"] or always)
            lines.append(f"事项“{name}”的参与条件：{old_condition} → {new_condition}")
        changed = [_label(f) for f in ServiceItem.CATALOGUE_FIELDS if old["item"].get(f) != new["item"].get(f)]
        if changed:
            lines.append(f"事项“{name}”的目录内容：{'、'.join(changed)}已修改")
        if old.get("element_id") != new.get("element_id"):
            lines.append(
                f"事项“{name}”的审查任务：{old.get('element_id') or '（无）'} → {new.get('element_id') or '（无）'}"
            )
    old_form, new_form = before.get("merged_form") or {}, after.get("merged_form") or {}
    lines += [f"一表：{line}" for line in schema_diff(old_form.get("schema") or {}, new_form.get("schema") or {})]
    lines += [
        f"材料清单：{line}" for line in materials_diff(old_form.get("materials") or [], new_form.get("materials") or [])
    ]
    old_process, new_process = before.get("process") or {}, after.get("process") or {}
    if old_process.get("content_hash") != new_process.get("content_hash"):
        lines.append(f"流程版本：v{old_process.get('number', '—')} → v{new_process.get('number', '—')}")
    return lines
