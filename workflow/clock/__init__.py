"""The legal clock (法定时限 / 承诺时限): deadlines, pauses, supervision states. See docs/clock.md.

Every date here comes from the working-day calendar (`workflow.calendar`). This package holds the rules and
the two hooks the engine's write path calls, one module per concept; the services that stop, extend and sweep
live in `workflow.services.clock`.

- ``phases``: which case statuses run, hold or end the clock; the supervision states;
- ``calendar_cache``: the write path's calendar (a year in one query, in the shared cache);
- ``limits``: a case's limits in working days, from its composition version (``workflow.compositions``);
- ``deadlines``: due dates of cases and tasks;
- ``pauses``: stopping and resuming the case clock;
- ``hooks``: what the engine's write path calls (below);
- ``supervision``: the one supervision rule, for tasks and cases;
- ``notifications``: the supervision notifications a staff member reads.

- ``on_transition(step, name)`` — from ``engine._apply_lifecycle``, after the case took an edge: acceptance
  starts the case clock (from receipt when the window was late: Art. 32), a correction notice stops it, the
  resubmission resumes it, a decision ends it. It only changes the case in memory (plus the pause row);
  ``persist_step`` writes the case row, including ``row_fields(case)``.
- ``on_persist(step, new_rows)`` — from ``engine.persist_step`` before the new task rows are inserted: gives
  each new task its limit and due dates, and registers the instance's waiting BPMN timers as due rows.

Both stay inside the lifecycle's statement budget: the calendar loads a year in one query, the item limits
come from the case's pinned composition version (cached per process), and a model without timers costs nothing.

A due date is a *date*: the last working day on which acting is in time (calendar convention). A stored due
date is exact while the clock runs; while a pause is open the real deadline moves one working day later for
each working day stopped, so the supervision state is "paused" unless the deadline had already passed when
the pause began (a late pause cannot save a missed deadline).
"""

from .calendar_cache import CALENDAR_CACHE_SECONDS, CachedSource, OneQuerySource, forget_calendar_year, working_calendar
from .deadlines import (
    CLOCK_FIELDS,
    TASK_DUE_FIELDS,
    Deadlines,
    case_pauses,
    deadlines,
    extension_days,
    refresh_open_tasks,
    row_fields,
    set_case_deadlines,
    set_task_deadlines,
    task_start,
)
from .hooks import RESUMING_EDGES, STOPPING_EDGES, on_persist, on_transition, record_deemed_acceptance
from .limits import Limits, limits_of, warning_days, warning_share
from .notifications import notifications_for
from .pauses import resume_clock, stop_clock
from .phases import DEEMED_ACCEPTANCE_BASIS, FINISHED, HELD, RUNNING, SYSTEM_ACTOR, Supervision
from .supervision import (
    case_clock,
    case_supervision,
    stopped_before,
    supervision_label,
    task_supervision,
    tasks_overdue,
    today,
    working_days_used,
)

__all__ = [
    "CALENDAR_CACHE_SECONDS",
    "CLOCK_FIELDS",
    "DEEMED_ACCEPTANCE_BASIS",
    "FINISHED",
    "HELD",
    "RESUMING_EDGES",
    "RUNNING",
    "STOPPING_EDGES",
    "SYSTEM_ACTOR",
    "TASK_DUE_FIELDS",
    "CachedSource",
    "Deadlines",
    "Limits",
    "OneQuerySource",
    "Supervision",
    "case_clock",
    "case_pauses",
    "case_supervision",
    "deadlines",
    "extension_days",
    "forget_calendar_year",
    "limits_of",
    "notifications_for",
    "on_persist",
    "on_transition",
    "record_deemed_acceptance",
    "refresh_open_tasks",
    "resume_clock",
    "row_fields",
    "set_case_deadlines",
    "set_task_deadlines",
    "stop_clock",
    "stopped_before",
    "supervision_label",
    "task_start",
    "task_supervision",
    "tasks_overdue",
    "today",
    "warning_days",
    "warning_share",
    "working_calendar",
    "working_days_used",
]
