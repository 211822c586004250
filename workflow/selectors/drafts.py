"""An applicant's drafts (网上申报草稿): one draft, the list of one's own, and what the screens and the API show
of them — the form with the prefilled fields marked, the files, and the pre-check (``selectors.precheck``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ..models import ApplicationDraft, Channel, DeliveryMethod, MaterialFile
from .precheck import Precheck, Prefilled, draft_composition, precheck, prefill


@dataclass(frozen=True)
class DraftFile:
    id: str
    material_code: str
    name: str
    content_type: str
    size: int


@dataclass(frozen=True)
class DraftView:
    id: int
    one_thing: str
    one_thing_name: str
    channel: str
    channel_label: str
    applicant_name: str
    applicant_phone: str
    form: dict
    materials: list[str]
    files: list[DraftFile]
    prefilled: list[Prefilled]  # fields the applicant's e-licences answer (marked on the form)
    delivery: dict  # {method, method_label, address (post) or None}: pickup until the applicant chooses
    submitted_at: dt.datetime | None
    case_no: str | None
    created_at: dt.datetime
    updated_at: dt.datetime


def draft_view(draft: ApplicationDraft, *, with_prefill: bool = True) -> DraftView:
    composition = draft_composition(draft)
    files = [
        DraftFile(str(f.public_id), f.material_code, f.original_name, f.content_type, f.size)
        for f in MaterialFile.objects.filter(draft=draft).order_by("uploaded_at", "id")
    ]
    return DraftView(
        id=draft.pk,
        one_thing=draft.one_thing.key,
        one_thing_name=composition.name,
        channel=draft.channel,
        channel_label=Channel(draft.channel).label,
        applicant_name=draft.applicant.get("name", ""),
        applicant_phone=draft.applicant.get("phone", ""),
        form=draft.form_data,
        materials=list(draft.materials),
        files=files,
        prefilled=prefill(
            id_number=draft.id_number,
            composition=composition,
            credit_code=str(draft.form_data.get("credit_code") or ""),
        )
        if with_prefill
        else [],
        delivery=draft_delivery(draft),
        submitted_at=draft.submitted_at,
        case_no=draft.case.case_no if draft.case_id else None,
        created_at=draft.created_at,
        updated_at=draft.updated_at,
    )


def draft_delivery(draft: ApplicationDraft) -> dict:
    """The draft's delivery choice as the API and the screen show it (窗口领取 until the applicant chooses)."""
    method = (draft.delivery or {}).get("method") or DeliveryMethod.PICKUP
    address = (draft.delivery or {}).get("address") if method == DeliveryMethod.POST else None
    return {"method": str(method), "method_label": DeliveryMethod(method).label, "address": address or None}


def own_drafts(*, id_number: str) -> list[DraftView]:
    rows = ApplicationDraft.objects.filter(id_number=id_number).select_related("one_thing", "case")
    return [draft_view(d, with_prefill=False) for d in rows.order_by("-updated_at", "-id")[:50]]


def draft_precheck(draft: ApplicationDraft) -> Precheck:
    return precheck(
        id_number=draft.id_number,
        composition=draft_composition(draft),
        form=draft.form_data,
        applicant_name=draft.applicant.get("name", ""),
        uploaded=MaterialFile.objects.filter(draft=draft).values_list("material_code", flat=True),
    )
