"""Who may open which screen. Roles come from workflow.access; the screens only turn them into HTTP answers.

- anonymous → the login page (``login_required``);
- a logged-in user with the wrong role → 403 (``PermissionDenied``);
- something the user may not know exists (another department's task, a case without their department) → 404,
  raised by the selectors as ``NotFound`` and turned into ``Http404`` by :func:`domain_errors`.
"""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as HttpForbidden
from django.http import Http404

from workflow.errors import NotFound, PermissionDenied
from workflow.labels import StaffRole
from workflow.selectors import Viewer

WINDOW = (StaffRole.WINDOW,)
SUPERVISORS = (StaffRole.SUPERVISOR, StaffRole.ADMINISTRATOR)
ANY_STAFF = tuple(StaffRole.values)


def domain_errors(view):
    """NotFound → 404 and PermissionDenied → 403, wherever a service or selector raises them."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except NotFound as exc:
            raise Http404(exc.message) from None
        except PermissionDenied as exc:
            raise HttpForbidden(exc.message) from None

    return wrapped


def staff_view(*roles: str):
    """A screen for staff with one of ``roles``; also attaches ``request.staff``."""
    allowed = set(roles or ANY_STAFF)

    def decorate(view):
        @login_required
        @domain_errors
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            staff = Viewer.of(request.user).staff
            if staff is None or staff.role not in allowed:
                raise HttpForbidden("无权访问此页面")
            request.staff = staff
            return view(request, *args, **kwargs)

        return wrapped

    return decorate


def home_url_for(user) -> str:
    """Where a user lands after logging in: the screen of their role."""
    staff = Viewer.of(user).staff
    if staff is None:
        return "web:no-role"
    return {
        StaffRole.WINDOW: "web:window-home",
        StaffRole.REVIEWER: "web:inbox",
        StaffRole.SUPERVISOR: "web:dashboard",
        StaffRole.ADMINISTRATOR: "web:dashboard",
    }[staff.role]
