"""Notices name things by their names and state what the record holds: the combined correction notice prints
material names, refusals and 不予许可 state every department's reasons, the legal basis and the remedies (Art. 38),
a result notice mentions e-licences only when some exist, and an extension (Art. 42) or a special procedure
(Art. 45) is told in writing."""

from __future__ import annotations

import pytest

from tests.api.helpers import CaseRef, accept, decide, open_case
from tests.conftest import DEPARTMENTS, REVIEWER_OF
from tests.documents.conftest import page_count, pdf_text, squash
from workflow import notices, services
from workflow.documents import DocumentKind, verify_pdf
from workflow.models import Document, ELicence

pytestmark = pytest.mark.django_db
REMEDIES = ("六十日内", "行政复议", "六个月内", "行政诉讼")


def issued(issuing, action) -> list[Document]:
    issuing.queued.clear()
    with issuing.committed():
        action()
    return [Document.objects.get(pk=pk) for pk in issuing.run()]


def text_of(document: Document, tmp_path) -> str:
    path = tmp_path / f"{document.pk}.pdf"
    path.write_bytes(notices.document_content(document))
    return squash(pdf_text(path))


def accepted(users, issuing) -> CaseRef:
    ref = open_case(users)
    issued(issuing, lambda: accept(users, ref))
    return ref


def test_the_correction_notice_names_materials_and_fields_not_codes(users, issuing, tmp_path):
    ref = accepted(users, issuing)
    decide(users, ref, "market_regulation")
    decide(users, ref, "public_security")

    def ask():
        services.human_task_complete(
            user=users[REVIEWER_OF["tax"]],
            task_id=ref.task_id("tax"),
            decision="need_correction",
            opinion="请补正",
            corrections=[
                {"item": "premises_proof", "reason": "租赁合同已过期"},
                {"item": "address", "reason": "门牌号无法辨认"},
            ],
        )

    (document,) = issued(issuing, ask)
    text = text_of(document, tmp_path)
    assert squash("住所（经营场所）使用证明租赁合同已过期") in text
    assert "premises_proof" not in text and "address" not in text


def test_a_refusal_states_the_reasons_the_basis_entered_and_the_remedies(users, issuing, tmp_path):
    ref = open_case(users)
    (document,) = issued(
        issuing,
        lambda: services.case_refuse(
            user=users["window1"],
            case_no=ref.case_no,
            reasons="申请事项不属于本大厅受理范围\n申请人不具备申请资格",
            legal_basis="《示范区政务服务事项受理规则》第五条",
        ),
    )
    text = text_of(document, tmp_path)
    for expected in ("申请事项不属于本大厅受理范围", "申请人不具备申请资格", "《示范区政务服务事项受理规则》第五条"):
        assert squash(expected) in text
    assert all(remedy in text for remedy in REMEDIES)


def test_a_refusal_without_a_basis_cites_article_32(users, issuing, tmp_path):
    ref = open_case(users)
    (document,) = issued(
        issuing, lambda: services.case_refuse(user=users["window1"], case_no=ref.case_no, reasons="不属于受理范围")
    )
    assert squash(notices.REFUSAL_BASIS) in text_of(document, tmp_path)


def test_a_rejection_states_each_departments_reasons_and_basis_and_mentions_no_e_licence(users, issuing, tmp_path):
    ref = accepted(users, issuing)
    decide(users, ref, "market_regulation")
    services.human_task_complete(
        user=users[REVIEWER_OF["public_security"]],
        task_id=ref.task_id("public_security"),
        decision="reject",
        opinion="印模与备案不一致\n经办人未获授权",
        legal_basis="《印铸刻字业暨公章刻制治安管理办法》第九条",
    )
    documents = issued(
        issuing,
        lambda: services.human_task_complete(
            user=users[REVIEWER_OF["tax"]], task_id=ref.task_id("tax"), decision="reject", opinion="财务负责人身份存疑"
        ),
    )
    assert [d.key for d in documents] == ["conclusion_notice"]
    assert not ELicence.objects.filter(case_id=ref.pk).exists()
    text = text_of(documents[0], tmp_path)
    for expected in (
        "印模与备案不一致",
        "经办人未获授权",
        "《印铸刻字业暨公章刻制治安管理办法》第九条",
        "财务负责人身份存疑",
        "第三十八条",
        *REMEDIES,
    ):
        assert squash(expected) in text, expected
    assert "电子证照" not in text and "下载" not in text


def test_an_approval_mentions_the_e_licences_that_exist(users, issuing, tmp_path):
    ref = accepted(users, issuing)
    for department in DEPARTMENTS[:-1]:
        decide(users, ref, department)
    documents = issued(issuing, lambda: decide(users, ref, DEPARTMENTS[-1]))
    notice = next(d for d in documents if d.key == notices.CONCLUSION)
    text = text_of(notice, tmp_path)
    assert ELicence.objects.filter(case_id=ref.pk).exists() and "电子证照已签发" in text
    assert "行政复议" not in text


def test_an_extension_is_told_with_its_reason_its_days_and_article_26_or_42(users, issuing, tmp_path):
    ref = accepted(users, issuing)
    (document,) = issued(
        issuing,
        lambda: services.case_deadline_extend(
            user=users["supervisor1"], case_no=ref.case_no, days=5, reason="需现场核查经营场所", approver="supervisor1"
        ),
    )
    assert document.kind == DocumentKind.EXTENSION_NOTICE and document.title == "延期告知书"
    text = text_of(document, tmp_path)
    assert squash("需现场核查经营场所") in text and "5个工作日" in text
    assert "第二十六条" in text and "第四十二条" in text  # three items: joint handling
    case_due = ref_due(ref)
    assert f"{case_due.year}年{case_due.month}月{case_due.day}日" in text
    assert verify_pdf(notices.document_content(document)).valid
    assert notices.extension_key(int(document.key.split(":")[1])) in notices.expected_keys(document.case)


def ref_due(ref: CaseRef):
    from workflow.models import Case

    return Case.objects.get(pk=ref.pk).promised_due_date


def test_a_special_procedure_is_told_what_why_and_how_long(users, issuing, tmp_path):
    ref = accepted(users, issuing)
    (document,) = issued(
        issuing,
        lambda: services.case_procedure_start(
            user=users[REVIEWER_OF["tax"]],
            case_no=ref.case_no,
            kind="expert_review",
            reason="经营范围涉及新业态，需专家论证",
            expected_days=15,
        ),
    )
    assert document.kind == DocumentKind.PROCEDURE_NOTICE
    path = tmp_path / "procedure.pdf"
    path.write_bytes(notices.document_content(document))
    text = squash(pdf_text(path))
    for expected in ("专家评审", "经营范围涉及新业态，需专家论证", "预计15个工作日", "第四十五条", "区税务局"):
        assert squash(expected) in text, expected
    assert page_count(path) == 1
