"""容缺受理: accepting with a non-key material promised, the promise lapsing (suspension) and being kept."""

import datetime as dt

import pytest
import time_machine

from tests.conftest import hand_over
from tests.workflow.helpers import decide, open_case
from workflow import selectors, services
from workflow.errors import CaseSuspended, PromiseOutstanding, ValidationFailed
from workflow.lifecycle import CaseStatus
from workflow.models import Case, CaseEvent, ClockPause, ELicence, MaterialPromise

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 11, 26)  # a Thursday
SHANGHAI = dt.timezone(dt.timedelta(hours=8))


def at(day: dt.date, hour: int = 10):
    return time_machine.travel(dt.datetime(day.year, day.month, day.day, hour, tzinfo=SHANGHAI), tick=False)


def accept_on_promise(users, due: dt.date) -> Case:
    opened = open_case(users).case
    services.case_accept(
        user=users["window1"],
        case_no=opened.case_no,
        promises=[{"material": "shareholder_certificate", "due_date": due}],
    )
    return Case.objects.get(pk=opened.pk)


def test_a_non_key_material_can_be_promised_and_the_case_goes_to_review(users):
    with at(TODAY):
        case = accept_on_promise(users, TODAY + dt.timedelta(days=4))
    assert case.status == CaseStatus.IN_REVIEW
    promise = MaterialPromise.objects.get(case=case)
    assert (promise.material_name, promise.due_date) == ("股东主体资格证明", dt.date(2026, 11, 30))
    event = CaseEvent.objects.get(case=case, kind="accepted_on_promise")
    assert event.data["materials"] == [{"name": "股东主体资格证明", "due_date": "2026-11-30"}]


def test_key_materials_unknown_materials_and_bad_dates_are_refused_and_nothing_is_accepted(users):
    opened = open_case(users).case
    with at(TODAY), pytest.raises(ValidationFailed) as refused:
        services.case_accept(
            user=users["window1"],
            case_no=opened.case_no,
            promises=[
                {"material": "legal_rep_id_card", "due_date": dt.date(2026, 11, 30)},
                {"material": "no_such_material", "due_date": dt.date(2026, 11, 30)},
                {"material": "shareholder_certificate", "due_date": dt.date(2026, 12, 31)},
            ],
        )
    errors = refused.value.field_errors
    assert "关键材料" in errors["promises.0.material"][0]
    assert "promises.1.material" in errors
    assert "2026-12-10" in errors["promises.2.due_date"][0]  # 10 working days from 26 November
    assert Case.objects.get(pk=opened.pk).status == CaseStatus.RECEIVED
    assert not MaterialPromise.objects.exists()


def test_a_lapsed_promise_suspends_the_review_and_keeping_it_resumes(users):
    with at(TODAY):
        case = accept_on_promise(users, dt.date(2026, 11, 30))
        decide(users, case, "market_regulation")
    with at(dt.date(2026, 11, 30), 17):
        assert services.promises_lapse() == 0  # the due day itself is still in time
    with at(dt.date(2026, 12, 1)):
        assert services.promises_lapse() == 1
        assert services.promises_lapse() == 0  # idempotent
        case.refresh_from_db()
        assert case.status == CaseStatus.SUSPENDED
        suspension = CaseEvent.objects.get(case=case, kind="suspend")
        assert suspension.data["materials"] == ["股东主体资格证明"]
        assert ClockPause.objects.get(case=case, kind="material_promise").ended_at is None  # the clock stopped
        with pytest.raises(CaseSuspended):
            decide(users, case, "tax")
        services.case_promise_fulfil(
            user=users["window1"], case_no=case.case_no, material_code="shareholder_certificate"
        )
        case.refresh_from_db()
        assert case.status == CaseStatus.IN_REVIEW
        assert MaterialPromise.objects.get(case=case).fulfilled_at is not None
        assert ClockPause.objects.get(case=case, kind="material_promise").ended_at is not None
        decide(users, case, "tax")
        decide(users, case, "public_security")
    case.refresh_from_db()
    assert case.status == CaseStatus.APPROVED


def test_a_kept_promise_never_suspends(users):
    with at(TODAY):
        case = accept_on_promise(users, dt.date(2026, 11, 30))
        services.case_promise_fulfil(
            user=users["window1"], case_no=case.case_no, material_code="shareholder_certificate"
        )
    with at(dt.date(2026, 12, 3)):
        assert services.promises_lapse() == 0
    case.refresh_from_db()
    assert case.status == CaseStatus.IN_REVIEW


# --- 容缺 at the end: no conclusion, no licence for the promised item while the material is outstanding --------


def test_an_approved_case_with_an_outstanding_promise_neither_concludes_nor_issues_that_items_licence(users):
    with at(TODAY):
        case = accept_on_promise(users, dt.date(2026, 11, 30))  # 股东主体资格证明: only 企业设立登记 needs it
        for department in ("market_regulation", "public_security", "tax"):
            decide(users, case, department)
        case.refresh_from_db()
        assert case.status == CaseStatus.APPROVED
        # The licence of the item needing the promised material is held; the others issue.
        issued = set(ELicence.objects.filter(case=case).values_list("item__code", flat=True))
        assert "000113101000" not in issued
        withheld = CaseEvent.objects.get(case=case, kind="licence_withheld")
        assert withheld.data["materials"] == ["股东主体资格证明"]
        # The window sees why it cannot conclude, and the service refuses with the same reason.
        view = selectors.case_view(user=users["window1"], case=case)
        assert "conclude" not in view.allowed_actions
        [blocked] = view.blocked_actions
        assert blocked.action == "conclude" and blocked.code == "promise_outstanding"
        assert "股东主体资格证明" in blocked.message and "2026-11-30" in blocked.message
        with pytest.raises(PromiseOutstanding) as refused:
            services.case_conclude(user=users["window1"], case_no=case.case_no)
        assert refused.value.message == blocked.message
        assert "materials.shareholder_certificate" in refused.value.field_errors
        case.refresh_from_db()
        assert case.status == CaseStatus.APPROVED and case.concluded_at is None
        # The material arrives: the held licence issues, and the case concludes.
        services.case_promise_fulfil(
            user=users["window1"], case_no=case.case_no, material_code="shareholder_certificate"
        )
        assert ELicence.objects.filter(case=case, item__code="000113101000").exists()
        assert selectors.case_view(user=users["window1"], case=Case.objects.get(pk=case.pk)).blocked_actions == []
        hand_over(users["window1"], case.case_no)  # the proof of delivery concludes it
    assert Case.objects.get(pk=case.pk).status == CaseStatus.CONCLUDED


def test_the_lapsed_promise_rule_still_only_suspends_cases_under_review(users):
    with at(TODAY):
        case = accept_on_promise(users, dt.date(2026, 11, 30))
        for department in ("market_regulation", "public_security", "tax"):
            decide(users, case, department)
    with at(dt.date(2026, 12, 3)):
        assert services.promises_lapse() == 0  # approved: nothing left to suspend; the conclusion waits instead
    assert Case.objects.get(pk=case.pk).status == CaseStatus.APPROVED
