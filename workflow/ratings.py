"""好差评 reads: a case's rating for its applicant, the rectification inbox, and the statistics.

好评率 = ratings at 非常满意, 满意 or 基本满意 / all ratings, counting each case's current rating (a
re-rating after rectification replaces the first). 整改按时率 = orders resolved on or before their due date /
orders that are due (resolved, or still open past the due date); orders open and not yet due are not counted.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, F, QuerySet
from django.utils import timezone

from . import halls
from .access import require_role
from .errors import NotFound
from .lifecycle import CaseStatus
from .models import (
    GOOD_LEVELS,
    Case,
    Rating,
    RatingLevel,
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
    """Supervisors (and administrators) see every order, a reviewer their department's."""
    staff = require_role(user, StaffRole.REVIEWER, StaffRole.SUPERVISOR, StaffRole.ADMINISTRATOR)
    orders = RectificationOrder.objects.select_related("case", "case__one_thing", "rating", "department")
    if staff.role == StaffRole.REVIEWER:
        orders = orders.filter(department_id=staff.department_id)
    if state:
        orders = orders.filter(state=state)
    return orders.order_by("due_date", "id")


def rectification_get(*, user, order_id: int) -> RectificationOrder:
    order = rectification_list(user=user, state=None).filter(pk=order_id).first()
    if order is None:
        raise NotFound("未找到该整改工单")
    return order


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def rating_statistics(*, user, today: dt.date | None = None) -> dict:
    staff = require_role(user, StaffRole.SUPERVISOR, StaffRole.ADMINISTRATOR)
    today = today or timezone.localdate()
    ratings, orders = Rating.objects.all(), RectificationOrder.objects.all()
    scope = halls.case_scope(staff, "case__")
    if scope is not None:  # 收受分离: a supervisor bound to a hall sees its own cases' ratings
        ratings, orders = ratings.filter(scope), orders.filter(scope)
    counts = dict(
        ratings.filter(superseded_by__isnull=True)
        .values_list("level")
        .annotate(n=Count("id"))
        .values_list("level", "n")
    )
    total = sum(counts.values())
    good = sum(n for level, n in counts.items() if level in GOOD_LEVELS)
    done = orders.filter(state=RectificationState.DONE)
    on_time = done.filter(resolved_at__date__lte=F("due_date")).count()
    done_count = done.count()
    open_count = orders.filter(state=RectificationState.OPEN).count()
    overdue = orders.filter(state=RectificationState.OPEN, due_date__lt=today).count()
    return {
        "ratings": total,
        "good": good,
        "good_rate": _rate(good, total),
        "by_level": [
            {"level": level.value, "label": level.label, "count": counts.get(level.value, 0)} for level in RatingLevel
        ],
        "rectifications": {
            "total": done_count + open_count,
            "open": open_count,
            "overdue": overdue,
            "done": done_count,
            "on_time": on_time,
            "on_time_rate": _rate(on_time, done_count + overdue),
        },
    }
