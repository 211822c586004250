"""One unified result: item results and e-licences, withdrawal, and re-opening by provenance."""

import pytest

from tests.conftest import APPLICANT, DEPARTMENTS, ENTERPRISE_FORM
from tests.workflow.helpers import decide, open_and_accept, open_case, open_lanes, open_task, restored
from workflow import selectors, services
from workflow.errors import InvalidTransition, ValidationFailed
from workflow.lifecycle import CaseStatus
from workflow.models import Case, CaseEvent, ELicence, HumanTask, HumanTaskState
from workflow.results import case_results

pytestmark = pytest.mark.django_db


def test_approval_issues_one_e_licence_per_licensed_item_as_its_kind_defines(users):
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
    # 公章刻制备案 and the tax registration are results stated on the notice, not licences
    assert set(licences) == {"market_regulation"} and set(DEPARTMENTS) > set(licences)
    business = licences["market_regulation"]
    assert (business.title, business.number, business.holder_kind) == ("营业执照", "91110105MA01ABCD2X", "enterprise")
    assert business.holder_name == "示范区星火科技有限公司"
    assert business.holder_id_number == business.number  # the enterprise's 统一社会信用代码
    assert business.valid_to is None and len(business.verification_code) == 6
    rows = case_results(case, list(HumanTask.objects.filter(case=case).select_related("department")))
    assert [r["department"] for r in rows] == ["market_regulation", "public_security", "tax"]
    assert rows[0]["item"] == "企业设立登记（核发营业执照）" and rows[0]["licence_no"] == "91110105MA01ABCD2X"
    assert CaseEvent.objects.filter(case=case, kind="licence_issued").count() == 1


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
    services.case_correction_submit(
        case_no=case.case_no,
        changes={"legal_representative": "李四", "seal_count": 2, "address": case.form_data["address"]},
    )
    assert open_lanes(case) == ["market_regulation", "public_security", "tax"]
    reopened = {e.department: e.data for e in CaseEvent.objects.filter(case=case, kind="reopened")}
    assert set(reopened) == {"market_regulation", "tax"}
    assert reopened["tax"]["fields"] == ["legal_representative"]
    assert reopened["tax"]["field_titles"] == ["法定代表人"]
    # The timeline names the department and the fields (staff and, since pinned compositions, the applicant too).
    view = selectors.case_view(user=users["window1"], case=Case.objects.get(pk=case.pk))
    rows = [row for row in view.timeline if row.kind == "reopened"]
    assert {row.department_name for row in rows} == {"区市场监督管理局", "区税务局"}
    assert all(row.label == "补正修改了本部门需要的字段，重新审查：法定代表人" for row in rows)


def test_a_correction_that_only_touches_the_asking_departments_fields_reopens_only_it(users):
    case = open_and_accept(users)
    decide(users, case, "market_regulation")
    decide(users, case, "public_security", "need_correction")
    decide(users, case, "tax")
    services.case_correction_submit(
        case_no=case.case_no, changes={"seal_count": 3, "address": case.form_data["address"]}
    )
    assert open_lanes(case) == ["public_security"]
    assert not CaseEvent.objects.filter(case=case, kind="reopened").exists()


def _seal_and_tax() -> dict:
    """A one-thing that needs the business licence without issuing it (印章 and 税务); its form for the applicant."""
    services.one_thing_compose(
        key="seal_and_tax",
        name="印章与税务一件事",
        lead_department="public_security",
        items=[services.ItemLink("000105402000"), services.ItemLink("000112103000")],
        promised_limit_days=2,
        generate_process=True,
    )
    return {
        k: v for k, v in ENTERPRISE_FORM.items() if k not in ("enterprise_type", "registered_capital", "business_scope")
    }


def test_a_licence_issued_earlier_replaces_the_material_in_the_next_case(users):
    """免提交: the business licence from 企业开办 is attached to the same applicant's next case that needs it —
    one whose own items do not issue it (a one-thing never asks for what it produces itself)."""
    from workflow.models import MaterialReuse

    form = _seal_and_tax()
    first = open_and_accept(users)
    for department in DEPARTMENTS:
        decide(users, first, department)
    licence = ELicence.objects.get(case=first, issuer_id="market_regulation")
    second = services.case_open(
        user=users["window1"], one_thing_key="seal_and_tax", applicant=APPLICANT, form=form
    ).case
    [reuse] = MaterialReuse.objects.filter(case=second)
    assert (reuse.material_code, reuse.licence) == ("business_licence", licence)
    assert CaseEvent.objects.get(case=second, kind="materials_reused").data["count"] == 1
    other = services.case_open(
        user=users["window1"],
        one_thing_key="seal_and_tax",
        applicant={"name": "张三", "id_number": "11010519491231002X"},
        form={**form, "legal_representative_id": "11010519491231002X"},
    ).case
    assert not MaterialReuse.objects.filter(case=other).exists()  # another holder: nothing to reuse


def test_the_newest_valid_licence_is_reused_and_read_with_the_case_number(users):
    """Of several licences for the material, the newest that is valid and not revoked is attached; on PostgreSQL
    the opening reads them in the statement that draws its case number, not in one of their own."""
    import datetime as dt

    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from workflow.models import MaterialReuse

    form = _seal_and_tax()
    licences = []
    for _ in range(4):  # four 企业开办 cases, each approved with its 营业执照
        case = open_and_accept(users)
        for department in DEPARTMENTS:
            decide(users, case, department)
        licences.append(ELicence.objects.get(case=case, issuer_id="market_regulation"))
    oldest, newer, revoked, expired = licences
    start = oldest.issued_at
    ELicence.objects.filter(pk=newer.pk).update(issued_at=start + dt.timedelta(days=1))
    ELicence.objects.filter(pk=revoked.pk).update(
        issued_at=start + dt.timedelta(days=2), revoked_at=timezone.now(), revoked_reason="撤销"
    )
    ELicence.objects.filter(pk=expired.pk).update(
        issued_at=start + dt.timedelta(days=3), valid_to=timezone.localdate() - dt.timedelta(days=1)
    )
    with CaptureQueriesContext(connection) as queries:
        second = services.case_open(
            user=users["window1"], one_thing_key="seal_and_tax", applicant=APPLICANT, form=form
        ).case
    [reuse] = MaterialReuse.objects.filter(case=second)
    assert (reuse.material_code, reuse.licence) == ("business_licence", newer)
    if connection.vendor == "postgresql":
        reads = [q["sql"] for q in queries if "workflow_elicence" in q["sql"]]
        assert len(reads) == 1 and "workflow_casenumbercounter" in reads[0]


def test_an_applicants_licences_are_found_on_the_licences_alone_and_old_ones_get_their_applicant(users):
    """The 营业执照's holder is the enterprise (its credit code): the applicant's own licences are found by the
    applicant the licence keeps from its case (migration 0025 gave the licences before it theirs), on the licences
    table alone — no join to every case there is."""
    import importlib

    from django.apps import apps as global_apps
    from django.db import connection

    from workflow.results import held_licences

    case = open_and_accept(users)
    for department in DEPARTMENTS:
        decide(users, case, department)
    licences = ELicence.objects.filter(case=case)
    assert licences and {licence.applicant_id_number for licence in licences} == {APPLICANT["id_number"]}
    business = licences.get(issuer_id="market_regulation")
    assert business.holder_id_number != APPLICANT["id_number"]  # held by the enterprise
    held = held_licences(id_number=APPLICANT["id_number"])
    assert business in held and "workflow_case" not in str(held.order_by().query)  # (the default order joins it)
    ELicence.objects.filter(case=case).update(applicant_id_number="")
    assert business not in held_licences(id_number=APPLICANT["id_number"])
    backfill = importlib.import_module("workflow.migrations.0025_licence_applicant").backfill
    backfill(global_apps, type("SchemaEditor", (), {"connection": connection})())
    assert business in held_licences(id_number=APPLICANT["id_number"])


def test_an_approval_sends_its_licences_with_its_writes_and_a_number_taken_meanwhile_fails_it(users, monkeypatch):
    """The approval plans its licences from the task rows read under the lock and sends them in its one batch; a
    number another case took between the approval's check and its batch (the race) fails the step as a whole: 409,
    nothing of it written, and the retry gives way."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from workflow import results
    from workflow.errors import ConcurrentUpdate

    case = open_and_accept(users)
    for department in DEPARTMENTS[:-1]:
        decide(users, case, department)
    other = open_and_accept(users)
    for department in DEPARTMENTS:
        decide(users, other, department)
    taken = ELicence.objects.filter(case=other).order_by("pk").first()
    real_give_way = results._give_way

    def meanwhile(case_, licences, generated):  # another case issues the number right after the check
        real_give_way(case_, licences, generated)
        ELicence.objects.filter(pk=taken.pk).update(number=licences[0].number)

    monkeypatch.setattr(results, "_give_way", meanwhile)
    events = CaseEvent.objects.filter(case=case).count()
    with pytest.raises(ConcurrentUpdate):
        decide(users, case, DEPARTMENTS[-1])
    case.refresh_from_db()
    assert case.status == "in_review" and CaseEvent.objects.filter(case=case).count() == events
    assert not ELicence.objects.filter(case=case).exists()

    monkeypatch.setattr(results, "_give_way", real_give_way)
    with CaptureQueriesContext(connection) as queries:
        decide(users, case, DEPARTMENTS[-1])
    assert ELicence.objects.filter(case=case).exists()
    sent = [q["sql"] for q in queries.captured_queries]
    # the service's own transaction (a savepoint inside the test's) and none of its own for the licences
    assert len([sql for sql in sent if sql.startswith("SAVEPOINT")]) == 1
    inserts = [sql for sql in sent if "INSERT INTO" in sql and "workflow_elicence" in sql]
    if connection.vendor == "postgresql":
        assert len(inserts) == 1 and "INSERT INTO workflow_caseevent" in inserts[0]  # one batch: licences and events
