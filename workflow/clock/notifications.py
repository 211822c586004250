"""The supervision notifications a staff member reads."""

from __future__ import annotations

from django.db import models

from .. import halls
from ..access import staff_of
from ..errors import PermissionDenied
from ..models import Notification, StaffRole


def notifications_for(*, user) -> models.QuerySet[Notification]:
    """A user's supervision notifications: a reviewer's department's, the window's or the supervisors'
    role's; an administrator sees all. Staff bound to a hall (收受分离) only those of cases their hall sees."""
    staff = staff_of(user)
    if staff is None:
        raise PermissionDenied()
    notes = Notification.objects.select_related("case").only(
        "id", "kind", "case__case_no", "task_id", "department_id", "text", "created_at", "sent_at"
    )
    if staff.role == StaffRole.REVIEWER:
        notes = notes.filter(department_id=staff.department_id)
    elif staff.role != StaffRole.ADMINISTRATOR:
        notes = notes.filter(role=staff.role, department__isnull=True)
    scope = halls.case_scope(staff, "case__")
    if scope is not None:
        notes = notes.filter(scope)
    return notes.order_by("-created_at", "-id")
