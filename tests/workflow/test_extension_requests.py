"""延期申请: the two-step extension (workflow/services/extensions.py); the screens are in tests/web."""

import pytest

from tests.workflow.helpers import decide, open_and_accept
from workflow import services
from workflow.errors import Conflict, InvalidTransition, PermissionDenied
from workflow.models import CaseEvent, DeadlineExtension, ExtensionRequest

pytestmark = pytest.mark.django_db


def test_approval_is_checked_again_when_it_is_given(users):
    """The case moved on while the request waited: approving it is refused, refusing it still works."""
    case = open_and_accept(users)
    request = services.case_extension_request(user=users["tax1"], case_no=case.case_no, days=2, reason="核查")
    for department in ("market_regulation", "public_security", "tax"):
        decide(users, case, department)
    with pytest.raises(InvalidTransition):
        services.extension_request_decide(user=users["supervisor1"], request_id=request.pk, approve=True)
    request.refresh_from_db()
    assert request.state == "pending" and not DeadlineExtension.objects.filter(case=case).exists()
    services.extension_request_decide(user=users["supervisor1"], request_id=request.pk, approve=False, note="已办结")
    request.refresh_from_db()
    assert request.state == "rejected"
    assert CaseEvent.objects.get(case=case, kind="extension_rejected").data == {"days": 2, "note": "已办结"}


def test_only_supervisors_decide_and_only_once(users):
    case = open_and_accept(users)
    request = services.case_extension_request(user=users["window1"], case_no=case.case_no, days=1, reason="核查")
    assert request.department_id is None  # the window asked
    for username in ("window1", "tax1"):
        with pytest.raises(PermissionDenied):
            services.extension_request_decide(user=users[username], request_id=request.pk, approve=True)
    decided = services.extension_request_decide(user=users["admin"], request_id=request.pk, approve=True)
    assert decided.extension.approved_by == users["admin"] and decided.extension.requested_by == users["window1"]
    with pytest.raises(Conflict):
        services.extension_request_decide(user=users["supervisor1"], request_id=request.pk, approve=False, note="x")
    assert ExtensionRequest.objects.get(pk=request.pk).state == "approved"
