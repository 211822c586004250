"""A running case never changes under its applicant (issue 13), through the service layer on PostgreSQL:
immutable composition versions, cases pinned to theirs, corrections that flip an item's condition, the
catalogue's change history."""

import pytest

from tests.workflow.test_catalogue import RESTAURANT_FORM, open_demo_case
from workflow import services
from workflow.compositions import composition_of
from workflow.errors import ValidationFailed
from workflow.lifecycle import CaseStatus
from workflow.models import (
    Case,
    CaseEvent,
    CatalogueChange,
    CompositionVersion,
    ELicence,
    HumanTask,
    HumanTaskState,
    OneThing,
    ServiceItem,
)
from workflow.results import case_results
from workflow.selectors import case_applicant_view

pytestmark = pytest.mark.django_db

BUSINESS_LICENCE, FOOD_LICENCE, FIRE_CHECK, SIGNBOARD = "000113101000", "000113203000", "000131401000", "000120501000"
REVIEWER = {"market_regulation": "market1", "fire_rescue": "fire1", "urban_management": "urban1"}
# 开办餐饮店 with catering, a public gathering place and an outdoor signboard: all four reviews open.
FULL_RESTAURANT = {
    **RESTAURANT_FORM,
    "public_gathering_place": True,
    "floor_area": 320,
    "outdoor_signboard": True,
    "signboard_text": "老味道",
    "signboard_length": 6,
    "signboard_height": 1.2,
}


def open_review(case: Case, element_id: str) -> HumanTask:
    return HumanTask.objects.get(case=case, element_id=element_id, state=HumanTaskState.OPEN)


def decide(users, case: Case, element_id: str, decision: str = "approve", **extra) -> None:
    task = open_review(case, element_id)
    if decision == "need_correction":
        extra = {"opinion": "经营范围需补正", "corrections": [{"item": "business_scope", "reason": "请写明经营范围"}]}
    services.human_task_complete(user=users[REVIEWER[task.lane]], task_id=task.pk, decision=decision, **extra)


def restaurant_asking_for_the_scope(users, form: dict | None = None) -> Case:
    """Accepted; fire, urban management and the business licence approve; the food licence asks to correct
    the business scope."""
    case_no = open_demo_case(users, "restaurant_start", form or FULL_RESTAURANT)
    services.case_accept(user=users["window1"], case_no=case_no)
    case = Case.objects.get(case_no=case_no)
    for element_id in ("review_fire_rescue", "review_urban_management", "review_market_regulation"):
        if HumanTask.objects.filter(case=case, element_id=element_id, state=HumanTaskState.OPEN).exists():
            decide(users, case, element_id)
    decide(users, case, "review_market_regulation_item2", "need_correction")
    case.refresh_from_db()
    assert case.status == CaseStatus.CORRECTION_REQUIRED
    return case


def open_elements(case: Case) -> list[str]:
    return sorted(
        HumanTask.objects.filter(case=case, state=HumanTaskState.OPEN, department__isnull=False).values_list(
            "element_id", flat=True
        )
    )


def events(case: Case, kind: str) -> list[CaseEvent]:
    return list(CaseEvent.objects.filter(case=case, kind=kind).order_by("id"))


# --- the restaurant correction (the issue's scenario) --------------------------------------------------------


def test_a_correction_that_drops_the_catering_the_gathering_place_and_the_signboard_is_handled_honestly(users):
    case = restaurant_asking_for_the_scope(users)
    services.case_correction_submit(
        case_no=case.case_no,
        changes={
            "business_scope": "预包装食品销售；日用百货销售",
            "public_gathering_place": False,
            "outdoor_signboard": False,
        },
    )
    case.refresh_from_db()
    # Only the business licence re-reviews: its approval rested on the business scope the correction changed.
    assert case.status == CaseStatus.IN_REVIEW
    assert open_elements(case) == ["review_market_regulation"]
    [reopened] = events(case, "reopened")
    assert (reopened.department, reopened.data["fields"]) == ("market_regulation", ["business_scope"])
    # The food licence, the fire check and the signboard no longer apply, each with its reason.
    dropped = {e.data["item_codes"][0]: e for e in events(case, "item_not_applicable")}
    assert set(dropped) == {FOOD_LICENCE, FIRE_CHECK, SIGNBOARD}
    assert dropped[FIRE_CHECK].data["earlier_decision"] == "approve"
    assert dropped[FOOD_LICENCE].data["earlier_decision"] == "need_correction"
    assert "属于公众聚集场所" in dropped[FIRE_CHECK].data["reason"]
    assert "经营范围" in dropped[FOOD_LICENCE].data["reason"]

    decide(users, case, "review_market_regulation")
    case.refresh_from_db()
    assert case.status == CaseStatus.APPROVED
    # One e-licence: the business licence. None for approvals given on answers that no longer hold.
    assert list(ELicence.objects.filter(case=case).values_list("item__code", flat=True)) == [BUSINESS_LICENCE]
    rows = {row["item_code"]: row for row in case_results(case, list(case.tasks.select_related("department")))}
    assert rows[BUSINESS_LICENCE]["applicable"] and rows[BUSINESS_LICENCE]["licence_no"]
    for code in (FOOD_LICENCE, FIRE_CHECK, SIGNBOARD):
        assert not rows[code]["applicable"] and rows[code]["not_applicable_reason"].startswith("补正后不再满足")
        assert rows[code]["licence_no"] == ""
    # The applicant's status says which items and why, and the timeline tells the story.
    view = case_applicant_view(case)
    assert {row.item for row in view.items_not_applicable} == {
        "食品经营许可",
        "公众聚集场所投入使用、营业前消防安全检查（告知承诺）",
        "户外招牌设置审批",
    }
    assert {d.department: d.progress for d in view.departments}["fire_rescue"] == "not_applicable"
    kinds = [row.kind for row in view.timeline]
    assert kinds.count("item_not_applicable") == 3 and "reopened" in kinds


def test_a_corrected_scope_that_keeps_catering_re_reviews_the_food_licence_and_issues_it(users):
    case = restaurant_asking_for_the_scope(users)
    services.case_correction_submit(
        case_no=case.case_no,
        changes={
            "business_scope": "餐饮服务（热食类食品制售）",
            "public_gathering_place": False,
            "outdoor_signboard": False,
        },
    )
    assert open_elements(case) == ["review_market_regulation", "review_market_regulation_item2"]
    assert {e.data["item_codes"][0] for e in events(case, "item_not_applicable")} == {FIRE_CHECK, SIGNBOARD}
    decide(users, case, "review_market_regulation")
    decide(users, case, "review_market_regulation_item2")
    assert sorted(ELicence.objects.filter(case=case).values_list("item__code", flat=True)) == sorted(
        [BUSINESS_LICENCE, FOOD_LICENCE]
    )


def test_an_item_that_starts_applying_opens_its_review_and_says_why(users):
    case = restaurant_asking_for_the_scope(users, {**RESTAURANT_FORM})  # no gathering place, no signboard
    services.case_correction_submit(
        case_no=case.case_no,
        changes={
            "business_scope": case.form_data["business_scope"],  # asked for; given back as it was
            "outdoor_signboard": True,
            "signboard_text": "老味道",
            "signboard_length": 3,
            "signboard_height": 1,
        },
    )
    assert open_elements(case) == ["review_market_regulation_item2", "review_urban_management"]
    [started] = events(case, "item_applicable")
    assert started.department == "urban_management" and started.data["items"] == ["户外招牌设置审批"]
    assert not events(case, "reopened")  # no approving review needs the signboard's answers


def test_a_correction_that_leaves_nothing_to_review_gives_the_result_at_once(users):
    """The only asker stops applying and no approval rested on the changed answers: resubmitted and decided
    in the same step (待补正 → 审查中 → 准予), no review opens."""
    case_no = open_demo_case(
        users, "restaurant_start", {**RESTAURANT_FORM, "public_gathering_place": True, "floor_area": 80}
    )
    services.case_accept(user=users["window1"], case_no=case_no)
    case = Case.objects.get(case_no=case_no)
    decide(users, case, "review_market_regulation")
    decide(users, case, "review_market_regulation_item2")
    task = open_review(case, "review_fire_rescue")
    services.human_task_complete(
        user=users["fire1"],
        task_id=task.pk,
        decision="need_correction",
        opinion="面积不足以构成公众聚集场所",
        corrections=[{"item": "public_gathering_place", "reason": "请核实是否属于公众聚集场所"}],
    )
    services.case_correction_submit(case_no=case_no, changes={"public_gathering_place": False})
    case.refresh_from_db()
    assert case.status == CaseStatus.APPROVED
    kinds = [e.kind for e in case.events.order_by("id")]
    assert kinds[kinds.index("corrected") :][:4] == ["corrected", "item_not_applicable", "resubmit", "approve"]
    assert sorted(ELicence.objects.filter(case=case).values_list("item__code", flat=True)) == sorted(
        [BUSINESS_LICENCE, FOOD_LICENCE]
    )


# --- pinned: the catalogue changes, the running case does not ----------------------------------------------


def test_reordering_items_without_a_new_bpmn_does_not_change_a_running_cases_licences(users):
    case_no = open_demo_case(users, "restaurant_start", RESTAURANT_FORM)
    services.case_accept(user=users["window1"], case_no=case_no)
    case = Case.objects.get(case_no=case_no)
    before = composition_of(case)
    # The administrator puts the food licence first and recomposes; the BPMN stays as deployed.
    services.one_thing_compose(
        key="restaurant_start",
        name="开办餐饮店一件事",
        lead_department="market_regulation",
        items=[
            services.ItemLink(FOOD_LICENCE, '"餐饮" in form.get("business_scope", "")'),
            services.ItemLink(BUSINESS_LICENCE),
            services.ItemLink(FIRE_CHECK, 'form.get("public_gathering_place") is True'),
            services.ItemLink(SIGNBOARD, 'form.get("outdoor_signboard") is True'),
        ],
        promised_limit_days=5,
    )
    one_thing = OneThing.objects.get(key="restaurant_start")
    assert one_thing.current_composition.number == before.number + 1
    assert Case.objects.get(pk=case.pk).composition_id == before.id
    decide(users, case, "review_market_regulation")
    decide(users, case, "review_market_regulation_item2")
    licences = {
        licence.task.element_id: licence.item.code
        for licence in ELicence.objects.filter(case=case).select_related("task")
    }
    assert licences == {"review_market_regulation": BUSINESS_LICENCE, "review_market_regulation_item2": FOOD_LICENCE}
    # New cases on the new version keep the same mapping: the review task named after the item decides it.
    assert one_thing.current_composition.elements["review_market_regulation"] == [BUSINESS_LICENCE]


def test_a_correction_is_validated_against_the_cases_own_form_not_todays(users):
    case = restaurant_asking_for_the_scope(users)
    # The administrator adds a required answer to the business licence's fragment and recomposes.
    item = ServiceItem.objects.get(code=BUSINESS_LICENCE)
    fragment = {**item.form_fragment, "properties": {**item.form_fragment["properties"]}}
    fragment["properties"]["employee_count"] = {"type": "integer", "title": "从业人数", "minimum": 1}
    fragment["required"] = [*fragment["required"], "employee_count"]
    item.form_fragment = fragment
    services.service_item_save(item=item, actor=users["admin"])
    services.one_thing_recompose(key="restaurant_start", actor=users["admin"])
    with pytest.raises(ValidationFailed) as refused:
        open_demo_case(users, "restaurant_start", FULL_RESTAURANT)  # new cases need the new answer
    assert "form.employee_count" in refused.value.field_errors
    # The running case's applicant answers exactly the correction that was asked: accepted.
    services.case_correction_submit(case_no=case.case_no, changes={"business_scope": "餐饮服务；食品销售；外卖"})
    assert Case.objects.get(pk=case.pk).status == CaseStatus.IN_REVIEW


def test_recomposing_identical_content_creates_nothing_and_versions_cannot_change(users):
    before = CompositionVersion.objects.filter(one_thing__key="enterprise_start").count()
    services.one_thing_recompose(key="enterprise_start")
    services.one_thing_recompose(key="enterprise_start")
    assert CompositionVersion.objects.filter(one_thing__key="enterprise_start").count() == before
    version = OneThing.objects.get(key="enterprise_start").current_composition
    version.promised_limit_days = 99
    with pytest.raises(ValueError, match="不可修改"):
        version.save()
    with pytest.raises(ValueError, match="不可删除"):
        version.delete()


def test_a_version_snapshots_every_catalogue_field_of_its_items(demo):
    version = OneThing.objects.get(key="newborn").current_composition
    snapshot = {entry["code"]: entry["item"] for entry in version.items}
    for code, values in snapshot.items():
        assert set(values) == set(ServiceItem.CATALOGUE_FIELDS)
        assert values == ServiceItem.objects.get(code=code).catalogue_values()
    assert [entry["position"] for entry in version.items] == list(range(len(version.items)))


def test_item_limits_and_decision_tables_come_from_the_cases_version(users):
    """An item's promised limit raised after a case opened does not move that case's task due dates."""
    from workflow import clock

    case_no = open_demo_case(users, "restaurant_start", RESTAURANT_FORM)
    case = Case.objects.get(case_no=case_no)
    pinned = clock.limits_of(composition_of(case))
    item = ServiceItem.objects.get(code=FOOD_LICENCE)
    item.promised_limit_days = item.statutory_limit_days
    services.service_item_save(item=item)
    services.one_thing_recompose(key="restaurant_start")
    services.case_accept(user=users["window1"], case_no=case_no)
    food = open_review(case, "review_market_regulation_item2")
    assert food.limit_days == pinned.for_department("market_regulation")
    assert clock.limits_of(composition_of(Case.objects.get(pk=case.pk))) == pinned


# --- the catalogue's change history ------------------------------------------------------------------------


def test_item_and_one_thing_changes_are_recorded_with_a_readable_diff(users):
    item = ServiceItem.objects.get(code=SIGNBOARD)
    item.promised_limit_days = 3
    item.materials = [*item.materials, {"code": "lighting_plan", "name": "招牌亮化方案", "required": True}]
    services.service_item_save(item=item, actor=users["admin"])
    [change] = CatalogueChange.objects.filter(key=SIGNBOARD, action="changed")
    assert change.actor == users["admin"] and change.source == "admin"
    assert "承诺时限（工作日）：5 → 3" in change.diff
    assert "申请材料：新增材料“招牌亮化方案”" in change.diff

    impact = services.one_thing_recompose_preview(key="restaurant_start")
    assert impact.creates_version and "材料清单：新增材料“招牌亮化方案”" in impact.diff
    assert not CatalogueChange.objects.filter(key="restaurant_start", source="preview").exists()  # rolled back
    services.one_thing_recompose(key="restaurant_start", actor=users["admin"])
    composed = CatalogueChange.objects.filter(key="restaurant_start", action="composed").first()
    assert composed.composition.number == impact.version_number
    assert "事项“户外招牌设置审批”的目录内容：承诺时限（工作日）、申请材料已修改" in composed.diff


def test_the_preview_counts_the_running_cases_that_stay_on_their_version(users):
    open_demo_case(users, "restaurant_start", RESTAURANT_FORM)
    open_demo_case(users, "restaurant_start", RESTAURANT_FORM)
    impact = services.one_thing_compose_preview(
        key="restaurant_start",
        name="开办餐饮店一件事",
        lead_department="market_regulation",
        items=[services.ItemLink(BUSINESS_LICENCE)],
        promised_limit_days=3,
    )
    version = OneThing.objects.get(key="restaurant_start").current_composition
    assert impact.running_cases == 2 and impact.running_by_version == {version.number: 2}
    assert "移除事项“食品经营许可”" in impact.diff and "承诺时限（工作日）：5 → 3" in impact.diff
    assert OneThing.objects.get(key="restaurant_start").current_composition == version  # nothing published


def test_an_import_dry_run_shows_its_impact_and_changes_nothing(users, tmp_path):
    import json
    from io import StringIO

    from django.core.management import call_command

    from workflow.demo import CATALOGUE_FILE

    open_demo_case(users, "restaurant_start", RESTAURANT_FORM)
    data = json.loads(CATALOGUE_FILE.read_text(encoding="utf-8"))
    signboard = next(item for item in data["items"] if item["code"] == SIGNBOARD)
    signboard["promised_limit_days"] = 2
    path = tmp_path / "catalogue.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    versions, changes = CompositionVersion.objects.count(), CatalogueChange.objects.count()

    out = StringIO()
    call_command("import_catalogue", str(path), "--dry-run", stdout=out)
    report = out.getvalue()
    number = OneThing.objects.get(key="restaurant_start").current_composition.number
    assert f"事项 {SIGNBOARD}（户外招牌设置审批）：修改了 1 项：承诺时限（工作日）" in report
    assert "  · 承诺时限（工作日）：5 → 2" in report
    assert f"一件事 restaurant_start（开办餐饮店一件事）：将发布组合第 {number + 1} 版（新办件使用）" in report
    assert f"在办办件保持原版本：第 {number} 版 1 件" in report
    assert "一件事 enterprise_start（企业开办一件事）：内容未变" in report
    assert (CompositionVersion.objects.count(), CatalogueChange.objects.count()) == (versions, changes)
    assert ServiceItem.objects.get(code=SIGNBOARD).promised_limit_days == 5

    call_command("import_catalogue", str(path), "--by", "admin", stdout=StringIO())
    assert OneThing.objects.get(key="restaurant_start").current_composition.number == number + 1
    assert CatalogueChange.objects.get(key=SIGNBOARD, action="changed").actor_label == "admin"
