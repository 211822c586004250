"""好差评 over HTTP: the applicant rates with case number + query code; departments rectify; supervisors count."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from tests.api.helpers import CaseRef, accept, assert_error, decide, field_errors, get, open_case, post
from tests.api.test_documents import configured
from tests.conftest import DEPARTMENTS, hand_over
from workflow.models import Rating, RectificationOrder

pytestmark = pytest.mark.django_db

RATE = "/api/status/rating"


@pytest.fixture(autouse=True)
def _five_working_days(settings):
    settings.ONETHING_RECTIFICATION_DAYS = 5


def concluded(users) -> CaseRef:
    ref = accept(users, open_case(users))
    for department in DEPARTMENTS:
        decide(users, ref, department, "approve")
    hand_over(users["window1"], ref.case_no)
    return ref


def rate(ref: CaseRef, level, *, query_code: str | None = None, ip: str = "203.0.113.40", **extra):
    body = {"case_no": ref.case_no, "query_code": query_code or ref.query_code, "level": level, **extra}
    return post(APIClient(), RATE, body, REMOTE_ADDR=ip)


def test_the_applicant_rates_a_concluded_case_once(users):
    ref = concluded(users)
    response = rate(ref, 5, dimensions={"attitude": 5, "quality": 4}, comment="一次办好")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body == {
        "can_rate": False,
        "level": 5,
        "level_label": "非常满意",
        "rated_at": body["rated_at"],
        "rectification": None,
    }
    assert_error(rate(ref, 1), 409, "already_rated")
    assert Rating.objects.filter(case_id=ref.pk).count() == 1

    status = post(APIClient(), "/api/status", {"case_no": ref.case_no, "query_code": ref.query_code}).json()
    assert status["rating"]["level"] == 5 and status["rating"]["can_rate"] is False


def test_rating_before_conclusion_is_409(users):
    ref = accept(users, open_case(users))
    assert_error(rate(ref, 4), 409, "invalid_transition")
    assert not Rating.objects.exists()


def test_a_wrong_code_is_the_same_404_as_an_unknown_case(users):
    ref = concluded(users)
    wrong = rate(ref, 1, query_code="WRONG234")
    unknown = rate(CaseRef("11010519990101000001", ref.query_code, 0), 1)
    assert_error(wrong, 404, "not_found")
    assert (wrong.status_code, wrong.content) == (unknown.status_code, unknown.content)
    assert not Rating.objects.exists()


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"level": 0}, "level"),
        ({"level": "非常满意"}, "level"),
        ({"dimensions": {"attitude": 6}}, "dimensions.attitude"),
        ({"dimensions": {"speed": 3}}, "dimensions.speed"),
        ({"comment": "很" * 1001}, "comment"),
    ],
)
def test_bad_input_is_400_naming_the_field(users, extra, field):
    ref = concluded(users)
    body = {"level": 3, **extra}
    level = body.pop("level")
    assert field in field_errors(rate(ref, level, **body))


def test_a_bad_rating_becomes_a_work_order_the_department_resolves_and_the_applicant_re_rates(users, client_for):
    ref = concluded(users)
    assert rate(ref, 2, comment="等了很久").status_code == 201
    order = RectificationOrder.objects.get(case_id=ref.pk)

    listed = get(client_for("market1"), "/api/rectifications").json()
    assert listed["count"] == 1
    (row,) = listed["results"]
    assert row["id"] == order.pk and row["case_no"] == ref.case_no and row["department"] == "market_regulation"
    assert (row["level"], row["level_label"], row["comment"]) == (2, "不满意", "等了很久")
    assert row["state"] == "open" and row["overdue"] is False and row["on_time"] is None
    assert row["due_date"] == order.due_date.isoformat()
    assert get(client_for("tax1"), "/api/rectifications").json()["count"] == 0
    assert get(client_for("supervisor1"), "/api/rectifications").json()["count"] == 1
    assert_error(get(client_for("window1"), "/api/rectifications"), 403, "permission_denied")
    assert_error(get(client_for(None), "/api/rectifications"), 401)

    assert_error(rate(ref, 4), 409, "already_rated")  # not before the rectification
    path = f"/api/rectifications/{order.pk}/resolve"
    assert_error(post(client_for("tax1"), path, {"resolution": "x"}), 404, "not_found")
    assert "resolution" in field_errors(post(client_for("market1"), path, {}))
    resolved = post(client_for("market1"), path, {"resolution": "已优化窗口引导"})
    assert resolved.status_code == 200, resolved.content
    assert resolved.json()["state"] == "done" and resolved.json()["on_time"] is True
    assert_error(post(client_for("supervisor1"), path, {"resolution": "again"}), 409, "rectification_closed")
    assert get(client_for("market1"), "/api/rectifications?state=done").json()["count"] == 1
    assert get(client_for("market1"), "/api/rectifications?state=all").json()["count"] == 1
    assert "state" in field_errors(get(client_for("market1"), "/api/rectifications?state=closed"))

    status = post(APIClient(), "/api/status", {"case_no": ref.case_no, "query_code": ref.query_code}).json()
    assert status["rating"]["can_rate"] is True
    assert status["rating"]["rectification"]["resolution"] == "已优化窗口引导"
    again = rate(ref, 4)
    assert again.status_code == 201 and again.json()["level"] == 4 and again.json()["can_rate"] is False
    assert_error(rate(ref, 5), 409, "already_rated")


def test_the_statistics_are_for_supervisors(users, client_for):
    for level in (5, 3, 1):
        assert rate(concluded(users), level).status_code == 201
    response = get(client_for("supervisor1"), "/api/statistics/ratings")
    assert response.status_code == 200
    body = response.json()
    assert (body["ratings"], body["good"], body["good_rate"]) == (3, 2, round(2 / 3, 4))
    assert [row["level"] for row in body["by_level"]] == [5, 4, 3, 2, 1]
    assert body["rectifications"]["open"] == 1 and body["rectifications"]["on_time_rate"] is None
    assert get(client_for("admin"), "/api/statistics/ratings").status_code == 200
    for username in ("market1", "window1"):
        assert_error(get(client_for(username), "/api/statistics/ratings"), 403, "permission_denied")


def test_a_supervisor_bound_to_another_hall_counts_only_its_own_cases(users, client_for):
    from workflow.models import Hall

    assert rate(concluded(users), 5).status_code == 201
    staff = users["supervisor1"].staff
    staff.hall = Hall.objects.get(code="120101")  # the demo's other hall
    staff.save()
    body = get(client_for("supervisor1"), "/api/statistics/ratings").json()
    assert (body["ratings"], body["rectifications"]["total"]) == (0, 0)
    assert get(client_for("admin"), "/api/statistics/ratings").json()["ratings"] == 1


def test_rating_lookups_are_throttled_like_the_status_lookup(users):
    ref = concluded(users)
    allowed, _ = configured("status_lookup_case")
    for i in range(allowed):
        assert_error(rate(ref, 1, query_code="WRONG234", ip=f"198.51.100.{i + 1}"), 404)
    assert_error(rate(ref, 5, query_code="WRONG234", ip="192.0.2.90"), 429, "throttled")
    assert_error(rate(ref, 5, ip="198.51.100.1"), 429, "throttled")  # an address that guessed wrong
    assert not Rating.objects.exists()
    assert rate(ref, 5, ip="192.0.2.91").status_code == 201  # the right code from anywhere else
