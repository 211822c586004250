"""The applicant's lookup: case number + query code, no account. Same answer for every miss; throttled."""

from __future__ import annotations

import json

import pytest
from django.conf import settings
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from api.throttles import StatusLookupIpThrottle
from tests.api.helpers import accept, assert_error, case_body, decide, open_case, post
from tests.conftest import DEPARTMENTS
from workflow import query_codes
from workflow.models import Case, CaseEvent, HumanTask

pytestmark = pytest.mark.django_db

STATUS = "/api/status"


def lookup(case_no: str, query_code: str, *, ip: str = "203.0.113.10", path: str = STATUS, **extra):
    body = {"case_no": case_no, "query_code": query_code, **extra}
    return post(APIClient(), path, body, REMOTE_ADDR=ip)


def configured(scope: str) -> tuple[int, int]:
    """(requests, seconds) of a throttle scope, as configured in settings."""
    return SimpleRateThrottle.parse_rate(None, settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"][scope])


def rotating_ip(i: int) -> str:
    return f"198.51.{i // 250}.{i % 250 + 1}"


def unknown_case_no(i: int) -> str:
    return f"110105199901{i:08d}"


# --- the same answer for every miss -----------------------------------------------------------------


def test_unknown_case_and_wrong_query_code_get_byte_identical_404s(received_case):
    unknown = lookup(unknown_case_no(1), received_case.query_code)
    wrong_code = lookup(received_case.case_no, "WRONG234")  # "O" is not in the code alphabet: never right
    assert_error(unknown, 404, "not_found")
    assert (wrong_code.status_code, wrong_code.content) == (unknown.status_code, unknown.content)
    assert wrong_code["Content-Type"] == unknown["Content-Type"]


def test_another_cases_query_code_does_not_open_this_case(users):
    first, second = open_case(users), open_case(users)
    assert_error(lookup(first.case_no, second.query_code), 404, "not_found")


@pytest.mark.parametrize(
    "typed",
    [
        pytest.param(lambda code: code.lower(), id="lower-case"),
        pytest.param(lambda code: f"{code[:4]}-{code[4:]}", id="hyphen"),
        pytest.param(lambda code: f"  {code[:4]} {code[4:]}  ", id="spaces"),
        pytest.param(lambda code: "-".join(code.lower()), id="hyphen-between-every-character"),
    ],
)
def test_the_query_code_is_case_insensitive_and_ignores_spaces_and_hyphens(received_case, typed):
    code = typed(received_case.query_code)
    assert query_codes.normalise(code) == received_case.query_code
    response = lookup(received_case.case_no, code)
    assert response.status_code == 200, response.content
    assert response.json()["case_no"] == received_case.case_no


def test_the_query_code_is_stored_only_as_a_keyed_digest(client_for):
    opened = post(client_for("window1"), "/api/cases", case_body()).json()
    code = opened["query_code"]
    case = Case.objects.get(case_no=opened["case_no"])

    row = {field.attname: getattr(case, field.attname) for field in Case._meta.concrete_fields}
    stored = json.dumps(row, default=str, ensure_ascii=False).upper()
    assert code.upper() not in stored
    assert case.query_code_hash == query_codes.digest(code) != code
    # nor anywhere else about the case, nor in what staff can read
    related = [
        *HumanTask.objects.filter(case=case).values(),
        *CaseEvent.objects.filter(case=case).values(),
    ]
    assert code.upper() not in json.dumps(related, default=str, ensure_ascii=False).upper()
    detail = client_for("supervisor1").get(f"/api/cases/{case.case_no}")
    assert code.upper() not in detail.content.decode().upper()


# --- what the applicant sees ------------------------------------------------------------------------


def test_opinions_stay_hidden_while_in_review_and_appear_with_the_unified_feedback(users):
    ref = accept(users, open_case(users))
    decide(users, ref, "market_regulation", "approve")
    decide(users, ref, "tax", "approve")

    during = lookup(ref.case_no, ref.query_code).json()
    assert during["status"] == "in_review"
    progress = {row["department"]: row["progress"] for row in during["departments"]}
    assert progress == {"market_regulation": "done", "public_security": "reviewing", "tax": "done"}
    assert all((row["decision"], row["opinion"]) == (None, None) for row in during["departments"])

    decide(users, ref, "public_security", "approve")
    after = lookup(ref.case_no, ref.query_code).json()
    assert after["status"] == "approved" and after["outcome"] == "approved"
    for row in after["departments"]:
        assert (row["decision"], row["decision_label"]) == ("approve", "准予")  # a code, and its label
        assert row["opinion"] and row["department"] in row["opinion"]  # helpers tag opinions with the department


def test_a_rejection_is_shown_with_every_departments_opinion(users):
    ref = accept(users, open_case(users))
    decide(users, ref, "market_regulation", "reject")
    for department in DEPARTMENTS[1:]:
        decide(users, ref, department, "approve")
    status = lookup(ref.case_no, ref.query_code).json()
    assert (status["status"], status["outcome"], status["outcome_label"]) == ("rejected", "rejected", "不予许可")
    decisions = {row["department"]: (row["decision"], row["decision_label"]) for row in status["departments"]}
    assert decisions == {
        "market_regulation": ("reject", "不予许可"),
        "public_security": ("approve", "准予"),
        "tax": ("approve", "准予"),
    }


def test_the_correction_notice_lists_only_the_departments_that_asked(correction_case):
    status = lookup(correction_case.case_no, correction_case.query_code).json()
    assert status["status"] == "correction_required"
    assert [notice["department_name"] for notice in status["corrections"]] == ["公安分局"]
    assert [item["item"] for item in status["corrections"][0]["items"]] == ["address", "seal_count"]


def test_the_applicant_sees_department_names_before_review_starts(received_case):
    status = lookup(received_case.case_no, received_case.query_code).json()
    names = {row["department"]: row["department_name"] for row in status["departments"]}
    assert names == {"market_regulation": "区市场监督管理局", "public_security": "公安分局", "tax": "区税务局"}


def test_the_applicant_timeline_shows_what_happened_but_not_internal_steps_or_staff_names(correction_case):
    timeline = lookup(correction_case.case_no, correction_case.query_code).json()["timeline"]
    # the submission at the window is a trip (跑动), on the applicant's timeline too
    assert [event["kind"] for event in timeline] == ["opened", "visit", "accept", "require_correction"]
    assert all(event["actor"] == "" for event in timeline)


# --- throttles ---------------------------------------------------------------------------------------


def spend_the_case_budget(case_no: str) -> int:
    """Wrong codes for ``case_no`` from as many addresses as the per-case budget allows; → the next free index."""
    allowed, _ = configured("status_lookup_case")
    for i in range(allowed):
        assert lookup(case_no, "WRONG234", ip=rotating_ip(i)).status_code == 404
    return allowed


def test_under_attack_strangers_get_no_answer_but_the_right_code_still_works(received_case):
    """Issue 18: 10 wrong codes from anywhere used to lock the rightful applicant out for an hour."""
    fresh = spend_the_case_budget(received_case.case_no)
    # the holder of the right code, from an address that guessed nothing: answered as always
    assert lookup(received_case.case_no, received_case.query_code, ip=rotating_ip(fresh)).status_code == 200
    # a wrong code from a fresh address gets a refusal, never "wrong code"; that address is then refused unchecked
    refused = lookup(received_case.case_no, "WRONG234", ip=rotating_ip(fresh + 1))
    assert_error(refused, 429, "throttled")
    assert int(refused["Retry-After"]) > 0
    again = lookup(received_case.case_no, received_case.query_code, ip=rotating_ip(fresh + 1))
    assert (again.status_code, again.content) == (refused.status_code, refused.content)
    # an address that guessed wrong before the attack began is refused unchecked too
    assert_error(lookup(received_case.case_no, received_case.query_code, ip=rotating_ip(0)), 429, "throttled")
    # other cases are unaffected
    assert lookup(unknown_case_no(7), "WRONG234", ip=rotating_ip(fresh + 2)).status_code == 404


def test_under_attack_the_applicant_still_corrects_once(correction_case):
    fresh = spend_the_case_budget(correction_case.case_no)
    response = lookup(
        correction_case.case_no,
        correction_case.query_code,
        ip=rotating_ip(fresh),
        path="/api/status/correction",
        form={"seal_count": 2, "seal_types": ["单位公章"], "address": "示范区创新大道 99 号"},  # every asked field
    )
    assert response.status_code != 429, response.content[:300]
    assert correction_case.status == "in_review"


def test_wrong_codes_are_limited_per_address_and_case(received_case):
    allowed, _ = configured("status_lookup_addr_case")
    for _ in range(allowed):
        assert lookup(received_case.case_no, "WRONG234", ip="192.0.2.33").status_code == 404
    # this address is refused this case, unchecked: the right code included (no oracle for the guesser)
    right = lookup(received_case.case_no, received_case.query_code, ip="192.0.2.33")
    wrong = lookup(received_case.case_no, "WRONG234", ip="192.0.2.33")
    assert right.status_code == wrong.status_code == 429 and right.content == wrong.content
    # another address holding the right code is not affected
    assert lookup(received_case.case_no, received_case.query_code, ip="192.0.2.34").status_code == 200


@pytest.mark.parametrize(
    "disguise",
    [
        pytest.param(lambda no: f" {no}", id="leading-space"),
        pytest.param(lambda no: f"{no} ", id="trailing-space"),
        pytest.param(lambda no: f"{no}\n", id="trailing-newline"),
        pytest.param(lambda no: no.translate(str.maketrans("0123456789", "０１２３４５６７８９")), id="full-width"),
        pytest.param(lambda no: f"{no[:6]}-{no[6:14]}-{no[14:]}", id="hyphens"),
    ],
)
def test_a_disguised_case_number_is_the_same_case_for_the_lookup_and_its_limits(received_case, disguise):
    """Issue 18: the limit keyed on the raw value while the lookup stripped it, so a trailing space escaped it."""
    allowed, _ = configured("status_lookup_addr_case")
    for _ in range(allowed):
        assert lookup(disguise(received_case.case_no), "WRONG234", ip="192.0.2.35").status_code == 404
    assert_error(lookup(received_case.case_no, received_case.query_code, ip="192.0.2.35"), 429, "throttled")
    assert lookup(disguise(received_case.case_no), received_case.query_code, ip="192.0.2.36").status_code == 200


def test_a_json_number_is_no_case_number(received_case):
    response = lookup(int(received_case.case_no), received_case.query_code)
    assert response.status_code == 400 and "case_no" in response.json()["errors"]


def test_the_per_ip_throttle_stops_one_address_trying_many_cases(demo):
    allowed, _ = configured("status_lookup_ip")
    assert StatusLookupIpThrottle().num_requests == allowed
    for i in range(allowed):
        assert lookup(unknown_case_no(i), "WRONG234", ip="192.0.2.7").status_code == 404
    assert_error(lookup(unknown_case_no(allowed), "WRONG234", ip="192.0.2.7"), 429, "throttled")
    # Forged forwarding headers do not reset it (no trusted proxy is configured) ...
    forged = lookup(unknown_case_no(allowed + 1), "WRONG234", ip="192.0.2.7", HTTP_X_FORWARDED_FOR="10.9.9.9")
    assert_error(forged, 429, "throttled")
    # ... and other addresses are unaffected.
    assert lookup(unknown_case_no(allowed + 2), "WRONG234", ip="192.0.2.8").status_code == 404


def test_a_malformed_case_number_is_400_not_429(received_case):
    allowed, _ = configured("status_lookup_case")
    for i in range(allowed):  # exhaust the per-case limit of a real case
        lookup(received_case.case_no, "WRONG234", ip=rotating_ip(i))
    for i, malformed in enumerate(["2024-0001", received_case.case_no[:-1], "x" * 20, received_case.case_no + "0"]):
        for attempt in range(allowed + 1):  # never the per-case limit: there is no case to count against
            response = lookup(malformed, "WRONG234", ip=rotating_ip(100 + i * (allowed + 1) + attempt))
            assert_error(response, 400, "invalid")
            assert "case_no" in response.json()["errors"]


def test_throttle_rates_can_be_tightened(settings, received_case):
    rates = {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "status_lookup_addr_case": "2/hour"}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    for _ in range(3):  # the applicant's own successful lookups use up nothing…
        assert lookup(received_case.case_no, received_case.query_code, ip="192.0.2.40").status_code == 200
    for _ in range(2):  # …wrong codes do
        assert lookup(received_case.case_no, "WRONG234", ip="192.0.2.40").status_code == 404
    assert_error(lookup(received_case.case_no, received_case.query_code, ip="192.0.2.40"), 429, "throttled")
