"""Material files through the HTTP API: multipart upload with type sniffed from content and size limits
enforced before and while the body is read; listing, download and preview headers; removal; permissions."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart
from rest_framework.test import APIClient

from tests import upload_samples as samples
from tests.api.helpers import accept, assert_error, decide, field_errors, get, open_case
from workflow.models import CaseEvent, MaterialFile

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):
    settings.ONETHING_PRIVATE_MEDIA_ROOT = str(tmp_path / "private")


def upload(client, case_no, content, *, name="scan.pdf", material="premises_proof", content_type="application/pdf"):
    with transaction.atomic():
        return client.post(
            f"/api/cases/{case_no}/files",
            {"material_code": material, "file": SimpleUploadedFile(name, content, content_type=content_type)},
            format="multipart",
        )


def raw_post(client, case_no, body: bytes | None, **meta):
    """A multipart POST with the environ under the test's control (Content-Length, the input stream)."""
    with transaction.atomic():
        return client.generic(
            "POST", f"/api/cases/{case_no}/files", body or b"-", content_type=MULTIPART_CONTENT, **meta
        )


def multipart(content: bytes, *, material="premises_proof", name="scan.pdf") -> bytes:
    return encode_multipart(
        BOUNDARY, {"material_code": material, "file": SimpleUploadedFile(name, content, "application/pdf")}
    )


class Untouchable(io.RawIOBase):
    """A request body that fails the test if anyone reads it."""

    def readable(self):
        return True

    def read(self, *args):
        raise AssertionError("the request body was read")

    readline = readinto = read


# --- uploads ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "name", "content_type", "stored_name"),
    [
        (samples.pdf, "营业场所证明.pdf", "application/pdf", "营业场所证明.pdf"),
        (samples.jpeg, "照片.JPG", "image/jpeg", "照片.jpg"),
        (samples.png, "scan.png", "image/png", "scan.png"),
        (samples.ofd, "租赁合同.ofd", "application/ofd", "租赁合同.ofd"),
        (samples.png, "renamed.pdf", "image/png", "renamed.png"),  # the content decides, not the name
    ],
)
def test_each_allowed_type_is_accepted_and_typed_by_its_content(
    client_for, received_case, make, name, content_type, stored_name
):
    response = upload(client_for("window1"), received_case.case_no, make(), name=name, content_type="text/plain")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["content_type"], body["name"], body["material_code"]) == (content_type, stored_name, "premises_proof")
    assert body["size"] == len(make()) and len(body["sha256"]) == 64 and body["uploaded_by"] == "window1"


@pytest.mark.parametrize("kind", sorted(samples.IMPOSTORS))
def test_anything_else_is_refused_whatever_its_name_and_declared_type(client_for, received_case, kind):
    response = upload(
        client_for("window1"), received_case.case_no, samples.IMPOSTORS[kind], content_type="application/pdf"
    )
    body = assert_error(response, 400, "file_type_not_allowed")
    assert "PDF、JPG/JPEG、PNG 或 OFD" in body["errors"]["file"][0]
    assert not MaterialFile.objects.exists()


def test_a_material_not_on_the_checklist_is_a_field_error(client_for, received_case):
    errors = field_errors(upload(client_for("window1"), received_case.case_no, samples.pdf(), material="passport"))
    assert "material_code" in errors


def test_a_missing_file_is_a_field_error(client_for, received_case):
    with transaction.atomic():
        response = client_for("window1").post(
            f"/api/cases/{received_case.case_no}/files", {"material_code": "premises_proof"}, format="multipart"
        )
    assert "file" in field_errors(response)


def test_json_is_not_an_upload(client_for, received_case):
    with transaction.atomic():
        response = client_for("window1").post(
            f"/api/cases/{received_case.case_no}/files", {"material_code": "premises_proof"}, format="json"
        )
    assert_error(response, 415, "unsupported_media_type")


def test_files_are_refused_once_the_case_is_accepted(client_for, accepted_case):
    assert_error(upload(client_for("window1"), accepted_case.case_no, samples.pdf()), 409, "invalid_transition")


def test_files_are_accepted_while_a_correction_is_awaited(client_for, correction_case):
    response = upload(client_for("window1"), correction_case.case_no, samples.pdf())
    assert response.status_code == 201 and response.json()["review_round"] == 1


def test_the_same_file_twice_is_stored_once(client_for, received_case):
    window = client_for("window1")
    first = upload(window, received_case.case_no, samples.pdf())
    again = upload(window, received_case.case_no, samples.pdf(), name="copy.pdf")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert MaterialFile.objects.count() == 1


# --- size limits -----------------------------------------------------------------------------------------


def test_a_declared_content_length_over_the_limit_is_refused_before_the_body_is_read(client_for, received_case):
    response = raw_post(
        client_for("window1"),
        received_case.case_no,
        None,
        CONTENT_LENGTH=str(django_settings.ONETHING_UPLOAD_MAX_BYTES + 10 * 1024 * 1024),
        **{"wsgi.input": Untouchable()},
    )
    body = assert_error(response, 413, "file_too_large")
    assert "10 MB" in body["message"]


def test_the_limit_is_checked_before_authentication_reads_the_body(client_for, received_case, users):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(users["window1"])  # a session: DRF's CSRF check would parse the body
    response = raw_post(client, received_case.case_no, None, CONTENT_LENGTH=str(10**9), **{"wsgi.input": Untouchable()})
    assert_error(response, 413, "file_too_large")


def test_a_file_over_the_limit_is_stopped_while_streaming(client_for, received_case, settings):
    settings.ONETHING_UPLOAD_MAX_BYTES = 4096  # the declared length (about 9 KB) passes the header check
    body = multipart(samples.pdf() + b" " * 8192)
    assert len(body) < 4096 + 64 * 1024
    assert_error(raw_post(client_for("window1"), received_case.case_no, body), 413, "file_too_large")
    assert not MaterialFile.objects.exists()


def test_a_content_length_that_lies_low_cannot_smuggle_a_larger_file(client_for, received_case, settings):
    settings.ONETHING_UPLOAD_MAX_BYTES = 4096
    body = multipart(samples.pdf() + b" " * 20000)
    response = raw_post(client_for("window1"), received_case.case_no, body, CONTENT_LENGTH=str(12000))
    assert_error(response, 413, "file_too_large")
    assert not MaterialFile.objects.exists()


def test_a_body_without_content_length_is_read_as_empty(client_for, received_case):
    """A chunked body has no Content-Length; Django reads nothing of it, so nothing can get past the limit."""
    body = multipart(samples.pdf())
    response = raw_post(client_for("window1"), received_case.case_no, body, CONTENT_LENGTH="")
    assert response.status_code == 400
    assert not MaterialFile.objects.exists()


def test_case_limits_are_a_conflict(client_for, received_case, settings):
    settings.ONETHING_UPLOAD_MAX_FILES_PER_CASE = 1
    window = client_for("window1")
    assert upload(window, received_case.case_no, samples.pdf()).status_code == 201
    assert_error(upload(window, received_case.case_no, samples.png()), 409, "case_files_limit")


# --- permissions ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("who", "status"), [("market1", 403), ("supervisor1", 403), (None, 401)])
def test_only_the_window_uploads(client_for, received_case, who, status):
    assert_error(upload(client_for(who), received_case.case_no, samples.pdf()), status)


def test_who_sees_the_files(client_for, users):
    ref = open_case(users)
    window = client_for("window1")
    file_id = upload(window, ref.case_no, samples.png(), name="id.png", material="legal_rep_id_card").json()["id"]
    # Before acceptance no department has a task: reviewers do not see the case.
    assert_error(get(client_for("market1"), f"/api/cases/{ref.case_no}/files"), 404)
    assert_error(get(client_for("market1"), f"/api/files/{file_id}"), 404)
    accept(users, ref)
    for who in ("window1", "market1", "police1", "supervisor1"):
        listed = get(client_for(who), f"/api/cases/{ref.case_no}/files")
        assert listed.status_code == 200, who
        group = next(g for g in listed.json() if g["code"] == "legal_rep_id_card")
        assert [f["id"] for f in group["files"]] == [file_id]
        assert get(client_for(who), f"/api/files/{file_id}").status_code == 200, who
    # health has no task on an 企业开办 case: the same 404 as for a file that does not exist.
    assert_error(get(client_for("health1"), f"/api/cases/{ref.case_no}/files"), 404)
    assert_error(get(client_for("health1"), f"/api/files/{file_id}"), 404, "not_found")
    assert_error(get(client_for("window1"), "/api/files/00000000-0000-4000-8000-000000000000"), 404)
    assert_error(get(client_for(None), f"/api/files/{file_id}"), 401)
    assert_error(get(client_for(None), f"/api/cases/{ref.case_no}/files"), 401)


# --- download and preview ---------------------------------------------------------------------------------


def test_downloads_carry_the_sniffed_type_nosniff_a_sandbox_and_are_attachments(client_for, received_case):
    window = client_for("window1")
    content = samples.png()
    file_id = upload(window, received_case.case_no, content, name="住所.pdf", content_type="application/pdf").json()[
        "id"
    ]
    response = get(window, f"/api/files/{file_id}")
    assert response.status_code == 200
    assert response.content == content
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"].startswith("sandbox")
    assert response["Content-Disposition"].startswith("attachment;") and ".png" in response["Content-Disposition"]
    assert "no-store" in response["Cache-Control"]
    preview = get(window, f"/api/files/{file_id}?inline=1")
    assert preview["Content-Disposition"].startswith("inline;")
    assert preview["Content-Security-Policy"].startswith("sandbox")


def test_an_ofd_is_never_shown_inline(client_for, received_case):
    window = client_for("window1")
    file_id = upload(window, received_case.case_no, samples.ofd(), name="合同.ofd").json()["id"]
    response = get(window, f"/api/files/{file_id}?inline=1")
    assert response["Content-Type"] == "application/ofd"
    assert response["Content-Disposition"].startswith("attachment;")


def test_a_stored_file_that_was_altered_is_not_served(client_for, received_case):
    window = client_for("window1")
    file_id = upload(window, received_case.case_no, samples.pdf()).json()["id"]
    row = MaterialFile.objects.get(public_id=file_id)
    path = Path(django_settings.ONETHING_PRIVATE_MEDIA_ROOT) / row.storage_name
    path.write_bytes(samples.HTML)
    assert_error(get(window, f"/api/files/{file_id}"), 410, "file_damaged")


# --- removal ---------------------------------------------------------------------------------------------


def test_removal_before_acceptance_only_with_an_audit_event(client_for, users):
    ref = open_case(users)
    window = client_for("window1")
    first = upload(window, ref.case_no, samples.pdf()).json()["id"]
    second = upload(window, ref.case_no, samples.png()).json()["id"]
    assert_error(window_delete(client_for("market1"), first), 403)
    assert window_delete(window, first).status_code == 204
    assert_error(window_delete(window, first), 404)
    accept(users, ref)
    assert_error(window_delete(window, second), 409, "invalid_transition")
    kinds = list(CaseEvent.objects.filter(case_id=ref.pk).values_list("kind", flat=True))
    assert kinds.count("material_uploaded") == 2 and kinds.count("material_removed") == 1


def window_delete(client, file_id):
    with transaction.atomic():
        return client.delete(f"/api/files/{file_id}")


def test_a_correction_case_file_can_be_seen_by_the_department_that_asked(client_for, users):
    ref = accept(users, open_case(users))
    decide(users, ref, "market_regulation", "approve")
    decide(users, ref, "public_security", "need_correction")
    decide(users, ref, "tax", "approve")
    file_id = upload(client_for("window1"), ref.case_no, samples.jpeg(), material="legal_rep_id_card").json()["id"]
    response = get(client_for("police1"), f"/api/files/{file_id}?inline=1")
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"


def test_the_applicant_sees_the_names_types_and_sizes_of_the_files_only(client_for, received_case):
    assert upload(client_for("window1"), received_case.case_no, samples.png(), name="场所照片.png").status_code == 201
    status = client_for(None).post(
        "/api/status", {"case_no": received_case.case_no, "query_code": received_case.query_code}, format="json"
    )
    assert status.status_code == 200, status.content
    [row] = status.json()["files"]
    assert (row["material_code"], row["name"], row["content_type"], row["size"]) == (
        "premises_proof",
        "场所照片.png",
        "image/png",
        len(samples.png()),
    )
    assert set(row) == {"material_code", "material_name", "name", "content_type", "size", "uploaded_at"}
