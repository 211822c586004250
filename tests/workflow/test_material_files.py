"""Material files at the service layer: sniffing from content, the storage by digest, states, 容缺 promises,
removal, limits and the audit trail."""

import io
import zipfile
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from tests import upload_samples as samples
from tests.workflow.helpers import decide, open_and_accept, open_case
from workflow import audit, selectors, services, uploads
from workflow.calendar import add_working_days
from workflow.errors import (
    CaseFilesLimit,
    FileTooLarge,
    FileTypeNotAllowed,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from workflow.lifecycle import CaseStatus
from workflow.models import Case, CaseEvent, MaterialFile, MaterialPromise

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):
    settings.ONETHING_PRIVATE_MEDIA_ROOT = str(tmp_path / "private")


def upload(users, case_no, content, *, name="材料.pdf", material="premises_proof", user="window1"):
    return services.material_file_upload(
        user=users[user], case_no=case_no, material_code=material, file=SimpleUploadedFile(name, content)
    )


def stored(row) -> Path:
    return Path(django_settings.ONETHING_PRIVATE_MEDIA_ROOT) / row.storage_name


# --- sniffing (no database) ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "content_type", "extension"),
    [
        (samples.pdf, "application/pdf", ".pdf"),
        (samples.jpeg, "image/jpeg", ".jpg"),
        (samples.png, "image/png", ".png"),
        (samples.ofd, "application/ofd", ".ofd"),
    ],
)
def test_each_allowed_type_is_recognised_from_its_bytes(make, content_type, extension):
    sniffed = uploads.sniff(io.BytesIO(make()))
    assert (sniffed.content_type, sniffed.extension) == (content_type, extension)


@pytest.mark.parametrize("kind", sorted(samples.IMPOSTORS))
def test_everything_else_is_refused_with_a_chinese_message_naming_the_allowed_types(kind):
    with pytest.raises(uploads.Rejected) as refused:
        uploads.sniff(io.BytesIO(samples.IMPOSTORS[kind]))
    assert "PDF、JPG/JPEG、PNG 或 OFD" in refused.value.message


def test_an_ofd_whose_root_xml_is_not_an_ofd_document_is_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("OFD.xml", "<html><script>alert(1)</script></html>")
    with pytest.raises(uploads.Rejected):
        uploads.sniff(io.BytesIO(buffer.getvalue()))


def test_the_stored_name_takes_the_sniffed_extension_and_loses_any_path():
    assert uploads.normalised_name("C:\\scans\\营业执照.exe", uploads.PNG) == "营业执照.png"
    assert uploads.normalised_name("../../etc/passwd", uploads.PDF) == "passwd.pdf"
    assert uploads.normalised_name("", uploads.JPEG) == "材料.jpg"
    assert uploads.normalised_name("身份证.PDF.pdf", uploads.PDF) == "身份证.PDF.pdf"


# --- the service ---------------------------------------------------------------------------------------------


def test_an_upload_is_stored_privately_by_digest_with_the_sniffed_type_and_an_audit_event(users):
    case = open_case(users).case
    content = samples.png()
    row = upload(users, case.case_no, content, name="住所证明.pdf")  # a PNG named .pdf
    assert row.is_new
    assert (row.content_type, row.original_name, row.size) == ("image/png", "住所证明.png", len(content))
    assert row.storage_name == f"materials/{case.case_no}/{row.sha256}.png"
    assert stored(row).read_bytes() == content
    assert stored(row).stat().st_mode & 0o777 == 0o600
    # and no folder on the way is readable by others (issue 18: materials/ was 0755, listing every case)
    root = Path(django_settings.ONETHING_PRIVATE_MEDIA_ROOT)
    for folder in (root, root / "materials", stored(row).parent):
        assert folder.stat().st_mode & 0o777 == 0o700, folder
    assert (row.review_round, row.uploaded_by) == (0, users["window1"])
    event = CaseEvent.objects.get(case=case, kind="material_uploaded")
    assert event.data["sha256"] == row.sha256
    assert (event.data["material"], event.data["material_code"]) == ("住所（经营场所）使用证明", "premises_proof")
    assert audit.verify(CaseEvent.objects.order_by("seq"))[1] is None


def test_the_same_bytes_for_the_same_material_are_stored_once(users):
    case = open_case(users).case
    first = upload(users, case.case_no, samples.pdf())
    again = upload(users, case.case_no, samples.pdf(), name="另一个名字.pdf")
    assert not again.is_new and again.pk == first.pk
    other = upload(users, case.case_no, samples.pdf(), material="legal_rep_id_card")
    assert other.pk != first.pk and other.storage_name == first.storage_name
    assert MaterialFile.objects.filter(case=case).count() == 2
    assert CaseEvent.objects.filter(case=case, kind="material_uploaded").count() == 2
    assert len(list(stored(first).parent.iterdir())) == 1


def test_refused_uploads_leave_nothing(users):
    case = open_case(users).case
    with pytest.raises(FileTypeNotAllowed) as refused:
        upload(users, case.case_no, samples.HTML, name="scan.pdf")
    assert refused.value.field_errors["file"]
    with pytest.raises(ValidationFailed) as unknown:
        upload(users, case.case_no, samples.pdf(), material="no_such_material")
    assert "material_code" in unknown.value.field_errors
    with pytest.raises(PermissionDenied):
        upload(users, case.case_no, samples.pdf(), user="market1")
    with pytest.raises(NotFound):
        upload(users, "11010520991231999999", samples.pdf())
    assert not MaterialFile.objects.exists()
    assert not CaseEvent.objects.filter(kind="material_uploaded").exists()


def test_a_file_over_the_limit_is_refused(users, settings):
    settings.ONETHING_UPLOAD_MAX_BYTES = 1000
    case = open_case(users).case
    with pytest.raises(FileTooLarge):
        upload(users, case.case_no, samples.pdf() + b"\n" * 2000)


def test_per_case_limits(users, settings):
    case = open_case(users).case
    settings.ONETHING_UPLOAD_MAX_FILES_PER_CASE = 1
    upload(users, case.case_no, samples.pdf())
    with pytest.raises(CaseFilesLimit):
        upload(users, case.case_no, samples.png())
    settings.ONETHING_UPLOAD_MAX_FILES_PER_CASE = 10
    settings.ONETHING_UPLOAD_MAX_BYTES_PER_CASE = len(samples.pdf()) + 10
    with pytest.raises(CaseFilesLimit) as refused:
        upload(users, case.case_no, samples.png())
    assert refused.value.http_status == 409


def test_files_may_be_handed_in_before_acceptance_and_during_a_correction_only(users):
    case = open_and_accept(users)
    with pytest.raises(InvalidTransition):
        upload(users, case.case_no, samples.pdf())
    decide(users, case, "market_regulation", "approve")
    decide(users, case, "public_security", "need_correction")
    decide(users, case, "tax", "approve")
    assert Case.objects.get(pk=case.pk).status == CaseStatus.CORRECTION_REQUIRED
    row = upload(users, case.case_no, samples.pdf())
    assert row.review_round == 1  # handed in after the first review round
    services.case_correction_submit(case_no=case.case_no, changes={"address": "示范区创新大道 88 号 4 层"})
    with pytest.raises(InvalidTransition):
        upload(users, case.case_no, samples.png())


def test_uploading_a_promised_material_fulfils_the_promise(users):
    opened = open_case(users).case
    due = add_working_days(timezone.localdate(), 2)
    services.case_accept(
        user=users["window1"],
        case_no=opened.case_no,
        promises=[{"material": "shareholder_certificate", "due_date": due}],
    )
    with pytest.raises(InvalidTransition):  # not promised: the review has started
        upload(users, opened.case_no, samples.pdf())
    row = upload(users, opened.case_no, samples.pdf(), material="shareholder_certificate")
    promise = MaterialPromise.objects.get(case=opened)
    assert promise.fulfilled_at is not None and promise.fulfilled_by == users["window1"]
    kinds = list(CaseEvent.objects.filter(case=opened).order_by("seq").values_list("kind", flat=True))
    assert kinds[-3:] == ["material_uploaded", "promise_fulfilled", "visit"]  # brought to the window: a trip
    assert row.review_round == 1
    with pytest.raises(InvalidTransition):  # kept: nothing more to hand in
        upload(users, opened.case_no, samples.png(), material="shareholder_certificate")


def test_a_rolled_back_upload_leaves_no_row_and_the_next_upload_reuses_the_file(users):
    case = open_case(users).case

    def upload_then_fail():
        with transaction.atomic():
            upload(users, case.case_no, samples.pdf())
            raise RuntimeError("the caller's transaction fails after the upload")

    with pytest.raises(RuntimeError):
        upload_then_fail()
    assert not MaterialFile.objects.filter(case=case).exists()
    row = upload(users, case.case_no, samples.pdf())
    assert stored(row).read_bytes() == samples.pdf()


def test_removal_before_acceptance_deletes_the_row_and_then_the_unreferenced_bytes(
    users, django_capture_on_commit_callbacks
):
    case = open_case(users).case
    keep = upload(users, case.case_no, samples.pdf(), material="legal_rep_id_card")
    shared = upload(users, case.case_no, samples.pdf())
    with django_capture_on_commit_callbacks(execute=True):
        services.material_file_remove(user=users["window1"], public_id=shared.public_id)
    assert stored(keep).exists()  # the other row still refers to the same bytes
    with django_capture_on_commit_callbacks(execute=True):
        services.material_file_remove(user=users["window1"], public_id=keep.public_id)
    assert not stored(keep).exists()
    events = CaseEvent.objects.filter(case=case, kind="material_removed")
    assert [e.data["sha256"] for e in events] == [shared.sha256, keep.sha256]
    with pytest.raises(NotFound):
        services.material_file_remove(user=users["window1"], public_id=keep.public_id)


def test_removal_after_acceptance_is_refused(users):
    case = open_case(users).case
    row = upload(users, case.case_no, samples.pdf())
    with pytest.raises(PermissionDenied):
        services.material_file_remove(user=users["market1"], public_id=row.public_id)
    services.case_accept(user=users["window1"], case_no=case.case_no)
    with pytest.raises(InvalidTransition):
        services.material_file_remove(user=users["window1"], public_id=row.public_id)
    assert MaterialFile.objects.filter(pk=row.pk).exists()


def test_files_are_grouped_by_material_for_those_who_see_the_case(users):
    case = open_and_accept(users)
    _, groups = selectors.case_material_files(user=users["market1"], case_no=case.case_no)
    codes = [g.code for g in groups]
    assert codes[0] == "legal_rep_id_card" and "premises_proof" in codes
    with pytest.raises(NotFound):
        selectors.case_material_files(user=users["health1"], case_no=case.case_no)
