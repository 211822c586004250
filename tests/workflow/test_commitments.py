"""告知承诺 (issue 15, point 4): the applicant signs the catalogue's commitment in place of a certificate; the
approval opens a post-approval check (事中事后核查) with a due date; a false commitment revokes the licence and says
so on the trail and the status page."""

import pytest

from tests.conftest import APPLICANT, ENTERPRISE_FORM, hand_over, handed_in
from tests.workflow.helpers import decide
from workflow import selectors, services
from workflow.calendar import add_working_days
from workflow.errors import Conflict, NotFound, ValidationFailed
from workflow.lifecycle import CaseStatus
from workflow.models import Case, CaseEvent, CommitmentCheck, ELicence, MaterialCommitment

pytestmark = pytest.mark.django_db
REGISTRATION = "000113101000"  # 企业设立登记: its 住所使用证明 may be replaced by a commitment


def accepted_on_commitment(users) -> Case:
    opened = services.case_open(
        user=users["window1"],
        one_thing_key="enterprise_start",
        applicant=APPLICANT,
        form=ENTERPRISE_FORM,
        materials=[code for code in handed_in() if code != "premises_proof"],
    )
    services.case_accept(
        user=users["window1"], case_no=opened.case.case_no, commitments=[{"material": "premises_proof"}]
    )
    return Case.objects.get(pk=opened.case.pk)


def test_the_checklist_offers_the_commitment_text_from_the_catalogue(users):
    opened = services.case_open(
        user=users["window1"], one_thing_key="enterprise_start", applicant=APPLICANT, form=ENTERPRISE_FORM
    )
    [entry] = [m for m in selectors.case_checklist(opened.case) if m["code"] == "premises_proof"]
    assert entry["commitment"].startswith("本人（单位）承诺")
    with pytest.raises(ValidationFailed) as refused:  # a material without a commitment text cannot be committed
        services.case_accept(
            user=users["window1"],
            case_no=opened.case.case_no,
            materials=handed_in(),
            commitments=[{"material": "articles_of_association"}],
        )
    assert "不适用告知承诺" in refused.value.field_errors["commitments.0.material"][0]
    assert not MaterialCommitment.objects.exists()


def test_a_commitment_stands_for_the_material_and_approval_opens_a_check(users):
    case = accepted_on_commitment(users)
    assert case.status == CaseStatus.IN_REVIEW
    commitment = MaterialCommitment.objects.get(case=case)
    assert commitment.text.startswith("本人（单位）承诺") and commitment.signed_by == APPLICANT["name"]
    intake = {row.code: row for row in selectors.intake_record(case)}
    assert intake["premises_proof"].status == "committed" and intake["premises_proof"].status_label == "告知承诺"
    for department in ("market_regulation", "public_security", "tax"):
        decide(users, case, department)
    case.refresh_from_db()
    assert case.status == CaseStatus.APPROVED
    check = CommitmentCheck.objects.get(case=case)
    assert (check.item_code, check.department_id) == (REGISTRATION, "market_regulation")
    assert check.due_date == add_working_days(check.opened_at, 20)
    assert CaseEvent.objects.filter(case=case, kind="commitment_check_opened").count() == 1
    assert ELicence.objects.get(case=case, item__code=REGISTRATION).revoked_at is None


def test_a_false_commitment_revokes_the_licence_and_says_so(users):
    case = accepted_on_commitment(users)
    for department in ("market_regulation", "public_security", "tax"):
        decide(users, case, department)
    hand_over(users["window1"], case.case_no)  # the proof of delivery concludes it
    check = CommitmentCheck.objects.get(case=case)
    with pytest.raises(NotFound):  # another department's check is not found
        services.commitment_check_decide(user=users["police1"], check_id=check.pk, outcome="failed", opinion="x")
    with pytest.raises(ValidationFailed):  # a false commitment needs what was found
        services.commitment_check_decide(user=users["market1"], check_id=check.pk, outcome="failed")
    services.commitment_check_decide(
        user=users["market1"], check_id=check.pk, outcome="failed", opinion="实地核查：该地址为居民住宅，无使用权证明"
    )
    licence = ELicence.objects.get(case=case, item__code=REGISTRATION)
    assert licence.revoked_at is not None and "告知承诺不实" in licence.revoked_reason
    # the other items' results stand: 公章刻制备案 and the tax registration give no licence (their result kinds)
    assert ELicence.objects.filter(case=case).count() == 1
    with pytest.raises(Conflict):
        services.commitment_check_decide(user=users["market1"], check_id=check.pk, outcome="passed")
    # The applicant's status: the trail and the result say the licence was revoked, and why.
    view = selectors.case_applicant_view(Case.objects.get(pk=case.pk))
    kinds = [row.kind for row in view.timeline]
    assert "commitment_checked" in kinds and "licence_revoked" in kinds
    [result] = [r for r in view.results if r.licence_revoked]
    assert "告知承诺不实" in result.licence_revoked_reason
    [row] = view.commitments
    assert row.checks[0].outcome == "failed" and row.checks[0].outcome_label == "承诺不实"
    # The reviewer's list: done, not pending.
    assert selectors.commitment_checks(user=users["market1"]) == []
    assert [c.id for c in selectors.commitment_checks(user=users["market1"], state="done")] == [check.pk]
