"""收受分离 over HTTP: an out-of-town hall accepts (formal check and identity verification), the home region's
departments decide, both halls and the applicant follow the case; and the role × hall permission matrix."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from tests.api.helpers import CJK, CaseRef, assert_error, case_body, field_errors, get, handover_body, post, snapshot
from tests.conftest import DEPARTMENTS, REVIEWER_OF
from workflow import halls, services
from workflow.models import Hall, HumanTask, Staff, StaffRole

pytestmark = pytest.mark.django_db

HOME, AWAY, THIRD = "110105", "120101", "310115"
IDENTITY = {"identity_verified": True, "identity_method": "id_card_onsite"}


@pytest.fixture
def staff(users, django_user_model):
    """Demo users (window1 at the home hall, window2 at the out-of-town hall) with the deciding departments bound
    to the home hall; plus a market reviewer away, an unbound one, a third hall's window and supervisors."""
    home, away = halls.default_hall(), Hall.objects.get(code=AWAY)
    third = Hall.objects.create(
        code=THIRD, name="浦东新区政务服务中心", region_code=THIRD, region_name="上海市浦东新区"
    )
    Staff.objects.filter(user__username__in=REVIEWER_OF.values()).update(hall=home)
    for username, role, department, hall in [
        ("market_away", StaffRole.REVIEWER, "market_regulation", away),
        ("market_any", StaffRole.REVIEWER, "market_regulation", None),
        ("window_third", StaffRole.WINDOW, None, third),
        ("supervisor_home", StaffRole.SUPERVISOR, None, home),
        ("supervisor_third", StaffRole.SUPERVISOR, None, third),
    ]:
        user = django_user_model.objects.create_user(username, password="x")
        Staff.objects.create(user=user, role=role, department_id=department, hall=hall)
    return {u.username: u for u in django_user_model.objects.filter(staff__isnull=False).select_related("staff")}


@pytest.fixture
def client_of(staff):
    def make(username: str) -> APIClient:
        client = APIClient()
        client.force_authenticate(staff[username])
        return client

    return make


def _open_cross(staff) -> CaseRef:
    opened = services.case_open(user=staff["window2"], deciding_hall=HOME, **_service_body())
    return CaseRef(opened.case.case_no, opened.query_code, opened.case.pk)


def _service_body() -> dict:
    body = case_body()
    return {
        "one_thing_key": body["one_thing"],
        "applicant": body["applicant"],
        "form": body["form"],
        "materials": body["materials"],
    }


@pytest.fixture
def cross_received(staff) -> CaseRef:
    return _open_cross(staff)


@pytest.fixture
def cross_accepted(staff, cross_received) -> CaseRef:
    services.case_accept(user=staff["window2"], case_no=cross_received.case_no, **IDENTITY)
    return cross_received


@pytest.fixture
def cross_approved(staff, cross_accepted) -> CaseRef:
    for department in DEPARTMENTS:
        services.human_task_complete(
            user=staff[REVIEWER_OF[department]], task_id=cross_accepted.task_id(department), decision="approve"
        )
    assert cross_accepted.status == "approved"
    return cross_accepted


def _status(ref: CaseRef) -> dict:
    response = post(APIClient(), "/api/status", {"case_no": ref.case_no, "query_code": ref.query_code})
    assert response.status_code == 200, response.content[:300]
    return response.json()


# --- the path ------------------------------------------------------------------------------------------------


def test_the_window_form_lists_the_active_halls_with_its_own_first(client_of):
    Hall.objects.filter(code=THIRD).update(is_active=False)
    rows = get(client_of("window2"), "/api/halls").json()
    assert [(r["code"], r["is_mine"]) for r in rows] == [(AWAY, True), (HOME, False)]
    assert rows[0] == {
        "code": AWAY,
        "name": "和平区政务服务中心",
        "region_code": AWAY,
        "region_name": "天津市和平区",
        "is_mine": True,
    }
    assert get(client_of("window1"), "/api/halls").json()[0]["code"] == HOME
    assert_error(get(APIClient(), "/api/halls"), 401, "not_authenticated")


def test_accepted_away_decided_at_home_followed_by_both_halls_and_the_applicant(client_of, staff):
    window2, window1 = client_of("window2"), client_of("window1")
    opened = post(window2, "/api/cases", {**case_body(), "deciding_hall": HOME})
    assert opened.status_code == 201, opened.content[:300]
    body = opened.json()
    case_no, code = body["case_no"], body["query_code"]
    assert case_no.startswith(AWAY) and body["cross_region"] is True
    assert body["accepting_hall"] == {
        "code": AWAY,
        "name": "和平区政务服务中心",
        "region_code": AWAY,
        "region_name": "天津市和平区",
    }
    assert body["deciding_hall"]["code"] == HOME and CJK.search(body["deciding_hall"]["name"])

    # The formal check with the identity verification, at the accepting hall only.
    before = snapshot()
    errors = field_errors(post(window2, f"/api/cases/{case_no}/accept", {}))
    assert set(errors) == {"identity_verified", "identity_method"}
    assert all(CJK.search(m) for ms in errors.values() for m in ms)
    errors = field_errors(post(window2, f"/api/cases/{case_no}/accept", {**IDENTITY, "identity_method": "x"}))
    assert set(errors) == {"identity_method"} and CJK.search(errors["identity_method"][0])
    assert_error(post(window1, f"/api/cases/{case_no}/accept", IDENTITY), 403, "permission_denied")
    assert snapshot() == before
    accepted = post(window2, f"/api/cases/{case_no}/accept", IDENTITY)
    assert accepted.status_code == 200 and accepted.json()["status"] == "in_review"
    assert "收件窗口核验申请人身份（收受分离）" in {e["label"] for e in accepted.json()["events"]}

    # The home departments decide from their inboxes; the same department away sees nothing.
    away = client_of("market_away")
    assert case_no not in {t["case_no"] for t in get(away, "/api/tasks").json()["results"]}
    market_task = HumanTask.objects.get(case__case_no=case_no, lane="market_regulation").pk
    assert_error(get(away, f"/api/tasks/{market_task}"), 404, "not_found")
    assert_error(post(away, f"/api/tasks/{market_task}/claim"), 404, "not_found")
    for department in DEPARTMENTS:
        reviewer = client_of(REVIEWER_OF[department])
        [task] = [t for t in get(reviewer, "/api/tasks").json()["results"] if t["case_no"] == case_no]
        assert post(reviewer, f"/api/tasks/{task['id']}/claim").status_code == 200
        done = post(reviewer, f"/api/tasks/{task['id']}/complete", {"decision": "approve"})
        assert done.status_code == 200, done.content[:300]

    # Both halls follow it; the result is handed out where the applicant applied.
    for client in (window1, window2):
        case = get(client, f"/api/cases/{case_no}").json()
        assert case["status"] == "approved" and case["cross_region"] is True
    assert_error(post(window1, f"/api/cases/{case_no}/handover", handover_body()), 403, "permission_denied")
    assert post(window2, f"/api/cases/{case_no}/handover", handover_body()).json()["status"] == "concluded"

    status = _status(CaseRef(case_no, code, 0))
    assert status["status"] == "concluded" and status["cross_region"] is True
    assert (status["accepting_hall"]["name"], status["accepting_hall"]["region_name"]) == (
        "和平区政务服务中心",
        "天津市和平区",
    )
    assert status["deciding_hall"]["code"] == HOME
    assert "identity_verified" not in {row["kind"] for row in status["timeline"]}  # internal, like other checks


def test_an_ordinary_case_is_unchanged_its_halls_are_the_clerks(client_of, staff):
    opened = post(client_of("window1"), "/api/cases", case_body())
    body = opened.json()
    assert opened.status_code == 201 and body["case_no"].startswith(HOME)
    assert body["cross_region"] is False and body["accepting_hall"] == body["deciding_hall"]
    assert body["accepting_hall"]["code"] == HOME
    accepted = post(client_of("window1"), f"/api/cases/{body['case_no']}/accept", {})
    assert accepted.status_code == 200 and accepted.json()["status"] == "in_review"
    assert _status(CaseRef(body["case_no"], body["query_code"], 0))["cross_region"] is False


@pytest.mark.parametrize("deciding_hall", ["999999", THIRD, "x" * 17, 110105])
def test_an_unknown_inactive_or_malformed_deciding_hall_is_400_and_opens_nothing(client_of, deciding_hall):
    Hall.objects.filter(code=THIRD).update(is_active=False)
    before = snapshot()
    errors = field_errors(post(client_of("window2"), "/api/cases", {**case_body(), "deciding_hall": deciding_hall}))
    assert set(errors) == {"deciding_hall"} and CJK.search(errors["deciding_hall"][0])
    assert snapshot() == before


def test_the_applicant_sees_both_places_on_the_status_page(client, staff, cross_accepted):
    page = client.post("/status/", {"case_no": cross_accepted.case_no, "query_code": cross_accepted.query_code})
    text = page.content.decode()
    assert page.status_code == 200
    assert "收件地：和平区政务服务中心（天津市和平区）" in text and "审批地" in text and "收受分离" in text


# --- the role × hall matrix -------------------------------------------------------------------------------
# A cross-region case accepted at AWAY (window2) and decided at HOME. window1 and the demo reviewers are at
# HOME, window_third and supervisor_third at a hall with nothing to do with the case; market_any and
# supervisor1 are unbound (a single-hall deployment: they see every case).

ROLES = (
    "window1",
    "window2",
    "window_third",
    "market1",
    "market_away",
    "market_any",
    "supervisor_home",
    "supervisor_third",
    "supervisor1",
)
ENDPOINTS = {
    "read received": ("GET", "/api/cases/{case_no}", "cross_received", None, None),
    "read in review": ("GET", "/api/cases/{case_no}", "cross_accepted", None, None),
    "accept": ("POST", "/api/cases/{case_no}/accept", "cross_received", None, IDENTITY),
    "refuse": ("POST", "/api/cases/{case_no}/refuse", "cross_received", None, {"reasons": "材料不齐全"}),
    "read market task": ("GET", "/api/tasks/{task_id}", "cross_accepted", "market_regulation", None),
    "claim market task": ("POST", "/api/tasks/{task_id}/claim", "cross_accepted", "market_regulation", None),
    "complete market task": (
        "POST",
        "/api/tasks/{task_id}/complete",
        "cross_accepted",
        "market_regulation",
        {"decision": "approve"},
    ),
    "hand over": ("POST", "/api/cases/{case_no}/handover", "cross_approved", None, handover_body()),
}
# fmt: off
MATRIX = {
    #                        win1 win2 win3 mkt1 away any  sup_h sup_3 sup1
    "read received":        (200, 200, 404, 404, 404, 404, 200,  404,  200),
    "read in review":       (200, 200, 404, 200, 404, 200, 200,  404,  200),
    "accept":               (403, 200, 404, 403, 403, 403, 403,  403,  403),
    "refuse":               (403, 200, 404, 403, 403, 403, 403,  403,  403),
    "read market task":     (404, 404, 404, 200, 404, 200, 200,  404,  200),
    "claim market task":    (403, 403, 403, 200, 404, 200, 403,  403,  403),
    "complete market task": (403, 403, 403, 200, 404, 200, 403,  403,  403),
    "hand over":            (403, 200, 404, 403, 403, 403, 403,  403,  403),
}
# fmt: on
ERROR_CODES = {403: "permission_denied", 404: "not_found"}


def _rows():
    for name, statuses in MATRIX.items():
        for role, status in zip(ROLES, statuses, strict=True):
            yield pytest.param(name, role, status, id=f"{name}-{role}-{status}")


@pytest.mark.parametrize(("endpoint_name", "role", "expected"), list(_rows()))
def test_role_and_hall_matrix(request, client_of, endpoint_name, role, expected):
    method, path, state, lane, body = ENDPOINTS[endpoint_name]
    ref: CaseRef = request.getfixturevalue(state)
    url = path.format(case_no=ref.case_no, task_id=ref.task_id(lane) if lane else None)
    before = snapshot()
    client = client_of(role)
    response = get(client, url) if method == "GET" else post(client, url, body)
    if expected >= 400:
        assert_error(response, expected, ERROR_CODES[expected])
        assert snapshot() == before, "a refused request changed something"
    else:
        assert response.status_code == expected, (response.status_code, response.content[:300])


def test_a_hidden_task_is_answered_exactly_like_a_missing_one(client_of, cross_accepted):
    away = client_of("market_away")
    hidden = cross_accepted.task_id("market_regulation")
    missing = HumanTask.objects.order_by("-pk").values_list("pk", flat=True).first() + 1000
    for suffix, call in (("", get), ("/claim", post), ("/complete", post)):
        extra = ({"decision": "approve"},) if suffix == "/complete" else ()
        one, other = (
            call(away, f"/api/tasks/{hidden}{suffix}", *extra),
            call(away, f"/api/tasks/{missing}{suffix}", *extra),
        )
        assert (one.status_code, one.content) == (other.status_code, other.content) and one.status_code == 404


def test_inbox_counts_are_per_hall(client_of, cross_accepted):
    home = get(client_of("market1"), "/api/tasks").json()
    away = get(client_of("market_away"), "/api/tasks").json()
    assert cross_accepted.case_no in {t["case_no"] for t in home["results"]}
    assert away["counts"]["open"] == 0 and away["results"] == []


# --- 办件查询: the search lists exactly the cases each role × hall may open --------------------------------


@pytest.mark.parametrize("state", ["cross_received", "cross_accepted"])
def test_search_lists_exactly_what_each_role_and_hall_may_open(request, client_of, state):
    ref: CaseRef = request.getfixturevalue(state)
    column = MATRIX["read received" if state == "cross_received" else "read in review"]
    applicant = case_body()["applicant"]
    for role, may_open in zip(ROLES, column, strict=True):
        client = client_of(role)
        by_body = post(client, "/api/cases/search", {"id_number": applicant["id_number"]})
        by_query = get(client, f"/api/cases?applicant_name={applicant['name'][:1]}&hall={HOME}")
        for response in (by_body, by_query):
            assert response.status_code == 200, (role, response.content[:300])
            listed = {row["case_no"] for row in response.json()["results"]}
            assert (ref.case_no in listed) == (may_open == 200), (role, state)
            assert get(client, f"/api/cases/{ref.case_no}").status_code == may_open


def test_an_id_number_never_travels_in_a_url(client_of, cross_received):
    response = get(client_of("supervisor1"), "/api/cases?id_number=110105199003070017")
    assert "id_number" in field_errors(response)
    assert_error(get(APIClient(), "/api/cases?applicant_name=王"), 401)
