"""Deliberate migration (issue 13): ``manage.py migrate_cases`` and the service behind it, on PostgreSQL."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.workflow.test_catalogue import RESTAURANT_FORM, open_demo_case
from tests.workflow.test_pinned_compositions import FULL_RESTAURANT, decide, open_elements
from workflow import services
from workflow.lifecycle import CaseStatus
from workflow.models import Case, CaseEvent, ServiceItem

pytestmark = pytest.mark.django_db
FIRE_CHECK = "000131401000"
# 座位数 is asked of a public gathering place only (the fire check applies only then).
GATHERING_PLACE = {**RESTAURANT_FORM, "public_gathering_place": True, "floor_area": 320}


def require_seat_count() -> int:
    """An administrator makes 座位数 a required answer of the fire check and publishes: the new version's number."""
    item = ServiceItem.objects.get(code=FIRE_CHECK)
    item.form_fragment = {**item.form_fragment, "required": [*item.form_fragment["required"], "seat_count"]}
    services.service_item_save(item=item)
    return services.one_thing_recompose(key="restaurant_start").current_composition.number


def test_a_dry_run_reports_who_can_move_and_changes_nothing_then_the_run_moves_only_those(users):
    answered = Case.objects.get(
        case_no=open_demo_case(users, "restaurant_start", {**GATHERING_PLACE, "seat_count": 40})
    )
    unanswered = Case.objects.get(case_no=open_demo_case(users, "restaurant_start", GATHERING_PLACE))
    old = answered.composition.number
    new = require_seat_count()
    assert new == old + 1

    out = StringIO()
    call_command("migrate_cases", "restaurant_start", "--to", str(new), "--dry-run", stdout=out)
    report = out.getvalue()
    assert f"办件 {answered.case_no}：可以迁移（第 {old} 版 → 第 {new} 版）" in report
    assert f"办件 {unanswered.case_no}：不能迁移" in report and "“座位数”" in report
    assert "试运行" in report
    assert {c.composition.number for c in Case.objects.filter(pk__in=[answered.pk, unanswered.pk])} == {old}
    assert not CaseEvent.objects.filter(kind="migrated").exists()

    out = StringIO()
    call_command("migrate_cases", "restaurant_start", "--to", str(new), "--reason", "座位数改为必填", stdout=out)
    assert "已迁移 1 件，不能迁移 1 件" in out.getvalue()
    answered.refresh_from_db()
    unanswered.refresh_from_db()
    assert (answered.composition.number, unanswered.composition.number) == (new, old)
    [event] = CaseEvent.objects.filter(case=answered, kind="migrated")
    assert event.data == {
        "from_version": old,
        "to_version": new,
        "from_process": answered.process_version.number,
        "to_process": answered.process_version.number,
        "reason": "座位数改为必填",
    }
    assert not CaseEvent.objects.filter(case=unanswered, kind="migrated").exists()
    # The moved case goes on under its new version.
    services.case_accept(user=users["window1"], case_no=answered.case_no)
    assert Case.objects.get(pk=answered.pk).status == CaseStatus.IN_REVIEW


def test_a_new_bpmn_moves_a_case_at_the_window_and_refuses_one_whose_open_review_vanished(users):
    waiting = Case.objects.get(case_no=open_demo_case(users, "restaurant_start", RESTAURANT_FORM))
    reviewing = Case.objects.get(case_no=open_demo_case(users, "restaurant_start", FULL_RESTAURANT))
    services.case_accept(user=users["window1"], case_no=reviewing.case_no)
    decide(users, reviewing, "review_fire_rescue")
    # The signboard leaves the one-thing; its standard model is generated and deployed (no urban lane).
    one_thing = services.one_thing_compose(
        key="restaurant_start",
        name="开办餐饮店一件事",
        lead_department="market_regulation",
        items=[
            services.ItemLink("000113101000"),
            services.ItemLink("000113203000", '"餐饮" in form.get("business_scope", "")'),
            services.ItemLink(FIRE_CHECK, 'form.get("public_gathering_place") is True'),
        ],
        promised_limit_days=5,
        generate_process=True,
    )
    target = one_thing.current_composition
    assert target.process_version != waiting.process_version

    refused = services.case_migrate(
        case_no=reviewing.case_no, one_thing_key="restaurant_start", to_version=target.number
    )
    assert not refused.moved
    assert "待办任务“户外招牌设置审批审查”（review_urban_management）在目标版本的流程中已不存在" in refused.reasons
    assert any("outdoor_signboard" in reason for reason in refused.reasons)  # answers the new form does not ask
    unchanged = Case.objects.get(pk=reviewing.pk)
    assert (unchanged.composition_id, unchanged.version) == (reviewing.composition_id, reviewing.version + 2)

    moved = services.case_migrate(
        case_no=waiting.case_no, one_thing_key="restaurant_start", to_version=target.number, actor=users["admin"]
    )
    assert moved.moved and moved.reasons == []
    waiting.refresh_from_db()
    assert (waiting.composition_id, waiting.process_version_id) == (target.pk, target.process_version_id)
    event = CaseEvent.objects.get(case=waiting, kind="migrated")
    assert event.actor == users["admin"] and event.data["to_process"] == target.process_version.number
    # Accepted on the new model: the business licence and the food licence, no signboard review anywhere.
    services.case_accept(user=users["window1"], case_no=waiting.case_no)
    assert open_elements(waiting) == ["review_market_regulation", "review_market_regulation_item2"]


def test_decided_cases_and_unknown_versions_are_refused(users):
    case = Case.objects.get(case_no=open_demo_case(users, "restaurant_start", RESTAURANT_FORM))
    services.case_withdraw(case_no=case.case_no, reason="不办了")
    new = require_seat_count()
    result = services.case_migrate(case_no=case.case_no, one_thing_key="restaurant_start", to_version=new)
    assert result.reasons == ["办件状态为“已撤回”，已有办理结果或已结束，不再迁移"]
    with pytest.raises(CommandError, match="没有组合第 99 版"):
        call_command("migrate_cases", "restaurant_start", "--to", "99", stdout=StringIO())


def test_a_case_past_a_changed_part_of_the_model_is_refused_by_the_engine_check(users):
    """Same form, same review tasks, a changed condition: a case still at the window moves; a case whose
    process already passed the changed gateway cannot (SpiffWorkflow's own alignment of the two models)."""
    waiting = Case.objects.get(case_no=open_demo_case(users, "restaurant_start", RESTAURANT_FORM))
    reviewing = Case.objects.get(case_no=open_demo_case(users, "restaurant_start", RESTAURANT_FORM))
    services.case_accept(user=users["window1"], case_no=reviewing.case_no)
    target = services.one_thing_compose(
        key="restaurant_start",
        name="开办餐饮店一件事",
        lead_department="market_regulation",
        items=[
            services.ItemLink("000113101000"),
            services.ItemLink("000113203000", '"餐饮" in form.get("business_scope", "")'),
            services.ItemLink(FIRE_CHECK, 'form.get("floor_area", 0) > 300'),
            services.ItemLink("000120501000", 'form.get("outdoor_signboard") is True'),
        ],
        promised_limit_days=5,
        generate_process=True,
    ).current_composition
    refused = services.case_migrate(
        case_no=reviewing.case_no, one_thing_key="restaurant_start", to_version=target.number
    )
    assert refused.reasons and all("已执行的环节" in reason for reason in refused.reasons)
    assert any("needs_fire_rescue" in reason for reason in refused.reasons)
    assert services.case_migrate(
        case_no=waiting.case_no, one_thing_key="restaurant_start", to_version=target.number
    ).moved
