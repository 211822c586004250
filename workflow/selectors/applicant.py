"""What the applicant sees with case number + query code: ``POST /api/status`` and the status page."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from .. import ratings
from ..compositions import composition_of
from ..lifecycle import CaseStatus
from ..models import Case, Decision
from .cases import (
    CaseSummary,
    CorrectionRequest,
    DepartmentProgress,
    ItemNotApplicable,
    ItemResult,
    case_events,
    case_summary,
    case_tasks,
    correction_notice,
    item_results,
    items_not_applicable,
    progress_rows,
)
from .catalogue import department_names
from .delivery import DeliveryView, case_trips, delivery_view
from .documents import DocumentRow, case_documents
from .materials import ApplicantFile, applicant_files
from .permissions import Viewer, applicant_actions
from .timeline import TimelineRow, case_timeline

# Department opinions reach the applicant only with the unified feedback or the correction notice, never
# department by department.
FEEDBACK_STATES = frozenset(
    {CaseStatus.APPROVED, CaseStatus.REJECTED, CaseStatus.CONCLUDED, CaseStatus.CORRECTION_REQUIRED}
)


@dataclass(frozen=True)
class ApplicantView(CaseSummary):
    refusal_reasons: str
    departments: list[DepartmentProgress]
    corrections: list[CorrectionRequest]
    results: list[ItemResult]
    items_not_applicable: list[ItemNotApplicable]  # what a correction made stop applying, and why
    timeline: list[TimelineRow]  # staff names stay inside the hall: what happened and when, not who did it
    promised_date: dt.date | None
    delivery: DeliveryView  # where the result is (结果送达)
    trips: int  # 跑动次数
    clock: object  # supervision.ClockView (without the hall's extension requests)
    documents: list[DocumentRow]
    files: list[ApplicantFile]
    rating: dict
    allowed_actions: list[str]  # correct, withdraw: what the applicant may do now


def case_applicant_view(case: Case) -> ApplicantView:
    from .supervision import case_clock_view

    viewer = Viewer.applicant()
    names = department_names()
    tasks = case_tasks(case)
    composition = composition_of(case)
    events = case_events(case)
    return ApplicantView(
        # The one-thing as the case was opened (its pinned version's name).
        **{**case_summary(case).__dict__, "one_thing_name": composition.name},
        refusal_reasons=next((t.opinion for t in tasks if t.lane == "window" and t.decision == Decision.REFUSE), ""),
        departments=progress_rows(case, tasks, viewer, names, opinions=case.status in FEEDBACK_STATES),
        corrections=correction_notice(case, tasks) if case.status == CaseStatus.CORRECTION_REQUIRED else [],
        results=item_results(case, tasks, viewer),
        items_not_applicable=items_not_applicable(case, tasks),
        timeline=case_timeline(events, viewer, names),
        promised_date=case.promised_due_date,
        delivery=delivery_view(case, tasks),
        trips=case_trips(events).count,
        clock=case_clock_view(case, tasks, viewer, names),
        documents=case_documents(case),
        files=applicant_files(case, composition.materials),
        rating=ratings.rating_state(case),
        allowed_actions=sorted(applicant_actions(case)),
    )
