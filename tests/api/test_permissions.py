"""Who may call what: the role × endpoint matrix, and what each role gets to see."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from tests.api.helpers import CaseRef, assert_error, case_body, get, handover_body, post, snapshot
from tests.conftest import DEPARTMENTS
from workflow.models import Department, HumanTask, Staff, StaffRole

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    state: str | None = None  # the fixture giving the case the request needs
    task_lane: str | None = None  # the lane of the case's task whose id goes into the path
    body: dict | None = None

    def url(self, ref: CaseRef | None) -> str:
        if ref is None:
            return self.path
        task_id = ref.task_id(self.task_lane) if self.task_lane else None
        return self.path.format(case_no=ref.case_no, task_id=task_id)


ENDPOINTS = {
    "open a case": Endpoint("POST", "/api/cases", body=case_body()),
    "read a received case": Endpoint("GET", "/api/cases/{case_no}", "received_case"),
    "read a case in review": Endpoint("GET", "/api/cases/{case_no}", "accepted_case"),
    "accept": Endpoint("POST", "/api/cases/{case_no}/accept", "received_case", body={"opinion": "形式审查通过"}),
    "refuse": Endpoint("POST", "/api/cases/{case_no}/refuse", "received_case", body={"reasons": "申请材料不齐全"}),
    "key in a correction": Endpoint(
        "POST",
        "/api/cases/{case_no}/correction",
        "correction_case",
        body={"form": {"address": "示范区创新大道 99 号", "seal_count": 2}},
    ),
    "hand over": Endpoint("POST", "/api/cases/{case_no}/handover", "approved_case", body=handover_body()),
    "list tasks": Endpoint("GET", "/api/tasks"),
    "read a market task": Endpoint("GET", "/api/tasks/{task_id}", "accepted_case", "market_regulation"),
    "read a window task": Endpoint("GET", "/api/tasks/{task_id}", "received_case", "window"),
    "complete a market task": Endpoint(
        "POST",
        "/api/tasks/{task_id}/complete",
        "accepted_case",
        "market_regulation",
        {"decision": "approve", "opinion": "准予"},
    ),
    "list one-things": Endpoint("GET", "/api/one-things"),
}

ROLES = ("anonymous", "window1", "market1", "tax1", "supervisor1", "admin")
# fmt: off
MATRIX = {
    #                          anonymous window1 market1 tax1 supervisor1 admin
    "open a case":             (401,      201,    403,    403,  403,        403),
    "read a received case":    (401,      200,    404,    404,  200,        200),
    "read a case in review":   (401,      200,    200,    200,  200,        200),
    "accept":                  (401,      200,    403,    403,  403,        403),
    "refuse":                  (401,      200,    403,    403,  403,        403),
    "key in a correction":     (401,      200,    403,    403,  403,        403),
    "hand over":               (401,      200,    403,    403,  403,        403),
    "list tasks":              (401,      200,    200,    200,  200,        200),
    "read a market task":      (401,      404,    200,    404,  200,        200),
    "read a window task":      (401,      200,    404,    404,  200,        200),
    "complete a market task":  (401,      403,    200,    404,  403,        403),
    "list one-things":         (401,      200,    200,    200,  200,        200),
}
# fmt: on
ERROR_CODES = {401: "not_authenticated", 403: "permission_denied", 404: "not_found"}


def _rows():
    for name, statuses in MATRIX.items():
        for role, status in zip(ROLES, statuses, strict=True):
            yield pytest.param(name, role, status, id=f"{name}-{role}-{status}")


def _call(client, endpoint: Endpoint, ref: CaseRef | None):
    url = endpoint.url(ref)
    if endpoint.method == "GET":
        return get(client, url)
    return post(client, url, endpoint.body)


@pytest.mark.parametrize(("endpoint_name", "role", "expected"), list(_rows()))
def test_role_endpoint_matrix(request, client_for, endpoint_name, role, expected):
    endpoint = ENDPOINTS[endpoint_name]
    ref = request.getfixturevalue(endpoint.state) if endpoint.state else None
    before = snapshot()

    response = _call(client_for(None if role == "anonymous" else role), endpoint, ref)

    if expected >= 400:
        assert_error(response, expected, ERROR_CODES[expected])
        if endpoint.method == "POST":
            assert snapshot() == before, "a refused request changed something"
    else:
        assert response.status_code == expected, (response.status_code, response.content[:300])


def test_anonymous_401_carries_a_token_challenge(client_for):
    response = get(client_for(None), "/api/tasks")
    assert_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"].startswith("Token")


def test_an_invalid_token_is_401_authentication_failed(demo):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token 0123456789abcdef0123456789abcdef01234567")
    response = get(client, "/api/one-things")
    assert_error(response, 401, "authentication_failed")
    assert response["WWW-Authenticate"].startswith("Token")


# --- what a role sees ------------------------------------------------------------------------------


def _tasks_by_lane(body: dict) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for task in body["tasks"]:
        out.setdefault(task["lane"], []).append(task)
    return out


def test_a_reviewer_sees_other_departments_progress_but_not_their_decision_opinion_or_corrections(
    client_for, correction_case
):
    body = get(client_for("tax1"), f"/api/cases/{correction_case.case_no}").json()
    lanes = _tasks_by_lane(body)
    assert set(lanes) == {"window", *DEPARTMENTS, "applicant"}

    (own,) = lanes["tax"]
    assert own["decision"] == "approve" and own["opinion"] and own["corrections"] == []
    for lane in ("market_regulation", "public_security", "window", "applicant"):
        for task in lanes[lane]:
            assert (task["decision"], task["opinion"], task["corrections"]) == (None, None, None), task
            assert task["state"] and task["name"]  # progress stays visible
    assert lanes["public_security"][0]["state"] == "completed"


@pytest.mark.parametrize("role", ["window1", "supervisor1", "admin"])
def test_window_supervisor_and_admin_see_every_departments_decision_in_the_case(client_for, correction_case, role):
    lanes = _tasks_by_lane(get(client_for(role), f"/api/cases/{correction_case.case_no}").json())
    assert lanes["market_regulation"][0]["decision"] == "approve"
    asking = lanes["public_security"][0]
    assert asking["decision"] == "need_correction" and asking["opinion"] and len(asking["corrections"]) == 2


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_another_departments_task_is_answered_exactly_like_a_task_that_does_not_exist(
    client_for, accepted_case, method
):
    tax = client_for("tax1")
    market_task = accepted_case.task_id("market_regulation")
    missing = HumanTask.objects.order_by("-pk").values_list("pk", flat=True).first() + 1000
    suffix = "/complete" if method == "POST" else ""
    body = {"decision": "approve", "opinion": "准予"}

    def call(task_id):
        url = f"/api/tasks/{task_id}{suffix}"
        return post(tax, url, body) if method == "POST" else get(tax, url)

    other, absent = call(market_task), call(missing)
    assert_error(other, 404, "not_found")
    assert (other.status_code, other.content) == (absent.status_code, absent.content)
    assert HumanTask.objects.get(pk=market_task).state == "open"


def test_a_reviewer_still_cannot_complete_another_departments_task_once_it_is_decided(client_for, accepted_case):
    market_task = accepted_case.task_id("market_regulation")
    assert post(client_for("market1"), f"/api/tasks/{market_task}/complete", {"decision": "approve"}).status_code == 200
    # The owner now gets 409; another department still gets 404, never 403 or 409.
    response = post(client_for("tax1"), f"/api/tasks/{market_task}/complete", {"decision": "approve"})
    assert_error(response, 404, "not_found")
    assert_error(get(client_for("tax1"), f"/api/tasks/{market_task}"), 404, "not_found")


def _listed(client, state="all") -> list[dict]:
    response = get(client, f"/api/tasks?state={state}")
    assert response.status_code == 200
    return response.json()["results"]


@pytest.mark.parametrize(
    ("role", "expected_lanes"),
    [
        ("market1", {"market_regulation"}),
        ("tax1", {"tax"}),
        ("window1", {"window"}),
        ("supervisor1", {"window", *DEPARTMENTS}),
        ("admin", {"window", *DEPARTMENTS}),
    ],
)
def test_task_lists_are_scoped_to_the_department_the_window_lane_or_everything(
    client_for, received_case, accepted_case, role, expected_lanes
):
    tasks = _listed(client_for(role))
    assert {task["lane"] for task in tasks} == expected_lanes
    if role in ("supervisor1", "admin"):
        assert len(tasks) == HumanTask.objects.count()


def test_a_reviewer_of_a_department_outside_the_process_sees_neither_the_case_nor_its_tasks(client_for, accepted_case):
    outside = Department.objects.exclude(code__in=DEPARTMENTS).order_by("code").first()
    user = get_user_model().objects.create_user("outsider_reviewer", password="x")
    Staff.objects.create(user=user, role=StaffRole.REVIEWER, department=outside)
    client = client_for(None)
    client.force_authenticate(user)
    assert_error(get(client, f"/api/cases/{accepted_case.case_no}"), 404, "not_found")
    assert _listed(client) == []
    market_task = accepted_case.task_id("market_regulation")
    assert_error(post(client, f"/api/tasks/{market_task}/complete", {"decision": "approve"}), 404, "not_found")


def test_a_signed_in_user_without_a_staff_role_is_forbidden(client_for, accepted_case):
    user = get_user_model().objects.create_user("citizen", password="x")
    client = client_for(None)
    client.force_authenticate(user)
    before = snapshot()
    assert_error(get(client, "/api/tasks"), 403, "permission_denied")
    assert_error(get(client, f"/api/cases/{accepted_case.case_no}"), 403, "permission_denied")
    assert_error(post(client, "/api/cases", case_body()), 403, "permission_denied")
    market_task = accepted_case.task_id("market_regulation")
    assert_error(post(client, f"/api/tasks/{market_task}/complete", {"decision": "approve"}), 403, "permission_denied")
    assert snapshot() == before
