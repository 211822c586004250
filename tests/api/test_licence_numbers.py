"""Licence numbers typed by reviewers are checked at decision time (issue 18, high): no case can freeze another
by typing its number, two departments of one case cannot type the same, and the format is per item."""

from __future__ import annotations

from tests.api.helpers import CaseRef, accept, assert_error, decide, open_case, post
from tests.conftest import APPLICANT, handed_in
from tests.workflow.test_pinned_compositions import FULL_RESTAURANT
from workflow import licence_kinds, services
from workflow.compositions import composition_of
from workflow.licence_numbers import default_licence_number, licence_number_check
from workflow.models import Case, ELicence, HumanTask


def approve(client_for, ref, department: str, reviewer: str, number: str):
    return post(
        client_for(reviewer),
        f"/api/tasks/{ref.task_id(department)}/complete",
        {"decision": "approve", "result": {"licence_no": number}},
    )


def default_number_of(ref, department: str) -> str:
    case = Case.objects.get(pk=ref.pk)
    task = HumanTask.objects.get(pk=ref.task_id(department))
    return default_licence_number(case.case_no, composition_of(case).item_of_task(task).code)


def test_typing_another_cases_default_number_is_refused_and_that_case_still_concludes(client_for, users):
    victim, attacker = accept(users, open_case(users)), accept(users, open_case(users))
    victims_number = default_number_of(victim, "market_regulation")
    refused = approve(client_for, attacker, "market_regulation", "market1", victims_number)
    assert "result.licence_no" in assert_error(refused, 400, "invalid")["errors"]
    # The 营业执照's number the victim's approval would generate (its kind's format: a 统一社会信用代码) has the
    # shape a reviewer may type; typed first on another case, the victim's licence takes the system's number.
    case = Case.objects.get(pk=victim.pk)
    kind = licence_kinds.result_kind(composition_of(case).item("000113101000").snapshot["result"])
    generated = licence_kinds.generated_number(kind, case.case_no, "000113101000")
    assert approve(client_for, attacker, "market_regulation", "market1", generated).status_code == 200
    for department in ("market_regulation", "public_security", "tax"):
        decide(users, victim, department)
    assert victim.status == "approved"
    assert ELicence.objects.filter(case_id=victim.pk, title="营业执照").exists()


def test_a_number_typed_on_another_case_is_409_with_the_field_named(client_for, users):
    first, second = accept(users, open_case(users)), accept(users, open_case(users))
    assert approve(client_for, first, "market_regulation", "market1", "91110105MA01ABCD2X").status_code == 200
    taken = approve(client_for, second, "market_regulation", "market1", "91110105MA01ABCD2X")
    body = assert_error(taken, 409, "licence_no_taken")
    assert list(body["errors"]) == ["result.licence_no"]
    # the first case concludes with its number; the second with another one
    decide(users, first, "public_security"), decide(users, first, "tax")
    assert first.status == "approved"
    assert approve(client_for, second, "market_regulation", "market1", "91110105MA01ABCD3Y").status_code == 200
    decide(users, second, "public_security"), decide(users, second, "tax")
    assert second.status == "approved"
    # an issued licence's number is taken too
    third = accept(users, open_case(users))
    assert_error(
        approve(client_for, third, "market_regulation", "market1", "91110105MA01ABCD2X"), 409, "licence_no_taken"
    )
    # an item whose result is a 备案/登记 (here the tax registration) takes no number at all
    assert "result.licence_no" in assert_error(approve(client_for, third, "tax", "tax1", "X-1"), 400)["errors"]


def test_two_departments_of_one_case_typing_the_same_number_is_400(client_for, users):
    # 开办餐饮店: the fire-safety and the signboard decisions are licence kinds without a number pattern
    case = services.case_open(
        user=users["window1"],
        one_thing_key="restaurant_start",
        applicant=APPLICANT,
        form=dict(FULL_RESTAURANT),
        materials=handed_in("restaurant_start"),
    ).case
    ref = accept(users, CaseRef(case.case_no, "", case.pk))
    assert approve(client_for, ref, "fire_rescue", "fire1", "SAME-0001").status_code == 200
    refused = approve(client_for, ref, "urban_management", "urban1", "SAME-0001")
    assert "result.licence_no" in assert_error(refused, 400, "invalid")["errors"]
    assert approve(client_for, ref, "urban_management", "urban1", "SAME-0002").status_code == 200
    assert (
        "不符合营业执照的编号规则"
        in licence_number_check(composition_of(case).item("000113101000").snapshot, "SAME-0003")[0]
    )


def test_the_format_rule_per_item():
    assert licence_number_check({}, "91110105MA01ABCD2X") == []
    assert licence_number_check({}, "京食经〔2026〕第001号") == []
    assert licence_number_check({}, " 9111") and licence_number_check({}, "a b")
    assert licence_number_check({}, "x" * 65)
    assert licence_number_check({}, "11010520261126000001-000001")  # the system's namespace
    kind = {"licence_number_pattern": r"JY[0-9]{14}", "licence_number_example": "JY11105050012345"}
    assert licence_number_check(kind, "JY11105050012345") == []
    assert "JY11105050012345" in licence_number_check(kind, "JY1")[0]
