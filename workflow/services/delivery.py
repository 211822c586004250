"""Result delivery (结果送达): the choice, the handover at the window (一窗通取), mailing and the carrier's status,
electronic delivery by the applicant's first download; a proven delivery concludes the case (办结).

The rules and vocabulary are in ``workflow/delivery.py``; who may do what in ``selectors/permissions.py``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone

import forms

from .. import delivery, halls, reactions, sms, uploads
from ..access import require_role
from ..errors import Conflict, NotFound, PromiseOutstanding, ValidationFailed
from ..events import EventKind, case_event
from ..lifecycle import CaseStatus
from ..models import Case, CaseEvent, DeliveryMethod, DeliveryStatus, DeliveryUpdate, Document
from ..models.documents import private_storage
from ..selectors.permissions import (
    RESULT_STATES,
    ROLES,
    Action,
    Viewer,
    check_promises_kept,
    require,
)
from ..step import Step
from .engine import lock_case, save_status

PHONE_RE = re.compile(r"1[3-9][0-9]{9}")
MAX_SIGNATURE_BYTES = 1536 * 1024  # base64 in a JSON body stays under DATA_UPLOAD_MAX_MEMORY_SIZE (2 MB)
RECEIPT_KEY = "delivery_receipt"


# --------------------------------------------------------------------------- the choice


def delivery_problems(method: str, address: dict | None) -> tuple[dict, dict[str, list[str]]]:
    """The mailing address a method needs, cleaned, and the problems keyed ``delivery.<field>``."""
    if method not in DeliveryMethod.values:
        choices = "、".join(f"{m.value}（{m.label}）" for m in DeliveryMethod)
        return {}, {"delivery.method": [f"送达方式只能是：{choices}"]}
    if method != DeliveryMethod.POST:
        return {}, {}
    address = address if isinstance(address, dict) else {}
    cleaned = {key: str(address.get(key) or "").strip() for key in ("recipient", "phone", "address")}
    errors: dict[str, list[str]] = {}
    if not cleaned["recipient"]:
        errors["delivery.address.recipient"] = ["邮寄送达须填写收件人"]
    if not PHONE_RE.fullmatch(cleaned["phone"]):
        errors["delivery.address.phone"] = ["收件人手机号码应为 11 位数字，如 13800138000"]
    if len(cleaned["address"]) < 6:
        errors["delivery.address.address"] = ["请填写详细的邮寄地址（省市区、街道、门牌号）"]
    elif len(cleaned["address"]) > 200:
        errors["delivery.address.address"] = ["邮寄地址最多 200 个字符"]
    if len(cleaned["recipient"]) > 100:
        errors["delivery.address.recipient"] = ["收件人最多 100 个字符"]
    return cleaned, errors


def agent_problems(agent: dict | None, materials) -> tuple[dict, dict[str, list[str]]]:
    """帮办代办: the agent's name and document (checked by its type), and the authorisation letter among the
    materials received; keyed ``agent.<field>``."""
    if not agent:
        return {}, {}
    id_type = agent.get("id_type") or forms.DEFAULT_ID_TYPE
    cleaned = {
        "name": str(agent.get("name") or "").strip(),
        "id_type": id_type,
        "id_number": str(agent.get("id_number") or "").strip(),
        "phone": str(agent.get("phone") or "").strip(),
    }
    errors: dict[str, list[str]] = {}
    if not cleaned["name"]:
        errors["agent.name"] = ["请填写经办人姓名"]
    if id_type not in forms.ID_TYPES:
        errors["agent.id_type"] = [forms.id_number_message(id_type, "")]
    elif message := forms.id_number_message(id_type, cleaned["id_number"]):
        errors["agent.id_number"] = [message]
    if cleaned["phone"] and not PHONE_RE.fullmatch(cleaned["phone"]):
        errors["agent.phone"] = ["经办人手机号码应为 11 位数字"]
    if delivery.AUTHORISATION_LETTER not in set(materials or ()):
        errors["materials"] = [
            f"经办人代为办理须提交{delivery.AUTHORISATION_LETTER_NAME}（材料编码 authorisation_letter）"
        ]
    return cleaned, errors


@transaction.atomic
def case_delivery_change(*, user, case_no: str, method: str, address: dict | None = None) -> Case:
    """Change how the result will be delivered: any time before it leaves the hall (not once mailed or handed
    over; again after a returned mailing)."""
    require_role(user, *ROLES[Action.CHANGE_DELIVERY])
    case = lock_case(case_no=case_no)
    require(Action.CHANGE_DELIVERY, Viewer.of(user), case)
    return _change(case, user, method, address, department="window")


@transaction.atomic
def applicant_delivery_change(*, id_number: str, case_no: str, method: str, address: dict | None = None) -> Case:
    """The applicant changes the delivery of their own case (another person's case is NotFound): until the
    result is formed, under the window's rule (not once the case has ended)."""
    case = lock_case(case_no=case_no)
    if not id_number or case.applicant_id_number != id_number:
        raise NotFound("未找到该办件")
    require(Action.CHANGE_DELIVERY, Viewer.applicant(), case)
    return _change(case, None, method, address, department="applicant")


def _change(case: Case, actor, method: str, address: dict | None, *, department: str) -> Case:
    cleaned, errors = delivery_problems(method, address)
    if errors:
        raise ValidationFailed(field_errors=errors)
    before = case.delivery_method
    case.delivery_method, case.delivery_address = method, cleaned
    fields = {"delivery_method": method, "delivery_address": cleaned}
    if case.delivery_status == DeliveryStatus.RETURNED:  # the new choice starts afresh
        case.delivery_status = DeliveryStatus.PENDING
        case.delivery_carrier = case.delivery_waybill = ""
        fields.update(delivery_status=DeliveryStatus.PENDING, delivery_carrier="", delivery_waybill="")
    step = Step(case=case, instance=None, actor=actor)
    save_status(case, step=step, **fields)
    step.event("delivery_changed", department=department, **{"from": before, "to": method}, address=cleaned)
    sms.write_outbox(case, step.events, step.writes)  # after the result: the new method's result SMS (sms.template_for)
    step.save_events()
    return case


# --------------------------------------------------------------------------- 一窗通取


@dataclass(frozen=True)
class Signature:
    method: str  # pad | scan
    content: bytes


@transaction.atomic
def case_handover(
    *,
    user,
    case_no: str,
    recipient: dict,
    identity_method: str,
    items: list[str],
    signature: Signature,
    authorisation_letter: bool = False,
    same_visit: bool = False,
) -> Case:
    """一窗通取: hand the result over at the window, proven, and conclude the case (办结).

    ``recipient``: ``kind`` applicant (their document number must match the case's) or agent (name, id_type,
    id_number; with ``authorisation_letter`` received, recorded as a material, unless they are the case's own
    registered agent). ``identity_method``: how the clerk checked them (``halls.IDENTITY_METHODS``). ``items``:
    every thing of ``delivery.handover_list`` ticked. ``signature``: the recipient's signature, a PNG from the
    signature pad or a scan (PDF, JPEG, PNG) of the signed paper. ``same_visit``: handed over in the visit the
    case was submitted in (即办件): no new trip, allowed only on the day of the latest visit.

    A signed 送达回证 is issued once (document key ``delivery_receipt``)."""
    require_role(user, *ROLES[Action.HAND_OVER])
    case = lock_case(case_no=case_no)
    require(Action.HAND_OVER, Viewer.of(user), case)
    now = timezone.now()
    errors: dict[str, list[str]] = {}
    who, materials = _recipient(case, recipient, authorisation_letter, errors)
    if identity_method not in halls.IDENTITY_METHODS:
        errors["identity_method"] = ["请选择身份核验方式：" + "、".join(halls.IDENTITY_METHODS.values())]
    expected = delivery.handover_list(case, list(case.tasks.select_related("department")))
    ticked = [str(item) for item in items or []]
    missing = [thing for thing in expected if thing not in ticked]
    unknown = [thing for thing in ticked if thing not in expected]
    if missing:
        errors["items"] = ["请逐项核对并勾选交付的物品，未勾选：" + "、".join(missing)]
    elif unknown:
        errors["items"] = ["不在本办件的领取清单中：" + "、".join(unknown)]
    signed = _signature(signature, errors)
    if errors:
        raise ValidationFailed("请完成身份核验、物品核对和签收" if len(errors) > 1 else None, field_errors=errors)
    if same_visit and not _visited_today(case, now):
        raise Conflict("当场领取只适用于提交申请的同一次到场（即办件）：本办件今天没有到现场记录")

    step = Step(case=case, instance=None, actor=user)
    if not same_visit:
        _visit(step, "pickup", by=who["kind"])
    name = f"signatures/{case.case_no}/{signed['sha256'][:32]}{signed['extension']}"
    step.event(
        "handed_over",
        department="window",
        recipient=who,
        identity_method=identity_method,
        items=expected,
        signature={k: signed[k] for k in ("method", "sha256", "content_type")} | {"file": name},
        materials=materials,
        same_visit=same_visit,
    )
    case.delivery_status, case.delivered_at = DeliveryStatus.HANDED_OVER, now
    _conclude(step, one_visit=same_visit and case.trips == 1)
    storage = private_storage()
    if not storage.exists(name):
        storage.save(name, ContentFile(signed["content"]))
    reactions.queue_document(case.pk, RECEIPT_KEY)
    return case


def _recipient(case: Case, recipient: dict, letter: bool, errors: dict) -> tuple[dict, list[str]]:
    recipient = recipient if isinstance(recipient, dict) else {}
    kind = recipient.get("kind") or "applicant"
    id_type = recipient.get("id_type") or (case.applicant_id_type if kind == "applicant" else forms.DEFAULT_ID_TYPE)
    id_number = str(recipient.get("id_number") or "").strip().upper()
    if kind == "applicant":
        if id_number != case.applicant_id_number.upper():
            errors["recipient.id_number"] = ["领取人证件号码与申请人不一致：代为领取请选择“经办人”并提交授权委托书"]
        return {"kind": "applicant", "name": case.applicant_name, "id_type": case.applicant_id_type}, []
    if kind != "agent":
        errors["recipient.kind"] = ["领取人只能是申请人本人（applicant）或经办人（agent）"]
        return {}, []
    name = str(recipient.get("name") or "").strip()
    if not name:
        errors["recipient.name"] = ["请填写经办人姓名"]
    if id_type not in forms.ID_TYPES:
        errors["recipient.id_type"] = [forms.id_number_message(id_type, "")]
    elif message := forms.id_number_message(id_type, id_number):
        errors["recipient.id_number"] = [message]
    registered = bool(case.agent_id_number) and case.agent_id_number.upper() == id_number
    if not letter and not registered:
        errors["authorisation_letter"] = [f"经办人代为领取须提交{delivery.AUTHORISATION_LETTER_NAME}"]
    return {"kind": "agent", "name": name, "id_type": id_type}, ([delivery.AUTHORISATION_LETTER] if letter else [])


def _signature(signature: Signature | None, errors: dict) -> dict:
    if signature is None or not signature.content:
        errors["signature"] = ["请领取人在签名板上签名，或上传签收单扫描件"]
        return {}
    if signature.method not in delivery.SIGNATURE_METHODS:
        errors["signature.method"] = ["签收方式只能是 pad（签名板）或 scan（签收单扫描件）"]
        return {}
    if len(signature.content) > MAX_SIGNATURE_BYTES:
        errors["signature"] = ["签名文件过大（不超过 1.5 MB）"]
        return {}
    try:
        sniffed = uploads.sniff(io.BytesIO(signature.content))
    except uploads.Rejected as exc:
        errors["signature"] = [str(exc)]
        return {}
    allowed = (uploads.PNG,) if signature.method == "pad" else (uploads.PNG, uploads.JPEG, uploads.PDF)
    if sniffed not in allowed:
        errors["signature"] = ["签名板签名须为 PNG 图片；签收单扫描件须为 PDF、JPG 或 PNG"]
        return {}
    return {
        "method": signature.method,
        "sha256": hashlib.sha256(signature.content).hexdigest(),
        "content_type": sniffed.content_type,
        "extension": sniffed.extension,
        "content": signature.content,
    }


def _visited_today(case: Case, now: dt.datetime) -> bool:
    latest = case.events.filter(kind="visit").order_by("-created_at", "-id").values_list("created_at", flat=True)
    last = latest.first()
    return last is not None and timezone.localdate(last) == timezone.localdate(now)


def _visit(step: Step, reason: str, *, by: str = "applicant") -> None:
    """A physical visit: the trail entry and the case's count, in the step's transaction."""
    step.event("visit", department="window", reason=reason, reason_label=delivery.VISIT_REASONS[reason], by=by)
    step.case.trips += 1


def _conclude(step: Step, *, one_visit: bool = False) -> None:
    """The proof of delivery concludes the case (办结) in the same transaction, when it has its result."""
    case = step.case
    fields = {
        "delivery_status": case.delivery_status,
        "delivered_at": case.delivered_at,
        "delivery_carrier": case.delivery_carrier,
        "delivery_waybill": case.delivery_waybill,
        "trips": case.trips,
    }
    # 办结 with the proof, unless something else still holds it (容缺 at the end: a promised material not in yet —
    # then the window concludes with case_conclude once it is)
    concluding = case.status in RESULT_STATES and delivery.is_proven(case) and _promises_kept(case)
    if concluding:
        case.conclude()
        case.concluded_at = timezone.now()
        fields["concluded_at"] = case.concluded_at
    save_status(case, step=step, **fields)
    if concluding:
        extra = {"one_visit": True} if one_visit else {}
        step.event("conclude", status=str(case.status), delivery=case.delivery_method, **extra)
    sms.write_outbox(case, step.events, step.writes)  # the applicant's 办结 SMS, in this transaction (as case_conclude)
    step.save_events()
    if concluding:
        reactions.after_conclude(case)


def _promises_kept(case: Case) -> bool:
    if case.status != CaseStatus.APPROVED:
        return True
    try:
        check_promises_kept(case)
    except PromiseOutstanding:
        return False
    return True


def visit_event(case: Case, actor, reason: str, *, by: str = "applicant") -> CaseEvent:
    """For a service that writes its own case row: the visit's trail entry (unsaved), counted on ``case`` (the
    caller saves ``trips`` with its change)."""
    case.trips += 1
    reason_label = delivery.VISIT_REASONS[reason]
    return case_event(
        case, EventKind.VISIT, actor, department="window", reason=reason, reason_label=reason_label, by=by
    )


# --------------------------------------------------------------------------- 邮寄送达


@transaction.atomic
def case_mail(*, user, case_no: str, carrier: str, waybill: str) -> Case:
    """The result is mailed: carrier and waybill number recorded (status ``sent``); the carrier's reports follow
    (``delivery_status_update``)."""
    require_role(user, *ROLES[Action.MAIL])
    case = lock_case(case_no=case_no)
    require(Action.MAIL, Viewer.of(user), case)
    carrier, waybill = (carrier or "").strip(), (waybill or "").strip()
    errors = {}
    if not carrier or len(carrier) > 50:
        errors["carrier"] = ["请填写寄递企业（不超过 50 个字符）"]
    if not delivery.WAYBILL_RE.fullmatch(waybill):
        errors["waybill"] = ["运单号应为 6–40 位字母、数字或连字符"]
    if errors:
        raise ValidationFailed(field_errors=errors)
    if Case.objects.filter(delivery_waybill=waybill).exclude(pk=case.pk).exists():
        raise ValidationFailed(field_errors={"waybill": ["该运单号已用于其他办件"]})
    case.delivery_status, case.delivery_carrier, case.delivery_waybill = DeliveryStatus.SENT, carrier, waybill
    step = Step(case=case, instance=None, actor=user)
    save_status(
        case, step=step, delivery_status=case.delivery_status, delivery_carrier=carrier, delivery_waybill=waybill
    )
    step.event("mailed", department="window", carrier=carrier, waybill=waybill)
    sms.write_outbox(case, step.events, step.writes)  # the result SMS of a mailed result: carrier and waybill
    step.save_events()
    return case


@dataclass(frozen=True)
class DeliveryUpdateResult:
    case_no: str
    applied: bool  # False: a replay of a report already received (nothing changed)
    delivery_status: str


def delivery_status_update(*, waybill: str, status: str, occurred_at: dt.datetime, source: str) -> DeliveryUpdateResult:
    """A carrier's report (webhook or import): ``sent``, ``delivered`` (the proof: concludes the case) or
    ``returned`` (reopens the choice: pick up at the window, or mail again). Each report is kept once — a replay
    (same waybill, status and time) changes nothing — and a report that would move a delivery backwards
    (``sent`` after ``delivered``) is kept but not applied."""
    if status not in delivery.POST_STATUSES:
        raise ValidationFailed(field_errors={"status": ["寄递状态只能是：" + "、".join(delivery.POST_STATUSES)]})
    if not isinstance(waybill, str) or not delivery.WAYBILL_RE.fullmatch(waybill):
        raise ValidationFailed(field_errors={"waybill": ["运单号应为 6–40 位字母、数字或连字符"]})
    if timezone.is_naive(occurred_at):
        raise ValidationFailed(field_errors={"occurred_at": ["时间须带时区，如 2026-03-04T10:00:00+08:00"]})
    with transaction.atomic():
        case_id = Case.objects.filter(delivery_waybill=waybill).values_list("pk", flat=True).first()
        if case_id is None:
            raise NotFound("未找到使用该运单号的办件")
        case = lock_case(case_id=case_id)
        try:
            with transaction.atomic():
                DeliveryUpdate.objects.create(
                    case=case, waybill=waybill, status=status, occurred_at=occurred_at, source=source
                )
        except IntegrityError:
            return DeliveryUpdateResult(case.case_no, False, case.delivery_status)
        step = Step(case=case, instance=None, actor="寄递企业")
        step.event(
            "post_status",
            status=status,
            status_label=delivery.POST_STATUSES[status],
            waybill=waybill,
            occurred_at=occurred_at.isoformat(),
            source=source,
        )
        current = case.delivery_status
        if current == DeliveryStatus.SENT and status == "delivered":
            case.delivery_status, case.delivered_at = DeliveryStatus.DELIVERED, occurred_at
        elif current == DeliveryStatus.SENT and status == "returned":
            case.delivery_status = DeliveryStatus.RETURNED
        if case.delivery_status == current:
            step.save_events()
        else:
            _conclude(step)
        return DeliveryUpdateResult(case.case_no, True, case.delivery_status)


# --------------------------------------------------------------------------- 电子送达


RESULT_DOCUMENT_KINDS = ("conclusion_notice", "e_licence")


@transaction.atomic
def result_download_record(*, case_id: int, document: Document) -> bool:
    """The applicant downloaded a document. The first download of a result document (办结通知书, 电子证照) of a
    case delivered electronically is the proof of delivery: it concludes the case. True when it did."""
    if document.kind not in RESULT_DOCUMENT_KINDS:
        return False
    case = lock_case(case_id=case_id)
    if case.delivery_method != DeliveryMethod.ELECTRONIC or delivery.is_proven(case):
        return False
    if case.status not in RESULT_STATES:
        return False
    step = Step(case=case, instance=None, actor=None)
    step.event("result_downloaded", document=document.pk, title=document.title)
    case.delivery_status, case.delivered_at = DeliveryStatus.DOWNLOADED, timezone.now()
    _conclude(step)
    return True
