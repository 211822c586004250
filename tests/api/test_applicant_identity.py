"""The applicant's identity (docs/api.md "Applicant"): SMS codes to the phone bound to the ID number — expiry,
single use, throttles, and answers that never tell whether an ID number has cases —, the kiosk's ID-card reader,
an applicant authentication separate from staff's, and "my cases" that never reach another person's case."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import timezone
from rest_framework.test import APIClient

from tests.api.applicant_helpers import MOTHER, WANG, last_code, sent_to, sign_in
from tests.api.helpers import assert_error, open_case
from tests.conftest import ENTERPRISE_FORM
from workflow import services
from workflow.models import ApplicantCode, ApplicantSession
from workflow.services.applicant_identity import WRONG_CODE

pytestmark = pytest.mark.django_db


def post(client, path, body, **extra):
    return client.post(path, body, format="json", **extra)


def test_a_code_signs_the_applicant_in_once(users):
    client = APIClient()
    assert post(client, "/api/applicant/identity/code", MOTHER).status_code == 202
    code = last_code(MOTHER["phone"])
    row = ApplicantCode.objects.get(id_number=MOTHER["id_number"])
    assert code not in row.code_hash and row.deliverable
    answer = post(client, "/api/applicant/identity/verify", {**MOTHER, "code": code})
    assert answer.status_code == 200 and answer.json()["method"] == "sms"
    me = APIClient()
    me.credentials(HTTP_AUTHORIZATION=f"Applicant {answer.json()['token']}")
    body = me.get("/api/applicant/me").json()
    assert body["id_number_masked"] == "110***********002X" and body["method_label"] == "短信验证码"
    # Single use: the same code again is the one answer for every bad code.
    again = post(client, "/api/applicant/identity/verify", {**MOTHER, "code": code})
    assert_error(again, 400, "invalid")
    assert again.json()["errors"]["code"] == [WRONG_CODE]
    # Signing out ends the token.
    assert me.post("/api/applicant/sign-out").status_code == 204
    assert_error(me.get("/api/applicant/me"), 401, "applicant_not_authenticated")


def test_expired_and_guessed_codes_get_the_same_answer(users):
    client = APIClient()
    with time_machine.travel(timezone.now(), tick=False) as clock:
        post(client, "/api/applicant/identity/code", MOTHER)
        code = last_code(MOTHER["phone"])
        wrong = "000000" if code != "000000" else "111111"
        first = post(client, "/api/applicant/identity/verify", {**MOTHER, "code": wrong})
        clock.shift(dt.timedelta(minutes=6))
        expired = post(client, "/api/applicant/identity/verify", {**MOTHER, "code": code})
    assert first.json() == expired.json() and first.status_code == expired.status_code == 400
    # Five tries per code: the right code on the sixth try fails too.
    post(client, "/api/applicant/identity/code", MOTHER)
    code = last_code(MOTHER["phone"])
    for _ in range(5):
        post(client, "/api/applicant/identity/verify", {**MOTHER, "code": "999999" if code != "999999" else "888888"})
    assert post(client, "/api/applicant/identity/verify", {**MOTHER, "code": code}).status_code == 400


def test_a_phone_not_bound_to_the_id_number_gets_nothing_and_learns_nothing(users):
    open_case(users)  # WANG has a case with his phone 13800138000: that phone is bound to his ID number
    client = APIClient()
    stranger = {"id_number": WANG["id_number"], "phone": "13700000000"}
    newcomer = {"id_number": "440524198801010011", "phone": "13600000000"}
    answers = [post(client, "/api/applicant/identity/code", person) for person in (stranger, newcomer)]
    assert [a.status_code for a in answers] == [202, 202] and answers[0].json() == answers[1].json()
    assert sent_to("13700000000") == 0 and sent_to("13600000000") == 1
    # The stranger cannot sign in with any code; the answer is the one for a wrong code.
    guess = post(client, "/api/applicant/identity/verify", {**stranger, "code": "123456"})
    assert guess.json()["errors"]["code"] == [WRONG_CODE]
    wrong_for_newcomer = post(client, "/api/applicant/identity/verify", {**newcomer, "code": "000001"})
    assert guess.json() == wrong_for_newcomer.json()
    # The owner's phone works; a newcomer's phone is bound at the first sign-in (a minute later: throttles).
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=2)):
        sign_in(WANG)
        sign_in(newcomer)
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=4)):
        assert post(client, "/api/applicant/identity/code", {**newcomer, "phone": "13500000000"}).status_code == 202
    assert sent_to("13500000000") == 0


def test_codes_are_throttled_per_number_and_per_address(users):
    client = APIClient()
    assert post(client, "/api/applicant/identity/code", MOTHER).status_code == 202
    throttled = post(client, "/api/applicant/identity/code", MOTHER)
    assert_error(throttled, 429, "throttled")
    assert "1 分钟" in throttled.json()["message"]
    same_phone_other_id = {"id_number": "440524198801010011", "phone": MOTHER["phone"]}
    assert post(client, "/api/applicant/identity/code", same_phone_other_id).status_code == 429
    # One address asking for many numbers.
    for n in range(19):
        person = {"id_number": "440524198801010011", "phone": f"1370000{n:04d}"}
        ApplicantCode.objects.filter(id_number=person["id_number"]).delete()  # only the address limit counts
        assert post(client, "/api/applicant/identity/code", person, REMOTE_ADDR="10.9.9.9").status_code == 202
    last = post(client, "/api/applicant/identity/code", {**MOTHER, "phone": "13300000000"}, REMOTE_ADDR="10.9.9.9")
    assert_error(last, 429, "throttled")


def test_bad_input_is_a_clear_400(users):
    client = APIClient()
    answer = post(client, "/api/applicant/identity/code", {"id_number": "110105199003070018", "phone": "12345"})
    errors = answer.json()["errors"]
    assert answer.status_code == 400 and "id_number" in errors and "phone" in errors
    assert ApplicantCode.objects.count() == 0


def test_the_applicant_door_and_the_staff_door_are_separate(users, client_for):
    applicant = sign_in(MOTHER)
    assert_error(applicant.get("/api/cases/11010520260101000001"), 401, "not_authenticated")
    assert_error(applicant.get("/api/tasks"), 401, "not_authenticated")
    staff = client_for("window1")
    assert staff.get("/api/applicant/cases").status_code in (401, 403)
    token = APIClient()
    token.credentials(HTTP_AUTHORIZATION="Applicant not-a-token")
    assert_error(token.get("/api/applicant/cases"), 401, "applicant_not_authenticated")


def test_a_kiosk_signs_in_with_its_id_card_reader_and_idles_out(users, settings):
    settings.ONETHING_KIOSKS = {"kiosk-01": "s3cret"}
    client = APIClient()
    card = {"id_number": MOTHER["id_number"], "name": "张晓红"}
    assert_error(post(client, "/api/applicant/identity/kiosk", {**card, "kiosk": "kiosk-01", "key": "x"}), 403)
    assert_error(post(client, "/api/applicant/identity/kiosk", {**card, "kiosk": "kiosk-99", "key": "s3cret"}), 403)
    with time_machine.travel(timezone.now(), tick=False) as clock:
        answer = post(client, "/api/applicant/identity/kiosk", {**card, "kiosk": "kiosk-01", "key": "s3cret"})
        assert answer.status_code == 200
        body = answer.json()
        assert (body["method"], body["kiosk"], body["idle_seconds"]) == ("id_card_reader", "kiosk-01", 120)
        kiosk = APIClient()
        kiosk.credentials(HTTP_AUTHORIZATION=f"Applicant {body['token']}")
        assert kiosk.get("/api/applicant/me").json()["method_label"] == "自助终端读取身份证"
        clock.shift(dt.timedelta(seconds=100))
        assert kiosk.get("/api/applicant/cases").status_code == 200  # activity restarts the idle time
        clock.shift(dt.timedelta(seconds=121))
        idle = kiosk.get("/api/applicant/cases")
    assert_error(idle, 401, "applicant_not_authenticated")
    assert "长时间未操作" in idle.json()["message"]
    assert ApplicantSession.objects.get(kiosk="kiosk-01").ended_at is not None


def test_my_cases_lists_only_my_own_and_never_reaches_anothers(users):
    mine = open_case(users)  # WANG's
    other = services.case_open(
        user=users["window1"],
        one_thing_key="enterprise_start",
        applicant={"name": "张晓红", "id_number": MOTHER["id_number"], "phone": MOTHER["phone"]},
        form=ENTERPRISE_FORM,
    ).case
    wang, mother = sign_in(WANG), sign_in(MOTHER)
    listed = wang.get("/api/applicant/cases").json()
    assert [row["case_no"] for row in listed] == [mine.case_no]
    assert (listed[0]["status"], listed[0]["channel"]) == ("received", "window")
    assert wang.get(f"/api/applicant/cases/{mine.case_no}").status_code == 200
    assert_error(wang.get(f"/api/applicant/cases/{other.case_no}"), 404, "not_found")
    assert_error(
        wang.post(f"/api/applicant/cases/{other.case_no}/correction", {"form": {"seal_count": 1}}, format="json"),
        404,
        "not_found",
    )
    assert [row["case_no"] for row in mother.get("/api/applicant/cases").json()] == [other.case_no]
