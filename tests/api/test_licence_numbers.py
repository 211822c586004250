"""Licence numbers typed by reviewers are checked at decision time (issue 18, high): no case can freeze another
by typing its number, two departments of one case cannot type the same, and the format is per item."""

from __future__ import annotations

from tests.api.helpers import accept, assert_error, decide, open_case, post
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
    for department in ("market_regulation", "public_security", "tax"):
        decide(users, victim, department)
    assert victim.status == "approved"
    assert ELicence.objects.filter(case_id=victim.pk, number=victims_number).exists()


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
    assert_error(approve(client_for, third, "tax", "tax1", "91110105MA01ABCD2X"), 409, "licence_no_taken")


def test_two_departments_of_one_case_typing_the_same_number_is_400(client_for, users):
    ref = accept(users, open_case(users))
    assert approve(client_for, ref, "market_regulation", "market1", "SAME-0001").status_code == 200
    refused = approve(client_for, ref, "tax", "tax1", "SAME-0001")
    assert "result.licence_no" in assert_error(refused, 400, "invalid")["errors"]
    assert approve(client_for, ref, "tax", "tax1", "SAME-0002").status_code == 200
    decide(users, ref, "public_security")
    assert ref.status == "approved"


def test_the_format_rule_per_item():
    assert licence_number_check({}, "91110105MA01ABCD2X") == []
    assert licence_number_check({}, "京食经〔2026〕第001号") == []
    assert licence_number_check({}, " 9111") and licence_number_check({}, "a b")
    assert licence_number_check({}, "x" * 65)
    assert licence_number_check({}, "11010520261126000001-000001")  # the system's namespace
    kind = {"licence_number_pattern": r"JY[0-9]{14}", "licence_number_example": "JY11105050012345"}
    assert licence_number_check(kind, "JY11105050012345") == []
    assert "JY11105050012345" in licence_number_check(kind, "JY1")[0]
