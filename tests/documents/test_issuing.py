"""Issuing: each trigger queues its document after commit, the task issues it once, signed and stored privately."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import transaction

from tests.api.helpers import CaseRef, accept, decide, open_case
from tests.conftest import DEPARTMENTS, hand_over
from tests.documents.conftest import pdf_text, squash
from workflow import notices, reactions, services
from workflow.documents import DocumentKind, verify_pdf
from workflow.errors import DocumentDamaged
from workflow.models import Case, CaseEvent, Document, ELicence, HumanTask, HumanTaskState
from workflow.services.documents import document_issue

pytestmark = pytest.mark.django_db


def committed(issuing, action):
    """Run a service call and its after-commit callbacks; the document keys it queued."""
    issuing.queued.clear()
    with issuing.committed():
        action()
    return [key for _, key in issuing.queued]


def accepted(users, issuing) -> CaseRef:
    ref = open_case(users)
    assert committed(issuing, lambda: accept(users, ref)) == [notices.RECEIPT]
    return ref


def open_review_lanes(ref: CaseRef) -> list[str]:
    tasks = HumanTask.objects.filter(case_id=ref.pk, state=HumanTaskState.OPEN, department__isnull=False)
    return sorted(tasks.values_list("lane", flat=True))


def text_of(document: Document, tmp_path: Path) -> str:
    path = tmp_path / f"{document.pk}.pdf"
    path.write_bytes(notices.document_content(document))
    return squash(pdf_text(path))


# --- when: queued after commit, keyed by what the step did ------------------------------------------------


def test_the_keys_follow_from_the_events():
    assert reactions.keys_for_events(["opened", "task_opened"]) == []
    assert reactions.keys_for_events(["task_completed", "accept", "task_opened"]) == ["acceptance_receipt"]
    assert reactions.keys_for_events(["refuse"]) == ["refusal_notice"]
    assert reactions.keys_for_events(["require_correction"], review_round=2) == ["correction_notice:round-2"]
    assert reactions.keys_for_events(["approve", "licence_issued"]) == ["conclusion_notice"]
    assert reactions.keys_for_events(["reject"]) == reactions.keys_for_events(["conclude"]) == ["conclusion_notice"]


def test_nothing_is_queued_before_the_commit_nor_when_the_step_rolls_back(users, issuing):
    ref = open_case(users)

    def accept_then_fail():
        with transaction.atomic():
            accept(users, ref)
            raise RuntimeError("something later in the request failed")

    with issuing.committed() as callbacks, pytest.raises(RuntimeError):
        accept_then_fail()
    assert callbacks == [] and issuing.queued == []
    assert ref.status == "received"

    with issuing.committed() as callbacks:
        accept(users, ref)
        assert issuing.queued == []  # not before the commit
    assert issuing.queued == [(ref.pk, "acceptance_receipt")]


def test_opening_a_case_or_a_partial_review_queues_nothing(users, issuing):
    opened = []
    assert committed(issuing, lambda: opened.append(open_case(users))) == []
    accept(users, opened[0])
    assert committed(issuing, lambda: decide(users, opened[0], "tax", "approve")) == []


def test_documents_can_be_switched_off(users, issuing, settings):
    settings.ONETHING_ISSUE_DOCUMENTS = False
    ref = open_case(users)
    assert committed(issuing, lambda: accept(users, ref)) == []


# --- the receipt, issued once ---------------------------------------------------------------------------


def test_the_receipt_is_issued_once_signed_and_stored_privately_with_its_sha256(users, issuing, tmp_path):
    ref = accepted(users, issuing)
    first = document_issue(case_id=ref.pk, key="acceptance_receipt")
    second = document_issue(case_id=ref.pk, key="acceptance_receipt")
    assert first.pk == second.pk and Document.objects.filter(case_id=ref.pk).count() == 1
    assert CaseEvent.objects.filter(case_id=ref.pk, kind="document_issued").count() == 1

    document = Document.objects.get(pk=first.pk)
    assert (document.kind, document.key, document.title) == ("acceptance_receipt", "acceptance_receipt", "受理回执")
    assert document.signed
    content = notices.document_content(document)
    assert hashlib.sha256(content).hexdigest() == document.sha256 and len(content) == document.size
    assert content.startswith(b"%PDF-")
    result = verify_pdf(content)
    assert result.valid and result.intact and result.reason == "有效，未被篡改"

    # private: under the configured root, outside static files, with no URL
    path = Path(document.file.path).resolve()
    assert path.is_relative_to(Path(settings.ONETHING_PRIVATE_MEDIA_ROOT).resolve())
    assert not path.is_relative_to(Path(settings.STATIC_ROOT).resolve())
    assert oct(path.stat().st_mode & 0o777) == oct(0o600)
    with pytest.raises(ValueError):
        _ = document.file.url

    text = text_of(document, tmp_path)
    for expected in (ref.case_no, "企业开办一件事", "王䶮", "公章刻制备案", "区税务局", "公司章程", "12345"):
        assert expected in text, expected
    assert notices.status_url(ref.case_no) in text
    assert notices.status_url(ref.case_no).startswith(settings.ONETHING_PUBLIC_BASE_URL + "/status/?case_no=")
    # the query code is never kept in clear, so the stored receipt does not carry it
    assert ref.query_code not in text and ref.query_code.encode() not in content
    assert squash(notices.QUERY_CODE_ON_RECEIPT) in text


def test_running_the_task_twice_makes_one_document(users, issuing):
    ref = accepted(users, issuing)
    issuing.queued.append((ref.pk, "acceptance_receipt"))  # a redelivery (acks late ⇒ at least once)
    first, second = issuing.run()
    assert first == second and Document.objects.filter(case_id=ref.pk).count() == 1
    files = list(Path(settings.ONETHING_PRIVATE_MEDIA_ROOT).rglob("*.pdf"))
    assert len(files) == 1


def test_two_runs_racing_leave_one_row_and_one_file(users, issuing, monkeypatch):
    """The loser of a race (a row inserted between its check and its insert) removes its file, returns the
    winner."""
    ref = accepted(users, issuing)
    real = services.documents.documents.issue_pdf

    def issue_while_another_run_wins(kind, context):
        issued = real(kind, context)
        monkeypatch.setattr(services.documents.documents, "issue_pdf", real)
        document_issue(case_id=ref.pk, key="acceptance_receipt")  # the other run finishes first
        return issued

    monkeypatch.setattr(services.documents.documents, "issue_pdf", issue_while_another_run_wins)
    loser = document_issue(case_id=ref.pk, key="acceptance_receipt")
    winner = Document.objects.get(case_id=ref.pk)
    assert loser.pk == winner.pk
    files = list(Path(settings.ONETHING_PRIVATE_MEDIA_ROOT).rglob("*.pdf"))
    assert [f.resolve() for f in files] == [Path(winner.file.path).resolve()]


def test_a_document_the_case_does_not_call_for_is_not_issued(users, issuing):
    ref = open_case(users)
    assert document_issue(case_id=ref.pk, key="acceptance_receipt") is None  # not accepted
    assert document_issue(case_id=ref.pk, key="refusal_notice") is None
    assert document_issue(case_id=ref.pk, key="conclusion_notice") is None
    assert document_issue(case_id=ref.pk, key="nonsense") is None
    assert document_issue(case_id=10**9, key="acceptance_receipt") is None  # the case is gone
    assert not Document.objects.exists()


def test_a_document_is_immutable_and_a_changed_file_is_refused(users, issuing):
    ref = accepted(users, issuing)
    document = document_issue(case_id=ref.pk, key="acceptance_receipt")
    document.title = "改过的标题"
    with pytest.raises(ValueError):
        document.save()
    with pytest.raises(ValueError):
        document.delete()
    path = Path(document.file.path)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(DocumentDamaged):
        notices.document_content(Document.objects.get(pk=document.pk))


def test_the_verify_command_says_valid_for_the_stored_file_and_invalid_for_a_changed_byte(users, issuing, tmp_path):
    ref = accepted(users, issuing)
    content = notices.document_content(document_issue(case_id=ref.pk, key="acceptance_receipt"))
    original, tampered = tmp_path / "original.pdf", tmp_path / "tampered.pdf"
    original.write_bytes(content)
    changed = bytearray(content)
    changed[len(changed) // 3] ^= 0x01
    tampered.write_bytes(bytes(changed))

    out = io.StringIO()
    call_command("verify_document", str(original), stdout=out)
    assert "有效，未被篡改" in out.getvalue()
    out = io.StringIO()
    with pytest.raises(SystemExit) as exited:
        call_command("verify_document", str(tampered), stdout=out)
    assert exited.value.code == 1 and out.getvalue().startswith("无效：")


# --- the other notices ------------------------------------------------------------------------------------


def test_a_refusal_issues_the_refusal_notice_with_the_reasons_and_the_right_to_review(users, issuing, tmp_path):
    ref = open_case(users)
    reasons = "申请事项不属于本大厅受理范围\n申请材料不齐全且当场无法补齐"
    action = lambda: services.case_refuse(user=users["window1"], case_no=ref.case_no, reasons=reasons)  # noqa: E731
    assert committed(issuing, action) == ["refusal_notice"]
    (document_id,) = issuing.run()
    document = Document.objects.get(pk=document_id)
    assert document.kind == DocumentKind.REFUSAL_NOTICE
    text = text_of(document, tmp_path)
    assert "申请事项不属于本大厅受理范围" in text and "申请材料不齐全且当场无法补齐" in text
    assert "行政复议" in text and "行政诉讼" in text


def test_each_correction_round_issues_its_own_combined_notice_once(users, issuing, tmp_path):
    ref = accepted(users, issuing)
    decide(users, ref, "market_regulation", "approve")
    decide(users, ref, "tax", "need_correction")
    assert committed(issuing, lambda: decide(users, ref, "public_security", "need_correction")) == [
        "correction_notice:round-1"
    ]
    issuing.queued.append(issuing.queued[0])  # delivered twice
    first, second = issuing.run()
    assert first == second
    document = Document.objects.get(pk=first)
    assert (document.kind, document.title) == ("correction_notice", "补正告知书（第1轮）")
    text = text_of(document, tmp_path)
    # the one combined list: both departments' requests, with the form's field titles
    assert "区税务局" in text and "公安分局" in text and "区市场监督管理局" not in text
    assert "住所证明不清晰" in text and "印章数量与备案申请不一致" in text

    seal_count = Case.objects.get(pk=ref.pk).form_data["seal_count"]  # asked for too; given back as it was
    services.case_correction_submit(
        case_no=ref.case_no, changes={"address": "示范区创新大道 88 号 5 层", "seal_count": seal_count}
    )
    for department in open_review_lanes(ref):
        if department != "public_security":
            decide(users, ref, department, "approve")
    assert committed(issuing, lambda: decide(users, ref, "public_security", "need_correction")) == [
        "correction_notice:round-2"
    ]
    issuing.run()
    keys = set(Document.objects.filter(case_id=ref.pk).values_list("key", flat=True))
    assert keys == {"correction_notice:round-1", "correction_notice:round-2"}


def test_approval_issues_the_conclusion_notice_then_one_e_licence_per_approved_item(users, issuing, tmp_path):
    ref = accepted(users, issuing)
    for department in DEPARTMENTS[:-1]:
        decide(users, ref, department, "approve")
    assert committed(issuing, lambda: decide(users, ref, DEPARTMENTS[-1], "approve")) == ["conclusion_notice"]
    issuing.run()  # the notice, then the e-licences it queued
    licences = list(ELicence.objects.filter(case_id=ref.pk).select_related("item"))
    assert licences
    documents = {d.key: d for d in Document.objects.filter(case_id=ref.pk)}
    assert set(documents) == {"conclusion_notice", *(f"e_licence:{licence.item.code}" for licence in licences)}

    notice = text_of(documents["conclusion_notice"], tmp_path)
    for licence in licences:
        assert licence.item.name in notice or squash(licence.item.name) in notice
        assert licence.number in notice
    assert "准予" in notice and "行政复议" not in notice

    licence = licences[0]
    document = documents[f"e_licence:{licence.item.code}"]
    assert document.kind == DocumentKind.E_LICENCE and licence.title in document.title
    text = text_of(document, tmp_path)
    assert licence.number in text and licence.holder_name in text and licence.issuer.name in text
    assert verify_pdf(notices.document_content(document)).valid

    # 办结 (by the handover) queues the notice again: a no-op now that it exists; the 送达回证 is the one new paper
    before = Document.objects.count()
    concluding = lambda: hand_over(users["window1"], ref.case_no)  # noqa: E731
    assert committed(issuing, concluding) == ["conclusion_notice", "delivery_receipt"]
    issuing.run()
    assert Document.objects.count() == before + 1
    receipt = Document.objects.get(case_id=ref.pk, key="delivery_receipt")
    text = text_of(receipt, tmp_path)
    assert "送达回证" in text and "营业执照正本" in text and "申请人本人" in text
    assert verify_pdf(notices.document_content(receipt)).valid


def test_a_rejection_issues_a_conclusion_notice_with_every_items_result_and_the_right_to_review(
    users, issuing, tmp_path
):
    ref = accepted(users, issuing)
    decide(users, ref, "market_regulation", "approve")
    decide(users, ref, "public_security", "approve")
    assert committed(issuing, lambda: decide(users, ref, "tax", "reject")) == ["conclusion_notice"]
    (document_id,) = issuing.run()  # no e-licence with a 不予许可
    text = text_of(Document.objects.get(pk=document_id), tmp_path)
    assert "不予许可" in text and "准予" in text
    assert "行政复议" in text
    assert list(Document.objects.filter(case_id=ref.pk).values_list("key", flat=True)) == ["conclusion_notice"]


def test_the_conclusion_notice_is_issued_at_conclusion_if_the_first_attempt_was_lost(users, issuing):
    ref = accepted(users, issuing)
    for department in DEPARTMENTS:
        decide(users, ref, department, "approve")  # the feedback's task never ran (the broker was down)
    concluding = lambda: hand_over(users["window1"], ref.case_no)  # noqa: E731
    assert committed(issuing, concluding) == ["conclusion_notice", "delivery_receipt"]
    assert notices.notice_for(Case.objects.get(pk=ref.pk), "conclusion_notice").kind == DocumentKind.CONCLUSION_NOTICE


# --- recovery: what a case's history calls for ----------------------------------------------------------


def test_the_expected_keys_are_the_keys_the_steps_queued(users, issuing):
    ref = accepted(users, issuing)
    queued = ["acceptance_receipt"]
    decide(users, ref, "market_regulation", "approve")
    decide(users, ref, "tax", "approve")
    queued += committed(issuing, lambda: decide(users, ref, "public_security", "need_correction"))
    address = Case.objects.get(pk=ref.pk).form_data["address"]  # asked for too; given back as it was
    services.case_correction_submit(case_no=ref.case_no, changes={"seal_count": 3, "address": address})
    for department in open_review_lanes(ref):
        queued += committed(issuing, lambda department=department: decide(users, ref, department, "approve"))
    queued += committed(issuing, lambda: hand_over(users["window1"], ref.case_no))
    case = Case.objects.get(pk=ref.pk)
    assert notices.expected_keys(case) == list(dict.fromkeys(queued))
    assert notices.expected_keys(case) == [
        "acceptance_receipt",
        "correction_notice:round-1",
        "conclusion_notice",
        "delivery_receipt",
    ]


def test_the_issue_documents_command_issues_what_is_missing_once(users, issuing):
    ref = open_case(users)
    services.case_refuse(user=users["window1"], case_no=ref.case_no, reasons="不属于受理范围")  # the task was lost
    out = io.StringIO()
    call_command("issue_documents", ref.case_no, stdout=out)
    assert "不予受理通知书" in out.getvalue() and "补出文书 1 份" in out.getvalue()
    out = io.StringIO()
    call_command("issue_documents", "--recent", "1", stdout=out)
    assert "补出文书 0 份" in out.getvalue()
    assert list(Document.objects.values_list("key", flat=True)) == ["refusal_notice"]
