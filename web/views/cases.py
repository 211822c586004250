"""The case page: state, departments' progress, the one form, the timeline and the BPMN diagram."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET

from workflow import selectors
from workflow.labels import ID_TYPE_LABELS, IDENTITY_METHODS, DeliveryMethod

from .. import schema_form
from ..access import staff_view
from ..throttles import CASE_NO_RE
from . import files
from .clock import PROCEDURE_CHOICES


@require_GET
@staff_view()
def case_find(request):
    """The header's search box: a case number goes straight to its page."""
    case_no = "".join(request.GET.get("case_no", "").split())
    if not CASE_NO_RE.fullmatch(case_no):
        messages.error(request, "办件编号应为 20 位数字")
        return redirect("web:home")
    return redirect("web:case", case_no=case_no)


@staff_view()
def case_detail(request, case_no: str):
    case = selectors.case_get(user=request.user, case_no=case_no)
    view = selectors.case_view(user=request.user, case=case)
    merged = selectors.case_merged_form(case)
    return render(
        request,
        "web/case_detail.html",
        {
            "view": view,
            "case": view,
            "identity_methods": list(IDENTITY_METHODS.items()),
            "sections": schema_form.sections(
                merged,
                raw=schema_form.raw_from_data(merged.get("schema") or {}, case.form_data),
                department_names=selectors.department_names(),
            ),
            "procedure_choices": PROCEDURE_CHOICES,
            "materials_limits": files.upload_limits(),
            "id_types": list(ID_TYPE_LABELS.items()),
            "delivery_choices": {
                "methods": list(DeliveryMethod.choices),
                "method": view.delivery.method,
                "address": view.delivery.address,
            },
        },
    )


@require_GET
@staff_view()
def case_document(request, case_no: str, document_id: int):
    """A signed PDF of the case (receipt, notices, e-licences), for whoever may see the case."""
    case = selectors.case_get(user=request.user, case_no=case_no)
    return pdf_response(selectors.case_document(case, document_id))


def pdf_response(document) -> HttpResponse:
    """The stored PDF as a download; its bytes are checked against the recorded sha256 first."""
    content = selectors.document_content(document)
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(True, document.filename)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@require_GET
@staff_view()
def case_diagram(request, case_no: str):
    """The BPMN XML of the case's process version and which user tasks are current and finished."""
    return JsonResponse(
        selectors.diagram(user=request.user, case_no=case_no), json_dumps_params={"ensure_ascii": False}
    )
