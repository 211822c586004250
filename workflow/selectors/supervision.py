"""The legal clock as the views show it: a case's clock panel, the overdue list and the notifications — every
colour from the one supervision rule (``workflow.clock``: yellow = the task is overdue, red = its case is past its
promised date, paused while the clock is stopped, warning near the due date)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from .. import case_facts, clock
from ..models import (
    SPECIAL_PROCEDURES,
    Case,
    ClockPause,
    ExtensionRequest,
    ExtensionRequestState,
    HumanTask,
    Notification,
)
from .permissions import Action, Facts, Viewer, allowed
from .rows import Rows


@dataclass(frozen=True)
class PauseRow:
    id: int
    kind: str
    kind_label: str
    reason: str
    department: str  # the department that started it; empty for the window and for the correction wait
    department_name: str
    started_at: dt.datetime
    ended_at: dt.datetime | None
    procedure: bool  # a special procedure (听证、检验检测…), ended by hand
    may_end: bool  # the viewer may end it now


@dataclass(frozen=True)
class ExtensionRow:
    days: int
    reason: str
    approved_by: str
    approved_at: dt.datetime


@dataclass(frozen=True)
class ExtensionRequestRow:
    id: int
    case_no: str
    one_thing_name: str
    promised_due_date: dt.date | None  # the case's, now
    promised_due_date_provisional: bool
    statutory_due_date: dt.date | None
    statutory_due_date_provisional: bool
    days: int
    reason: str
    department: str | None
    department_name: str
    requested_by: str  # username
    requested_by_name: str
    requested_at: dt.datetime
    state: str
    state_label: str
    decided_by: str | None
    decided_by_name: str
    decided_at: dt.datetime | None
    decision_note: str


@dataclass(frozen=True)
class ClockView:
    accepted_at: dt.datetime | None
    promised_due_date: dt.date | None
    promised_due_date_provisional: bool  # 预计: counted through a year without an official holiday arrangement
    statutory_due_date: dt.date | None
    statutory_due_date_provisional: bool
    working_days_used: int | None
    paused: bool
    supervision: str | None
    supervision_label: str
    deemed_accepted: bool
    pauses: list[PauseRow]
    extensions: list[ExtensionRow]
    requests: list[ExtensionRequestRow]  # staff only; the applicant's view leaves them out
    pending_request: ExtensionRequestRow | None

    @property
    def endable_pauses(self) -> list[PauseRow]:
        """The running special procedures the viewer may end."""
        return [pause for pause in self.pauses if pause.may_end]


def _name(user) -> str:
    return (user.get_full_name() or user.get_username()) if user is not None else ""


def extension_request_row(request: ExtensionRequest, names: Mapping[str, str]) -> ExtensionRequestRow:
    return ExtensionRequestRow(
        id=request.pk,
        case_no=request.case.case_no,
        one_thing_name=request.case.one_thing.name,
        promised_due_date=request.case.promised_due_date,
        promised_due_date_provisional=request.case.promised_due_date_provisional,
        statutory_due_date=request.case.statutory_due_date,
        statutory_due_date_provisional=request.case.statutory_due_date_provisional,
        days=request.days,
        reason=request.reason,
        department=request.department_id,
        department_name=names.get(request.department_id or "window", request.department_id or "综合窗口"),
        requested_by=request.requested_by.get_username(),
        requested_by_name=_name(request.requested_by),
        requested_at=request.requested_at,
        state=request.state,
        state_label=request.get_state_display(),
        decided_by=request.decided_by.get_username() if request.decided_by_id else None,
        decided_by_name=_name(request.decided_by) if request.decided_by_id else "",
        decided_at=request.decided_at,
        decision_note=request.decision_note,
    )


def case_clock_view(
    case: Case,
    tasks: list[HumanTask],
    viewer: Viewer,
    names: Mapping[str, str],
    *,
    facts: Facts | None = None,
) -> ClockView:
    """The case's clock (``clock.case_clock``: two queries and the calendar) as the viewer sees it: staff also
    get the extension requests (one more query) and which running procedures they may end."""
    data = clock.case_clock(case, tasks)
    staff = viewer.staff is not None
    requests: list[ExtensionRequestRow] = []
    if staff and not case_facts.known_none(case, "page_has_extension_requests"):
        rows = list(
            ExtensionRequest.objects.filter(case_id=case.pk)
            .select_related("requested_by", "decided_by")
            .order_by("requested_at", "id")
        )
        for row in rows:  # the case in hand, not read again with each request
            row.case = case
        requests = [extension_request_row(r, names) for r in rows]
    if staff and facts is not None:
        facts.pending_extension = any(r.state == ExtensionRequestState.PENDING for r in requests)
    if facts is not None:  # the running procedures, for allowed_actions' end_procedure (no second read)
        facts.procedures = [
            ClockPause(pk=p["id"], department_id=p["department"] or None)
            for p in data["pauses"]
            if p["kind"] in SPECIAL_PROCEDURES and p["ended_at"] is None
        ]
    pauses = []
    for p in data["pauses"]:
        procedure = p["kind"] in SPECIAL_PROCEDURES
        may_end = (
            staff
            and procedure
            and p["ended_at"] is None
            and allowed(
                Action.END_PROCEDURE, viewer, case, facts=facts, pause=ClockPause(department_id=p["department"] or None)
            )
        )
        pauses.append(
            PauseRow(
                **p,
                department_name=names.get(p["department"], "综合窗口") if p["department"] else "综合窗口",
                procedure=procedure,
                may_end=bool(may_end),
            )
        )
    return ClockView(
        accepted_at=data["accepted_at"],
        promised_due_date=data["promised_due_date"],
        promised_due_date_provisional=data["promised_due_date_provisional"],
        statutory_due_date=data["statutory_due_date"],
        statutory_due_date_provisional=data["statutory_due_date_provisional"],
        working_days_used=data["working_days_used"],
        paused=data["paused"],
        supervision=data["supervision"],
        supervision_label=data["supervision_label"],
        deemed_accepted=data["deemed_accepted"],
        pauses=pauses,
        extensions=[ExtensionRow(**e) for e in data["extensions"]],
        requests=requests,
        pending_request=next((r for r in requests if r.state == ExtensionRequestState.PENDING), None),
    )


@dataclass(frozen=True)
class NotificationRow:
    id: int
    kind: str
    kind_label: str
    case_no: str
    task_id: int | None
    department: str | None
    text: str
    created_at: dt.datetime
    sent_at: dt.datetime | None


def notification_list(*, user) -> Rows:
    """A user's supervision notifications (``clock.notifications_for``), newest first."""

    def row(note: Notification) -> NotificationRow:
        return NotificationRow(
            id=note.pk,
            kind=note.kind,
            kind_label=note.get_kind_display(),
            case_no=note.case.case_no,
            task_id=note.task_id,
            department=note.department_id,
            text=note.text,
            created_at=note.created_at,
            sent_at=note.sent_at,
        )

    return Rows(clock.notifications_for(user=user), row)
