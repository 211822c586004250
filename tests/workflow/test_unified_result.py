"""One unified result: item results and e-licences, withdrawal, and re-opening by provenance."""

import pytest

from tests.conftest import DEPARTMENTS, handed_in
from tests.workflow.helpers import decide, open_and_accept, open_case, open_lanes, open_task, restored
from workflow import selectors, services
from workflow.errors import InvalidTransition, ValidationFailed
from workflow.lifecycle import CaseStatus
from workflow.models import Case, CaseEvent, ELicence, HumanTask, HumanTaskState
from workflow.results import case_results

pytestmark = pytest.mark.django_db


def test_approval_issues_one_e_licence_per_item_with_the_departments_numbers(users):
    case = open_and_accept(users)
    services.human_task_complete(
        user=users["market1"],
        task_id=open_task(case, "market_regulation").pk,
        decision="approve",
        result={"licence_no": "91110105MA01ABCD2X", "valid_from": "2026-12-01"},
    )
    decide(users, case, "public_security")
    decide(users, case, "tax")
    licences = {licence.issuer_id: licence for licence in ELicence.objects.filter(case=case)}
    assert set(licences) == set(DEPARTMENTS)
    assert licences["market_regulation"].number == "91110105MA01ABCD2X"
    assert licences["market_regulation"].holder_name == "示范区星火科技有限公司"
    assert licences["tax"].number.startswith(case.case_no)
    rows = case_results(case, list(HumanTask.objects.filter(case=case).select_related("department")))
    assert [r["department"] for r in rows] == ["market_regulation", "public_security", "tax"]
    assert rows[0]["item"] == "企业设立登记（核发营业执照）" and rows[0]["licence_no"] == "91110105MA01ABCD2X"
    assert CaseEvent.objects.filter(case=case, kind="licence_issued").count() == 3


def test_a_rejection_issues_no_licence(users):
    case = open_and_accept(users)
    decide(users, case, "market_regulation")
    decide(users, case, "public_security", "reject")
    decide(users, case, "tax")
    assert Case.objects.get(pk=case.pk).status == CaseStatus.REJECTED
    assert not ELicence.objects.filter(case=case).exists()


@pytest.mark.parametrize("stage", ["received", "in_review", "correction_required"])
def test_the_applicant_can_withdraw_before_a_result(users, stage):
    case = open_case(users).case
    if stage != "received":
        services.case_accept(user=users["window1"], case_no=case.case_no)
    if stage == "correction_required":
        for department in DEPARTMENTS:
            decide(users, case, department, "need_correction" if department == "tax" else "approve")
    services.case_withdraw(case_no=case.case_no, reason="不再开办")
    case = Case.objects.get(pk=case.pk)
    assert case.status == CaseStatus.WITHDRAWN
    assert not HumanTask.objects.filter(case=case, state=HumanTaskState.OPEN).exists()
    assert restored(case).ready_tasks() == []
    assert CaseEvent.objects.get(case=case, kind="withdraw").data["reason"] == "不再开办"


def test_withdrawal_needs_a_reason_and_is_refused_after_a_result(users):
    case = open_and_accept(users)
    with pytest.raises(ValidationFailed):
        services.case_withdraw(case_no=case.case_no, reason="")
    for department in DEPARTMENTS:
        decide(users, case, department)
    with pytest.raises(InvalidTransition):
        services.case_withdraw(case_no=case.case_no, reason="晚了")


def test_a_correction_reopens_an_approving_department_whose_fields_it_changed_and_says_why(users):
    case = open_and_accept(users)
    decide(users, case, "market_regulation")
    decide(users, case, "public_security", "need_correction")
    decide(users, case, "tax")
    # legal_representative is needed by all three items; seal_count only by public security.
    services.case_correction_submit(case_no=case.case_no, changes={"legal_representative": "李四", "seal_count": 2})
    assert open_lanes(case) == ["market_regulation", "public_security", "tax"]
    reopened = {e.department: e.data for e in CaseEvent.objects.filter(case=case, kind="reopened")}
    assert set(reopened) == {"market_regulation", "tax"}
    assert reopened["tax"]["fields"] == ["legal_representative"]
    assert reopened["tax"]["field_titles"] == ["法定代表人"]
    # The timeline names the department and the fields, for staff (the applicant does not see re-openings).
    view = selectors.case_view(user=users["window1"], case=Case.objects.get(pk=case.pk))
    rows = [row for row in view.timeline if row.kind == "reopened"]
    assert {row.department_name for row in rows} == {"区市场监督管理局", "区税务局"}
    assert all(row.label == "补正修改了本部门需要的字段，重新审查：法定代表人" for row in rows)


def test_a_correction_that_only_touches_the_asking_departments_fields_reopens_only_it(users):
    case = open_and_accept(users)
    decide(users, case, "market_regulation")
    decide(users, case, "public_security", "need_correction")
    decide(users, case, "tax")
    services.case_correction_submit(case_no=case.case_no, changes={"seal_count": 3})
    assert open_lanes(case) == ["public_security"]
    assert not CaseEvent.objects.filter(case=case, kind="reopened").exists()


def test_a_licence_issued_earlier_replaces_the_material_in_the_next_case(users):
    """免提交: the business licence from 企业开办 is attached to the same applicant's restaurant case."""
    from tests.workflow.test_catalogue import RESTAURANT_FORM, open_demo_case
    from workflow.models import MaterialReuse

    first = open_and_accept(users)
    for department in DEPARTMENTS:
        decide(users, first, department)
    licence = ELicence.objects.get(case=first, issuer_id="market_regulation")
    second = Case.objects.get(case_no=open_demo_case(users, "restaurant_start", RESTAURANT_FORM))
    [reuse] = MaterialReuse.objects.filter(case=second)
    assert (reuse.material_code, reuse.licence) == ("business_licence", licence)
    assert CaseEvent.objects.get(case=second, kind="materials_reused").data["count"] == 1
    other = services.case_open(
        user=users["window1"],
        one_thing_key="restaurant_start",
        applicant={"name": "张三", "id_number": "11010519491231002X"},
        form={**RESTAURANT_FORM, "legal_representative_id": "11010519491231002X"},
        materials=handed_in("restaurant_start"),
    ).case
    assert not MaterialReuse.objects.filter(case=other).exists()  # another holder: nothing to reuse
