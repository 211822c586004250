"""收受分离 scoping holes closed (issue 18, medium): rectification orders and notifications are hall-scoped for staff
bound to a hall, like cases and tasks."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from tests.api.helpers import CaseRef, assert_error, get, post
from tests.api.test_cross_region import IDENTITY, client_of, staff  # noqa: F401  (fixtures)
from tests.conftest import DEPARTMENTS, REVIEWER_OF, hand_over
from workflow import services
from workflow.models import Notification, NotificationKind, RectificationOrder

pytestmark = pytest.mark.django_db


def _concluded_at_home(staff) -> CaseRef:  # noqa: F811
    from tests.api.test_cross_region import _service_body

    opened = services.case_open(user=staff["window1"], **_service_body())
    ref = CaseRef(opened.case.case_no, opened.query_code, opened.case.pk)
    services.case_accept(user=staff["window1"], case_no=ref.case_no, **IDENTITY)
    for department in DEPARTMENTS:
        services.human_task_complete(
            user=staff[REVIEWER_OF[department]], task_id=ref.task_id(department), decision="approve"
        )
    hand_over(staff["window1"], ref.case_no)
    return ref


@pytest.fixture
def bad_rating(staff) -> RectificationOrder:  # noqa: F811
    ref = _concluded_at_home(staff)
    body = {"case_no": ref.case_no, "query_code": ref.query_code, "level": 1, "comment": "申请人的个人意见"}
    assert post(APIClient(), "/api/status/rating", body, REMOTE_ADDR="203.0.113.41").status_code == 201
    return RectificationOrder.objects.get(case_id=ref.pk)


def test_another_halls_supervisor_and_reviewer_neither_list_nor_resolve_an_order(client_of, bad_rating):  # noqa: F811
    path = f"/api/rectifications/{bad_rating.pk}/resolve"
    for outsider in ("supervisor_third", "market_away"):
        assert get(client_of(outsider), "/api/rectifications?state=all").json()["count"] == 0
        assert_error(post(client_of(outsider), path, {"resolution": "改好了"}), 404, "not_found")
    bad_rating.refresh_from_db()
    assert bad_rating.state == "open"
    # the case's own hall and the unbound (single-hall) staff still do
    for insider in ("supervisor_home", "supervisor1", "market1", "market_any"):
        assert get(client_of(insider), "/api/rectifications").json()["count"] == 1, insider
    assert post(client_of("supervisor_home"), path, {"resolution": "已整改"}).status_code == 200


def test_a_hall_bound_window_gets_only_its_own_halls_notifications(client_of, staff):  # noqa: F811
    ref = _concluded_at_home(staff)
    Notification.objects.create(case_id=ref.pk, kind=NotificationKind.CASE_WARNING, role="window", text="临期")
    assert get(client_of("window_third"), "/api/notifications").json()["count"] == 0
    assert get(client_of("window1"), "/api/notifications").json()["count"] == 1
