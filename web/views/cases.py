"""The case page: state, departments' progress, the one form, the timeline and the BPMN diagram."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_http_methods

from workflow import selectors
from workflow.errors import ValidationFailed
from workflow.labels import ID_TYPE_LABELS, IDENTITY_METHODS, CaseStatus, Channel, DeliveryMethod, normalise_case_no

from .. import schema_form
from ..access import staff_view
from ..throttles import CASE_NO_RE
from . import files
from .clock import PROCEDURE_CHOICES


@require_GET
@staff_view()
def case_find(request):
    """The header's search box: a case number goes straight to its page."""
    case_no = normalise_case_no(request.GET.get("case_no", ""))
    if not CASE_NO_RE.fullmatch(case_no):
        messages.error(request, "办件编号应为 20 位数字")
        return redirect("web:home")
    return redirect("web:case", case_no=case_no)


SEARCH_FIELDS = ("applicant_name", "id_number", "phone", "credit_code", "one_thing", "status", "channel", "hall")


@require_http_methods(["GET", "POST"])
@staff_view()
def case_search(request):
    """办件检索: the filters are posted (an ID number never goes into a URL); the results are the caller's cases
    as ``GET /api/cases`` lists them (``selectors.case_search``), a page at a time."""
    values = {name: request.POST.get(name, "").strip() for name in SEARCH_FIELDS}
    values.update(since=request.POST.get("since", ""), until=request.POST.get("until", ""))
    page, errors = None, {}
    if request.method == "POST":
        try:
            query = selectors.CaseQuery(
                **{name: values[name] for name in SEARCH_FIELDS},
                since=_date(values["since"], "since", errors),
                until=_date(values["until"], "until", errors),
                page=_page(request.POST.get("page")),
            )
            if not errors:
                page = selectors.case_search(user=request.user, query=query)
        except ValidationFailed as exc:
            errors = exc.field_errors
    return render(
        request,
        "web/case_search.html",
        {
            "values": values,
            "page": page,
            "errors": [message for messages_ in errors.values() for message in messages_],
            "statuses": CaseStatus.choices,
            "channels": Channel.choices,
            "one_things": selectors.one_things(),
        },
        status=400 if errors else 200,
    )


def _date(text: str, name: str, errors: dict) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        errors[name] = ["日期格式应为 YYYY-MM-DD"]
        return None


def _page(text) -> int:
    return int(text) if isinstance(text, str) and text.isdigit() and 0 < int(text) <= 1000 else 1


@staff_view()
def case_detail(request, case_no: str):
    case = selectors.case_get(user=request.user, case_no=case_no)
    names = selectors.department_names()
    view = selectors.case_view(user=request.user, case=case, names=names)
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
                department_names=names,
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
