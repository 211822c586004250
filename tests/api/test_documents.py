"""Documents over HTTP: staff and applicant downloads, verification by anyone, and re-issuing a query code."""

from __future__ import annotations

import hashlib
from urllib.parse import quote

import pytest
from django.conf import settings
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from tests.api.helpers import accept, assert_error, get, open_case, post, post_raw
from workflow import notices, query_codes
from workflow.models import Case, CaseEvent, Document
from workflow.services.documents import document_issue

pytestmark = pytest.mark.django_db

VERIFY = "/api/documents/verify"


def configured(scope: str) -> tuple[int, int]:
    return SimpleRateThrottle.parse_rate(None, settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"][scope])


def applicant(path: str, case_no: str, query_code: str, *, ip: str = "203.0.113.20", **extra):
    return post(APIClient(), path, {"case_no": case_no, "query_code": query_code}, REMOTE_ADDR=ip, **extra)


def verify(content: bytes, *, ip: str = "203.0.113.30", content_type: str = "application/pdf"):
    return post_raw(APIClient(), VERIFY, content, content_type, REMOTE_ADDR=ip)


@pytest.fixture
def receipt(users, issuing):
    """An accepted case and its issued receipt: (CaseRef, Document)."""
    ref = accept(users, open_case(users))
    return ref, document_issue(case_id=ref.pk, key="acceptance_receipt")


def assert_pdf_download(response, document: Document) -> bytes:
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert quote(document.filename) in disposition  # RFC 5987: filename*=utf-8''受理回执-….pdf
    assert "no-store" in response["Cache-Control"]
    assert hashlib.sha256(response.content).hexdigest() == document.sha256
    return response.content


# --- staff ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("username", ["window1", "supervisor1", "market1"])
def test_staff_who_see_the_case_list_and_download_its_documents(client_for, receipt, username):
    ref, document = receipt
    client = client_for(username)
    listed = get(client, f"/api/cases/{ref.case_no}/documents")
    assert listed.status_code == 200
    (row,) = listed.json()
    assert row["id"] == document.pk and row["kind"] == "acceptance_receipt" and row["kind_label"] == "受理回执"
    assert row["sha256"] == document.sha256 and row["size"] == document.size and row["signed"] is True
    assert row["filename"] == f"受理回执-{ref.case_no}.pdf"
    download = get(client, f"/api/cases/{ref.case_no}/documents/{document.pk}/download")
    assert_pdf_download(download, document)


def test_staff_who_do_not_see_the_case_get_404_and_anonymous_401(client_for, receipt, users):
    ref, document = receipt
    other = open_case(users)
    for path in (f"/api/cases/{ref.case_no}/documents", f"/api/cases/{ref.case_no}/documents/{document.pk}/download"):
        assert_error(get(client_for("health1"), path), 404, "not_found")  # not in the case's process
        assert_error(get(client_for(None), path), 401, "not_authenticated")
    # a document id under another case's number is not found
    wrong_case = f"/api/cases/{other.case_no}/documents/{document.pk}/download"
    assert_error(get(client_for("window1"), wrong_case), 404, "not_found")
    assert_error(get(client_for("window1"), f"/api/cases/{ref.case_no}/documents/999999/download"), 404)


def test_a_download_asked_for_as_pdf_still_answers_errors_in_json(client_for, receipt):
    ref, document = receipt
    path = f"/api/cases/{ref.case_no}/documents/{document.pk}/download"
    assert_pdf_download(get(client_for("window1"), path, HTTP_ACCEPT="application/pdf"), document)
    assert_error(get(client_for("health1"), path, HTTP_ACCEPT="application/pdf"), 404, "not_found")


def test_before_issuance_the_list_is_empty(client_for, users):
    ref = accept(users, open_case(users))
    assert get(client_for("window1"), f"/api/cases/{ref.case_no}/documents").json() == []


# --- the applicant -------------------------------------------------------------------------------------


def test_the_applicant_lists_and_downloads_with_case_number_and_query_code(receipt):
    ref, document = receipt
    listed = applicant("/api/status/documents", ref.case_no, ref.query_code)
    assert listed.status_code == 200, listed.content
    assert [row["id"] for row in listed.json()] == [document.pk]
    download = applicant(f"/api/status/documents/{document.pk}/download", ref.case_no, ref.query_code)
    assert_pdf_download(download, document)
    as_pdf = applicant(
        f"/api/status/documents/{document.pk}/download", ref.case_no, ref.query_code, HTTP_ACCEPT="application/pdf"
    )
    assert_pdf_download(as_pdf, document)

    status = applicant("/api/status", ref.case_no, ref.query_code).json()
    assert [row["id"] for row in status["documents"]] == [document.pk]
    assert "promised_date" in status
    assert status["rating"]["can_rate"] is False and status["rating"]["level"] is None


def test_a_wrong_code_is_the_same_404_as_an_unknown_case_on_every_document_endpoint(receipt, users):
    ref, document = receipt
    other = open_case(users)
    unknown = "11010519990101000001"
    for path in ("/api/status/documents", f"/api/status/documents/{document.pk}/download"):
        wrong_code = applicant(path, ref.case_no, "WRONG234")
        unknown_case = applicant(path, unknown, ref.query_code)
        other_code = applicant(path, ref.case_no, other.query_code)
        assert_error(wrong_code, 404, "not_found")
        assert (wrong_code.status_code, wrong_code.content) == (unknown_case.status_code, unknown_case.content)
        assert (other_code.status_code, other_code.content) == (unknown_case.status_code, unknown_case.content)
    # the right code of another case does not fetch this case's document
    response = applicant(f"/api/status/documents/{document.pk}/download", other.case_no, other.query_code)
    assert_error(response, 404, "not_found")


def test_document_lookups_share_the_status_lookups_per_case_budget_of_wrong_codes(users):
    ref = accept(users, open_case(users))
    allowed, _ = configured("status_lookup_case")
    for i in range(allowed):
        ip = f"198.51.100.{i + 1}"
        assert_error(applicant("/api/status/documents", ref.case_no, "WRONG234", ip=ip), 404)
    # under attack: a wrong code from a fresh address is refused, not answered "wrong", on every lookup path ...
    response = applicant("/api/status/documents", ref.case_no, "WRONG234", ip="192.0.2.200")
    assert_error(response, 429, "throttled")
    assert int(response["Retry-After"]) > 0
    assert_error(applicant("/api/status", ref.case_no, ref.query_code, ip="192.0.2.200"), 429, "throttled")
    # ... while the right code from an address that guessed nothing still works (docs/security.md)
    assert applicant("/api/status/documents", ref.case_no, ref.query_code, ip="192.0.2.201").status_code == 200


def test_document_lookups_are_throttled_per_address(users):
    ref = accept(users, open_case(users))
    allowed, _ = configured("status_lookup_ip")
    for _ in range(allowed):
        assert applicant("/api/status/documents", ref.case_no, ref.query_code, ip="192.0.2.50").status_code == 200
    assert_error(applicant("/api/status/documents", ref.case_no, ref.query_code, ip="192.0.2.50"), 429, "throttled")
    assert applicant("/api/status/documents", ref.case_no, ref.query_code, ip="192.0.2.51").status_code == 200


# --- verification ---------------------------------------------------------------------------------------


def test_the_original_verifies_as_valid_and_known_and_a_one_byte_change_as_invalid(receipt):
    ref, document = receipt
    content = notices.document_content(document)
    original = verify(content)
    assert original.status_code == 200, original.content
    body = original.json()
    assert body["valid"] is True and body["intact"] is True and body["reason"] == "有效，未被篡改"
    assert body["known"] is True and body["case_no"] == ref.case_no and body["kind"] == "acceptance_receipt"
    assert body["sha256"] == document.sha256 and settings.ONETHING_HALL_NAME in body["signer"]
    assert body["signed_at"]

    changed = bytearray(content)
    changed[len(changed) // 2] ^= 0x01
    tampered = verify(bytes(changed)).json()
    assert tampered["valid"] is False and tampered["intact"] is False
    assert tampered["reason"].startswith("无效：")
    assert tampered["known"] is False and tampered["case_no"] is None


def test_a_file_that_is_not_a_signed_pdf_is_invalid_not_an_error(issuing):
    body = verify(b"%PDF-1.7\nnot really a pdf\n%%EOF").json()
    assert body["valid"] is False and body["known"] is False and body["reason"].startswith("无效：")


def test_verification_refuses_other_bodies_and_oversized_files(issuing):
    assert_error(verify(b'{"file": "x"}', content_type="application/json"), 415, "unsupported_media_type")
    assert_error(verify(b""), 400, "invalid")
    assert_error(verify(b"%PDF" + b"0" * (10 * 1024 * 1024)), 413, "too_large")


def test_verification_is_throttled_per_address(issuing):
    allowed, _ = configured("document_verify")
    for _ in range(allowed):
        assert verify(b"garbage", ip="192.0.2.70").status_code == 200
    assert_error(verify(b"garbage", ip="192.0.2.70"), 429, "throttled")
    assert verify(b"garbage", ip="192.0.2.71").status_code == 200


# --- re-issuing a query code ------------------------------------------------------------------------------


def test_the_window_reissues_a_query_code_and_the_old_one_stops_working(client_for, users):
    ref = accept(users, open_case(users))
    response = post(client_for("window1"), f"/api/cases/{ref.case_no}/query-code")
    assert response.status_code == 200, response.content
    assert "no-store" in response["Cache-Control"]
    new_code = response.json()["query_code"]
    assert response.json()["case_no"] == ref.case_no and new_code != ref.query_code
    assert len(new_code) == query_codes.LENGTH and set(new_code) <= set(query_codes.ALPHABET)

    assert_error(applicant("/api/status", ref.case_no, ref.query_code), 404, "not_found")
    assert applicant("/api/status", ref.case_no, new_code, ip="203.0.113.21").status_code == 200

    case = Case.objects.get(pk=ref.pk)
    assert case.query_code_hash == query_codes.digest(new_code)
    event = CaseEvent.objects.filter(case=case, kind="query_code_reissued").get()
    assert event.actor == users["window1"]
    assert new_code not in str(CaseEvent.objects.filter(case=case).values_list("data", flat=True))


@pytest.mark.parametrize(("username", "status", "code"), [("market1", 403, "permission_denied"), (None, 401, None)])
def test_only_the_window_reissues_a_query_code(client_for, users, username, status, code):
    ref = open_case(users)
    assert_error(post(client_for(username), f"/api/cases/{ref.case_no}/query-code"), status, code)
    assert Case.objects.get(pk=ref.pk).query_code_hash == query_codes.digest(ref.query_code)


def test_reissuing_for_an_unknown_case_is_404(client_for):
    assert_error(post(client_for("window1"), "/api/cases/11010519990101000001/query-code"), 404, "not_found")
