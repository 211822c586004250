"""Provisional (预计) due dates: which open cases carry one. See docs/clock.md "Provisional dates".

A due date is provisional when it was counted through a year whose official holiday arrangement is not entered
yet (``workflow.calendar``); the rows say so (``Case.promised_due_date_provisional``,
``Case.statutory_due_date_provisional``, ``HumanTask.due_date_provisional``) until the arrangement is entered
and ``services.due_dates_recompute`` counts them again.
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q

from . import halls
from .access import staff_of
from .clock import FINISHED
from .models import Case, HumanTask, HumanTaskState

__all__ = ["carries_provisional_dates", "open_cases_with_provisional_dates"]


def carries_provisional_dates() -> Q:
    """A filter on Case: one of its own due dates, or an open task's, is provisional."""
    tasks = HumanTask.objects.filter(case=OuterRef("pk"), state=HumanTaskState.OPEN, due_date_provisional=True)
    return Q(promised_due_date_provisional=True) | Q(statutory_due_date_provisional=True) | Exists(tasks)


def open_cases_with_provisional_dates(*, user=None) -> int:
    """How many open cases carry a provisional date (the supervisor's dashboard). ``user``: a supervisor bound
    to a hall counts that hall's cases (收受分离), as on the rest of the dashboard."""
    cases = Case.objects.exclude(status__in=FINISHED).filter(carries_provisional_dates())
    scope = halls.case_scope(staff_of(user)) if user is not None else None
    return (cases if scope is None else cases.filter(scope)).count()
