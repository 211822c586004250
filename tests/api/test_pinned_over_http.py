"""A running case never changes under its applicant (issue 13), over HTTP: the restaurant correction that flips
conditions, the reorder, the composition version a case shows, a migration dry run and run."""

from io import StringIO

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from tests.api.helpers import get, post
from tests.conftest import APPLICANT, handed_in
from tests.workflow.test_catalogue import RESTAURANT_FORM
from tests.workflow.test_pinned_compositions import (
    BUSINESS_LICENCE,
    FIRE_CHECK,
    FOOD_LICENCE,
    FULL_RESTAURANT,
    SIGNBOARD,
)
from workflow import services
from workflow.models import OneThing, ServiceItem

pytestmark = pytest.mark.django_db
REVIEWER = {"market_regulation": "market1", "fire_rescue": "fire1", "urban_management": "urban1"}


def open_restaurant(client_for, form: dict) -> tuple[str, str]:
    # Everything handed in at the window: acceptance needs the required materials of the items that apply.
    body = {"one_thing": "restaurant_start", "applicant": APPLICANT, "form": form}
    response = post(client_for("window1"), "/api/cases", {**body, "materials": handed_in("restaurant_start")})
    assert response.status_code == 201, response.content
    body = response.json()
    accepted = post(client_for("window1"), f"/api/cases/{body['case_no']}/accept", {})
    assert accepted.status_code == 200, accepted.content
    return body["case_no"], body["query_code"]


def review(client_for, case_no: str, element_id: str, decision: str = "approve", **extra) -> None:
    for username in REVIEWER.values():
        tasks = get(client_for(username), "/api/tasks").json()["results"]
        task = next((t for t in tasks if t["case_no"] == case_no and t["element_id"] == element_id), None)
        if task is not None:
            response = post(client_for(username), f"/api/tasks/{task['id']}/complete", {"decision": decision, **extra})
            assert response.status_code == 200, response.content
            return
    raise AssertionError(f"no open {element_id} for {case_no}")


def status(case_no: str, query_code: str) -> dict:
    response = post(APIClient(), "/api/status", {"case_no": case_no, "query_code": query_code})
    assert response.status_code == 200, response.content
    return response.json()


def case_detail(client_for, case_no: str) -> dict:
    response = get(client_for("window1"), f"/api/cases/{case_no}")
    assert response.status_code == 200, response.content
    return response.json()


def test_the_restaurant_correction_over_http_issues_only_what_still_applies(client_for):
    case_no, code = open_restaurant(client_for, FULL_RESTAURANT)
    for element_id in ("review_fire_rescue", "review_urban_management", "review_market_regulation"):
        review(client_for, case_no, element_id)
    review(
        client_for,
        case_no,
        "review_market_regulation_item2",
        "need_correction",
        opinion="经营范围需补正",
        corrections=[{"item": "business_scope", "reason": "请写明经营范围"}],
    )
    changes = {
        "business_scope": "预包装食品销售；日用百货销售",
        "public_gathering_place": False,
        "outdoor_signboard": False,
    }
    corrected = post(APIClient(), "/api/status/correction", {"case_no": case_no, "query_code": code, "form": changes})
    assert corrected.status_code == 200, corrected.content

    view = status(case_no, code)
    assert view["status"] == "in_review"
    assert {row["item"] for row in view["items_not_applicable"]} == {
        "食品经营许可",
        "公众聚集场所投入使用、营业前消防安全检查（告知承诺）",
        "户外招牌设置审批",
    }
    assert all(row["reason"].startswith("补正后不再满足本事项的参与条件") for row in view["items_not_applicable"])
    progress = {row["department"]: row["progress"] for row in view["departments"]}
    assert progress == {
        "market_regulation": "reviewing",
        "fire_rescue": "not_applicable",
        "urban_management": "not_applicable",
    }
    kinds = [row["kind"] for row in view["timeline"]]
    assert kinds.count("reopened") == 1 and kinds.count("item_not_applicable") == 3

    review(client_for, case_no, "review_market_regulation")
    detail = case_detail(client_for, case_no)
    assert detail["status"] == "approved"
    results = {row["item_code"]: row for row in detail["results"]}
    assert results[BUSINESS_LICENCE]["applicable"] and results[BUSINESS_LICENCE]["licence_no"]
    for code_ in (FOOD_LICENCE, FIRE_CHECK, SIGNBOARD):
        assert results[code_]["applicable"] is False and results[code_]["licence_no"] == ""
        assert results[code_]["not_applicable_reason"]
    reopened = [e for e in detail["events"] if e["kind"] == "reopened"]
    assert [e["department"] for e in reopened] == ["market_regulation"]
    assert [e["department"] for e in detail["events"] if e["kind"] == "licence_issued"] == ["market_regulation"]


def test_a_reorder_without_a_new_bpmn_leaves_a_running_cases_licences_where_they_belong(client_for):
    case_no, _ = open_restaurant(client_for, RESTAURANT_FORM)
    pinned = case_detail(client_for, case_no)["composition_version"]
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
    assert OneThing.objects.get(key="restaurant_start").current_composition.number == pinned + 1
    review(client_for, case_no, "review_market_regulation")
    review(client_for, case_no, "review_market_regulation_item2")
    detail = case_detail(client_for, case_no)
    assert detail["composition_version"] == pinned
    items = [(row["item_code"], row["item"]) for row in detail["results"]]
    assert items == [(BUSINESS_LICENCE, "企业设立登记（核发营业执照）"), (FOOD_LICENCE, "食品经营许可")]
    assert all(row["licence_no"] for row in detail["results"])


def test_a_migration_dry_run_refuses_one_case_and_the_run_moves_the_other(client_for):
    gathering_place = {**RESTAURANT_FORM, "public_gathering_place": True, "floor_area": 320}  # 座位数 is asked
    answered, _ = open_restaurant(client_for, {**gathering_place, "seat_count": 40})
    unanswered, unanswered_code = open_restaurant(client_for, gathering_place)
    old = case_detail(client_for, answered)["composition_version"]
    item = ServiceItem.objects.get(code=FIRE_CHECK)
    item.form_fragment = {**item.form_fragment, "required": [*item.form_fragment["required"], "seat_count"]}
    services.service_item_save(item=item)
    new = services.one_thing_recompose(key="restaurant_start").current_composition.number

    out = StringIO()
    call_command("migrate_cases", "restaurant_start", "--to", str(new), "--dry-run", stdout=out)
    assert f"办件 {answered}：可以迁移" in out.getvalue() and f"办件 {unanswered}：不能迁移" in out.getvalue()
    assert case_detail(client_for, answered)["composition_version"] == old

    call_command("migrate_cases", "restaurant_start", "--to", str(new), stdout=StringIO())
    moved, stayed = case_detail(client_for, answered), case_detail(client_for, unanswered)
    assert (moved["composition_version"], stayed["composition_version"]) == (new, old)
    assert [e["label"] for e in moved["events"] if e["kind"] == "migrated"] == ["办件迁移到新的一件事组合版本"]
    assert not [e for e in stayed["events"] if e["kind"] == "migrated"]
    # The applicant of the case that stayed still corrects against the form it was opened with.
    assert "migrated" not in [row["kind"] for row in status(unanswered, unanswered_code)["timeline"]]


def test_a_case_stored_in_an_older_state_format_is_upgraded_by_the_next_request(client_for, monkeypatch):
    """Versioned engine state over HTTP: the case row says its format; a reviewer's decision on a case of an
    older format runs the upgrade chain and saves the current format."""
    import bpmn
    from bpmn import serializer as state_serializer
    from workflow.models import Case

    case_no, _ = open_restaurant(client_for, RESTAURANT_FORM)
    assert Case.objects.get(case_no=case_no).state_format == bpmn.STATE_FORMAT
    upgraded = []
    monkeypatch.setattr(state_serializer, "STATE_FORMAT", bpmn.STATE_FORMAT + 1)
    monkeypatch.setattr(bpmn, "STATE_FORMAT", bpmn.STATE_FORMAT + 1)
    monkeypatch.setitem(state_serializer.STATE_UPGRADES, 1, lambda dct, spec_dicts: upgraded.append(dct["last_task"]))
    review(client_for, case_no, "review_market_regulation")
    assert len(upgraded) == 1 and Case.objects.get(case_no=case_no).state_format == 2
    review(client_for, case_no, "review_market_regulation_item2")
    assert len(upgraded) == 1 and case_detail(client_for, case_no)["status"] == "approved"
