"""容缺 at the end over HTTP: concluding an approved case whose promised material is still outstanding is 409
promise_outstanding, and the case answer and the window's page say why and what is missing (issue 15, point 5)."""

import datetime as dt

import pytest
from django.test import Client

from tests.api.helpers import CaseRef, assert_error, decide, get, handover_body, open_case, post
from tests.conftest import DEPARTMENTS
from workflow import services
from workflow.calendar import add_working_days

pytestmark = pytest.mark.django_db


@pytest.fixture
def approved_on_promise(users) -> CaseRef:
    ref = open_case(users)
    due = add_working_days(dt.date.today(), 3)  # noqa: DTZ011
    services.case_accept(
        user=users["window1"], case_no=ref.case_no, promises=[{"material": "shareholder_certificate", "due_date": due}]
    )
    for department in DEPARTMENTS:
        decide(users, ref, department, "approve")
    assert ref.status == "approved"
    return ref


def test_a_concluded_with_promise_attempt_is_refused_and_the_window_sees_why(users, client_for, approved_on_promise):
    ref = approved_on_promise
    window = client_for("window1")
    body = get(window, f"/api/cases/{ref.case_no}").json()
    assert "conclude" not in body["allowed_actions"]
    [blocked] = body["blocked_actions"]
    assert blocked["action"] == "conclude" and blocked["code"] == "promise_outstanding"
    assert "股东主体资格证明" in blocked["message"]
    refused = assert_error(post(window, f"/api/cases/{ref.case_no}/conclude"), 409, "promise_outstanding")
    assert refused["message"] == blocked["message"]
    assert set(refused["errors"]) == {"materials.shareholder_certificate"}
    assert ref.status == "approved"
    screen = Client()
    screen.force_login(users["window1"])
    page = screen.get(f"/cases/{ref.case_no}/").content.decode()
    assert "暂不能办结" in page and "股东主体资格证明" in page and 'data-code="promise_outstanding"' in page
    # The material arrives: the result can be handed over (一窗通取), which concludes the case.
    fulfilled = post(window, f"/api/cases/{ref.case_no}/promises/shareholder_certificate/fulfil")
    assert fulfilled.status_code == 200, fulfilled.content
    assert get(window, f"/api/cases/{ref.case_no}").json()["blocked_actions"] == []
    assert_error(post(window, f"/api/cases/{ref.case_no}/conclude"), 409, "delivery_not_proven")
    assert post(window, f"/api/cases/{ref.case_no}/handover", handover_body()).status_code == 200
    assert ref.status == "concluded"
