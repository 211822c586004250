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
from .commitments import case_commitments
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
    commitments: list  # commitments.CommitmentRow: 告知承诺 and the checks of them


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
        commitments=case_commitments(case),
    )


# --------------------------------------------------------------------------- the signed-in applicant's own cases


@dataclass(frozen=True)
class OwnCase:
    """A case of the signed-in applicant (我的办件): what it is and where it stands, no query code needed."""

    case_no: str
    one_thing: str
    one_thing_name: str
    status: str
    status_label: str
    outcome: str  # approved / rejected / "" (no result yet)
    outcome_label: str
    channel: str
    channel_label: str
    opened_at: dt.datetime
    promised_due_date: dt.date | None
    concluded_at: dt.datetime | None
    needs_correction: bool


def own_cases(*, id_number: str) -> list[OwnCase]:
    """The cases whose applicant holds this ID number (verified by the session), newest first."""
    from ..labels import OUTCOME_LABELS

    rows = (
        Case.objects.filter(applicant_id_number=id_number)
        .select_related("one_thing")
        .only(
            "case_no",
            "one_thing__key",
            "one_thing__name",
            "status",
            "outcome",
            "channel",
            "opened_at",
            "promised_due_date",
            "concluded_at",
        )
        .order_by("-opened_at", "-id")[:200]
    )
    return [
        OwnCase(
            case_no=case.case_no,
            one_thing=case.one_thing.key,
            one_thing_name=case.one_thing.name,
            status=case.status,
            status_label=case.get_status_display(),
            outcome=case.outcome,
            outcome_label=OUTCOME_LABELS.get(case.outcome, ""),
            channel=case.channel,
            channel_label=case.get_channel_display(),
            opened_at=case.opened_at,
            promised_due_date=case.promised_due_date,
            concluded_at=case.concluded_at,
            needs_correction=case.status == CaseStatus.CORRECTION_REQUIRED,
        )
        for case in rows
    ]


def own_case(*, id_number: str, case_no: str) -> Case:
    """One of the applicant's own cases; another person's case is NotFound, exactly like one that does not exist."""
    from ..errors import NotFound

    case = Case.objects.select_related("one_thing", "process_version").filter(case_no=case_no).first()
    if case is None or not id_number or case.applicant_id_number != id_number:
        raise NotFound("未找到该办件")
    return case
