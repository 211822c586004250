"""Chinese labels for what the timeline and the applicant see, shared by the API and the hall's screens."""

from __future__ import annotations

from .events import EventKind, spec


def event_kind_seen_by(event, department: str | None) -> str:
    """The event's kind as a reviewer of ``department`` may see it (None: staff who see every decision)."""
    if department is None or not spec(event.kind).department_only or event.department == department:
        return event.kind
    return EventKind.REVIEW_PROGRESS


OUTCOME_LABELS = {"approved": "准予许可", "rejected": "不予许可", "not_accepted": "不予受理"}
PROGRESS_LABELS = {"pending": "待审查", "reviewing": "审查中", "done": "已完成"}


def event_label(event, department: str | None = None) -> str:
    """A trail event as the API's timelines label it: the kind, and the task it concerns if any."""
    task = event.data.get("task")
    kind = event_kind_seen_by(event, department)
    return spec(kind).label + (f"：{task}" if task else "")
