"""告知承诺 over HTTP (issue 15, point 4): accepted on a signed commitment, a post-approval check opened by the
approval, a failed check revoking the licence, shown on the applicant's status (API and page)."""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from tests.api.helpers import assert_error, decide, get, post
from tests.conftest import APPLICANT, DEPARTMENTS, ENTERPRISE_FORM, handed_in
from workflow import services

pytestmark = pytest.mark.django_db


def test_a_commitment_revoked_after_a_failed_check(users, client_for):
    window = client_for("window1")
    opened = services.case_open(
        user=users["window1"],
        one_thing_key="enterprise_start",
        applicant=APPLICANT,
        form=ENTERPRISE_FORM,
        materials=[code for code in handed_in() if code != "premises_proof"],
    )
    case_no, code = opened.case.case_no, opened.query_code
    missing = post(window, f"/api/cases/{case_no}/accept", {})
    assert "住所" in str(assert_error(missing, 400)["errors"]["materials"])
    accepted = post(window, f"/api/cases/{case_no}/accept", {"commitments": [{"material": "premises_proof"}]})
    assert accepted.status_code == 200, accepted.content
    body = accepted.json()
    [commitment] = body["commitments"]
    assert commitment["material_code"] == "premises_proof" and commitment["checks"] == []
    assert {row["code"]: row["status"] for row in body["intake"]}["premises_proof"] == "committed"

    from tests.api.helpers import CaseRef

    ref = CaseRef(case_no, code, opened.case.pk)
    for department in DEPARTMENTS:
        decide(users, ref, department, "approve")
    market = client_for("market1")
    [check] = get(market, "/api/commitment-checks").json()
    assert check["case_no"] == case_no and check["outcome"] == "" and check["outcome_label"] == "待核查"
    assert get(client_for("police1"), "/api/commitment-checks").json() == []  # another department's
    assert_error(post(market, f"/api/commitment-checks/{check['id']}/decide", {"outcome": "failed"}), 400)
    decided = post(
        market,
        f"/api/commitment-checks/{check['id']}/decide",
        {"outcome": "failed", "opinion": "实地核查：该地址无使用权"},
    )
    assert decided.status_code == 200, decided.content
    assert decided.json()["outcome_label"] == "承诺不实"
    again = post(market, f"/api/commitment-checks/{check['id']}/decide", {"outcome": "passed"})
    assert_error(again, 409)

    status = post(APIClient(), "/api/status", {"case_no": case_no, "query_code": code}).json()
    revoked = [r for r in status["results"] if r["licence_revoked"]]
    assert len(revoked) == 1 and "告知承诺不实" in revoked[0]["licence_revoked_reason"]
    assert status["commitments"][0]["checks"][0]["outcome"] == "failed"
    assert {"commitment_checked", "licence_revoked"} <= {e["kind"] for e in status["timeline"]}
    page = Client().post("/status/", {"case_no": case_no, "query_code": code}).content.decode()
    assert "已撤销" in page and "承诺不实" in page and "告知承诺不实" in page
