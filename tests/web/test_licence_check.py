"""The QR codes open pages that work: /status/?case_no=… fills the number in; a licence's QR opens the public
licence check (number + the verification code printed on it): valid / revoked / expired, the holder masked, no
query code; throttled like the status lookup; a wrong code and an unknown licence answer the same."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.cache import cache
from django.test import Client

from tests.conftest import APPLICANT, ENTERPRISE_FORM, handed_in
from workflow import notices, services
from workflow.models import Case, ELicence, HumanTask, HumanTaskState

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_counters():
    cache.clear()
    yield
    cache.clear()


def approved_case(users) -> Case:
    case = services.case_open(
        user=users["window1"],
        one_thing_key="enterprise_start",
        applicant=APPLICANT,
        form=ENTERPRISE_FORM,
        materials=handed_in(),
    ).case
    services.case_accept(user=users["window1"], case_no=case.case_no)
    reviewers = {"market_regulation": "market1", "public_security": "police1", "tax": "tax1"}
    for task in HumanTask.objects.filter(case=case, state=HumanTaskState.OPEN, department__isnull=False):
        services.human_task_complete(user=users[reviewers[task.lane]], task_id=task.pk, decision="approve")
    return Case.objects.get(pk=case.pk)


def test_the_status_page_fills_in_the_case_number_from_the_qr_code(demo):
    body = Client().get("/status/", {"case_no": "11010520261207000001"}).content.decode()
    assert 'value="11010520261207000001"' in body
    assert 'name="query_code" value=""' in body or 'id="id_query_code" name="query_code" value=""' in body
    assert 'value="<script>' not in Client().get("/status/", {"case_no": "<script>"}).content.decode()


def test_the_qr_urls_follow_the_public_base_url_setting(settings):
    settings.ONETHING_PUBLIC_BASE_URL = "https://hall.example.gov.cn:8443/"
    assert notices.status_url("1" * 20) == f"https://hall.example.gov.cn:8443/status/?case_no={'1' * 20}"
    assert notices.licence_check_url("JY1", "ABC234") == "https://hall.example.gov.cn:8443/licences/?no=JY1&code=ABC234"


def test_a_licence_checks_as_valid_with_its_holder_masked_and_no_query_code(users):
    case = approved_case(users)
    licence = ELicence.objects.get(case=case)
    page = Client().get("/licences/", {"no": licence.number, "code": licence.verification_code})
    body = page.content.decode()
    assert page.status_code == 200
    assert 'data-testid="licence-state">有效<' in body and "营业执照" in body
    assert "示范" in body and ENTERPRISE_FORM["enterprise_name"] not in body  # masked
    assert case.case_no not in body and "查询码" not in body

    api = Client().post(
        "/api/licences/check",
        {"number": licence.number, "code": licence.verification_code.lower()},
        content_type="application/json",
    )
    assert api.status_code == 200 and api.json()["state"] == "valid"
    assert api.json()["holder"] != ENTERPRISE_FORM["enterprise_name"]


def test_revoked_and_expired_licences_say_so(users):
    case = approved_case(users)
    licence = ELicence.objects.get(case=case)
    ELicence.objects.filter(pk=licence.pk).update(valid_to=dt.date(2020, 1, 1))
    body = Client().get("/licences/", {"no": licence.number, "code": licence.verification_code}).content.decode()
    assert 'data-testid="licence-state">已过期<' in body
    ELicence.objects.filter(pk=licence.pk).update(revoked_at="2026-01-02T10:00:00+08:00", revoked_reason="复核撤销")
    body = Client().get("/licences/", {"no": licence.number, "code": licence.verification_code}).content.decode()
    assert 'data-testid="licence-state">已撤销<' in body


def test_a_wrong_code_and_an_unknown_licence_answer_the_same_and_guessing_is_throttled(users, settings):
    case = approved_case(users)
    licence = ELicence.objects.get(case=case)
    wrong = Client().post("/api/licences/check", {"number": licence.number, "code": "ZZZZZZ"}, "application/json")
    unknown = Client().post("/api/licences/check", {"number": "JY19999", "code": "ZZZZZZ"}, "application/json")
    assert wrong.status_code == unknown.status_code == 404 and wrong.content == unknown.content
    page_wrong = Client().get("/licences/", {"no": licence.number, "code": "ZZZZZZ"})
    page_unknown = Client().get("/licences/", {"no": "JY19999", "code": "ZZZZZZ"})
    assert page_wrong.status_code == page_unknown.status_code == 404

    def same(page, number: str) -> str:  # the page, without the number typed and the form's CSRF token
        return re.sub(r'value="[^"]*"', "", page.content.decode().replace(number, "N"))

    assert same(page_wrong, licence.number) == same(page_unknown, "JY19999")

    # the status lookup's wrong-code budget per address and number (5/hour): then 429 even for the right code
    for _ in range(4):
        Client().post("/api/licences/check", {"number": licence.number, "code": "ZZZZZZ"}, "application/json")
    right = Client().post(
        "/api/licences/check", {"number": licence.number, "code": licence.verification_code}, "application/json"
    )
    assert right.status_code == 429
