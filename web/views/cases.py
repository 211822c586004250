"""The case page: state, departments' progress, the one form, the timeline and the BPMN diagram."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET

from workflow import halls, notices, selectors
from workflow.lifecycle import CaseStatus
from workflow.models import HumanTaskState, StaffRole

from .. import queries, schema_form
from ..access import staff_view
from ..throttles import CASE_NO_RE
from . import files


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
    staff = request.staff
    own_department = staff.department_id if staff.role == StaffRole.REVIEWER else None
    tasks = selectors.case_tasks(case)
    names = queries.department_names()
    merged = selectors.composition_of(case).merged_form
    my_tasks = [t for t in tasks if own_department and t.lane == own_department and t.state == HumanTaskState.OPEN]
    timeline = queries.event_rows(selectors.case_events(case), names, decisions_of=own_department)
    return render(
        request,
        "web/case_detail.html",
        {
            "case": case,
            # 收受分离: the deciding hall's window follows the case; only the accepting hall's acts on it.
            "is_window": staff.role == StaffRole.WINDOW and halls.window_may_act(staff, case),
            "halls": halls.case_halls(case),
            "identity_methods": list(halls.IDENTITY_METHODS.items()),
            "progress": queries.progress_rows(case, tasks, names, opinions_of=own_department),
            "intake": [t for t in tasks if t.lane in ("window", "applicant")],
            "my_tasks": my_tasks,
            "sections": schema_form.sections(
                merged,
                raw=schema_form.raw_from_data(selectors.composition_of(case).form_schema, case.form_data),
                department_names=names,
            ),
            "timeline": timeline,
            "correction_required": case.status == CaseStatus.CORRECTION_REQUIRED,
            "can_conclude": case.status in (CaseStatus.APPROVED, CaseStatus.REJECTED),
            "outcome_label": queries.OUTCOME_LABELS.get(case.outcome, ""),
            "documents": notices.case_documents(case),
            "promises": list(case.promises.all()),
            "deferrable": [m for m in selectors.materials_checklist(case) if m.get("deferrable")],
            "materials_block": files.materials_context(
                case, window=staff.role == StaffRole.WINDOW and halls.window_may_act(staff, case)
            ),
        },
    )


@require_GET
@staff_view()
def case_document(request, case_no: str, document_id: int):
    """A signed PDF of the case (receipt, notices, e-licences), for whoever may see the case."""
    case = selectors.case_get(user=request.user, case_no=case_no)
    return pdf_response(notices.case_document(case, document_id))


def pdf_response(document) -> HttpResponse:
    """The stored PDF as a download; its bytes are checked against the recorded sha256 first."""
    content = notices.document_content(document)
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(True, document.filename)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@require_GET
@staff_view()
def case_diagram(request, case_no: str):
    """The BPMN XML of the case's process version and which user tasks are current and finished."""
    case = selectors.case_get(user=request.user, case_no=case_no)
    return JsonResponse(queries.diagram(case), json_dumps_params={"ensure_ascii": False})
