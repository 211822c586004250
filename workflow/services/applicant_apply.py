"""Applying online or at a kiosk (全程网办): drafts saved and resumed, material files, and one submission that
becomes a case in the window's 预审 list (docs/api.md "Applicant").

- A draft belongs to the ID number of the session that made it; its draft code (shown once) finds it again, but
  only for that ID number — another person's code is 404, like one that does not exist.
- ``draft_submit`` runs the window's own opening (``cases.open_case_at``: the same merged form, conditions,
  checks and Chinese errors, e-licences held attached automatically) with no staff user, the channel 网上 or
  自助终端, received at the installation's hall. The legal clock counts from this moment (Art. 32: deemed
  acceptance five working days after receipt). The result's delivery is the draft's choice (窗口领取 until the
  applicant chooses; ``draft_save``'s ``delivery``). Submitting is idempotent per draft: the same idempotency key
  again answers the same case (a double tap makes one case); another key for a submitted draft is 409.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

import forms

from .. import halls, query_codes
from ..errors import Conflict, NotFound, ValidationFailed
from ..models import ApplicationDraft, Case, Channel, DeliveryMethod, MaterialFile, OneThing
from .cases import OpenedCase, open_case_at
from .delivery import delivery_problems
from .uploads import draft_file_upload

DRAFT_CODE_LENGTH = 10
MAX_FORM_BYTES = 200_000
IDEMPOTENCY_KEY_MAX = 64


@dataclass(frozen=True)
class DraftSaved:
    draft: ApplicationDraft
    code: str | None  # the draft code, shown once (when the draft is created)


@dataclass(frozen=True)
class Submitted:
    case: Case
    query_code: str | None  # shown once: None when the same submission is replayed
    replayed: bool


def channel_of(session) -> str:
    return Channel.KIOSK if session.kiosk else Channel.ONLINE


def _one_thing(key: str) -> OneThing:
    one_thing = OneThing.objects.filter(key=key, is_active=True).first()
    if one_thing is None:
        raise NotFound("未找到该一件事或其未启用")
    if one_thing.current_composition_id is None:
        raise Conflict("该一件事尚未部署流程")
    return one_thing


def own_draft(session, *, draft_id: int | None = None, code: str | None = None, lock: bool = False):
    rows = ApplicationDraft.objects.select_related("one_thing")
    if lock:
        rows = rows.select_for_update(of=("self",))
    if draft_id is not None:
        draft = rows.filter(pk=draft_id).first()
    else:
        draft = rows.filter(code_hash=query_codes.digest("draft:" + query_codes.normalise(code or ""))).first()
    if draft is None or draft.id_number != session.id_number:
        raise NotFound("未找到该草稿")
    return draft


def _clean_delivery(delivery: dict | None) -> dict | None:
    """The delivery choice checked as the window's opening checks it (the same Chinese messages, keyed
    ``delivery.<field>``); None: unchanged."""
    if delivery is None:
        return None
    if not isinstance(delivery, dict):
        raise ValidationFailed(field_errors={"delivery": ["送达方式应为 JSON 对象：{method, address}"]})
    method = delivery.get("method") or DeliveryMethod.PICKUP
    address, errors = delivery_problems(method, delivery.get("address"))
    if errors:
        raise ValidationFailed(field_errors=errors)
    return {"method": method, **({"address": address} if method == DeliveryMethod.POST else {})}


def _check_draft_input(form, materials, applicant: dict) -> None:
    errors: dict[str, list[str]] = {}
    if not isinstance(form, dict):
        errors["form"] = ["申请表应为 JSON 对象"]
    elif len(json.dumps(form, ensure_ascii=False).encode()) > MAX_FORM_BYTES:
        errors["form"] = ["申请表内容过长"]
    if not isinstance(materials, list) or not all(isinstance(m, str) for m in materials):
        errors["materials"] = ["材料应为材料编码的列表"]
    name = applicant.get("name", "")
    if not isinstance(name, str) or len(name) > 100:
        errors["applicant.name"] = ["申请人姓名最多 100 个字符"]
    phone = applicant.get("phone", "")
    if phone and not forms.is_valid_mobile(phone):
        errors["applicant.phone"] = ["手机号码应为 11 位数字，以 1 开头，例如 13800138000"]
    if errors:
        raise ValidationFailed(field_errors=errors)


@transaction.atomic
def draft_save(
    *,
    session,
    one_thing_key: str | None = None,
    form: dict | None = None,
    materials: Iterable[str] | None = None,
    applicant: dict | None = None,
    draft_id: int | None = None,
    delivery: dict | None = None,
) -> DraftSaved:
    """Create a draft (with a new draft code) or update one of the session's own; nothing is validated beyond
    its shape — that is what the pre-check and the submission do — except the delivery choice (``{method,
    address}`` as ``case_open`` takes it: pickup until chosen; post needs the address), checked whole."""
    applicant = dict(applicant or {})
    materials_list = list(materials) if materials is not None else None
    _check_draft_input(form if form is not None else {}, materials_list or [], applicant)
    chosen = _clean_delivery(delivery)
    if draft_id is not None:
        draft = own_draft(session, draft_id=draft_id, lock=True)
        if draft.submitted_at is not None:
            raise Conflict("该草稿已提交，不能再修改")
        if form is not None:
            draft.form_data = form
        if materials_list is not None:
            draft.materials = sorted(set(materials_list))
        if applicant:
            draft.applicant = {**draft.applicant, **{k: v for k, v in applicant.items() if k in ("name", "phone")}}
        if chosen is not None:
            draft.delivery = chosen
        draft.save()
        return DraftSaved(draft, None)
    one_thing = _one_thing(one_thing_key or "")
    code = "".join(secrets.choice(query_codes.ALPHABET) for _ in range(DRAFT_CODE_LENGTH))
    draft = ApplicationDraft.objects.create(
        code_hash=query_codes.digest("draft:" + code),
        id_number=session.id_number,
        one_thing=one_thing,
        channel=channel_of(session),
        applicant={"name": applicant.get("name") or session.name, "phone": applicant.get("phone") or session.phone},
        form_data=form or {},
        materials=sorted(set(materials_list or [])),
        delivery=chosen or {},
    )
    return DraftSaved(draft, code)


def draft_upload(*, session, draft_id: int, material_code: str, file) -> MaterialFile:
    from ..compositions import composition_by_id

    draft = own_draft(session, draft_id=draft_id)
    if draft.submitted_at is not None:
        raise Conflict("该草稿已提交，请在“我的办件”中查看")
    materials = composition_by_id(draft.one_thing.current_composition_id).materials
    return draft_file_upload(draft=draft, materials=materials, material_code=material_code, file=file)


def draft_submit(*, session, draft_id: int, idempotency_key: str) -> Submitted:
    """Submit the draft once: the case in the window's 预审 list, its number and query code (once)."""
    key = (idempotency_key or "").strip()
    if not key or len(key) > IDEMPOTENCY_KEY_MAX:
        raise ValidationFailed(field_errors={"idempotency_key": [f"请提供幂等键（1–{IDEMPOTENCY_KEY_MAX} 个字符）"]})
    with transaction.atomic():
        draft = own_draft(session, draft_id=draft_id, lock=True)  # two taps wait here, one after the other
        if draft.case_id is not None:
            if draft.idempotency_key == key:
                return Submitted(Case.objects.get(pk=draft.case_id), None, True)
            raise Conflict("该草稿已提交，请在“我的办件”中查看", case_no=draft.case.case_no)
        files = list(MaterialFile.objects.filter(draft=draft).values_list("material_code", flat=True))
        applicant = {
            "name": (draft.applicant.get("name") or session.name or "").strip(),
            "id_number": session.id_number,
            "id_type": session.id_type,
            "phone": draft.applicant.get("phone") or session.phone,
        }
        if not applicant["name"]:
            raise ValidationFailed(field_errors={"applicant.name": ["请填写申请人姓名"]})
        opened: OpenedCase = open_case_at(
            actor=None,
            accepting=halls.default_hall(),
            one_thing_key=draft.one_thing.key,
            applicant=applicant,
            form=draft.form_data,
            materials=sorted(set(files)),  # handed in: the files uploaded (e-licences held are attached too)
            channel=draft.channel,
            identity={"method": session.method, **({"kiosk": session.kiosk} if session.kiosk else {})},
            delivery=draft.delivery or None,  # as the applicant chose it (窗口领取 when not chosen)
        )
        case = opened.case
        MaterialFile.objects.filter(draft=draft).update(case=case)
        draft.case, draft.submitted_at, draft.idempotency_key = case, timezone.now(), key
        draft.save(update_fields=["case", "submitted_at", "idempotency_key", "updated_at"])
    return Submitted(case, opened.query_code, False)
