"""Migration 0009 backfills composition versions and pins the cases already stored (issue 13)."""

import json
from pathlib import Path

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

import bpmn
import forms
from workflow.services.compositions import composition_publish

BEFORE = [("workflow", "0008_provisional_due_dates")]
AFTER = [("workflow", "0010_case_composition_required")]
CATALOGUE = Path(__file__).resolve().parents[2] / "workflow" / "demo_data" / "catalogue.json"
MODEL = Path(bpmn.__file__).parent / "processes" / "restaurant_start" / "restaurant_start.bpmn"


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.fixture(autouse=True)
def _back_to_the_latest_schema():
    """The tests after this one need every migration applied, later ones included."""
    yield
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_existing_cases_are_pinned_to_a_version_built_from_the_catalogue_they_ran_on():
    apps = migrate(BEFORE)
    Department = apps.get_model("workflow", "Department")
    ServiceItem = apps.get_model("workflow", "ServiceItem")
    OneThing = apps.get_model("workflow", "OneThing")
    OneThingItem = apps.get_model("workflow", "OneThingItem")
    ProcessVersion = apps.get_model("workflow", "ProcessVersion")
    Case = apps.get_model("workflow", "Case")
    HumanTask = apps.get_model("workflow", "HumanTask")
    ELicence = apps.get_model("workflow", "ELicence")
    User = apps.get_model("auth", "User")

    catalogue = json.loads(CATALOGUE.read_text(encoding="utf-8"))
    for department in catalogue["departments"]:
        Department.objects.create(code=department["code"], name=department["name"])
    restaurant = next(o for o in catalogue["one_things"] if o["key"] == "restaurant_start")
    items = {}
    for record in catalogue["items"]:
        if record["code"] in {link["code"] for link in restaurant["items"]}:
            # The catalogue file of today; the model as it was before the migration (later fields left out).
            known = {field.name for field in ServiceItem._meta.get_fields()}
            values = {k: v for k, v in record.items() if k in known and k not in ("code", "department")}
            items[record["code"]] = ServiceItem.objects.create(
                code=record["code"], department_id=record["department"], **values
            )
    one_thing = OneThing.objects.create(
        key="restaurant_start",
        name=restaurant["name"],
        lead_department_id="market_regulation",
        promised_limit_days=5,
        merged_form={"schema": {"type": "object"}, "materials": [], "provenance": {}},
    )
    for position, link in enumerate(restaurant["items"]):
        OneThingItem.objects.create(
            one_thing=one_thing, item=items[link["code"]], position=position, condition=legacy(link.get("condition"))
        )
    compiled = bpmn.compile_model(
        "restaurant_start.bpmn", MODEL.read_bytes(), departments=list(items_departments(items))
    )
    process = ProcessVersion.objects.create(
        one_thing=one_thing,
        number=1,
        process_id="restaurant_start",
        content_hash=compiled.content_hash,
        filename="restaurant_start.bpmn",
        bpmn_xml=MODEL.read_text(encoding="utf-8"),
        compiled=compiled.compiled,
        departments=list(compiled.departments),
        user_tasks=[{"element_id": t.element_id, "name": t.name, "lane": t.lane} for t in compiled.user_tasks],
    )
    OneThing.objects.filter(pk=one_thing.pk).update(current_version=process)
    clerk = User.objects.create(username="clerk")
    case = Case.objects.create(
        case_no="11010520260101000001",
        query_code_hash="x" * 64,
        one_thing=one_thing,
        process_version=process,
        applicant_name="王䶮",
        applicant_id_number="110105199003070017",
        form_data={},
        status="approved",
        process_state="{}",
        opened_by=clerk,
    )
    task = HumanTask.objects.create(
        case=case,
        engine_task_id="t1",
        element_id="review_market_regulation_item2",
        name="食品经营许可审查",
        lane="market_regulation",
        department_id="market_regulation",
    )
    ELicence.objects.create(
        number="JY1",
        case=case,
        task=task,
        item=items["000113203000"],
        issuer_id="market_regulation",
        holder_name="x",
        holder_id_number="y",
        valid_from="2026-01-01",
    )

    apps = migrate(AFTER)
    CompositionVersion = apps.get_model("workflow", "CompositionVersion")
    [version] = CompositionVersion.objects.filter(one_thing__key="restaurant_start")
    case = apps.get_model("workflow", "Case").objects.get(case_no="11010520260101000001")
    assert case.composition_id == version.pk and case.state_format == 1
    assert (
        apps.get_model("workflow", "OneThing").objects.get(key="restaurant_start").current_composition_id == version.pk
    )
    assert version.elements["review_market_regulation_item2"] == ["000113203000"]
    assert [entry["review_key"] for entry in version.items] == [
        "market_regulation",
        "market_regulation_item2",
        "fire_rescue",
        "urban_management",
    ]
    assert apps.get_model("workflow", "ELicence").objects.get(number="JY1").item_name == "食品经营许可"
    assert apps.get_model("workflow", "CatalogueChange").objects.filter(source="migration").count() == 1

    # The frozen content and hash are the live ones: publishing the unchanged one-thing finds this version.
    migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
    from workflow.models import Case as LiveCase
    from workflow.models import CompositionVersion as LiveVersion
    from workflow.models import OneThing as LiveOneThing

    # Publishing the unchanged one-thing later: the frozen version is what 0009 built; catalogue fields that later
    # migrations added to the items (licence kinds, handover, …) make a new version whose item snapshots differ
    # from the frozen one by those fields alone — the running case keeps its own.
    found, created = composition_publish(one_thing=LiveOneThing.objects.get(key="restaurant_start"))
    frozen = LiveVersion.objects.get(pk=version.pk)
    if created:
        for old, new in zip(frozen.items, found.items, strict=True):
            assert {k: new["item"][k] for k in old["item"]} == dict(old["item"])
            assert {k: v for k, v in new.items() if k != "item"} == {k: v for k, v in old.items() if k != "item"}
        assert found.elements == frozen.elements and found.process_version_id == frozen.process_version_id
    assert LiveCase.objects.get(case_no="11010520260101000001").composition_id == version.pk


def legacy(condition) -> str:
    """A condition as rows stored it before issue 15: a restricted-Python expression."""
    if isinstance(condition, dict):
        return forms.condition_expression(condition)
    return condition or ""


def items_departments(items):
    return {item.department_id for item in items.values()}
