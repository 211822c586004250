"""Merge the items' material lists into one checklist (一次告知、减材料): each material is asked once.

Materials are the same material when they have the same ``code``. The merged entry is the strictest of
what the items ask:

- ``required``: true if any item requires it (a material optional for one item but required by another
  must be handed in);
- ``original``: true if any item wants the original (原件) — showing the original also satisfies an item
  that only wants a copy (复印件);
- ``source``: ``"e_licence"`` (fetched from the e-licence library, 免提交) only when *every* item needing
  it accepts the e-licence; if one item still needs it from the applicant, the applicant brings it.
  ``needed_by`` keeps each item's own wish, so the hall sees which departments would take the e-licence;
- ``deferrable`` (容缺: a non-key material that may follow later under a written promise): only when
  *every* item needing it allows that; the key is present only when true;
- ``name`` / ``description``: the first item's (in merge order); names are labels and never conflict.

Order: materials needed by several items first, then each item's own, each group in order of first
appearance (items in merge order — see :func:`forms.merge_fragments` — each item's list in its own order).
"""

from __future__ import annotations

from typing import Any

__all__ = ["merge_materials"]


def merge_materials(items: list[dict]) -> list[dict[str, Any]]:
    """``items``: normalised fragments in merge order. Returns the merged checklist."""
    uses: dict[str, list[tuple[dict, dict]]] = {}
    for item in items:
        ref = item_ref(item)
        for material in item["materials"]:
            uses.setdefault(material["code"], []).append((ref, material))
    merged = []
    for code, entries in uses.items():
        wanted = [material for _, material in entries]
        sources = {material["source"] for material in wanted}
        entry: dict[str, Any] = {"code": code, "name": wanted[0]["name"]}
        description = next((m["description"] for m in wanted if m.get("description")), None)
        if description:
            entry["description"] = description
        entry |= {
            "required": any(material["required"] for material in wanted),
            "original": any(material["original"] for material in wanted),
            "source": "e_licence" if sources == {"e_licence"} else "applicant",
            "needed_by": [
                {
                    **ref,
                    "name": material["name"],
                    "required": material["required"],
                    "original": material["original"],
                    "source": material["source"],
                }
                for ref, material in entries
            ],
        }
        if all(material.get("deferrable") for material in wanted):
            entry["deferrable"] = True
        merged.append(entry)
    return [m for m in merged if len(m["needed_by"]) > 1] + [m for m in merged if len(m["needed_by"]) == 1]


def item_ref(item: dict) -> dict[str, str]:
    return {"item_code": item["item_code"], "item_name": item["item_name"], "department": item["department"]}
