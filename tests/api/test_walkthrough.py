"""The walkthrough, over HTTP, the way a client does it: staff log in for a token (no force_authenticate),
the applicant has no account and only the case number and query code from the receipt."""

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.api.helpers import assert_error, get, handover_body, post
from tests.conftest import APPLICANT, DEMO_PASSWORD, DEPARTMENTS, ENTERPRISE_FORM, REVIEWER_OF

pytestmark = pytest.mark.django_db

DEPARTMENT_NAMES = {"market_regulation": "区市场监督管理局", "public_security": "公安分局", "tax": "区税务局"}
ASKING = "public_security"
ORDER = ("market_regulation", "tax", "public_security")  # the README's order: the asking department decides last
CORRECTIONS = [
    {"item": "seal_count", "reason": "印章数量与公章刻制申请不一致"},
    {"item": "seal_types", "reason": "请写明刻制的印章种类"},
]
# Fields only public security needs: the approvals of the other departments stand (nothing re-opened).
CORRECTED_FORM = {"seal_count": 3, "seal_types": ["单位公章", "财务专用章", "发票专用章"]}
OPINIONS = {
    "market_regulation": "材料齐全，准予企业设立登记",
    "public_security": "请补正住所证明和印章数量",
    "tax": "准予办理涉税事项",
}
FINAL_OPINION = {**OPINIONS, "public_security": "补正材料已核实，准予公章刻制备案"}
# The materials the README's walkthrough hands in: the required ones not fetched from the e-licence library.
README_MATERIALS = [
    "registration_application",
    "articles_of_association",
    "legal_rep_id_card",
    "premises_proof",
    "shareholder_certificate",
]


def login(username: str, password: str = DEMO_PASSWORD) -> tuple[APIClient, str]:
    """A client that authenticates with the token from POST /api/auth/login, and nothing else."""
    client = APIClient(enforce_csrf_checks=True)
    response = post(client, "/api/auth/login", {"username": username, "password": password})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["user"]["username"] == username
    token = body["token"]
    client.cookies.clear()  # drop the session login also started: from here on only the token counts
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client, token


def applicant_status(case_no: str, query_code: str) -> dict:
    response = post(APIClient(), "/api/status", {"case_no": case_no, "query_code": query_code})
    assert response.status_code == 200, response.content
    return response.json()


def inbox(client: APIClient, case_no: str) -> list[dict]:
    response = get(client, "/api/tasks")
    assert response.status_code == 200, response.content
    return [task for task in response.json()["results"] if task["case_no"] == case_no]


def by_department(status: dict) -> dict[str, dict]:
    return {row["department"]: row for row in status["departments"]}


def test_walkthrough_from_window_to_conclusion_with_one_correction(demo):
    # 1. The window logs in, sees the one-things, and opens a case for the applicant.
    window, _ = login("window1")
    me = get(window, "/api/auth/me").json()
    assert me["role"] == "window" and me["department"] is None

    one_things = get(window, "/api/one-things")
    assert one_things.status_code == 200
    catalogue = {item["key"]: item for item in one_things.json()}
    assert set(catalogue["enterprise_start"]["departments"]) == set(DEPARTMENTS)
    form_schema = get(window, "/api/one-things/enterprise_start").json()["form_schema"]
    assert "contact_phone" in form_schema["required"]

    opened = post(
        window,
        "/api/cases",
        {
            "one_thing": "enterprise_start",
            "applicant": APPLICANT,
            "form": ENTERPRISE_FORM,
            "materials": README_MATERIALS,
        },
    )
    assert opened.status_code == 201, opened.content
    case = opened.json()
    case_no, query_code = case["case_no"], case["query_code"]
    assert len(case_no) == 20 and case_no.isdigit()
    assert len(query_code) == 8
    assert case["status"] == "received"
    assert [(t["lane"], t["state"]) for t in case["tasks"]] == [("window", "open")]

    status = applicant_status(case_no, query_code)
    assert status["status"] == "received"
    assert {row["progress"] for row in status["departments"]} == {"pending"}

    # 2. The window accepts: the three departments review in parallel.
    accepted = post(window, f"/api/cases/{case_no}/accept", {"opinion": "形式审查通过"})
    assert accepted.status_code == 200, accepted.content
    assert accepted.json()["status"] == "in_review"
    assert "query_code" not in accepted.json()

    # 3. Each reviewer logs in, finds the case in their inbox and decides; public security asks for a correction.
    reviewers = {department: login(REVIEWER_OF[department])[0] for department in DEPARTMENTS}
    task_ids = {}
    for department, client in reviewers.items():
        tasks = inbox(client, case_no)
        assert len(tasks) == 1, tasks
        assert tasks[0]["department"] == department and tasks[0]["review_round"] == 1
        task_ids[department] = tasks[0]["id"]

    for department in ORDER:
        decision = "need_correction" if department == ASKING else "approve"
        body = {"decision": decision, "opinion": OPINIONS[department]}
        if decision == "need_correction":
            body["corrections"] = CORRECTIONS
        done = post(reviewers[department], f"/api/tasks/{task_ids[department]}/complete", body)
        assert done.status_code == 200, done.content
        assert done.json()["state"] == "completed" and done.json()["decision"] == decision
        assert inbox(reviewers[department], case_no) == []

        status = applicant_status(case_no, query_code)
        if department != ORDER[-1]:
            # Still in review: the applicant sees progress, but no department's opinion yet.
            assert status["status"] == "in_review"
            assert by_department(status)[department]["progress"] == "done"
            assert all(row["opinion"] is None and row["decision"] is None for row in status["departments"])
            assert status["corrections"] == []

    # 4. The applicant sees one combined correction notice.
    assert status["status"] == "correction_required"
    assert status["corrections"] == [
        {"department_name": DEPARTMENT_NAMES[ASKING], "opinion": OPINIONS[ASKING], "items": CORRECTIONS}
    ]
    assert by_department(status)[ASKING]["opinion"] == OPINIONS[ASKING]

    # 5. The applicant corrects once, without an account; only the asking department reviews again.
    corrected = post(
        APIClient(),
        "/api/status/correction",
        {"case_no": case_no, "query_code": query_code, "form": CORRECTED_FORM},
    )
    assert corrected.status_code == 200, corrected.content
    status = corrected.json()
    assert status["status"] == "in_review"
    progress = {code: row["progress"] for code, row in by_department(status).items()}
    assert progress == {"market_regulation": "done", "public_security": "reviewing", "tax": "done"}

    for department, client in reviewers.items():
        tasks = inbox(client, case_no)
        if department == ASKING:
            assert [(t["review_round"], t["state"]) for t in tasks] == [(2, "open")]
            task_ids[department] = tasks[0]["id"]
        else:
            assert tasks == []
    detail = get(window, f"/api/cases/{case_no}").json()
    assert [t["lane"] for t in detail["tasks"] if t["state"] == "open"] == [ASKING]
    assert detail["form"] == {**ENTERPRISE_FORM, **CORRECTED_FORM}

    # 6. Public security approves the corrected application: the unified result is 准予.
    done = post(
        reviewers[ASKING],
        f"/api/tasks/{task_ids[ASKING]}/complete",
        {"decision": "approve", "opinion": FINAL_OPINION[ASKING]},
    )
    assert done.status_code == 200, done.content
    assert applicant_status(case_no, query_code)["status"] == "approved"

    # 7. The window hands over the result (一窗通取): the proof of delivery concludes the case.
    concluded = post(window, f"/api/cases/{case_no}/handover", handover_body())
    assert concluded.status_code == 200, concluded.content
    assert concluded.json()["status"] == "concluded"

    # 8. The applicant's final view: concluded, approved, every department done with its opinion.
    final = applicant_status(case_no, query_code)
    assert final["status"] == "concluded"
    assert final["outcome"] == "approved" and final["outcome_label"] == "准予许可"
    assert final["concluded_at"] is not None
    assert final["corrections"] == []
    for department, row in by_department(final).items():
        assert row["progress"] == "done", row
        assert (row["decision"], row["decision_label"]) == ("approve", "准予"), row
        assert row["opinion"] == FINAL_OPINION[department], row
        assert row["department_name"] == DEPARTMENT_NAMES[department]
    kinds = [event["kind"] for event in final["timeline"]]
    assert kinds == [
        "opened",
        "visit",  # the submission at the window: a trip
        "accept",
        "require_correction",
        "corrected",  # online, with the query code: no trip
        "resubmit",
        "approve",
        "visit",  # the pickup: the second trip
        "handed_over",
        "conclude",
    ]


def test_login_also_starts_a_session_that_authenticates_without_a_token(demo):
    client = APIClient(enforce_csrf_checks=True)
    response = post(client, "/api/auth/login", {"username": "window1", "password": DEMO_PASSWORD})
    assert response.status_code == 200
    assert "sessionid" in response.cookies and "csrftoken" in response.cookies

    assert get(client, "/api/auth/me").json()["username"] == "window1"
    assert get(client, "/api/one-things").status_code == 200

    # A session is a cookie, so unsafe methods need the CSRF token as well.
    body = {"one_thing": "enterprise_start", "applicant": APPLICANT, "form": ENTERPRISE_FORM}
    assert_error(post(client, "/api/cases", body), 403, "permission_denied")
    csrf = client.cookies["csrftoken"].value
    assert post(client, "/api/cases", body, HTTP_X_CSRFTOKEN=csrf).status_code == 201


def test_logout_ends_the_session(demo):
    client = APIClient(enforce_csrf_checks=True)
    post(client, "/api/auth/login", {"username": "tax1", "password": DEMO_PASSWORD})
    response = post(client, "/api/auth/logout", HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value)
    assert response.status_code == 204
    assert_error(get(client, "/api/auth/me"), 401, "not_authenticated")


def test_logout_revokes_the_token_so_it_then_gets_401(demo):
    client, token = login("market1")
    assert get(client, "/api/auth/me").status_code == 200
    assert post(client, "/api/auth/logout").status_code == 204
    assert not Token.objects.filter(key=token).exists()
    response = get(client, "/api/auth/me")
    assert_error(response, 401, "authentication_failed")
    assert response["WWW-Authenticate"].startswith("Token")


def test_a_new_login_after_logout_issues_a_fresh_working_token(demo):
    client, old = login("police1")
    post(client, "/api/auth/logout")
    fresh_client, fresh = login("police1")
    assert fresh != old
    assert get(fresh_client, "/api/auth/me").json()["department"] == "public_security"


def test_wrong_password_is_refused_with_a_field_error_and_no_token(demo):
    response = post(APIClient(), "/api/auth/login", {"username": "window1", "password": "wrong-password"})
    body = assert_error(response, 400, "invalid")
    assert list(body["errors"]) == ["password"]
    assert "sessionid" not in response.cookies
