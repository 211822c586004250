"""What one service call does to a case, persisted together: the ``Step``.

Below the services and the legal clock on purpose: the engine's write path (``services/engine.py``) builds and
persists steps, the clock's hooks (``clock.hooks``) read and extend them, and both type against this class.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import bpmn

from .events import EventKind, case_event
from .models import Case, CaseEvent, HumanTask


@dataclass
class Step:
    """One service call's changes: the case (locked), its restored process instance (None for changes that run
    no engine step), who acts, the open task rows as loaded, the rows it completed and the trail entries it adds.
    """

    case: Case
    instance: bpmn.ProcessInstance | None
    actor: object | None
    open_tasks: list[HumanTask] = field(default_factory=list)
    completed: list[HumanTask] = field(default_factory=list)
    events: list[CaseEvent] = field(default_factory=list)
    # Per-step memo of the legal clock (calendar, limits): loaded at most once per step.
    clock_memo: Any = None

    def event(self, kind: EventKind | str, *, department: str = "", nobody: str = "申请人", **data) -> None:
        self.events.append(case_event(self.case, kind, self.actor, department=department, nobody=nobody, **data))

    def save_events(self) -> None:
        """Append the entries in one batch (one chain-head lock, one INSERT), for changes without an engine step."""
        CaseEvent.objects.bulk_create(self.events)
