"""短信发件箱 for supervisors: the rows an outage left pending, failed or 待核实 ones (resend), and what went out."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from workflow import selectors, services
from workflow.errors import Conflict

from ..access import SUPERVISORS, domain_errors, staff_view


@staff_view(*SUPERVISORS)
def sms_outbox(request):
    state = request.GET.get("state") or "attention"
    rows = selectors.sms_outbox(user=request.user, state=None if state == "all" else state)
    counts = selectors.sms_counts(user=request.user)
    return render(request, "web/sms.html", {"rows": rows, "counts": counts, "state": state, "here": "sms"})


@require_POST
@staff_view(*SUPERVISORS)
@domain_errors
def sms_resend(request, message_id: int):
    try:
        services.sms_resend(user=request.user, message_id=message_id)
        messages.success(request, "已重新排队发送")
    except Conflict as exc:
        messages.error(request, exc.message)
    return redirect("web:sms")
