"""Who may do what: roles come from the Staff row; a superuser without one counts as administrator."""

from __future__ import annotations

from .errors import PermissionDenied
from .models import Staff, StaffRole


def staff_of(user) -> Staff | None:
    if user is None or not user.is_authenticated:
        return None
    try:
        return user.staff
    except Staff.DoesNotExist:
        if user.is_superuser:
            return Staff(user=user, role=StaffRole.ADMINISTRATOR)
        return None


def role_of(user) -> str | None:
    staff = staff_of(user)
    return staff.role if staff else None


def require_role(user, *roles: str) -> Staff:
    staff = staff_of(user)
    if staff is None or staff.role not in roles:
        raise PermissionDenied()
    return staff


def sees_all_departments(user) -> bool:
    return role_of(user) in {StaffRole.SUPERVISOR, StaffRole.ADMINISTRATOR}
