"""The catalogue, one-thing composition and the demo one-things end to end."""

import copy
import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.conftest import handed_in
from tests.forms.samples import FATHER_ID, MOTHER_ID, NEWBORN_FORM
from tests.workflow.helpers import restored
from workflow import services
from workflow.demo import CATALOGUE_FILE
from workflow.errors import ValidationFailed
from workflow.lifecycle import CaseStatus
from workflow.models import Case, HumanTask, HumanTaskState, OneThing, ServiceItem
from workflow.services import ItemLink

pytestmark = pytest.mark.django_db
REVIEWER = {
    "market_regulation": "market1",
    "public_security": "police1",
    "tax": "tax1",
    "health": "health1",
    "medical_insurance": "insurance1",
    "social_security": "social1",
    "fire_rescue": "fire1",
    "urban_management": "urban1",
}
RESTAURANT_FORM = {
    "enterprise_name": "示范区老味道餐饮有限公司",
    "enterprise_type": "有限责任公司",
    "registered_capital": 50,
    "business_scope": "餐饮服务；食品销售",
    "address": "示范区美食街 18 号一层",
    "legal_representative": "王䶮",
    "legal_representative_id": "110105199003070017",
    "contact_phone": "13800138000",
}


def run_to_end(users, case_no: str, *, asking: dict[str, str] | None = None, correction: dict | None = None) -> Case:
    """Accept, then let every open department task approve (or ask once, per ``asking``) until the result;
    a correction round answers with ``correction``."""
    services.case_accept(user=users["window1"], case_no=case_no)
    asked = set()
    while True:
        case = Case.objects.get(case_no=case_no)
        if case.status == CaseStatus.CORRECTION_REQUIRED:
            services.case_correction_submit(case_no=case_no, changes=correction or {"contact_phone": "13900139000"})
            continue
        open_tasks = list(HumanTask.objects.filter(case=case, state=HumanTaskState.OPEN, department__isnull=False))
        if not open_tasks:
            return case
        for task in open_tasks:
            ask = (asking or {}).get(task.lane) if task.lane not in asked else None
            asked.add(task.lane)
            kwargs = {"decision": "approve"}
            if ask:
                kwargs = {"decision": "need_correction", "opinion": ask, "corrections": [{"item": "x", "reason": ask}]}
            services.human_task_complete(user=users[REVIEWER[task.lane]], task_id=task.pk, **kwargs)


def opened_lanes(case: Case) -> set[str]:
    return set(HumanTask.objects.filter(case=case, department__isnull=False).values_list("lane", flat=True))


def open_demo_case(users, key: str, form: dict) -> str:
    applicant = {"name": "王䶮", "id_number": "110105199003070017", "phone": "13800138000"}
    opened = services.case_open(
        user=users["window1"], one_thing_key=key, applicant=applicant, form=form, materials=handed_in(key)
    )
    return opened.case.case_no


def test_the_demo_catalogue_composes_three_one_things_with_their_savings(demo):
    report = {o.key: o.merged_form["report"] for o in OneThing.objects.all()}
    assert set(report) == {"enterprise_start", "newborn", "restaurant_start"}
    assert (report["newborn"]["fields_total_requested"], report["newborn"]["fields_asked"]) == (38, 17)
    assert report["enterprise_start"]["materials_saved"] == 4  # 营业执照: produced by the one-thing itself
    newborn = OneThing.objects.get(key="newborn")
    assert newborn.merged_form["provenance"]["mother_id"][0]["department"]
    assert newborn.current_version.departments == ["health", "medical_insurance", "public_security", "social_security"]


def test_the_newborn_one_thing_runs_end_to_end_with_a_correction_by_one_department(users):
    case = run_to_end(
        users,
        open_demo_case(users, "newborn", NEWBORN_FORM),
        asking={"public_security": "民族填写有误"},
        correction={"ethnicity": "回族"},  # a field only the household registration needs
    )
    assert case.status == CaseStatus.APPROVED
    assert opened_lanes(case) == {"health", "public_security", "medical_insurance", "social_security"}
    assert HumanTask.objects.filter(case=case, lane="public_security").count() == 2
    assert HumanTask.objects.filter(case=case, lane="health").count() == 1
    assert {MOTHER_ID, FATHER_ID} <= set(restored(case).data["form"].values())


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({"business_scope": "软件开发"}, {"market_regulation"}),
        ({}, {"market_regulation"}),  # 餐饮: the food licence is the second market_regulation review
        ({"public_gathering_place": True, "floor_area": 320}, {"market_regulation", "fire_rescue"}),
        (
            {"outdoor_signboard": True, "signboard_text": "老味道", "signboard_length": 6, "signboard_height": 1.2},
            {"market_regulation", "urban_management"},
        ),
        ({"outdoor_signboard": False, "public_gathering_place": False}, {"market_regulation"}),
    ],
)
def test_the_restaurant_one_thing_opens_conditional_departments_only_when_the_answers_need_them(users, extra, expected):
    case = run_to_end(users, open_demo_case(users, "restaurant_start", {**RESTAURANT_FORM, **extra}))
    assert case.status == CaseStatus.APPROVED
    assert opened_lanes(case) == expected
    food = HumanTask.objects.filter(case=case, element_id__startswith="review_market_regulation_").exists()
    assert food == ("餐饮" in {**RESTAURANT_FORM, **extra}["business_scope"])


def test_the_merged_form_refuses_a_missing_follow_up_only_when_its_trigger_holds(users):
    with pytest.raises(ValidationFailed) as refused:
        open_demo_case(users, "restaurant_start", {**RESTAURANT_FORM, "outdoor_signboard": True})
    assert refused.value.field_errors == {
        "form.signboard_height": ["请填写招牌高度"],
        "form.signboard_length": ["请填写招牌长度"],
        "form.signboard_text": ["请填写招牌文字"],
    }
    # 否: nothing more is asked, and answers given anyway are not kept.
    case = Case.objects.get(
        case_no=open_demo_case(
            users, "restaurant_start", {**RESTAURANT_FORM, "outdoor_signboard": False, "signboard_text": "老味道"}
        )
    )
    assert case.form_data == {**RESTAURANT_FORM, "outdoor_signboard": False}
    assert "signboard_text" not in restored(case).data["form"]


def test_composition_refuses_conflicting_fragments_naming_both_items(demo):
    item = ServiceItem.objects.get(code="000112103000")
    item.form_fragment = {**item.form_fragment, "properties": {**item.form_fragment["properties"]}}
    item.form_fragment["properties"]["contact_phone"] = {"type": "integer", "title": "联系电话"}
    item.save()
    with pytest.raises(ValidationFailed) as refused:
        services.one_thing_compose(
            key="conflicting",
            name="冲突示例",
            lead_department="market_regulation",
            items=[ItemLink("000113101000"), ItemLink("000112103000")],
            promised_limit_days=3,
        )
    [message] = refused.value.field_errors["items"]
    assert "contact_phone" in message and "000113101000" in message and "000112103000" in message
    assert not OneThing.objects.filter(key="conflicting").exists()


def test_composition_checks_the_promised_limit_against_the_joint_statutory_limit(demo):
    with pytest.raises(ValidationFailed) as refused:
        services.one_thing_compose(
            key="too_slow",
            name="超时示例",
            lead_department="market_regulation",
            items=[ItemLink("000113101000")],
            promised_limit_days=46,
        )
    assert "45" in refused.value.field_errors["promised_limit_days"][0]


def test_a_composition_can_generate_and_deploy_its_process(demo):
    one_thing = services.one_thing_compose(
        key="seal_and_tax",
        name="印章与税务一件事",
        lead_department="public_security",
        items=[ItemLink("000105402000"), ItemLink("000112103000", 'form.get("invoice_needed") is True')],
        promised_limit_days=2,
        generate_process=True,
    )
    assert one_thing.current_version.number == 1
    assert one_thing.current_version.departments == ["public_security", "tax"]


def test_the_catalogue_round_trips_through_export_and_import(demo, tmp_path):
    out = StringIO()
    call_command("export_catalogue", stdout=out)
    exported = json.loads(out.getvalue())
    assert {item["code"] for item in exported["items"]} == set(ServiceItem.objects.values_list("code", flat=True))
    restaurant = next(o for o in exported["one_things"] if o["key"] == "restaurant_start")
    assert sum(1 for link in restaurant["items"] if link.get("condition")) == 3
    path = tmp_path / "catalogue.json"
    path.write_text(out.getvalue(), encoding="utf-8")
    call_command("import_catalogue", str(path), stdout=StringIO())
    again = StringIO()
    call_command("export_catalogue", stdout=again)
    assert json.loads(again.getvalue()) == exported


def test_a_bad_catalogue_file_imports_nothing_and_names_every_problem(demo, tmp_path):
    data = json.loads(CATALOGUE_FILE.read_text(encoding="utf-8"))
    bad = copy.deepcopy(data)
    bad["items"][0]["department"] = "no_such_department"
    bad["items"][1]["item_type"] = "行政许可"  # the label, not the code
    bad["items"][2]["promised_limit_days"] = 99
    bad["items"].append({"code": "NEW-1", "name": "新事项", "department": "tax", "form_fragment": {"type": "object"}})
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad, ensure_ascii=False), encoding="utf-8")
    err = StringIO()
    with pytest.raises(CommandError, match="未导入"):
        call_command("import_catalogue", str(path), stdout=StringIO(), stderr=err)
    report = err.getvalue()
    assert "items.0" in report and "no_such_department" in report
    assert "items.1" in report and "items.2" in report
    assert not ServiceItem.objects.filter(code="NEW-1").exists()


def test_generate_bpmn_exports_the_standard_model_for_a_composition(demo):
    out = StringIO()
    call_command("generate_bpmn", "restaurant_start", stdout=out)
    shipped = (
        CATALOGUE_FILE.parents[2] / "bpmn" / "processes" / "restaurant_start" / "restaurant_start.bpmn"
    ).read_text(encoding="utf-8")
    assert out.getvalue() == shipped


def test_generate_bpmn_orders_the_newborn_reviews_as_the_catalogue_says_and_matches_the_shipped_model(demo):
    out = StringIO()
    call_command("generate_bpmn", "newborn", stdout=out)
    shipped = (CATALOGUE_FILE.parents[2] / "bpmn" / "processes" / "newborn" / "newborn.bpmn").read_text("utf-8")
    assert out.getvalue() == shipped
    assert (
        "- review_public_security (public_security) 出生登记（户口登记）审查: always, after health approved" in shipped
    )
    assert 'id="stage3_split"' in shipped


def test_the_imported_catalogue_keeps_each_forms_field_order(demo):
    """PostgreSQL jsonb would sort the keys (shortest first): fragments and merged forms are stored as JSON text."""
    data = json.loads(CATALOGUE_FILE.read_text(encoding="utf-8"))
    signboard = next(item for item in data["items"] if item["code"] == "000120501000")
    stored = ServiceItem.objects.get(code="000120501000").form_fragment
    assert list(stored["properties"]) == list(signboard["form_fragment"]["properties"])
    merged = OneThing.objects.get(key="restaurant_start").merged_form
    assert list(merged["schema"]["properties"]) == merged["ui_hints"]["field_order"]
    assert merged["ui_hints"]["sections"][-2]["fields"] == ["signboard_text", "signboard_length", "signboard_height"]


@pytest.mark.parametrize(
    ("links", "message"),
    [
        ([ItemLink("000113101000", depends_on=("000105402000",))], "依赖的事项不在本一件事中：000105402000"),
        ([ItemLink("000113101000", depends_on=("000113101000",))], "不能依赖它自己"),
        (
            [
                ItemLink("000113101000", depends_on=("000112103000",)),
                ItemLink("000112103000", depends_on=("000113101000",)),
            ],
            "循环依赖",
        ),
        ([ItemLink("000113101000"), ItemLink("000112103000", {"field": "nowhere", "equals": True})], "nowhere"),
        ([ItemLink("000113101000"), ItemLink("000112103000", ["not", "a", "condition"])], "参与条件应为条件对象"),
    ],
)
def test_composition_refuses_bad_dependencies_and_conditions(demo, links, message):
    with pytest.raises(ValidationFailed) as refused:
        services.one_thing_compose(
            key="bad", name="有误的一件事", lead_department="market_regulation", items=links, promised_limit_days=3
        )
    assert any(message in text for text in refused.value.field_errors["items"]), refused.value.field_errors
    assert not OneThing.objects.filter(key="bad").exists()


def test_a_declarative_condition_decides_the_form_and_the_generated_process_alike(demo, users):
    invoice = {"field": "invoice_needed", "equals": True}
    one_thing = services.one_thing_compose(
        key="seal_and_tax",
        name="印章与税务一件事",
        lead_department="public_security",
        items=[ItemLink("000105402000"), ItemLink("000112103000", invoice)],
        promised_limit_days=2,
        generate_process=True,
    )
    assert one_thing.merged_form["items"][1]["condition"] == invoice
    xml = one_thing.current_version.bpmn_xml
    assert '"tax" in reviews_to_reopen or (form.get("invoice_needed") is True)' in xml
    form = {
        "enterprise_name": "示范区星火科技有限公司",
        "legal_representative": "王䶮",
        "legal_representative_id": "110105199003070017",
        "seal_count": 1,
        "invoice_needed": False,
        "address": "示范区创新大道 88 号 3 层",  # a tax question: not asked without the tax item
    }
    case = Case.objects.get(case_no=open_demo_case(users, "seal_and_tax", form))
    assert "address" not in case.form_data
    case = run_to_end(users, case.case_no)
    assert opened_lanes(case) == {"public_security"}
