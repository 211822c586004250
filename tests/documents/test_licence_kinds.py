"""Licence kinds: the catalogue defines per item what its approval gives — a licence kind (title, issuing
department, holder rule, number format, validity rule, face fields) or a 备案/登记 result that is no licence —
pinned with the case's composition. Each licence is signed by its issuing department's own certificate from the
hall's CA, with a visible signature that carries the seal."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
from io import BytesIO

import pytest

from tests.conftest import APPLICANT, ENTERPRISE_FORM, handed_in
from tests.documents.conftest import pdf_text, squash
from tests.forms.samples import MOTHER_ID, NEWBORN_FORM
from tests.workflow.test_pinned_compositions import FULL_RESTAURANT
from workflow import licence_kinds, notices, services
from workflow.documents import verify_pdf
from workflow.errors import ValidationFailed
from workflow.models import Case, Document, ELicence, HumanTask, HumanTaskState, ServiceItem

pytestmark = pytest.mark.django_db


def reviewer_of(users, lane: str):
    return next(u for u in users.values() if getattr(u.staff, "department_id", None) == lane)


def approve_everything(users, case_no: str) -> Case:
    """Every department approves, stage after stage, until the case has its result."""
    while True:
        open_tasks = HumanTask.objects.filter(
            case__case_no=case_no, state=HumanTaskState.OPEN, department__isnull=False
        ).order_by("id")
        if not open_tasks:
            return Case.objects.get(case_no=case_no)
        for task in open_tasks:
            services.human_task_complete(user=reviewer_of(users, task.lane), task_id=task.pk, decision="approve")


def opened(users, key: str, form: dict, applicant: dict = APPLICANT) -> str:
    case = services.case_open(
        user=users["window1"], one_thing_key=key, applicant=applicant, form=form, materials=handed_in(key)
    ).case
    services.case_accept(user=users["window1"], case_no=case.case_no)
    return case.case_no


def issued_licences(issuing, case: Case) -> dict[str, Document]:
    for licence in ELicence.objects.filter(case=case).select_related("item"):
        issuing.queued.append((case.pk, notices.licence_key(licence.item.code)))
    issuing.run()
    return {d.title: d for d in Document.objects.filter(case=case, kind="e_licence")}


def test_a_newborns_birth_certificate_belongs_to_the_child_and_registrations_give_no_licence(users):
    mother = {"name": "张晓红", "id_number": MOTHER_ID, "phone": "13912345678"}
    case = approve_everything(users, opened(users, "newborn", NEWBORN_FORM, mother))
    (licence,) = ELicence.objects.filter(case=case)
    assert (licence.title, licence.issuer_id, licence.holder_kind) == ("出生医学证明", "health", "newborn")
    assert licence.holder_name == "李沐阳" and licence.holder_name != case.applicant_name
    assert re.fullmatch(r"[A-Z][0-9]{9,12}", licence.number) and licence.valid_to is None
    face = dict(licence.face)
    assert face["新生儿姓名"] == "李沐阳" and face["母亲姓名"] == "张晓红" and face["父亲姓名"] == "李建国"


def test_a_food_licence_is_the_enterprises_valid_five_years_keyed_by_its_credit_code(users):
    case = approve_everything(users, opened(users, "restaurant_start", FULL_RESTAURANT))
    licences = {licence.title: licence for licence in ELicence.objects.filter(case=case)}
    business, food = licences["营业执照"], licences["食品经营许可证"]
    from forms import is_valid_uscc

    assert is_valid_uscc(business.number) and business.holder_id_number == business.number
    assert food.holder_kind == "enterprise" and food.holder_name == FULL_RESTAURANT["enterprise_name"]
    assert food.holder_id_number == business.number  # the enterprise's 统一社会信用代码
    assert re.fullmatch(r"JY1[0-9]{13}", food.number)
    assert food.valid_to == food.valid_from.replace(year=food.valid_from.year + 5) - dt.timedelta(days=1)
    assert business.valid_to is None  # 营业执照: 长期


def test_a_typed_number_must_follow_its_kinds_format_and_a_filing_takes_none(users):
    case_no = opened(users, "enterprise_start", dict(ENTERPRISE_FORM))
    market = HumanTask.objects.get(case__case_no=case_no, lane="market_regulation", state=HumanTaskState.OPEN)
    with pytest.raises(ValidationFailed) as refused:
        services.human_task_complete(
            user=users["market1"], task_id=market.pk, decision="approve", result={"licence_no": "ABC-1"}
        )
    assert "营业执照" in refused.value.field_errors["result.licence_no"][0]
    seal = HumanTask.objects.get(case__case_no=case_no, lane="public_security", state=HumanTaskState.OPEN)
    with pytest.raises(ValidationFailed) as refused:
        services.human_task_complete(
            user=users["police1"], task_id=seal.pk, decision="approve", result={"licence_no": "X1"}
        )
    assert "不发证照" in refused.value.field_errors["result.licence_no"][0]


def test_a_case_keeps_the_result_kinds_it_was_opened_with(users):
    case_no = opened(users, "enterprise_start", ENTERPRISE_FORM)
    item = ServiceItem.objects.get(code="000105402000")  # 公章刻制备案: a filing, no licence
    item.result = {"kind": "licence", "title": "刻章许可证", "holder": "enterprise"}
    services.service_item_save(item=item)
    case = approve_everything(users, case_no)
    assert list(ELicence.objects.filter(case=case).values_list("title", flat=True)) == ["营业执照"]


def test_the_catalogue_refuses_a_result_it_cannot_apply():
    assert licence_kinds.problems({"kind": "certificate"})
    assert licence_kinds.problems({"kind": "licence", "title": "X", "holder": "spouse"})
    assert licence_kinds.problems({"kind": "licence", "title": "X", "validity": {"years": 0}})
    assert licence_kinds.problems({"kind": "licence", "title": "X", "number": {"format": "{month}"}})
    assert licence_kinds.problems({"kind": "licence", "title": "X", "number": {"pattern": "("}})
    assert not licence_kinds.problems({"kind": "notice", "title": "备案"})


def _signature_widget(content: bytes):
    from pyhanko.pdf_utils.reader import PdfFileReader

    reader = PdfFileReader(BytesIO(content))
    (embedded,) = reader.embedded_signatures
    field = embedded.sig_field
    return embedded, field


def test_each_licence_is_signed_by_its_department_with_a_visible_seal(users, issuing, tmp_path):
    case = approve_everything(users, opened(users, "restaurant_start", FULL_RESTAURANT))
    documents = issued_licences(issuing, case)
    food = ELicence.objects.get(case=case, title="食品经营许可证")
    document = next(d for title, d in documents.items() if "食品经营许可证" in title)
    content = notices.document_content(document)
    result = verify_pdf(content)
    assert result.valid and result.signer == "区市场监督管理局电子印章"
    fire = next(d for title, d in documents.items() if "消防" in title)
    assert verify_pdf(notices.document_content(fire)).signer == "消防救援大队电子印章"

    _, field = _signature_widget(content)
    rect = [float(v) for v in field["/Rect"]]
    assert rect[2] - rect[0] > 50 and rect[3] - rect[1] > 50  # a visible widget, seal-sized (in points)
    assert "/AP" in field  # its appearance: the seal

    path = tmp_path / "food.pdf"
    path.write_bytes(content)
    text = squash(pdf_text(path))
    for expected in (
        "食品经营许可证",
        food.number,
        food.verification_code,
        FULL_RESTAURANT["enterprise_name"],
        licence_kinds.validity_text(food.valid_from, food.valid_to),
        "区市场监督管理局",
    ):
        assert squash(expected) in text, expected
    assert squash(f"持证主体（企业）{FULL_RESTAURANT['enterprise_name']}") in text  # not the applicant
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, check=True, text=True).stdout
    assert all(re.split(r"\s+", line.strip())[-5] == "yes" for line in fonts.splitlines()[2:]), fonts


def test_a_notice_carries_the_halls_visible_seal(users, issuing, tmp_path):
    case_no = opened(users, "enterprise_start", ENTERPRISE_FORM)
    case = Case.objects.get(case_no=case_no)
    issuing.queued.append((case.pk, notices.RECEIPT))
    issuing.run()
    content = notices.document_content(Document.objects.get(case=case, key=notices.RECEIPT))
    assert verify_pdf(content).signer == "示范区政务服务中心电子印章"
    _, field = _signature_widget(content)
    rect = [float(v) for v in field["/Rect"]]
    assert rect[2] - rect[0] > 50 and "/AP" in field
