"""收受分离: a hall accepts a case that another region's departments decide. The whole path through the service
layer, with the process state read back from the database after every step, and the hall rules around it."""

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.conftest import APPLICANT, DEPARTMENTS, ENTERPRISE_FORM, REVIEWER_OF, hand_over, handed_in
from tests.workflow.helpers import open_lanes, open_task, restored
from workflow import halls, selectors, services
from workflow.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from workflow.lifecycle import CaseStatus
from workflow.models import Case, CaseEvent, Hall, HumanTask, Staff, StaffRole

pytestmark = pytest.mark.django_db

HOME, AWAY = "110105", "120101"  # the default hall (settings) and the demo's out-of-town hall


@pytest.fixture
def staff(users, django_user_model):
    """The demo users, with the deciding departments bound to the home hall, plus a market reviewer, a window
    and a supervisor of other halls."""
    home, away = halls.default_hall(), Hall.objects.get(code=AWAY)
    third = Hall.objects.create(
        code="310115", name="浦东新区政务服务中心", region_code="310115", region_name="上海市浦东新区"
    )
    Staff.objects.filter(user__username__in=REVIEWER_OF.values()).update(hall=home)
    for username, role, department, hall in [
        ("market_away", StaffRole.REVIEWER, "market_regulation", away),
        ("window_third", StaffRole.WINDOW, None, third),
        ("supervisor_home", StaffRole.SUPERVISOR, None, home),
        ("supervisor_third", StaffRole.SUPERVISOR, None, third),
    ]:
        user = django_user_model.objects.create_user(username, password="x")
        Staff.objects.create(user=user, role=role, department_id=department, hall=hall)
    return {u.username: u for u in django_user_model.objects.filter(staff__isnull=False).select_related("staff")}


def _open(staff, username="window2", **kwargs):
    return services.case_open(
        user=staff[username],
        one_thing_key="enterprise_start",
        applicant=APPLICANT,
        form=ENTERPRISE_FORM,
        materials=handed_in(),
        **kwargs,
    )


def _reviews_seen(instance) -> dict:
    """Decisions the restored engine holds now: merged from the data of every task of the instance."""
    merged: dict = {}
    for task in instance._workflow.get_tasks():
        merged.update(task.data.get("reviews", {}))
    return merged


def _trail(case) -> tuple:
    return (
        Case.objects.filter(pk=case.pk).values_list("status", "version").get(),
        CaseEvent.objects.filter(case=case).count(),
        HumanTask.objects.filter(case=case).count(),
    )


def test_accepted_away_decided_at_home_the_whole_path_with_the_state_read_back_after_every_step(staff):
    # 1. The out-of-town window receives the case; the home region decides it.
    opened = _open(staff, deciding_hall=HOME)
    case = Case.objects.get(pk=opened.case.pk)
    assert case.case_no.startswith(AWAY) and len(case.case_no) == 20
    assert (case.accepting_hall.code, case.deciding_hall.code) == (AWAY, HOME)
    assert halls.is_cross_region(case)
    assert CaseEvent.objects.get(case=case, kind="opened").data.items() >= {"hall": AWAY, "deciding_hall": HOME}.items()
    assert [t.lane for t in restored(case).ready_tasks()] == ["window"]

    # 2. No acceptance without the identity check; nothing is written.
    before = _trail(case)
    with pytest.raises(ValidationFailed) as refused:
        services.case_accept(user=staff["window2"], case_no=case.case_no)
    assert set(refused.value.field_errors) == {"identity_verified", "identity_method"}
    assert all("身份" in m for ms in refused.value.field_errors.values() for m in ms)
    with pytest.raises(ValidationFailed) as bad_method:
        services.case_accept(
            user=staff["window2"], case_no=case.case_no, identity_verified=True, identity_method="fingerprint"
        )
    assert set(bad_method.value.field_errors) == {"identity_method"}
    assert _trail(case) == before

    # 3. Only the accepting hall's window accepts or refuses: the deciding hall's window may look but not act,
    #    a third hall's window does not find the case.
    for act in (services.case_accept, services.case_refuse):
        extra = {"reasons": "材料不全"} if act is services.case_refuse else {}
        with pytest.raises(PermissionDenied):
            act(user=staff["window1"], case_no=case.case_no, **extra)
        with pytest.raises(NotFound):
            act(user=staff["window_third"], case_no=case.case_no, **extra)
    assert _trail(case) == before

    # 4. Accepted with the identity verified at the window; the check is in the audit trail.
    services.case_accept(
        user=staff["window2"], case_no=case.case_no, identity_verified=True, identity_method="id_card_onsite"
    )
    case.refresh_from_db()
    assert case.status == CaseStatus.IN_REVIEW
    event = CaseEvent.objects.get(case=case, kind="identity_verified")
    assert event.data == {"method": "id_card_onsite", "method_label": "居民身份证现场核验"}
    assert event.actor == staff["window2"] and event.department == "window"
    assert restored(case).task_data(open_task(case, "tax").engine_task_id)["intake"] == {"decision": "accept"}
    assert open_lanes(case) == sorted(DEPARTMENTS)

    # 5. The same department's reviewer in the accepting region neither sees nor touches the tasks.
    away = staff["market_away"]
    task = open_task(case, "market_regulation")
    assert not selectors.task_list(user=away).filter(case=case).exists()
    assert selectors.task_counts(user=away)["open"] == 0
    for call in (
        lambda: selectors.task_page(user=away, task_id=task.pk),
        lambda: selectors.case_get(user=away, case_no=case.case_no),
        lambda: services.human_task_claim(user=away, task_id=task.pk),
        lambda: services.human_task_complete(user=away, task_id=task.pk, decision="approve"),
    ):
        with pytest.raises(NotFound):
            call()
    with pytest.raises(ValidationFailed):  # nor can a home reviewer hand it over to them
        services.human_task_reassign(user=staff["market1"], task_id=task.pk, to_username="market_away", reason="出差")

    # 6. The home region's departments decide; after every decision the stored process state has it.
    decided = {}
    for department in DEPARTMENTS:
        reviewer = staff[REVIEWER_OF[department]]
        task = open_task(case, department)
        assert selectors.task_list(user=reviewer).filter(pk=task.pk).exists()
        services.human_task_claim(user=reviewer, task_id=task.pk)
        services.human_task_complete(user=reviewer, task_id=task.pk, decision="approve")
        decided[department] = "approve"
        instance = restored(case)
        assert (instance.data["reviews"] if instance.is_completed else _reviews_seen(instance)) == decided
        assert sorted(t.lane for t in instance.ready_tasks()) == sorted(set(DEPARTMENTS) - set(decided))
    case.refresh_from_db()
    assert case.status == CaseStatus.APPROVED and restored(case).is_completed

    # 7. The result is handed out where the applicant applied.
    with pytest.raises(PermissionDenied):
        hand_over(staff["window1"], case.case_no)
    hand_over(staff["window2"], case.case_no)
    case.refresh_from_db()
    assert case.status == CaseStatus.CONCLUDED

    # 8. Both halls follow it; a third hall does not see it.
    for username in ("window1", "window2", "supervisor_home", "supervisor1", "market1"):
        assert selectors.case_get(user=staff[username], case_no=case.case_no).pk == case.pk
    for username in ("window_third", "supervisor_third", "market_away"):
        with pytest.raises(NotFound):
            selectors.case_get(user=staff[username], case_no=case.case_no)
    view = selectors.case_applicant_view(
        selectors.case_for_applicant(case_no=case.case_no, query_code=opened.query_code)
    )
    assert view.cross_region is True
    assert view.accepting_hall.name == "和平区政务服务中心"
    assert view.accepting_hall.region_name == "天津市和平区"
    assert view.deciding_hall.code == HOME


def test_the_window_lists_and_the_inbox_follow_the_halls(staff):
    cross = _open(staff, deciding_hall=HOME).case
    local_away = _open(staff).case
    for case in (cross, local_away):
        services.case_accept(
            user=staff["window2"], case_no=case.case_no, identity_verified=True, identity_method="ctid"
        )
    assert (local_away.accepting_hall.code, local_away.deciding_hall.code) == (AWAY, AWAY)
    # window staff see the window tasks of their own hall's cases only
    window_tasks = set(selectors.task_list(user=staff["window2"], state=None).values_list("case_id", flat=True))
    assert window_tasks == {cross.pk, local_away.pk}
    assert not selectors.task_list(user=staff["window1"], state=None).filter(case__in=[cross, local_away]).exists()
    # reviewers bound to a hall: the cases it decides; unbound reviewers (a single-hall deployment): every case
    assert set(selectors.task_list(user=staff["market1"]).values_list("case_id", flat=True)) == {cross.pk}
    assert set(selectors.task_list(user=staff["market_away"]).values_list("case_id", flat=True)) == {local_away.pk}
    Staff.objects.filter(user__username="market1").update(hall=None)
    unbound = type(staff["market1"]).objects.get(username="market1")
    assert {cross.pk, local_away.pk} <= set(selectors.task_list(user=unbound).values_list("case_id", flat=True))


def test_an_ordinary_case_is_received_and_decided_at_the_clerks_hall_without_an_identity_check(staff):
    opened = _open(staff, username="window1")
    case = Case.objects.get(pk=opened.case.pk)
    assert case.case_no.startswith(HOME)
    assert case.accepting_hall_id == case.deciding_hall_id == halls.default_hall().pk
    assert not halls.is_cross_region(case)
    assert "deciding_hall" not in CaseEvent.objects.get(case=case, kind="opened").data
    services.case_accept(user=staff["window1"], case_no=case.case_no)  # no identity check asked
    assert Case.objects.get(pk=case.pk).status == CaseStatus.IN_REVIEW
    assert not CaseEvent.objects.filter(case=case, kind="identity_verified").exists()
    # naming the clerk's own hall as 审批地 is the same ordinary case
    same = _open(staff, username="window1", deciding_hall=HOME).case
    assert same.accepting_hall_id == same.deciding_hall_id


@pytest.mark.parametrize("code", ["999999", "", "310115"])
def test_an_unknown_or_inactive_deciding_hall_is_a_field_error_and_opens_nothing(staff, code):
    Hall.objects.filter(code="310115").update(is_active=False)
    before = Case.objects.count()
    if code == "":
        assert _open(staff, deciding_hall=code).case.deciding_hall.code == AWAY  # blank = this hall
        return
    with pytest.raises(ValidationFailed) as refused:
        _open(staff, deciding_hall=code)
    assert refused.value.field_errors == {"deciding_hall": ["未找到该审批地大厅，或其已停用"]}
    assert Case.objects.count() == before


def test_an_unknown_hall_and_a_bad_form_are_reported_together(staff):
    with pytest.raises(ValidationFailed) as refused:
        services.case_open(
            user=staff["window2"],
            one_thing_key="enterprise_start",
            applicant=APPLICANT,
            form={**ENTERPRISE_FORM, "registered_capital": -1},
            deciding_hall="999999",
        )
    assert "deciding_hall" in refused.value.field_errors and "form.registered_capital" in refused.value.field_errors


def test_a_clerk_of_an_inactive_hall_cannot_open_cases(staff):
    Hall.objects.filter(code=AWAY).update(is_active=False)
    halls.forget(Hall.objects.get(code=AWAY))  # update() sends no signal
    with pytest.raises(Conflict):
        _open(staff)


def test_the_default_hall_comes_from_settings_on_first_use_and_lookups_are_cached(
    settings, db, django_assert_num_queries
):
    settings.ONETHING_HALL_CODE, settings.ONETHING_HALL_NAME = "440305", "南山区政务服务中心"
    settings.ONETHING_HALL_REGION_CODE, settings.ONETHING_HALL_REGION_NAME = "440305", "深圳市南山区"
    hall = halls.default_hall()
    assert (hall.code, hall.name, hall.region_name) == ("440305", "南山区政务服务中心", "深圳市南山区")
    assert halls.default_hall().pk == hall.pk  # read back: one row, not two
    with django_assert_num_queries(0):
        assert halls.hall_by_id(hall.pk).code == "440305"
        assert halls.hall_by_code("440305").pk == hall.pk
    hall.name = "南山区政务服务大厅"
    hall.save()  # the cached rows are dropped with the save
    assert halls.hall_by_id(hall.pk).name == "南山区政务服务大厅"


def test_halls_are_imported_all_or_nothing_with_chinese_field_errors(db):
    with pytest.raises(ValidationFailed) as refused:
        services.halls_import(
            rows=[
                {
                    "code": "320102",
                    "name": "玄武区政务服务中心",
                    "region_code": "320102",
                    "region_name": "南京市玄武区",
                },
                {"code": "32A", "name": "", "region_code": "320104", "region_name": "南京市秦淮区"},
                {"code": "320102", "name": "重复", "region_code": "320102", "region_name": "南京市玄武区"},
            ]
        )
    errors = refused.value.field_errors
    assert set(errors) == {"halls[1].code", "halls[1].name", "halls[2].code"}
    assert not Hall.objects.filter(code="320102").exists()
    [hall] = services.halls_import(
        rows=[{"code": "320102", "name": "玄武区政务服务中心", "region_code": "320102", "region_name": "南京市玄武区"}]
    )
    assert hall.is_active


def test_the_import_halls_command_loads_the_demo_file_and_refuses_a_bad_one(db, tmp_path):
    out = io.StringIO()
    call_command("import_halls", "workflow/demo_data/halls.json", stdout=out)
    assert "和平区政务服务中心" in out.getvalue() and Hall.objects.filter(code=AWAY).exists()
    bad = tmp_path / "halls.json"
    bad.write_text('[{"code": "1", "name": "x", "region_code": "1", "region_name": "x"}]', encoding="utf-8")
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_halls", str(bad), stdout=io.StringIO(), stderr=err)
    assert "6 位数字" in err.getvalue()


def test_the_receipt_and_notices_name_both_places_of_a_cross_region_case(staff):
    from workflow import notices
    from workflow.documents.render import render_html

    cross = _open(staff, deciding_hall=HOME).case
    services.case_accept(user=staff["window2"], case_no=cross.case_no, identity_verified=True, identity_method="face")
    receipt = notices.notice_for(Case.objects.get(pk=cross.pk), notices.RECEIPT)
    assert receipt.context["accepting_place"] == "和平区政务服务中心（天津市和平区）"
    assert receipt.context["deciding_place"].startswith("示范区政务服务中心")
    html = render_html(receipt.kind, receipt.context)
    assert "收件地" in html and "和平区政务服务中心（天津市和平区）" in html and "审批地" in html
    ordinary = _open(staff, username="window1").case
    services.case_accept(user=staff["window1"], case_no=ordinary.case_no)
    plain = notices.notice_for(Case.objects.get(pk=ordinary.pk), notices.RECEIPT)
    assert "accepting_place" not in plain.context and "收件地" not in render_html(plain.kind, plain.context)
