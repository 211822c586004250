"""POST /api/documents/verify is bounded (issue 18, high): a screen before parsing, a child process with hard
CPU/memory/time limits, and a global concurrency cap — so hostile files cannot stall the site."""

from __future__ import annotations

import resource

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from tests.api.helpers import assert_error, post_raw
from tests.security.hostile_pdfs import repeated_field_list
from workflow import notices
from workflow.services.documents import document_issue

pytestmark = pytest.mark.django_db

VERIFY = "/api/documents/verify"


def verify(content: bytes, *, ip: str = "203.0.113.90"):
    return post_raw(APIClient(), VERIFY, content, "application/pdf", REMOTE_ADDR=ip)


@pytest.fixture(scope="module")
def in_the_open():
    return repeated_field_list(1_600_000)


@pytest.fixture(scope="module")
def compressed():
    return repeated_field_list(690_000, compressed=True)


def test_a_field_list_repeating_one_reference_is_refused_before_parsing(issuing, in_the_open):
    assert len(in_the_open) < 10 * 1024 * 1024  # under the body limit: the old code parsed it (~8 s of CPU)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    response = verify(in_the_open)
    assert_error(response, 413, "document_too_complex")
    assert resource.getrusage(resource.RUSAGE_CHILDREN) == before  # refused unparsed: no child was started
    assert "引用超过 20000 个" in response.json()["message"]


def test_too_many_objects_are_refused_before_parsing(issuing, settings):
    settings.ONETHING_VERIFY_MAX_OBJECTS = 10
    body = b"%PDF-1.7\n" + b"".join(b"%d 0 obj null endobj\n" % i for i in range(1, 12)) + b"%%EOF"
    assert_error(verify(body), 413, "document_too_complex")


def test_work_hidden_in_a_compressed_stream_is_stopped_by_the_cpu_limit(issuing, settings, compressed):
    settings.ONETHING_VERIFY_CPU_SECONDS = 1
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    response = verify(compressed)  # ~3.3 s of CPU unbounded
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    assert_error(response, 413, "document_too_complex")
    child_cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    assert child_cpu < 2.1  # the hard limit (1 s soft, 2 s hard) stopped it


def test_the_memory_limit_stops_a_check_that_needs_more(issuing, settings):
    settings.ONETHING_VERIFY_MEMORY_MB = 64  # below what importing pyHanko alone takes
    body = verify(b"%PDF-1.7\nnot really a pdf\n%%EOF")
    assert_error(body, 413, "document_too_complex")


def test_when_every_slot_is_taken_the_next_verification_waits_its_turn_with_503(issuing, settings):
    settings.ONETHING_VERIFY_CONCURRENCY = 1
    cache.set("onething:semaphore:document-verify:0", "someone-else", 30)
    try:
        response = verify(b"%PDF-1.7\nnot really a pdf\n%%EOF")
        assert_error(response, 503, "busy")
        assert response["Retry-After"] == "5"
    finally:
        cache.delete("onething:semaphore:document-verify:0")
    assert verify(b"%PDF-1.7\nnot really a pdf\n%%EOF").status_code == 200
    assert cache.get("onething:semaphore:document-verify:0") is None  # the slot is given back


def test_a_genuine_notice_still_verifies_in_the_child_process(users, issuing):
    from tests.api.helpers import accept, open_case

    ref = accept(users, open_case(users))
    document = document_issue(case_id=ref.pk, key="acceptance_receipt")
    body = verify(notices.document_content(document)).json()
    assert body["valid"] is True and body["known"] is True and body["signed_at"]
