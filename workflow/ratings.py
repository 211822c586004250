"""好差评 reads: a case's rating for its applicant and the rectification inbox. The statistics (好评率,
整改按时率) are ``workflow.statistics.rating_statistics``, defined in docs/statistics.md.
"""

from __future__ import annotations

from django.db.models import QuerySet

from . import halls
from .access import require_role
from .errors import NotFound
from .lifecycle import CaseStatus
from .models import (
    Case,
    Rating,
    RectificationOrder,
    RectificationState,
    StaffRole,
)

# A rating is given once the service is over: concluded, or refused at the window (不予受理 ends the case too).
RATEABLE_STATES = frozenset({CaseStatus.CONCLUDED, CaseStatus.NOT_ACCEPTED})


def current_rating(case: Case) -> Rating | None:
    return (
        Rating.objects.filter(case=case, superseded_by__isnull=True)
        .select_related("rectification")
        .order_by("-round")
        .first()
    )


def rating_state(case: Case) -> dict:
    """What the applicant's status page shows about rating: the current rating, its rectification, and
    whether a (re-)rating is possible now."""
    rating = current_rating(case)
    order = getattr(rating, "rectification", None) if rating else None
    rectified = order is not None and order.state == RectificationState.DONE
    return {
        "can_rate": case.status in RATEABLE_STATES and (rating is None or rectified),
        "level": rating.level if rating else None,
        "level_label": rating.get_level_display() if rating else "",
        "rated_at": rating.created_at if rating else None,
        "rectification": None
        if order is None
        else {
            "state": order.state,
            "state_label": order.get_state_display(),
            "due_date": order.due_date,
            "resolution": order.resolution,
        },
    }


def rectification_list(*, user, state: str | None = RectificationState.OPEN) -> QuerySet[RectificationOrder]:
    """Supervisors (and administrators) see every order, a reviewer their department's; staff bound to a hall
    (收受分离) only the orders of cases their hall sees (``halls.case_scope``)."""
    staff = require_role(user, StaffRole.REVIEWER, StaffRole.SUPERVISOR, StaffRole.ADMINISTRATOR)
    orders = RectificationOrder.objects.select_related("case", "case__one_thing", "rating", "department")
    orders = scoped_orders(orders, staff)
    if state:
        orders = orders.filter(state=state)
    return orders.order_by("due_date", "id")


def scoped_orders(orders: QuerySet[RectificationOrder], staff) -> QuerySet[RectificationOrder]:
    """The orders ``staff`` may see and resolve: their department's (reviewers), their hall's cases' (bound staff)."""
    if staff.role == StaffRole.REVIEWER:
        orders = orders.filter(department_id=staff.department_id)
    scope = halls.case_scope(staff, "case__")
    if scope is not None:
        orders = orders.filter(scope)
    return orders


def rectification_get(*, user, order_id: int) -> RectificationOrder:
    order = rectification_list(user=user, state=None).filter(pk=order_id).first()
    if order is None:
        raise NotFound("未找到该整改工单")
    return order
