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
from .write_batch import WriteBatch


@dataclass
class Step:
    """One service call's changes: the case (locked), its restored process instance (None for changes that run
    no engine step), who acts, the open task rows it loaded (those it acts on), the rows it completed, the trail
    entries it adds and its writes, sent together (``writes``: one statement on PostgreSQL).

    ``ready_before``: the engine's ready tasks when the step began. The open task rows are the projection of the
    engine's ready user tasks, so the rows a step opens and cancels are what the engine's ready set gained and
    lost — the step needs no read of the task rows to know them.
    """

    case: Case
    instance: bpmn.ProcessInstance | None
    actor: object | None
    open_tasks: list[HumanTask] = field(default_factory=list)
    completed: list[HumanTask] = field(default_factory=list)
    events: list[CaseEvent] = field(default_factory=list)
    # Per-step memo of the legal clock (calendar, limits): loaded at most once per step.
    clock_memo: Any = None
    ready_before: frozenset[str] | None = None  # None: the restored instance's (a new instance passes an empty set)
    writes: WriteBatch = field(default_factory=WriteBatch)

    def __post_init__(self) -> None:
        if self.ready_before is None:
            self.ready_before = self.instance.ready_task_ids() if self.instance is not None else frozenset()

    def event(self, kind: EventKind | str, *, department: str = "", nobody: str = "申请人", **data) -> None:
        self.events.append(case_event(self.case, kind, self.actor, department=department, nobody=nobody, **data))

    def save_events(self) -> None:
        """Send the step's writes with its trail entries (one chain-head lock, one statement on PostgreSQL), for
        changes without an engine step."""
        self.writes.append_events(self.events)
        self.writes.send()
