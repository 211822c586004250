"""Every read, scoped to who is asking, returning typed view objects that the API's serializers and the hall's
templates both render (docs/architecture.md "The read side"). One module per concept:

- ``cases``: finding a case within one's scope; the case in full (``case_view``), its departments' progress, the
  unified result, the correction notice, the window's lists, the diagram; ``case_merged_form`` and
  ``case_checklist`` — the one read of a case's form and field provenance, and of its materials checklist, from
  the composition version it is pinned to (``workflow.compositions``);
- ``tasks``: the inbox (one order), a task's row, the task page;
- ``applicant``: what the applicant sees with case number + query code;
- ``timeline``: a case's trail entries as a viewer may read them (the event registry's audiences);
- ``supervision``: the clock panel and the overdue list, coloured by the one rule (``workflow.clock``);
- ``permissions``: which actions a staff member may take on a case or task — the rules the services refuse by —
  and the one opinion-masking rule;
- ``statistics``: every indicator a supervisor sees (the dashboard, its CSV, ``GET /api/statistics*``, the year
  benchmark; docs/statistics.md), and a one-thing's limits with its 时限压减率;
- ``materials``, ``documents``, ``catalogue``, ``extensions``: the checklist and files, issued documents, the
  one-things and halls, extension requests.
"""

from ..provisional import open_cases_with_provisional_dates
from ..ratings import rating_state, rectification_get, rectification_list
from . import statistics
from .applicant import ApplicantView, OwnCase, case_applicant_view, own_case, own_cases
from .cases import (
    CaseSummary,
    CaseView,
    CorrectionRequest,
    DepartmentProgress,
    ItemNotApplicable,
    ItemResult,
    WindowLists,
    asked_fields,
    asked_materials,
    case_checklist,
    case_events,
    case_for_applicant,
    case_get,
    case_merged_form,
    case_summary,
    case_tasks,
    case_view,
    corrected_fields,
    correction_history,
    correction_item_label,
    correction_notice,
    diagram,
    window_worklist,
)
from .catalogue import (
    OneThingBrief,
    OneThingView,
    department_names,
    hall_list,
    one_thing_get,
    one_thing_list,
    one_things,
)
from .commitments import CheckRow, CommitmentRow, case_commitments, commitment_checks
from .delivery import DeliveryView, TripsView, case_trips, delivery_view
from .documents import DocumentRow, case_document, case_documents, document_content, document_verification
from .drafts import DraftFile, DraftView, draft_precheck, draft_view, own_drafts
from .extensions import extension_request_list, extension_request_view
from .licences import LicenceCheck, mask_name
from .materials import (
    INTAKE_STATUS_LABELS,
    IntakeRow,
    Material,
    MaterialGroup,
    MaterialsBlock,
    checklist,
    intake_record,
    material_file_content,
    material_groups,
    missing_required_materials,
    unknown_materials,
)
from .materials import material_file_get as _material_file_get
from .permissions import ACTION_CHOICES, APPLICANT_ACTION_CHOICES, Action, Me, Viewer, allowed_actions, me
from .precheck import Precheck, Prefilled, Problem, precheck, prefill
from .search import CaseQuery, SearchPage, case_search
from .sms import SmsRow, sms_counts, sms_outbox, sms_row
from .statistics import one_thing_limits, rating_statistics
from .supervision import ClockView, ExtensionRequestRow, notification_list
from .tasks import (
    COUNT_CAP,
    POST_REVIEW_FILTERS,
    TaskPage,
    TaskRow,
    inbox,
    overdue_count,
    overdue_tasks,
    post_review_pending_count,
    reassign_candidates,
    recent_completed_tasks,
    task_counts,
    task_get,
    task_list,
    task_page,
    task_row_get,
)
from .timeline import TimelineRow


def material_file_get(*, user, public_id):
    """One material file, for whoever may see its case; anyone else gets the same 404 as for an unknown id."""
    return _material_file_get(user=user, public_id=public_id, case_get=case_get)


def case_material_files(*, user, case_no: str) -> tuple:
    """A case's files by material for whoever may see the case (``case_get``): the window, supervisors and
    administrators, and reviewers of a department with a task on the case."""
    case = case_get(user=user, case_no=case_no)
    return case, material_groups(case, case_checklist(case))


__all__ = [
    "ACTION_CHOICES",
    "APPLICANT_ACTION_CHOICES",
    "COUNT_CAP",
    "INTAKE_STATUS_LABELS",
    "POST_REVIEW_FILTERS",
    "Action",
    "ApplicantView",
    "CaseQuery",
    "CaseSummary",
    "CaseView",
    "CheckRow",
    "ClockView",
    "CommitmentRow",
    "CorrectionRequest",
    "DeliveryView",
    "DepartmentProgress",
    "DocumentRow",
    "DraftFile",
    "DraftView",
    "ExtensionRequestRow",
    "IntakeRow",
    "ItemNotApplicable",
    "ItemResult",
    "LicenceCheck",
    "Material",
    "MaterialGroup",
    "MaterialsBlock",
    "Me",
    "OneThingBrief",
    "OneThingView",
    "OwnCase",
    "Precheck",
    "Prefilled",
    "Problem",
    "SearchPage",
    "SmsRow",
    "TaskPage",
    "TaskRow",
    "TimelineRow",
    "TripsView",
    "Viewer",
    "WindowLists",
    "allowed_actions",
    "asked_fields",
    "asked_materials",
    "case_applicant_view",
    "case_checklist",
    "case_commitments",
    "case_document",
    "case_documents",
    "case_events",
    "case_for_applicant",
    "case_get",
    "case_material_files",
    "case_merged_form",
    "case_search",
    "case_summary",
    "case_tasks",
    "case_trips",
    "case_view",
    "checklist",
    "commitment_checks",
    "corrected_fields",
    "correction_history",
    "correction_item_label",
    "correction_notice",
    "delivery_view",
    "department_names",
    "diagram",
    "document_content",
    "document_verification",
    "draft_precheck",
    "draft_view",
    "extension_request_list",
    "extension_request_view",
    "hall_list",
    "inbox",
    "intake_record",
    "mask_name",
    "material_file_content",
    "material_file_get",
    "material_groups",
    "me",
    "missing_required_materials",
    "notification_list",
    "one_thing_get",
    "one_thing_limits",
    "one_thing_list",
    "one_things",
    "open_cases_with_provisional_dates",
    "overdue_count",
    "overdue_tasks",
    "own_case",
    "own_cases",
    "own_drafts",
    "post_review_pending_count",
    "precheck",
    "prefill",
    "rating_state",
    "rating_statistics",
    "reassign_candidates",
    "recent_completed_tasks",
    "rectification_get",
    "rectification_list",
    "sms_counts",
    "sms_outbox",
    "sms_row",
    "statistics",
    "task_counts",
    "task_get",
    "task_list",
    "task_page",
    "task_row_get",
    "unknown_materials",
    "window_worklist",
]
