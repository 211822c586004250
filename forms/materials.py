"""Merge the items' material lists into one checklist (一次告知、减材料): each material is asked once.

Materials are the same material when they have the same ``code``. The merged entry is the strictest of
what the items ask:

- ``required``: true if any item requires it (a material optional for one item but required by another
  must be handed in);
- ``original``: true if any item wants the original (原件) — showing the original also satisfies an item
  that only wants a copy (复印件);
- ``source``: ``"e_licence"`` (fetched from the e-licence library, 免提交) only when *every* item needing
  it accepts the e-licence; if one item still needs it from the applicant, the applicant brings it.
  ``needed_by`` keeps each item's own wish (``required``, ``original``, ``source``, ``deferrable``), so the
  hall sees which departments would take the e-licence, and the checklist can be recombined over the items
  that apply to a case (:func:`forms.materials_required`);
- ``deferrable`` (容缺: a non-key material that may follow later under a written promise): only when
  *every* item needing it allows that; the key is present only when true;
- ``commitment`` (告知承诺: the text the applicant signs in place of the certificate): only when *every* item
  needing it allows that; the first item's text; the key is present only then;
- ``name`` / ``description``: the first item's (in merge order); names are labels and never conflict.

**Produced inside.** An item's fragment may say which material its result stands for (``produces``, the
catalogue item's ``licence_material``: 企业设立登记 produces ``business_licence``). The one-thing never asks
the applicant for what one of its own items produces: when that item always applies the material leaves the
checklist (listed in the report as ``materials_produced_inside``); when it is conditional the entry keeps
``produced_by`` and is dropped for the cases where the producer applies.

Order: materials needed by several items first, then each item's own, each group in order of first
appearance (items in merge order — see :func:`forms.merge_fragments` — each item's list in its own order).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["merge_materials", "recombine"]


def merge_materials(
    items: list[dict], conditional: Iterable[str] = ()
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``items``: normalised fragments in merge order; ``conditional``: the codes of items that apply only
    sometimes. Returns (the merged checklist, the materials produced inside and so never asked)."""
    conditional = set(conditional)
    producers: dict[str, list[str]] = {}
    for item in items:
        if item.get("produces"):
            producers.setdefault(item["produces"], []).append(item["item_code"])
    uses: dict[str, list[dict]] = {}
    firsts: dict[str, dict] = {}
    for item in items:
        ref = item_ref(item)
        for material in item["materials"]:
            firsts.setdefault(material["code"], material)
            uses.setdefault(material["code"], []).append(
                {
                    **ref,
                    "name": material["name"],
                    "required": material["required"],
                    "original": material["original"],
                    "source": material["source"],
                    "deferrable": bool(material.get("deferrable", False)),
                    **({"commitment": material["commitment"]} if material.get("commitment") else {}),
                }
            )
    merged, inside = [], []
    for code, entries in uses.items():
        first = firsts[code]
        base = {"code": code, "name": first["name"]}
        description = next((u["description"] for u in _wanted(items, code) if u.get("description")), None)
        if description:
            base["description"] = description
        produced_by = producers.get(code, [])
        if produced_by and not set(produced_by) & conditional:
            inside.append({**base, "produced_by": produced_by, "needed_by": [e["item_code"] for e in entries]})
            continue
        if produced_by:
            base["produced_by"] = produced_by
        merged.append(recombine(base, entries))
    ordered = [m for m in merged if len(m["needed_by"]) > 1] + [m for m in merged if len(m["needed_by"]) == 1]
    return ordered, inside


def _wanted(items: list[dict], code: str) -> list[dict]:
    return [material for item in items for material in item["materials"] if material["code"] == code]


def recombine(material: Mapping[str, Any], uses: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """One checklist entry from the items (``needed_by`` uses) that need it: the strictest of their wishes."""
    uses = list(uses)
    entry: dict[str, Any] = {"code": material["code"], "name": material["name"]}
    if material.get("description"):
        entry["description"] = material["description"]
    sources = {use["source"] for use in uses}
    entry |= {
        "required": any(use["required"] for use in uses),
        "original": any(use["original"] for use in uses),
        "source": "e_licence" if sources == {"e_licence"} else "applicant",
        "needed_by": [dict(use) for use in uses],
    }
    # A merged form stored before needed_by carried "deferrable" has it only on the entry.
    if all(use.get("deferrable", material.get("deferrable", False)) for use in uses):
        entry["deferrable"] = True
    if uses and all(use.get("commitment") for use in uses):
        entry["commitment"] = uses[0]["commitment"]
    if material.get("produced_by"):
        entry["produced_by"] = list(material["produced_by"])
    return entry


def item_ref(item: dict) -> dict[str, str]:
    return {"item_code": item["item_code"], "item_name": item["item_name"], "department": item["department"]}
