"""好差评: the applicant rates a concluded case; a bad rating opens a rectification work order."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .. import calendar
from ..access import require_role
from ..compositions import composition_of
from ..errors import AlreadyRated, InvalidTransition, NotFound, RectificationClosed, ValidationFailed
from ..events import EventKind, case_event
from ..models import (
    DIMENSIONS,
    Case,
    CaseEvent,
    Decision,
    HumanTask,
    Rating,
    RatingLevel,
    RectificationOrder,
    RectificationState,
    StaffRole,
)
from ..ratings import RATEABLE_STATES, scoped_orders
from .engine import lock_case


@transaction.atomic
def case_rate(*, case_no: str, level: int, dimensions: dict[str, int] | None = None, comment: str = "") -> Rating:
    """The applicant's rating (the caller has checked the query code).

    Once per case; after a rectification order of the current rating is done the applicant may rate once
    more, and the new rating supersedes the old one. 不满意 / 非常不满意 open a rectification order for the
    responsible department, due ``ONETHING_RECTIFICATION_DAYS`` working days after the rating.
    """
    dimensions = dimensions or {}
    _check_rating(level, dimensions)
    case = lock_case(case_no=case_no)
    if case.status not in RATEABLE_STATES:
        raise InvalidTransition("办件办结后才能评价")
    current = (
        Rating.objects.filter(case=case, superseded_by__isnull=True)
        .select_related("rectification")
        .order_by("-round")
        .first()
    )
    if current is not None and not _rectified(current):
        raise AlreadyRated()
    rating = Rating.objects.create(
        case=case,
        round=current.round + 1 if current else 1,
        level=level,
        dimensions=dimensions,
        comment=comment.strip(),
    )
    events = [case_event(case, EventKind.RATED, None, level=level, round=rating.round)]
    if current is not None:
        current.superseded_by = rating
        current.save(update_fields=["superseded_by"])
    if rating.is_bad:
        today = timezone.localdate()
        order = RectificationOrder.objects.create(
            case=case,
            rating=rating,
            department_id=responsible_department(case),
            due_date=calendar.add_working_days(today, settings.ONETHING_RECTIFICATION_DAYS),
        )
        events.append(
            case_event(
                case,
                EventKind.RECTIFICATION_OPENED,
                "系统",
                department=order.department_id,
                order=order.pk,
                due_date=order.due_date.isoformat(),
            )
        )
    CaseEvent.objects.bulk_create(events)
    return rating


def _rectified(rating: Rating) -> bool:
    order = getattr(rating, "rectification", None)
    return order is not None and order.state == RectificationState.DONE


def _check_rating(level, dimensions) -> None:
    errors: dict[str, list[str]] = {}
    if level not in RatingLevel.values or isinstance(level, bool):
        errors["level"] = ["评价等级应为 1（非常不满意）到 5（非常满意）"]
    if not isinstance(dimensions, dict):
        errors["dimensions"] = ["分项评价应为对象：分项编码 → 等级"]
    else:
        for name, value in dimensions.items():
            if name not in DIMENSIONS:
                errors[f"dimensions.{name}"] = [f"未知的评价分项，可选：{'、'.join(DIMENSIONS)}"]
            elif value not in RatingLevel.values or isinstance(value, bool):
                errors[f"dimensions.{name}"] = ["分项等级应为 1 到 5"]
    if errors:
        raise ValidationFailed(field_errors=errors)


def responsible_department(case: Case) -> str:
    """Who rectifies a bad rating (谁办理、谁负责):

    1. when the unified result is 不予许可: the department that rejected (the first, if several);
    2. otherwise the one-thing's lead department (牵头部门), which answers for the bundle as a whole;
    3. without one, the department that decided last.
    """
    reviews = HumanTask.objects.filter(case=case, department__isnull=False).exclude(completed_at=None)
    if case.outcome == "rejected":
        rejecting = reviews.filter(decision=Decision.REJECT).order_by("completed_at", "id").first()
        if rejecting is not None:
            return rejecting.department_id
    lead = composition_of(case).lead_department
    if lead:
        return lead
    last = reviews.order_by("-completed_at", "-id").first()
    if last is not None:
        return last.department_id
    departments = case.process_version.departments
    if not departments:
        raise InvalidTransition("无法确定差评的责任部门")
    return departments[0]


@transaction.atomic
def rectification_resolve(*, user, order_id: int, resolution: str) -> RectificationOrder:
    """The responsible department (or a supervisor) records what was rectified; the applicant may re-rate."""
    staff = require_role(user, StaffRole.REVIEWER, StaffRole.SUPERVISOR, StaffRole.ADMINISTRATOR)
    if not resolution.strip():
        raise ValidationFailed(field_errors={"resolution": ["请填写整改情况"]})
    orders = RectificationOrder.objects.select_for_update(of=("self",)).select_related("case", "department")
    order = scoped_orders(orders, staff).filter(pk=order_id).first()
    if order is None:
        raise NotFound("未找到该整改工单")
    if order.state == RectificationState.DONE:
        raise RectificationClosed()
    order.state = RectificationState.DONE
    order.resolution = resolution.strip()
    order.resolved_at = timezone.now()
    order.resolved_by = user
    order.save(update_fields=["state", "resolution", "resolved_at", "resolved_by"])
    case_event(
        order.case,
        EventKind.RECTIFICATION_RESOLVED,
        user,
        department=order.department_id,
        order=order.pk,
        on_time=timezone.localdate(order.resolved_at) <= order.due_date,
    ).save()
    return order
