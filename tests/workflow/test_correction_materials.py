"""A correction names fields and materials, and the answer must cover them (issue 15, point 3): fields and files in
one submission, a submission leaving one out refused with the missing ones named, a material-only correction, and
the department seeing what was resubmitted."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests import upload_samples as samples
from tests.conftest import REVIEWER_OF
from tests.workflow.helpers import open_and_accept, open_lanes, open_task
from workflow import selectors, services
from workflow.errors import FileTypeNotAllowed, ValidationFailed
from workflow.lifecycle import CaseStatus
from workflow.models import Case, CaseEvent, HumanTask, MaterialFile

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):
    settings.ONETHING_PRIVATE_MEDIA_ROOT = str(tmp_path / "private")


def ask(users, case, department, corrections):
    services.human_task_complete(
        user=users[REVIEWER_OF[department]],
        task_id=open_task(case, department).pk,
        decision="need_correction",
        opinion="请一次性补正",
        corrections=corrections,
    )


def approve(users, case, department):
    services.human_task_complete(
        user=users[REVIEWER_OF[department]], task_id=open_task(case, department).pk, decision="approve"
    )


def pdf(name="住所证明.pdf"):
    return SimpleUploadedFile(name, samples.pdf())


def market_asks_for_the_premises_proof_and_the_address(users):
    case = open_and_accept(users)
    ask(
        users,
        case,
        "market_regulation",
        [
            {"item": "premises_proof", "reason": "住所使用证明已过期，请重新提交"},
            {"item": "address", "reason": "住所与证明不一致"},
        ],
    )
    approve(users, case, "public_security")
    approve(users, case, "tax")
    assert Case.objects.get(pk=case.pk).status == CaseStatus.CORRECTION_REQUIRED
    return case


def test_an_answer_without_the_asked_material_is_refused_naming_it_and_changes_nothing(users):
    case = market_asks_for_the_premises_proof_and_the_address(users)
    with pytest.raises(ValidationFailed) as refused:
        services.case_correction_submit(case_no=case.case_no, changes={"address": "示范区创新大道 99 号"})
    errors = refused.value.field_errors
    assert list(errors) == ["materials.premises_proof"]
    assert "住所使用证明" in errors["materials.premises_proof"][0]
    assert "补正不完整" in refused.value.message and "住所使用证明" in refused.value.message
    case.refresh_from_db()
    assert case.status == CaseStatus.CORRECTION_REQUIRED
    assert not case.events.filter(kind="corrected").exists()


def test_an_answer_without_the_asked_field_is_refused_naming_it(users):
    case = market_asks_for_the_premises_proof_and_the_address(users)
    with pytest.raises(ValidationFailed) as refused:
        services.case_correction_submit(case_no=case.case_no, changes={}, files={"premises_proof": [pdf()]})
    assert list(refused.value.field_errors) == ["form.address"]
    assert "住所" in refused.value.field_errors["form.address"][0]
    assert not MaterialFile.objects.filter(case=case).exists()  # nothing half-saved


def test_fields_and_files_in_one_submission_reopen_the_asking_department_which_sees_them(users):
    case = market_asks_for_the_premises_proof_and_the_address(users)
    services.case_correction_submit(
        case_no=case.case_no,
        changes={"address": "示范区创新大道 99 号"},
        files={"premises_proof": [pdf(), SimpleUploadedFile("附页.png", samples.png())]},
    )
    case.refresh_from_db()
    assert case.status == CaseStatus.IN_REVIEW
    assert "market_regulation" in open_lanes(case)
    files = list(MaterialFile.objects.filter(case=case, material_code="premises_proof"))
    assert len(files) == 2 and all(f.uploaded_by is None for f in files)  # the applicant's, on the status page
    [corrected] = case.events.filter(kind="corrected")
    assert corrected.data["fields"] == ["address"]
    assert corrected.data["materials"] == [
        {
            "code": "premises_proof",
            "name": corrected.data["materials"][0]["name"],
            "files": [str(f.public_id) for f in files],
        }
    ]
    uploaded = case.events.filter(kind="material_uploaded", department="applicant")
    assert uploaded.count() == 2 and {e.actor_label for e in uploaded} == {"申请人"}
    # The department's task page says what was resubmitted.
    task = open_task(case, "market_regulation")
    page = selectors.task_page(user=users[REVIEWER_OF["market_regulation"]], task_id=task.pk)
    assert page.resubmitted.fields == ["address"] and page.resubmitted.field_titles == ["住所"]
    assert [m.code for m in page.resubmitted.materials] == ["premises_proof"]
    assert len(page.resubmitted.materials[0].files) == 2
    applicant_task = HumanTask.objects.filter(case=case, lane="applicant").latest("id")
    assert {"item": "premises_proof", "reason": "已补交材料"} in applicant_task.corrections


def test_a_material_only_correction_is_possible(users):
    case = open_and_accept(users)
    ask(users, case, "market_regulation", [{"item": "premises_proof", "reason": "住所使用证明不清晰"}])
    approve(users, case, "public_security")
    approve(users, case, "tax")
    with pytest.raises(ValidationFailed) as empty:
        services.case_correction_submit(case_no=case.case_no, changes={})
    assert "请填写需要补正的内容或上传需要补正的材料" in empty.value.field_errors["form"]
    services.case_correction_submit(case_no=case.case_no, changes={}, files={"premises_proof": [pdf()]})
    case.refresh_from_db()
    assert case.status == CaseStatus.IN_REVIEW and open_lanes(case) == ["market_regulation"]
    assert case.events.get(kind="corrected").data["fields"] == []


def test_a_file_the_window_uploaded_since_the_request_counts_as_handed_in(users):
    case = open_and_accept(users)
    ask(users, case, "market_regulation", [{"item": "premises_proof", "reason": "住所使用证明不清晰"}])
    approve(users, case, "public_security")
    approve(users, case, "tax")
    services.material_file_upload(
        user=users["window1"], case_no=case.case_no, material_code="premises_proof", file=pdf()
    )
    services.case_correction_submit(case_no=case.case_no, changes={}, actor=users["window1"])
    assert Case.objects.get(pk=case.pk).status == CaseStatus.IN_REVIEW


def test_a_bad_file_or_a_material_not_on_the_checklist_is_refused_before_anything_is_saved(users):
    case = market_asks_for_the_premises_proof_and_the_address(users)
    with pytest.raises(FileTypeNotAllowed) as bad:
        services.case_correction_submit(
            case_no=case.case_no,
            changes={"address": "示范区创新大道 99 号"},
            files={"premises_proof": [SimpleUploadedFile("x.pdf", samples.EXE)]},
        )
    assert "materials.premises_proof" in bad.value.field_errors
    with pytest.raises(ValidationFailed) as unknown:
        services.case_correction_submit(
            case_no=case.case_no, changes={"address": "示范区创新大道 99 号"}, files={"no_such": [pdf()]}
        )
    assert "materials.no_such" in unknown.value.field_errors
    assert not MaterialFile.objects.filter(case=case).exists()
    assert not CaseEvent.objects.filter(case=case, kind__in=["corrected", "material_uploaded"]).exists()
