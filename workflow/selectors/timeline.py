"""A case's timeline as a viewer may read it: the trail entries of their audience, labelled by the registry."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ..events import EventKind, spec
from ..models import CaseEvent, Channel, Decision
from .permissions import Viewer


@dataclass(frozen=True)
class TimelineRow:
    at: dt.datetime
    kind: str  # the kind as this viewer reads it (another department's decision reads as review_progress)
    label: str
    department: str  # code (or window / applicant)
    department_name: str
    actor: str  # empty when the entry is the process's doing, and always for the applicant


def case_timeline(events: Iterable[CaseEvent], viewer: Viewer, names: Mapping[str, str]) -> list[TimelineRow]:
    """The entries ``viewer`` sees: the applicant only those for the applicant (and no staff names); a reviewer
    reads another department's decision entries as 部门审查进展 and task decisions without the decision."""
    applicant = viewer.staff is None
    rows = []
    for event in events:
        entry = spec(event.kind)
        if applicant and not entry.for_applicant:
            continue
        sees = viewer.sees_decisions_of(event.department)
        kind = event.kind if sees or not entry.department_only else str(EventKind.REVIEW_PROGRESS)
        rows.append(
            TimelineRow(
                at=event.created_at,
                kind=kind,
                label=_label(event, kind, shows_decision=sees and not applicant),
                department=event.department,
                department_name=names.get(event.department, event.department),
                actor="" if applicant or not entry.shows_actor else event.actor_label,
            )
        )
    return rows


def _label(event: CaseEvent, kind: str, *, shows_decision: bool) -> str:
    data = event.data or {}
    label = spec(kind).label
    if kind == EventKind.OPENED and data.get("channel") in (Channel.ONLINE, Channel.KIOSK):
        label = f"{Channel(data['channel']).label}申办：申请人提交"
    if kind == EventKind.REOPENED and (data.get("field_titles") or data.get("fields")):
        label += "：" + "、".join(data.get("field_titles") or data["fields"])
    elif data.get("task"):
        label += f"：{data['task']}"
    elif kind == EventKind.OPENED and isinstance(data.get("agent"), dict):
        label += f"（经办人{data['agent'].get('name', '')}凭授权委托书代为办理）"
    elif kind == EventKind.VISIT and data.get("reason_label"):
        label += f"：{data['reason_label']}" + ("（经办人）" if data.get("by") == "agent" else "")
    elif kind == EventKind.POST_STATUS and data.get("status_label"):
        label += f"：{data['status_label']}"
    elif kind == EventKind.HANDED_OVER and data.get("recipient"):
        recipient = data["recipient"]
        who = "经办人" if recipient.get("kind") == "agent" else "申请人"
        label += f"：{who}{recipient.get('name', '')}签收"
    decision = data.get("decision")
    if kind == EventKind.TASK_COMPLETED and shows_decision and decision in Decision.values:
        label += f"（{Decision(decision).label}）"
    return label
