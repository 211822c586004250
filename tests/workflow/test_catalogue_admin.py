"""The administrator's catalogue screens (issue 13): no inline edits of a one-thing's items, composing with a
preview of its impact, read-only versions, and the change history, through the Django admin's HTTP pages."""

import json

import pytest
from django.test import Client
from django.urls import reverse

from tests.workflow.test_catalogue import RESTAURANT_FORM, open_demo_case
from workflow.models import CatalogueChange, CompositionVersion, OneThing, OneThingItem, ServiceItem

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(users) -> Client:
    client = Client()
    client.force_login(users["admin"])
    return client


def item_links(one_thing: OneThing) -> list[tuple]:
    return list(
        OneThingItem.objects.filter(one_thing=one_thing).order_by("position").values_list("item__code", "condition")
    )


def test_a_one_things_items_cannot_be_edited_inline(admin_client):
    restaurant = OneThing.objects.get(key="restaurant_start")
    before, version = item_links(restaurant), restaurant.current_composition_id
    url = reverse("admin:workflow_onething_change", args=[restaurant.pk])
    page = admin_client.get(url).content.decode()
    assert 'name="item_links-0-condition"' not in page and 'name="item_links-0-item"' not in page
    assert "重新组合（先预览影响，再发布新版本）" in page
    # A hand-made POST with inline data (the way the old admin saved it) changes nothing but 启用.
    data = {
        "is_active": "on",
        "item_links-TOTAL_FORMS": "1",
        "item_links-INITIAL_FORMS": "1",
        "item_links-MIN_NUM_FORMS": "0",
        "item_links-MAX_NUM_FORMS": "1000",
        "item_links-0-id": str(OneThingItem.objects.filter(one_thing=restaurant).first().pk),
        "item_links-0-one_thing": str(restaurant.pk),
        "item_links-0-item": str(ServiceItem.objects.get(code="000113203000").pk),
        "item_links-0-position": "0",
        "item_links-0-condition": "True",
        "name": "改了名字",
        "promised_limit_days": "1",
    }
    response = admin_client.post(url, data)
    assert response.status_code in (200, 302)
    restaurant.refresh_from_db()
    assert item_links(restaurant) == before and restaurant.current_composition_id == version
    assert restaurant.name == "开办餐饮店一件事" and restaurant.promised_limit_days == 5


def test_composing_in_the_admin_previews_the_impact_then_publishes(admin_client, users):
    open_demo_case(users, "restaurant_start", RESTAURANT_FORM)
    restaurant = OneThing.objects.get(key="restaurant_start")
    url = reverse("admin:workflow_onething_compose", args=[restaurant.pk])
    form = admin_client.get(url)
    assert form.status_code == 200
    items = form.context["form"].initial["items"]
    assert items.splitlines()[0] == "000113101000"
    data = {
        "name": "开办餐饮店一件事",
        "lead_department": "market_regulation",
        "promised_limit_days": "3",
        "items": items,
        "_preview": "预览影响",
    }
    preview = admin_client.post(url, data)
    page = preview.content.decode()
    assert preview.status_code == 200 and "发布的影响" in page
    assert "承诺时限（工作日）：5 → 3" in page
    assert "在办办件 <strong>1</strong> 件" in page
    assert OneThing.objects.get(pk=restaurant.pk).current_composition_id == restaurant.current_composition_id

    published = admin_client.post(url, {**data, "_publish": "发布"})
    assert published.status_code == 302
    restaurant.refresh_from_db()
    assert restaurant.current_composition.promised_limit_days == 3
    change = CatalogueChange.objects.filter(key="restaurant_start", action="composed").first()
    assert change.actor == users["admin"] and change.source == "admin"
    assert change.composition == restaurant.current_composition
    history = admin_client.get(reverse("admin:workflow_onething_change", args=[restaurant.pk])).content.decode()
    assert change.summary in history


def test_a_bad_composition_is_shown_as_form_errors_not_a_crash(admin_client):
    url = reverse("admin:workflow_onething_compose_new")
    response = admin_client.post(
        url,
        {
            "key": "broken",
            "name": "坏的组合",
            "lead_department": "market_regulation",
            "promised_limit_days": "50",
            "items": "NO-SUCH-ITEM",
            "_preview": "预览影响",
        },
    )
    page = response.content.decode()
    assert response.status_code == 200 and "不在事项目录中" in page and "45" in page
    assert not OneThing.objects.filter(key="broken").exists()


def test_published_versions_are_read_only_in_the_admin(admin_client):
    version = OneThing.objects.get(key="newborn").current_composition
    url = reverse("admin:workflow_compositionversion_change", args=[version.pk])
    page = admin_client.get(url)
    assert page.status_code == 200 and "《出生医学证明》签发" in page.content.decode()
    assert admin_client.post(url, {"promised_limit_days": "1"}).status_code == 403
    assert admin_client.post(reverse("admin:workflow_compositionversion_delete", args=[version.pk])).status_code == 403
    assert CompositionVersion.objects.get(pk=version.pk).promised_limit_days == version.promised_limit_days


def test_an_item_edited_in_the_admin_is_recorded_and_points_to_the_one_things_to_recompose(admin_client, users):
    item = ServiceItem.objects.get(code="000120501000")
    url = reverse("admin:workflow_serviceitem_change", args=[item.pk])
    data = {
        "code": item.code,
        "name": item.name,
        "item_type": item.item_type,
        "legal_basis": item.legal_basis,
        "department": item.department_id,
        "handling_level": item.handling_level,
        "statutory_limit_days": str(item.statutory_limit_days),
        "promised_limit_days": "2",
        "onsite_trips": str(item.onsite_trips),
        "materials": json.dumps(item.materials, ensure_ascii=False),
        "form_fragment": json.dumps(item.form_fragment, ensure_ascii=False),
        "licence_material": item.licence_material,
        "auto_approval_dmn": item.auto_approval_dmn,
    }
    response = admin_client.post(url, data, follow=True)
    assert response.status_code == 200
    page = response.content.decode()
    assert "包含本事项的一件事" in page and "开办餐饮店一件事" in page
    change = CatalogueChange.objects.get(key=item.code, action="changed")
    assert change.actor == users["admin"] and change.diff == [f"承诺时限（工作日）：{item.promised_limit_days} → 2"]
    listing = admin_client.get(reverse("admin:workflow_cataloguechange_changelist")).content.decode()
    assert change.summary in listing
    detail = admin_client.get(reverse("admin:workflow_cataloguechange_change", args=[change.pk])).content.decode()
    assert "承诺时限（工作日）" in detail
