"""The receipt is the record of intake: what the window entered per material (received as original or copy and
how many, reused from an e-licence, promised under 容缺, not applicable) is stored once, read by one selector and
printed exactly so on the signed receipt, which fits one A4 page with the seal."""

from __future__ import annotations

import datetime as dt
import re
import subprocess

import pytest
import time_machine

from tests.conftest import APPLICANT, ENTERPRISE_FORM
from tests.documents.conftest import page_count, pdf_text, squash
from workflow import notices, selectors, services
from workflow.errors import ValidationFailed
from workflow.models import Case, CaseEvent
from workflow.selectors.materials import MISSING, NOT_APPLICABLE, PROMISED, RECEIVED
from workflow.services.documents import document_issue

pytestmark = pytest.mark.django_db
SHANGHAI = dt.timezone(dt.timedelta(hours=8))
TODAY = dt.date(2026, 11, 26)  # a Thursday

ENTERED = [
    "registration_application",  # a plain code: received, the original, one copy
    {"code": "articles_of_association", "form": "copy", "count": 2},
    {"code": "premises_proof", "form": "original", "count": 1},
    {"code": "legal_rep_id_card"},
    {"code": "financial_officer_id_card", "status": "not_applicable"},
]


def _open(users, materials=ENTERED) -> Case:
    return services.case_open(
        user=users["window1"],
        one_thing_key="enterprise_start",
        applicant=APPLICANT,
        form=ENTERPRISE_FORM,
        materials=materials,
    ).case


def _accepted_on_promise(users) -> Case:
    with time_machine.travel(dt.datetime(2026, 11, 26, 10, tzinfo=SHANGHAI), tick=False):
        case = _open(users)
        services.case_accept(
            user=users["window1"],
            case_no=case.case_no,
            promises=[{"material": "shareholder_certificate", "due_date": dt.date(2026, 12, 3)}],
        )
    return Case.objects.get(pk=case.pk)


def test_the_intake_record_holds_what_the_window_entered(users):
    case = _accepted_on_promise(users)
    rows = {row.code: row for row in selectors.intake_record(case)}
    assert (rows["registration_application"].status, rows["registration_application"].form) == (RECEIVED, "original")
    assert rows["registration_application"].count == 1
    assert (rows["articles_of_association"].form, rows["articles_of_association"].count) == ("copy", 2)
    assert rows["shareholder_certificate"].status == PROMISED
    assert rows["shareholder_certificate"].due_date == dt.date(2026, 12, 3)
    assert rows["financial_officer_id_card"].status == NOT_APPLICABLE
    assert "business_licence" not in rows  # the one-thing issues it itself: never asked
    assert rows["agent_id_card"].status == MISSING  # optional, nothing recorded
    # the case page and the API show the same record
    view = selectors.case_view(user=users["window1"], case=case)
    assert [(r.code, r.status, r.form, r.count) for r in view.intake] == [
        (r.code, r.status, r.form, r.count) for r in rows.values()
    ]


def test_plain_codes_still_mean_received_original_one(users):
    case = _open(users, materials=["registration_application", "premises_proof"])
    rows = {row.code: row for row in selectors.intake_record(case)}
    assert {code for code, row in rows.items() if row.status == RECEIVED} == {
        "registration_application",
        "premises_proof",
    }
    assert (rows["premises_proof"].form, rows["premises_proof"].count) == ("original", 1)


def test_acceptance_records_the_intake_again_and_keeps_the_openings_entries_it_leaves_out(users):
    case = _open(users)
    services.case_accept(
        user=users["window1"],
        case_no=case.case_no,
        materials=[{"code": "shareholder_certificate", "form": "copy", "count": 3}],
    )
    rows = {row.code: row for row in selectors.intake_record(case)}
    assert (rows["shareholder_certificate"].form, rows["shareholder_certificate"].count) == ("copy", 3)
    assert (rows["articles_of_association"].form, rows["articles_of_association"].count) == ("copy", 2)
    assert rows["financial_officer_id_card"].status == NOT_APPLICABLE


@pytest.mark.parametrize(
    ("entry", "field"),
    [
        ({"code": "premises_proof", "form": "scan"}, "materials.0.form"),
        ({"code": "premises_proof", "count": 0}, "materials.0.count"),
        ({"code": "premises_proof", "count": "2"}, "materials.0.count"),
        ({"code": "premises_proof", "status": "promised"}, "materials.0.status"),
        ({"code": "premises_proof", "status": "not_applicable", "count": 1}, "materials.0.status"),
        ({"code": "no_such_material"}, "materials.0.code"),
        (42, "materials.0"),
    ],
)
def test_a_bad_entry_is_refused_by_its_field_and_no_case_is_opened(users, entry, field):
    with pytest.raises(ValidationFailed) as refused:
        _open(users, materials=[entry])
    assert field in refused.value.field_errors
    assert not Case.objects.exists()


def test_a_required_material_marked_not_applicable_does_not_complete_the_checklist(users):
    case = _open(users, materials=[*ENTERED[:3], {"code": "shareholder_certificate", "status": "not_applicable"}])
    with pytest.raises(ValidationFailed) as refused:
        services.case_accept(user=users["window1"], case_no=case.case_no)
    assert "股东主体资格证明" in refused.value.field_errors["materials"][0]


def test_the_receipt_prints_the_intake_record_on_one_page_with_every_font_embedded(users, issuing, tmp_path):
    case = _accepted_on_promise(users)
    document = document_issue(case_id=case.pk, key=notices.RECEIPT)
    path = tmp_path / "receipt.pdf"
    path.write_bytes(notices.document_content(document))
    assert page_count(path) == 1
    text = squash(pdf_text(path))
    for row in selectors.intake_record(case):
        assert squash(f"{row.name}{row.text}") in text, row
    assert squash("公司章程复印件2份") in text
    assert squash("容缺受理，申请人承诺2026年12月3日前补交") in text
    assert squash("经办人身份证件（委托办理时提供）未提交") in text
    # nothing is printed as received that the record does not hold as received
    received = {row.name for row in selectors.intake_record(case) if row.status == RECEIVED}
    printed = {name for name in re.findall(r"\d+([^\d]+?)(?:原件|复印件)\d+份", text)}
    assert printed == received
    assert "行政许可法》第三十二条" in text
    assert squash(notices.QUERY_CODE_ON_RECEIPT) in text
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, check=True, text=True).stdout
    rows = fonts.splitlines()[2:]
    assert rows and all(re.split(r"\s+", line.strip())[-5] == "yes" for line in rows), fonts
    assert CaseEvent.objects.filter(case=case, kind="document_issued").count() == 1


# --- the same record through the API and the window screen ------------------------------------------------


def test_the_api_takes_codes_and_entries_and_answers_the_record(client_for):
    from tests.api.helpers import assert_error, post

    window = client_for("window1")
    body = {"one_thing": "enterprise_start", "applicant": APPLICANT, "form": ENTERPRISE_FORM, "materials": ENTERED}
    bad = {**body, "materials": ["premises_proof", {"code": "articles_of_association", "form": "scan"}]}
    errors = assert_error(post(window, "/api/cases", bad), 400)["errors"]
    assert any(key.startswith("materials") for key in errors), errors
    assert not Case.objects.exists()

    opened = post(window, "/api/cases", body)
    assert opened.status_code == 201, opened.content
    intake = {row["code"]: row for row in opened.json()["intake"]}
    row = intake["articles_of_association"]
    assert (row["status"], row["form"], row["count"]) == ("received", "copy", 2)
    assert intake["articles_of_association"]["text"] == "复印件 2 份"
    assert intake["registration_application"]["text"] == "原件 1 份"
    assert intake["financial_officer_id_card"]["status"] == "not_applicable"
    assert intake["agent_id_card"]["status"] == "missing"


def test_the_window_screen_records_form_count_and_not_applicable_and_the_slip_prints_the_record(users):
    from django.test import Client

    client = Client()
    client.force_login(users["window1"])
    data = {
        "applicant-name": APPLICANT["name"],
        "applicant-id_number": APPLICANT["id_number"],
        "applicant-phone": APPLICANT["phone"],
        "material": [*(e if isinstance(e, str) else e["code"] for e in ENTERED[:4]), "shareholder_certificate"],
        "form_articles_of_association": "copy",
        "count_articles_of_association": "2",
        "not_applicable": ["agent_id_card"],
        "action": "open",
    }
    for name, value in ENTERPRISE_FORM.items():
        data[f"f_{name}"] = ("true" if value else "false") if isinstance(value, bool) else value
    response = client.post("/window/new/enterprise_start/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    case = Case.objects.get()
    rows = {row.code: row for row in selectors.intake_record(case)}
    assert (rows["articles_of_association"].form, rows["articles_of_association"].count) == ("copy", 2)
    assert rows["agent_id_card"].status == NOT_APPLICABLE
    slip = client.get(response["Location"]).content.decode()
    for row in rows.values():
        assert f'<tr data-material="{row.code}"><td>' in slip and row.text in slip, row
