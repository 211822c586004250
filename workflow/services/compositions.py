"""Publishing a one-thing's composition as an immutable version (what new cases are pinned to)."""

from __future__ import annotations

import bpmn

from ..compositions import content_hash, element_mapping, forget, review_key_for
from ..models import CompositionVersion, OneThing, OneThingItem, ProcessVersion


def composition_content(one_thing: OneThing, process_version: ProcessVersion | None) -> dict:
    """Everything a case needs of the one-thing as it stands now (its rows) on ``process_version``: the
    content a version stores and hashes. Without a process version (composed, not yet deployed) the review
    mapping is empty."""
    links = list(OneThingItem.objects.filter(one_thing=one_thing).select_related("item").order_by("position", "id"))
    element_ids: frozenset[str] = frozenset()
    elements: dict[str, list[str]] = {}
    if process_version is not None:
        model = bpmn.load_model(
            process_version.content_hash,
            lambda: ProcessVersion.objects.values_list("compiled", flat=True).get(pk=process_version.pk),
        )
        element_ids = model.element_ids
        elements = element_mapping(
            [{"code": link.item.code, "name": link.item.name, "department": link.item.department_id} for link in links],
            process_version.user_tasks,
        )
    element_of = {code: element_id for element_id, codes in elements.items() for code in codes}
    items = []
    for position, link in enumerate(links):
        element_id = element_of.get(link.item.code, "")
        items.append(
            {
                "position": position,
                "code": link.item.code,
                "item_id": link.item_id,
                # "" for always, as versions published before conditions became JSON (issue 15) recorded it.
                "condition": link.condition or "",
                **({"depends_on": list(link.depends_on)} if link.depends_on else {}),
                "element_id": element_id,
                "review_key": review_key_for(element_id, link.item.department_id, element_ids),
                "item": link.item.catalogue_values(),
            }
        )
    return {
        "one_thing": one_thing.key,
        "name": one_thing.name,
        "lead_department": one_thing.lead_department_id or "",
        "promised_limit_days": one_thing.promised_limit_days,
        "merged_form": one_thing.merged_form or {},
        "items": items,
        "elements": elements,
        "process": (
            {"number": process_version.number, "content_hash": process_version.content_hash} if process_version else {}
        ),
    }


def current_content(one_thing: OneThing) -> dict:
    """The content the one-thing's rows describe now, on its current BPMN version (for diffs and previews)."""
    return composition_content(one_thing, _process_version(one_thing))


def published_content(one_thing: OneThing) -> dict:
    """What new cases get now: the current composition version's stored content (its item snapshots as they
    were published), else — nothing published yet — what the rows describe. The "before" of a diff."""
    version = (
        CompositionVersion.objects.select_related("process_version")
        .defer("process_version__compiled", "process_version__bpmn_xml")
        .filter(pk=one_thing.current_composition_id)
        .first()
        if one_thing.current_composition_id
        else None
    )
    if version is None:
        return current_content(one_thing)
    return {
        "one_thing": one_thing.key,
        "name": version.name,
        "lead_department": version.lead_department,
        "promised_limit_days": version.promised_limit_days,
        "merged_form": version.merged_form,
        "items": version.items,
        "elements": version.elements,
        "process": {"number": version.process_version.number, "content_hash": version.process_version.content_hash},
    }


def _process_version(one_thing: OneThing) -> ProcessVersion | None:
    if not one_thing.current_version_id:
        return None
    return ProcessVersion.objects.defer("compiled", "bpmn_xml").filter(pk=one_thing.current_version_id).first()


def composition_publish(*, one_thing: OneThing, published_by: str = "") -> tuple[CompositionVersion | None, bool]:
    """Publish the one-thing's composition (its rows, on its current BPMN version) as the version new cases
    are pinned to. Identical content finds the existing version instead of creating one. Returns the version
    and whether it was created; (None, False) while the one-thing has no BPMN version (no case can open).

    Runs inside the caller's transaction, with the one-thing's row locked by the caller."""
    process_version = _process_version(one_thing)
    if process_version is None:
        return None, False
    content = composition_content(one_thing, process_version)
    digest = content_hash(content)
    version = CompositionVersion.objects.filter(one_thing=one_thing, content_hash=digest).first()
    created = version is None
    if created:
        last = one_thing.compositions.order_by("-number").values_list("number", flat=True).first() or 0
        version = CompositionVersion.objects.create(
            one_thing=one_thing,
            number=last + 1,
            content_hash=digest,
            name=content["name"],
            lead_department=content["lead_department"],
            promised_limit_days=content["promised_limit_days"],
            merged_form=content["merged_form"],
            items=content["items"],
            elements=content["elements"],
            process_version=process_version,
            created_by=published_by,
        )
        forget(version.pk)  # an id a rolled-back transaction handed out before may be cached with other content
    if one_thing.current_composition_id != version.pk:
        OneThing.objects.filter(pk=one_thing.pk).update(current_composition=version)
        one_thing.current_composition = version
    return version, created
