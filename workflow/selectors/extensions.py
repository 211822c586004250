"""延期申请 for those who decide them (supervisors, administrators)."""

from __future__ import annotations

from .. import halls
from ..access import staff_of
from ..errors import PermissionDenied
from ..models import ExtensionRequest, ExtensionRequestState, StaffRole
from .catalogue import department_names
from .rows import Rows
from .supervision import ExtensionRequestRow, extension_request_row


def extension_request_list(*, user, state: str | None = ExtensionRequestState.PENDING) -> Rows:
    """Waiting requests oldest first, else the latest decisions first; a supervisor bound to a hall decides its
    own cases' requests (收受分离)."""
    staff = staff_of(user)
    if staff is None or staff.role not in (StaffRole.SUPERVISOR, StaffRole.ADMINISTRATOR):
        raise PermissionDenied()
    requests = ExtensionRequest.objects.select_related(
        "case", "case__one_thing", "department", "requested_by", "decided_by"
    ).defer(*(f"case__{name}" for name in ("process_state", "form_data")))
    scope = halls.case_scope(staff, "case__")
    if scope is not None:
        requests = requests.filter(scope)
    if state:
        requests = requests.filter(state=state)
    else:
        requests = requests.exclude(state=ExtensionRequestState.PENDING)
    order = ("requested_at", "id") if state == ExtensionRequestState.PENDING else ("-decided_at", "-id")
    names = department_names()
    return Rows(requests.order_by(*order), lambda request: extension_request_row(request, names))


def extension_request_view(request: ExtensionRequest) -> ExtensionRequestRow:
    """A request a service just wrote, as the lists show it."""
    return extension_request_row(request, department_names())
