"""Issue 13 in a real browser (Debian's Chromium, headless): the applicant's status page after a correction made
three items stop applying (不再适用, before and with the result), and the administrator composing a one-thing
in the Django admin — the items read-only, 预览影响, 发布, the change history. Screens go to
test-output/screenshots/ as ``pinned-NN-*.png``.

Same setup as tests/web/test_e2e.py (imported from it): /usr/bin/chromium and the playwright +
pytest-playwright packages.
"""

import pytest

from tests.web import test_e2e as e2e
from tests.web.test_e2e import SHOTS, applicant_lookup, browser_type_launch_args  # noqa: F401  (launch args)

pytest.importorskip("playwright", reason="playwright is not installed: pip install -e '.[dev]'")

from playwright.sync_api import expect

from tests.conftest import APPLICANT, DEMO_PASSWORD, handed_in
from tests.workflow.test_pinned_compositions import FULL_RESTAURANT
from workflow import services
from workflow.demo import load_demo
from workflow.models import Case, HumanTask, HumanTaskState, OneThing

PREFIX = "pinned"


@pytest.fixture
def demo(transactional_db):
    load_demo(password=DEMO_PASSWORD)


@pytest.fixture
def hall(live_server, browser):
    hall = e2e.Hall(browser, live_server.url, prefix=PREFIX)
    yield hall
    hall.close()


def decide(users: dict, case_no: str, element_id: str, decision: str = "approve", **extra) -> None:
    task = HumanTask.objects.get(case__case_no=case_no, element_id=element_id, state=HumanTaskState.OPEN)
    reviewer = {"market_regulation": "market1", "fire_rescue": "fire1", "urban_management": "urban1"}[task.lane]
    services.human_task_complete(user=users[reviewer], task_id=task.pk, decision=decision, **extra)


@pytest.mark.django_db(transaction=True)
def test_the_applicant_sees_what_no_longer_applies_and_the_admin_composes_with_a_preview(hall, demo, django_user_model):
    users = {u.username: u for u in django_user_model.objects.all()}
    opened = services.case_open(
        user=users["window1"], one_thing_key="restaurant_start", applicant=APPLICANT, form=dict(FULL_RESTAURANT)
    )
    case_no, code = opened.case.case_no, opened.query_code
    services.case_accept(user=users["window1"], case_no=case_no, materials=handed_in("restaurant_start"))
    for element_id in ("review_fire_rescue", "review_urban_management", "review_market_regulation"):
        decide(users, case_no, element_id)
    decide(
        users,
        case_no,
        "review_market_regulation_item2",
        "need_correction",
        opinion="经营范围需补正",
        corrections=[{"item": "business_scope", "reason": "请写明经营范围"}],
    )
    services.case_correction_submit(
        case_no=case_no,
        changes={
            "business_scope": "预包装食品销售；日用百货销售",
            "public_gathering_place": False,
            "outdoor_signboard": False,
        },
    )

    # 1. The applicant, on a phone: three items no longer apply, each with its reason; the timeline says so.
    phone = hall.phone()
    applicant_lookup(hall, phone, case_no, code)
    listing = phone.get_by_test_id("items-not-applicable")
    expect(listing.locator("li")).to_have_count(3)
    expect(listing).to_contain_text("户外招牌设置审批")
    expect(listing).to_contain_text("补正后不再满足本事项的参与条件")
    expect(phone.locator("body")).to_contain_text("补正后事项不再适用")
    hall.shot(phone, "status-not-applicable")

    # 2. The business licence re-reviewed and approved: the unified result lists every item, honestly.
    decide(users, case_no, "review_market_regulation")
    assert Case.objects.get(case_no=case_no).status == "approved"
    applicant_lookup(hall, phone, case_no, code)
    results = phone.locator("ul.progress").first
    expect(results.locator(".pr-not_applicable")).to_have_count(3)
    expect(results).to_contain_text("证照编号")
    hall.shot(phone, "status-result")

    # 3. The administrator: the one-thing's items are read-only; composing previews the impact, then publishes.
    restaurant = OneThing.objects.get(key="restaurant_start")
    admin = hall.staff("admin")
    admin.goto(f"{hall.base}/admin/workflow/onething/{restaurant.pk}/change/")
    expect(admin.locator("body")).to_contain_text("重新组合（先预览影响，再发布新版本）")
    expect(admin.locator('select[name="item_links-0-item"]')).to_have_count(0)
    hall.shot(admin, "admin-one-thing")
    admin.get_by_role("link", name="重新组合（先预览影响，再发布新版本）").click()
    admin.get_by_label("承诺时限（工作日）").fill("3")
    admin.get_by_role("button", name="预览影响").click()
    expect(admin.locator("body")).to_contain_text("承诺时限（工作日）：5 → 3")
    expect(admin.locator("body")).to_contain_text("保持各自的版本")
    hall.shot(admin, "admin-compose-preview")
    admin.get_by_role("button", name="发布").click()
    expect(admin.locator(".messagelist")).to_contain_text("新办件使用此版本")
    hall.shot(admin, "admin-published")
    admin.goto(f"{hall.base}/admin/workflow/cataloguechange/")
    expect(admin.locator("#result_list")).to_contain_text("重新组合")
    hall.shot(admin, "admin-history")
    assert Case.objects.get(case_no=case_no).composition.number == restaurant.current_composition.number
