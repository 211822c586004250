"""结果送达 at the window: change the delivery, hand the result over (一窗通取), record a mailing."""

from __future__ import annotations

import base64
import binascii

from django.contrib import messages
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from workflow import services
from workflow.errors import Conflict, ValidationFailed

from ..access import WINDOW, staff_view
from .window import delivery_from_post

MAX_SIGNATURE_BYTES = 1536 * 1024


def _messages_of(exc: ValidationFailed) -> str:
    return "；".join(m for ms in exc.field_errors.values() for m in ms) or exc.message


@require_POST
@staff_view(*WINDOW)
def delivery_change(request, case_no: str):
    chosen = delivery_from_post(request.POST)
    try:
        services.case_delivery_change(
            user=request.user, case_no=case_no, method=chosen["method"], address=chosen.get("address")
        )
    except ValidationFailed as exc:
        messages.error(request, _messages_of(exc))
    except Conflict as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "已变更送达方式")
    return redirect("web:case", case_no=case_no)


def _signature(request) -> services.Signature | None:
    """The pad's PNG (a data: URL the page's script put in ``signature_pad``), else the uploaded scan."""
    scan = request.FILES.get("signature_scan")
    if scan is not None and scan.size:
        if scan.size > MAX_SIGNATURE_BYTES:
            raise ValidationFailed(field_errors={"signature": ["签收单扫描件过大（不超过 1.5 MB）"]})
        return services.Signature(method="scan", content=scan.read())
    data = request.POST.get("signature_pad", "")
    if data.startswith("data:image/png;base64,"):
        try:
            return services.Signature(method="pad", content=base64.b64decode(data.split(",", 1)[1], validate=True))
        except (binascii.Error, ValueError):
            raise ValidationFailed(field_errors={"signature": ["签名数据无效，请重签"]}) from None
    return None


@require_POST
@staff_view(*WINDOW)
def handover(request, case_no: str):
    post = request.POST
    kind = post.get("recipient_kind", "applicant")
    recipient = {
        "kind": kind,
        "id_type": post.get("recipient_id_type", ""),
        "id_number": post.get("recipient_id_number", ""),
    }
    if kind == "agent":
        recipient["name"] = post.get("recipient_name", "")
    try:
        services.case_handover(
            user=request.user,
            case_no=case_no,
            recipient=recipient,
            identity_method=post.get("identity_method", ""),
            items=post.getlist("item"),
            signature=_signature(request),
            authorisation_letter=post.get("authorisation_letter") == "on",
            same_visit=post.get("same_visit") == "on",
        )
    except ValidationFailed as exc:
        messages.error(request, _messages_of(exc))
    except Conflict as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "办理结果已当面交付，办件已办结；送达回证正在出具")
    return redirect("web:case", case_no=case_no)


@require_POST
@staff_view(*WINDOW)
def mail(request, case_no: str):
    try:
        services.case_mail(
            user=request.user,
            case_no=case_no,
            carrier=request.POST.get("carrier", ""),
            waybill=request.POST.get("waybill", "").strip(),
        )
    except ValidationFailed as exc:
        messages.error(request, _messages_of(exc))
    except Conflict as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "已登记寄出，妥投后自动办结")
    return redirect("web:case", case_no=case_no)
