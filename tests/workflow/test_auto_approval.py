"""秒批: a review decided by its item's decision table in the step that opened it, recorded as such.

Every scenario runs through the services, which restore the process instance from its database row at the
start of each step and save it at the end; after each step the test restores it once more from the row and
checks that the engine and the task rows agree.
"""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

import bpmn
from tests.conftest import APPLICANT, DEPARTMENTS, hand_over, handed_in
from tests.forms.samples import MOTHER_ID, NEWBORN_FORM
from tests.workflow.dmn import (
    ALWAYS,
    BUSINESS_LICENCE,
    SEAL_FILING,
    SEAL_TABLE,
    TAX_REGISTRATION,
    decision_table,
    give_table,
)
from tests.workflow.helpers import decide, open_and_accept, open_case, open_lanes, restored
from workflow import services
from workflow.demo import CATALOGUE_FILE
from workflow.lifecycle import CaseStatus
from workflow.models import Case, CaseEvent, ELicence, HumanTask, HumanTaskState, ServiceItem

pytestmark = pytest.mark.django_db


def saved_and_restored(case: Case) -> Case:
    """The case as stored; its process instance restored from the row must agree with the open task rows."""
    case = Case.objects.get(pk=case.pk)
    instance = restored(case)
    ready = sorted((task.element_id, task.lane) for task in instance.ready_tasks())
    rows = sorted(HumanTask.objects.filter(case=case, state=HumanTaskState.OPEN).values_list("element_id", "lane"))
    assert ready == rows
    return case


def reviews_seen(case: Case) -> dict:
    """The departments' decisions the restored engine holds (merged over its task tree)."""
    instance = restored(case)
    if instance.is_completed:
        return instance.data["reviews"]
    merged: dict = {}
    for task in instance._workflow.get_tasks():
        merged.update(task.data.get("reviews", {}))
    return merged


def kinds(case: Case) -> list[str]:
    return list(CaseEvent.objects.filter(case=case).order_by("seq").values_list("kind", flat=True))


def task_of(case: Case, lane: str) -> HumanTask:
    return HumanTask.objects.filter(case=case, lane=lane).order_by("-id").first()


def test_a_review_whose_table_approves_is_completed_when_it_opens(users):
    give_table(SEAL_FILING, SEAL_TABLE)
    case = saved_and_restored(open_and_accept(users))

    seal = task_of(case, "public_security")
    assert seal.state == HumanTaskState.COMPLETED and seal.decision == "approve"
    assert seal.auto_approved and seal.completed_by is None and seal.completed_at is not None
    assert seal.opinion.startswith("秒批：符合规则") and "few_seals" in seal.opinion
    assert seal.review_round == 1 and seal.due_date is not None  # the clock gave it its limit like any task
    assert open_lanes(case) == ["market_regulation", "tax"]
    assert case.status == CaseStatus.IN_REVIEW
    assert reviews_seen(case) == {"public_security": "approve"}
    event = CaseEvent.objects.get(case=case, kind="auto_approved")
    assert event.department == "public_security" and event.actor is None
    assert event.data["rules"] == [{"item": "公章刻制备案", "rule": "few_seals：规则 few_seals"}]
    trail = kinds(case)
    accepted = trail.index("accept")
    assert trail[accepted:] == ["accept", "task_opened", "auto_approved", "task_opened", "task_opened"]

    # The people decide the rest; the unified result issues the auto-approved item's licence as any other.
    decide(users, case, "market_regulation")
    case = saved_and_restored(case)
    decide(users, case, "tax")
    case = saved_and_restored(case)
    assert case.status == CaseStatus.APPROVED
    assert reviews_seen(case) == dict.fromkeys(DEPARTMENTS, "approve")
    # 公章刻制备案 is a result stated on the notice, not a licence (its kind in the catalogue): only the 营业执照
    assert not ELicence.objects.filter(case=case, task=seal).exists()
    assert list(ELicence.objects.filter(case=case).values_list("title", flat=True)) == ["营业执照"]


def test_when_every_review_is_auto_approved_the_acceptance_gives_the_result(users):
    for code in (SEAL_FILING, BUSINESS_LICENCE, TAX_REGISTRATION):
        give_table(code, ALWAYS)
    case = saved_and_restored(open_and_accept(users))

    assert case.status == CaseStatus.APPROVED and case.outcome == "approved" and case.decided_at is not None
    assert open_lanes(case) == []
    assert restored(case).is_completed
    tasks = HumanTask.objects.filter(case=case, department__isnull=False)
    assert tasks.count() == 3 and all(t.auto_approved and t.state == HumanTaskState.COMPLETED for t in tasks)
    trail = kinds(case)
    assert trail.index("accept") < trail.index("auto_approved") < trail.index("approve") < trail.index("licence_issued")
    assert trail.count("auto_approved") == 3 and trail.count("licence_issued") == 1
    assert ELicence.objects.filter(case=case).count() == 1  # 备案 and the tax registration issue no licence
    hand_over(users["window1"], case.case_no)
    assert Case.objects.get(pk=case.pk).status == CaseStatus.CONCLUDED


def test_a_table_that_does_not_approve_leaves_the_review_to_a_person_and_says_why(users):
    give_table(SEAL_FILING, SEAL_TABLE)
    opened = open_case(users, seal_count=9)
    services.case_accept(user=users["window1"], case_no=opened.case.case_no)
    case = saved_and_restored(opened.case)

    assert open_lanes(case) == list(DEPARTMENTS)
    assert not HumanTask.objects.filter(case=case, auto_approved=True).exists()
    event = CaseEvent.objects.get(case=case, kind="auto_approval_declined")
    assert event.department == "public_security" and event.data["rule"] == "many_seals：规则 many_seals"
    decide(users, case, "public_security")  # the person decides as usual
    assert task_of(case, "public_security").completed_by == users["police1"]


@pytest.mark.parametrize(
    "broken",
    [
        decision_table('form.get("seal_count", 0)', [("boom", "? / 0 > 1", "True")]),  # fails at run time
        "这不是 DMN",  # written past the checks (say, straight into the database)
    ],
    ids=["run-time-error", "invalid-table"],
)
def test_a_table_that_fails_never_approves_the_review_goes_to_a_person(users, broken):
    give_table(SEAL_FILING, broken)
    case = saved_and_restored(open_and_accept(users))
    assert open_lanes(case) == list(DEPARTMENTS) and case.status == CaseStatus.IN_REVIEW
    event = CaseEvent.objects.get(case=case, kind="auto_approval_failed")
    assert event.department == "public_security" and event.data["error"]


def test_a_review_is_auto_approved_only_when_every_item_it_decides_has_a_table(users):
    give_table(BUSINESS_LICENCE, ALWAYS)
    give_table(SEAL_FILING, "")
    case = saved_and_restored(open_and_accept(users))
    assert open_lanes(case) == ["public_security", "tax"]
    assert not CaseEvent.objects.filter(case=case, kind__startswith="auto_approval_").exists()


def test_a_correction_reopens_a_review_whose_table_now_approves(users):
    """Round 1: the table finds no seal types and leaves the review to the police, who ask for them; the
    applicant's correction re-opens the review, the table approves it, and the case has its result — all in
    the applicant's one resubmission step."""
    give_table(
        SEAL_FILING,
        decision_table('len(form.get("seal_types", []))', [("typed", "? >= 1", "True"), ("untyped", "-", "False")]),
    )
    case = open_and_accept(users)
    decide(users, case, "market_regulation")
    decide(users, case, "tax")
    decide(users, case, "public_security", "need_correction")
    case = saved_and_restored(case)
    assert case.status == CaseStatus.CORRECTION_REQUIRED

    services.case_correction_submit(
        case_no=case.case_no,
        changes={"seal_count": 2, "seal_types": ["单位公章", "发票专用章"], "address": case.form_data["address"]},
    )
    case = saved_and_restored(case)
    assert case.status == CaseStatus.APPROVED
    second = task_of(case, "public_security")
    assert second.review_round == 2 and second.auto_approved
    trail = kinds(case)
    assert trail[trail.index("corrected") :].count("auto_approved") == 1
    assert trail.index("resubmit") < len(trail) - 1 - trail[::-1].index("auto_approved") < trail.index("approve")


def test_the_applicants_valid_licences_are_an_input_and_a_revoked_one_does_not_count(users):
    """Case 1 gives the applicant a business licence (auto-approved, then revoked on post-review); a second
    case's seal filing is approved automatically only while that licence stands."""
    give_table(SEAL_FILING, decision_table('"business_licence" in licences', [("held", "True", "True")]))
    first = open_and_accept(users)
    for department in DEPARTMENTS:
        decide(users, first, department)
    assert ELicence.objects.filter(case=first, case__applicant_id_number=APPLICANT["id_number"]).exists()

    second = saved_and_restored(open_and_accept(users))
    assert task_of(second, "public_security").auto_approved

    give_table(BUSINESS_LICENCE, ALWAYS)
    third = open_and_accept(users)
    for department in ("public_security", "tax"):
        if HumanTask.objects.filter(case=third, lane=department, state=HumanTaskState.OPEN).exists():
            decide(users, third, department)
    market = task_of(third, "market_regulation")
    assert market.auto_approved and Case.objects.get(pk=third.pk).status == CaseStatus.APPROVED
    ELicence.objects.filter(case__applicant_id_number=APPLICANT["id_number"]).exclude(task=market).update(
        valid_to="2000-01-01"  # the earlier licences have expired
    )
    services.auto_approval_review(user=users["market1"], task_id=market.pk, outcome="revoked", opinion="住所不实")

    fourth = saved_and_restored(open_and_accept(users))
    assert not task_of(fourth, "public_security").auto_approved
    assert CaseEvent.objects.get(case=fourth, kind="auto_approval_declined").data["rule"] == "无规则命中"


# --- the catalogue: tables are checked wherever an item is saved, and travel with the catalogue -------------


def test_the_demo_newborn_enrolment_is_auto_approved_unless_paid_at_the_window(users):
    applicant = {"name": "张晓红", "id_number": MOTHER_ID, "phone": "13912345678"}
    for payment, auto in (("银行代扣", True), ("窗口缴费", False)):
        opened = services.case_open(
            user=users["window1"],
            one_thing_key="newborn",
            applicant=applicant,
            form={**NEWBORN_FORM, "payment_method": payment},
            materials=handed_in("newborn"),
        )
        services.case_accept(user=users["window1"], case_no=opened.case.case_no)
        # The enrolment needs the household registration, which needs the birth certificate: it opens third.
        for department, reviewer in (("health", "health1"), ("public_security", "police1")):
            assert open_lanes(saved_and_restored(opened.case)) == [department]
            task = HumanTask.objects.get(case=opened.case, lane=department, state=HumanTaskState.OPEN)
            services.human_task_complete(user=users[reviewer], task_id=task.pk, decision="approve")
        case = saved_and_restored(opened.case)
        enrolment = task_of(case, "medical_insurance")
        assert enrolment.auto_approved is auto
        if auto:  # the table needs the birth certificate among the case's results: it exists by now
            approved = CaseEvent.objects.get(case=case, kind="auto_approved")
            assert "出生医学证明已签发" in str(approved.data)
        assert open_lanes(case) == (["social_security"] if auto else ["medical_insurance", "social_security"])


def test_the_demo_enrolment_table_does_not_approve_without_the_birth_certificate(demo):
    """What the issue saw: the enrolment's 秒批 consumed a birth certificate that did not exist yet. The table
    reads the case's results, and without the certificate among them it leaves the review to a person."""
    table = bpmn.compile_decision(ServiceItem.objects.get(code="000118101000").auto_approval_dmn)
    form = {"payment_method": "银行代扣", "mother_id": MOTHER_ID}
    assert not table.evaluate({"form": form, "licences": [], "results": []}).approve
    results = ["000117201000", "birth_medical_certificate", "000105301000"]
    assert table.evaluate({"form": form, "licences": results, "results": results}).approve


def test_an_import_with_a_broken_table_imports_nothing_and_names_the_cells(demo, tmp_path):
    data = json.loads(CATALOGUE_FILE.read_text(encoding="utf-8"))
    index = next(i for i, item in enumerate(data["items"]) if item["code"] == SEAL_FILING)
    data["items"][index]["auto_approval_dmn"] = decision_table(
        "form.__class__", [("r1", '__import__("os")', "True"), ("r2", "-", "perhaps")]
    )
    data["items"][index]["name"] = "改过的名称"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    err = StringIO()
    with pytest.raises(CommandError, match="未导入"):
        call_command("import_catalogue", str(path), stdout=StringIO(), stderr=err)
    report = err.getvalue()
    assert f"items.{index}" in report
    for element_id in ("input_expression", "r2_out"):
        assert f"秒批规则（{element_id}）" in report
    assert "__class__" in report and "perhaps" in report
    item = ServiceItem.objects.get(code=SEAL_FILING)
    assert item.name == "公章刻制备案" and item.auto_approval_dmn == ""


def test_the_table_round_trips_through_export_and_import(demo, tmp_path):
    give_table(SEAL_FILING, SEAL_TABLE)
    out = StringIO()
    call_command("export_catalogue", stdout=out)
    exported = json.loads(out.getvalue())
    tables = {item["code"]: item["auto_approval_dmn"] for item in exported["items"]}
    assert tables[SEAL_FILING] == SEAL_TABLE and tables["000118101000"].startswith("<?xml")
    give_table(SEAL_FILING, "")
    path = tmp_path / "catalogue.json"
    path.write_text(out.getvalue(), encoding="utf-8")
    call_command("import_catalogue", str(path), stdout=StringIO())
    assert ServiceItem.objects.get(code=SEAL_FILING).auto_approval_dmn == SEAL_TABLE


def test_the_admin_refuses_a_broken_table_with_element_ids(users, rf):
    from django.contrib import admin
    from django.forms.models import model_to_dict

    item = ServiceItem.objects.get(code=SEAL_FILING)
    request = rf.get("/admin/")
    request.user = users["admin"]
    Form = admin.site._registry[ServiceItem].get_form(request, item)
    data = {
        key: json.dumps(value, ensure_ascii=False) if isinstance(value, dict | list) else value
        for key, value in model_to_dict(item).items()
    }
    broken = Form(
        data={**data, "auto_approval_dmn": decision_table("form", [("r1", "? .__class__", "True")])}, instance=item
    )
    assert not broken.is_valid()
    assert any("秒批规则（r1_in）" in message for message in broken.errors["auto_approval_dmn"])
    good = Form(data={**data, "auto_approval_dmn": SEAL_TABLE}, instance=item)
    assert good.is_valid(), good.errors
