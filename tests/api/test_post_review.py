"""秒批 over HTTP: the inbox's 待复核 filter, POST /api/tasks/{id}/post-review (confirm or revoke, once, by the
department), and what the applicant sees when a licence is revoked."""

from __future__ import annotations

import pytest

from tests.api.helpers import CaseRef, accept, assert_error, decide, field_errors, get, open_case, post, snapshot
from tests.workflow.dmn import SEAL_FILING, SEAL_TABLE, give_table
from workflow.models import CaseEvent, ELicence, HumanTask

pytestmark = pytest.mark.django_db


@pytest.fixture
def auto_case(users) -> CaseRef:
    """Accepted; the seal filing (public security) was approved by its decision table, the others are open."""
    give_table(SEAL_FILING, SEAL_TABLE)
    ref = accept(users, open_case(users))
    assert HumanTask.objects.get(pk=ref.task_id("public_security")).auto_approved
    return ref


@pytest.fixture
def decided_auto_case(users, auto_case) -> CaseRef:
    """As ``auto_case``, and the other departments approved: the unified result issued three licences."""
    decide(users, auto_case, "market_regulation")
    decide(users, auto_case, "tax")
    assert auto_case.status == "approved"
    return auto_case


def post_review(client, ref: CaseRef, body: dict, lane: str = "public_security"):
    return post(client, f"/api/tasks/{ref.task_id(lane)}/post-review", body)


def applicant_status(client_for, ref: CaseRef) -> dict:
    return post(client_for(None), "/api/status", {"case_no": ref.case_no, "query_code": ref.query_code}).json()


def test_the_inbox_lists_auto_approved_tasks_waiting_for_post_review(client_for, auto_case):
    police = client_for("police1")
    pending = get(police, "/api/tasks?post_review=pending").json()["results"]
    assert [(t["case_no"], t["auto_approved"], t["post_review_outcome"]) for t in pending] == [
        (auto_case.case_no, True, "")
    ]
    assert get(police, "/api/tasks").json()["results"] == []  # not in the open inbox: nothing to decide
    assert get(police, "/api/tasks?post_review=pending&state=open").json()["results"] == []
    assert get(client_for("market1"), "/api/tasks?post_review=pending").json()["results"] == []

    assert post_review(police, auto_case, {"outcome": "confirmed", "opinion": "抽查无误"}).status_code == 200
    assert get(police, "/api/tasks?post_review=pending").json()["results"] == []
    [done] = get(police, "/api/tasks?post_review=done").json()["results"]
    assert (done["post_review_outcome"], done["post_reviewed_by"]) == ("confirmed", "police1")


def test_a_bad_post_review_filter_is_400(client_for):
    assert "post_review" in field_errors(get(client_for("police1"), "/api/tasks?post_review=maybe"))


def test_confirming_records_the_review_once(client_for, auto_case):
    police = client_for("police1")
    response = post_review(police, auto_case, {"outcome": "confirmed"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["auto_approved"] is True and body["post_review_outcome"] == "confirmed"
    assert body["post_reviewed_by"] == "police1" and body["post_reviewed_at"]
    event = CaseEvent.objects.get(case_id=auto_case.pk, kind="post_reviewed")
    assert event.department == "public_security" and event.data["outcome"] == "confirmed"

    before = snapshot()
    assert_error(
        post_review(police, auto_case, {"outcome": "revoked", "opinion": "再看一次"}), 409, "already_post_reviewed"
    )
    assert snapshot() == before


def test_revoking_revokes_the_result_and_the_applicant_sees_it(client_for, decided_auto_case):
    ref = decided_auto_case
    # 公章刻制备案 is a 备案 (issue 14's result kinds): no licence; the revocation revokes the result itself.
    assert not ELicence.objects.filter(task_id=ref.task_id("public_security")).exists()
    standing = set(ELicence.objects.filter(case_id=ref.pk).values_list("number", flat=True))
    response = post_review(client_for("police1"), ref, {"outcome": "revoked", "opinion": "刻制单位不在备案名录内"})
    assert response.status_code == 200, response.content
    assert response.json()["post_review_outcome"] == "revoked"

    assert set(ELicence.objects.filter(case_id=ref.pk, revoked_at__isnull=True).values_list("number", flat=True)) == (
        standing
    )  # the others stand
    event = CaseEvent.objects.get(case_id=ref.pk, kind="result_revoked")
    assert event.data["reason"] == "刻制单位不在备案名录内" and event.department == "public_security"

    status = applicant_status(client_for, ref)
    rows = {row["department"]: row for row in status["results"]}
    assert rows["public_security"]["auto_approved"] is True
    assert rows["public_security"]["licence_revoked"] is True
    assert rows["public_security"]["licence_revoked_reason"] == "刻制单位不在备案名录内"
    assert rows["market_regulation"]["licence_revoked"] is False
    assert "result_revoked" in [row["kind"] for row in status["timeline"]]
    window_view = get(client_for("window1"), f"/api/cases/{ref.case_no}").json()
    assert {r["department"]: r["licence_revoked"] for r in window_view["results"]}["public_security"] is True


def test_a_revocation_needs_a_reason_and_the_unified_result(client_for, auto_case):
    police = client_for("police1")
    assert "opinion" in field_errors(post_review(police, auto_case, {"outcome": "revoked"}))
    assert "outcome" in field_errors(post_review(police, auto_case, {"outcome": "maybe"}))
    before = snapshot()
    assert_error(
        post_review(police, auto_case, {"outcome": "revoked", "opinion": "有误"}), 409, "post_review_too_early"
    )
    assert snapshot() == before


def test_only_auto_approved_tasks_are_post_reviewed(client_for, users, auto_case):
    decide(users, auto_case, "tax")
    response = post_review(client_for("tax1"), auto_case, {"outcome": "confirmed"}, lane="tax")
    assert_error(response, 409, "not_auto_approved")


# anonymous, window, the task's department, another department, supervisor, admin
@pytest.mark.parametrize(
    ("role", "status", "code"),
    [
        (None, 401, "not_authenticated"),
        ("window1", 403, "permission_denied"),
        ("police1", 200, None),
        ("market1", 404, "not_found"),  # another department's task is answered as if it did not exist
        ("tax1", 404, "not_found"),
        ("supervisor1", 403, "permission_denied"),
        ("admin", 403, "permission_denied"),
    ],
)
def test_the_post_review_role_matrix(client_for, auto_case, role, status, code):
    before = snapshot()
    response = post_review(client_for(role), auto_case, {"outcome": "confirmed"})
    if code is None:
        assert response.status_code == status, response.content
    else:
        assert_error(response, status, code)
        assert snapshot() == before


def test_an_unknown_task_is_404(client_for, demo):
    assert_error(
        post(client_for("police1"), "/api/tasks/999999/post-review", {"outcome": "confirmed"}), 404, "not_found"
    )


def test_other_departments_see_the_auto_approval_as_progress_not_as_a_decision(client_for, auto_case):
    def kinds(client, path, key):
        return {row["kind"] for row in get(client, path).json()[key]}

    case_path = f"/api/cases/{auto_case.case_no}"
    market_case = kinds(client_for("market1"), case_path, "events")
    market_task = kinds(client_for("market1"), f"/api/tasks/{auto_case.task_id('market_regulation')}", "timeline")
    for seen in (market_case, market_task):
        assert "auto_approved" not in seen and "review_progress" in seen
    assert "auto_approved" in kinds(client_for("police1"), case_path, "events")
    assert "auto_approved" in kinds(client_for("supervisor1"), case_path, "events")
