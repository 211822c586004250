"""A week of cases for the statistics tests (tests/workflow/test_statistics.py computes each indicator from it by
hand; tests/api/test_statistics.py holds the API, the dashboard and the CSV to the same numbers)."""

from __future__ import annotations

import datetime as dt

import time_machine
from django.utils import timezone

from tests.conftest import APPLICANT, ENTERPRISE_FORM, REVIEWER_OF, hand_over, handed_in
from tests.forms.samples import MOTHER_ID, NEWBORN_FORM
from tests.workflow.clock_helpers import at
from workflow import services
from workflow.models import HumanTask, HumanTaskState


def open_case(users, one_thing: str = "enterprise_start") -> str:
    if one_thing == "newborn":
        applicant = {"name": "张晓红", "id_number": MOTHER_ID, "phone": "13912345678"}
        # No 秒批: every review stays with a person; born 20 days before the (frozen) day of application.
        born = timezone.localdate() - dt.timedelta(days=20)
        form = {**NEWBORN_FORM, "payment_method": "窗口缴费", "birth_date": born.isoformat()}
    else:
        applicant, form = APPLICANT, ENTERPRISE_FORM
    opened = services.case_open(
        user=users["window1"], one_thing_key=one_thing, applicant=applicant, form=form, materials=handed_in(one_thing)
    )
    return opened.case.case_no


def open_and_accept(users, one_thing: str = "enterprise_start") -> str:
    case_no = open_case(users, one_thing)
    services.case_accept(user=users["window1"], case_no=case_no)  # the materials were handed in at opening
    return case_no


def decide(users, case_no: str, department: str, decision: str = "approve") -> None:
    task = HumanTask.objects.get(case__case_no=case_no, lane=department, state=HumanTaskState.OPEN)
    extra = {}
    if decision == "need_correction":  # a field only public security needs: nobody else re-opens
        extra = {"opinion": "印章信息不完整", "corrections": [{"item": "seal_types", "reason": "请写明印章种类"}]}
    elif decision == "reject":
        extra = {"opinion": "不符合法定条件"}
    services.human_task_complete(user=users[REVIEWER_OF[department]], task_id=task.pk, decision=decision, **extra)


def conclude(users, case_no: str) -> None:
    hand_over(users["window1"], case_no)


def build_week(users) -> dict[str, str]:
    """One week of November 2026 (Monday 2 … Friday 6, no holiday), enterprise_start unless said otherwise:

    A  received, accepted Mon; all three approve Mon; concluded Mon; rated 5 非常满意
    B  received, accepted Mon; market, police approve Mon, tax Wed; concluded Thu; rated 3 基本满意
    C  received, accepted Mon; market, tax approve Mon; police asks a correction Tue; the applicant corrects
       Thu; police approves Fri; concluded Fri
    H  received, accepted Mon; market, police approve Mon; tax rejects Tue; concluded Tue; rated 1 非常不满意
    D  received Mon, refused (不予受理) Mon
    E  received, accepted Tue; in review
    F  received, accepted Tue; withdrawn Wed
    G  received Tue, not yet accepted
    N  newborn: received, accepted Tue; in review
    """
    cases = {}
    with time_machine.travel(at("2026-11-02", 9), tick=False) as clock_:
        for name in "ABCH":
            cases[name] = open_and_accept(users)
        cases["D"] = open_case(users)
        services.case_refuse(user=users["window1"], case_no=cases["D"], reasons="不属于本大厅受理范围")
        clock_.move_to(at("2026-11-02", 10))
        for department in REVIEWER_OF:
            decide(users, cases["A"], department)
        conclude(users, cases["A"])
        for department in ("market_regulation", "public_security"):
            decide(users, cases["B"], department)
            decide(users, cases["H"], department)
        for department in ("market_regulation", "tax"):
            decide(users, cases["C"], department)

        clock_.move_to(at("2026-11-03", 10))  # Tuesday
        decide(users, cases["C"], "public_security", "need_correction")
        decide(users, cases["H"], "tax", "reject")
        conclude(users, cases["H"])
        for name in "EF":
            cases[name] = open_and_accept(users)
        cases["G"] = open_case(users)
        cases["N"] = open_and_accept(users, "newborn")

        clock_.move_to(at("2026-11-04", 10))  # Wednesday
        decide(users, cases["B"], "tax")
        services.case_withdraw(case_no=cases["F"], reason="申请人另行办理", actor=users["window1"])

        clock_.move_to(at("2026-11-05", 10))  # Thursday
        conclude(users, cases["B"])
        services.case_correction_submit(
            case_no=cases["C"], changes={"seal_count": 2, "seal_types": ["单位公章", "发票专用章"]}
        )

        clock_.move_to(at("2026-11-06", 10))  # Friday
        decide(users, cases["C"], "public_security")
        conclude(users, cases["C"])
        for name, level in (("A", 5), ("B", 3), ("H", 1)):
            services.case_rate(case_no=cases[name], level=level)
    return cases
