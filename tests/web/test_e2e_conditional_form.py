"""The one form asks only what applies, in a real browser (Debian's Chromium, headless): the restaurant form at
1366 px and on a phone (390×844). 设置户外招牌 否 hides 招牌文字/长度/高度 and their section; 是 shows them, marked
required; a submission without them comes back with the server's messages next to the fields and in a summary at
the top whose links lead to them; the materials of items that do not apply are hidden. Screens go to
test-output/screenshots/ as ``conditional-<device>-NN-*.png``.

Same setup as tests/web/test_e2e.py (imported from it): /usr/bin/chromium and the playwright + pytest-playwright
packages.
"""

import re

import pytest

from tests.web import test_e2e as e2e
from tests.web.test_e2e import DESKTOP, PHONE, SHOTS, browser_type_launch_args  # noqa: F401  (launch-args fixture)

pytest.importorskip("playwright", reason="playwright is not installed: pip install -e '.[dev]'")

from playwright.sync_api import Page, expect

from tests.conftest import DEMO_PASSWORD
from tests.forms.samples import RESTAURANT_FORM
from workflow.demo import load_demo
from workflow.models import Case

PREFIX = "conditional"


class Hall(e2e.Hall):
    """tests/web/test_e2e.py's browser sessions; only this test's own screenshots are replaced."""

    def __init__(self, browser, base_url: str):  # not super(): that one empties the whole folder
        self.browser = browser
        self.base = base_url
        self.count = 0
        self.contexts = []
        self.device = ""

    def on(self, device: str) -> None:
        """Screens of this device replace its earlier ones (the other device's stay)."""
        self.device = device
        SHOTS.mkdir(parents=True, exist_ok=True)
        for old in SHOTS.glob(f"{PREFIX}-{device}-*.png"):
            old.unlink()

    def shot(self, page: Page, name: str, *, full_page: bool = True) -> None:
        self.count += 1
        page.screenshot(path=SHOTS / f"{PREFIX}-{self.device}-{self.count:02d}-{name}.png", full_page=full_page)

    def window(self, options: dict) -> Page:
        page = self.new_page(options)
        page.goto(f"{self.base}/login/")
        page.get_by_label("用户名").fill("window1")
        page.get_by_label("密码").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="登录").click()
        expect(page.locator(".who")).to_contain_text("退出")
        page.goto(f"{self.base}/window/new/restaurant_start/")
        expect(page.get_by_role("heading", name=re.compile("一表申请"))).to_be_visible()
        return page


@pytest.fixture
def demo(transactional_db):
    """Loaded inside the test: a transactional test empties the database when it ends."""
    load_demo(password=DEMO_PASSWORD)


@pytest.fixture
def hall(live_server, browser):
    hall = Hall(browser, live_server.url)
    yield hall
    hall.close()


def fill_the_rest(page: Page) -> None:
    page.fill("#id_applicant-name", "王䶮")
    page.fill("#id_applicant-id_number", RESTAURANT_FORM["legal_representative_id"])
    for name in ("enterprise_name", "address", "legal_representative", "legal_representative_id", "contact_phone"):
        page.fill(f"#id_f_{name}", RESTAURANT_FORM[name])
    page.fill("#id_f_registered_capital", str(RESTAURANT_FORM["registered_capital"]))
    page.select_option("#id_f_enterprise_type", RESTAURANT_FORM["enterprise_type"])


@pytest.mark.parametrize("device", ["desktop", "phone"])
@pytest.mark.django_db(transaction=True)
def test_the_signboard_questions_follow_the_answer(hall, demo, device):
    hall.on(device)
    page = hall.window(DESKTOP if device == "desktop" else PHONE)
    signboard = page.locator("[data-section='000120501000']")
    food = page.locator("[data-section='000113203000']")
    text = page.locator("[data-field=signboard_text]")
    design = page.locator("[data-material=signboard_design]")

    # Nothing answered: 办理情形 first; no item but the business licence applies yet.
    expect(page.locator("[data-section=situation]")).to_be_visible()
    expect(signboard).to_be_hidden()
    expect(food).to_be_hidden()
    expect(design).to_be_hidden()

    page.fill("#id_f_business_scope", "餐饮服务；食品销售")
    expect(food).to_be_visible()
    expect(page.locator("[data-material=food_safety_rules]")).to_be_visible()

    page.check("input[name=f_outdoor_signboard][value=false]")
    expect(signboard).to_be_hidden()
    expect(text).to_be_hidden()
    expect(design).to_be_hidden()
    hall.shot(page, "signboard-no")
    page.locator("[data-section=situation]").scroll_into_view_if_needed()
    hall.shot(page, "signboard-no-situation", full_page=False)

    page.check("input[name=f_outdoor_signboard][value=true]")
    expect(signboard).to_be_visible()
    for name in ("signboard_text", "signboard_length", "signboard_height"):
        field = page.locator(f"[data-field={name}]")
        expect(field).to_be_visible()
        expect(field.locator(".req")).to_be_visible()  # required now
    expect(page.locator("[data-field=signboard_length] .unit")).to_have_text("米")
    expect(design).to_be_visible()
    expect(design.locator("[data-required-tag]")).to_be_visible()
    hall.shot(page, "signboard-yes")
    signboard.scroll_into_view_if_needed()
    hall.shot(page, "signboard-yes-section", full_page=False)

    # Submitted without the signboard's details: the server's messages, next to the fields and at the top.
    fill_the_rest(page)
    page.fill("#id_f_signboard_length", "6米")
    for checkbox in page.locator("tr[data-material]:not([hidden]) input[name=material]").all():
        checkbox.check()
    page.get_by_role("button", name="收件（稍后受理）").click()
    summary = page.locator("#error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()
    expect(signboard).to_be_visible()  # the server shows what applies to what was submitted
    expect(text.get_by_text("请填写招牌文字")).to_be_visible()
    length = page.locator("[data-field=signboard_length]")
    expect(length.get_by_text("招牌长度应为数字（单位：米）。例：6.5")).to_be_visible()
    links = summary.get_by_role("link")
    expect(links).to_have_count(3)  # 招牌文字, 招牌长度, 招牌高度
    hall.shot(page, "signboard-errors")
    hall.shot(page, "signboard-errors-top", full_page=False)
    links.filter(has_text="招牌文字").click()
    expect(page.locator("#id_f_signboard_text")).to_be_focused()
    assert not Case.objects.exists()

    # 否 after all: the details and the design drawing are no longer asked; the case opens without them.
    page.check("input[name=f_outdoor_signboard][value=false]")
    expect(signboard).to_be_hidden()
    expect(design).to_be_hidden()
    page.get_by_role("button", name="收件（稍后受理）").click()
    expect(page.get_by_text("查询码只显示这一次")).to_be_visible()
    case = Case.objects.get()
    assert case.form_data["outdoor_signboard"] is False
    assert not {"signboard_text", "signboard_length", "signboard_height"} & set(case.form_data)
    hall.shot(page, "receipt")
