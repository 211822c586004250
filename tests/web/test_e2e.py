"""A whole 企业开办 case in a real browser (Debian's Chromium, headless): the window, three departments and the
applicant, with one correction round. Every screen is saved under test-output/screenshots/ (1366×768 for staff,
a phone for the applicant's status page).

Needs /usr/bin/chromium and the playwright + pytest-playwright packages (``make test`` installs both; never
``playwright install``) and bpmn-js in web/static/web/vendor/ (``scripts/dev.sh setup``).
"""

import os
import re
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
if not os.path.exists(CHROMIUM):
    pytest.skip(
        f"{CHROMIUM} is missing: apt-get install -y chromium (scripts/dev.sh test does it)", allow_module_level=True
    )
pytest.importorskip("playwright", reason="playwright is not installed: pip install -e '.[dev]'")
pytest.importorskip("pytest_playwright", reason="pytest-playwright is not installed: pip install -e '.[dev]'")
# Sync Playwright runs an asyncio loop in the test thread (from the session's first browser fixture on, before
# the test database is even created): without this, every ORM call there raises SynchronousOnlyOperation.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from playwright.sync_api import Page, expect  # noqa: E402

from tests.conftest import APPLICANT, DEMO_PASSWORD, ENTERPRISE_FORM  # noqa: E402
from workflow.demo import load_demo  # noqa: E402
from workflow.lifecycle import CaseStatus  # noqa: E402
from workflow.models import Case  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "test-output" / "screenshots"
VENDOR = ROOT / "web" / "static" / "web" / "vendor" / "bpmn-js" / "bpmn-navigated-viewer.production.min.js"
# Flags for a closed network (notes/ecosystem.md §7); Playwright adds --headless itself.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--no-first-run",
    "--disable-quic",
    "--disable-gpu",
    "--lang=zh-CN",  # Chinese date pickers and browser messages, as on the hall's terminals
]
DESKTOP = {"viewport": {"width": 1366, "height": 768}, "locale": "zh-CN", "timezone_id": "Asia/Shanghai"}
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
    "locale": "zh-CN",
    "timezone_id": "Asia/Shanghai",
}


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS, "headless": True}


class Hall:
    """Browser sessions per person, and the screenshots."""

    def __init__(self, browser, base_url: str, prefix: str | None = ""):
        """``prefix``: this test's screens are ``<prefix>-NN-*.png`` and replace only their earlier ones; ``""``
        (this file's whole case) empties the folder; ``None`` leaves it until ``begin``."""
        self.browser = browser
        self.base = base_url
        self.count = 0
        self.contexts = []
        self.prefix = ""
        SHOTS.mkdir(parents=True, exist_ok=True)
        if prefix is not None:
            self.begin(prefix)

    def begin(self, prefix: str) -> None:
        self.prefix = prefix
        for old in SHOTS.glob(f"{prefix}-*.png" if prefix else "*.png"):
            old.unlink()

    def shot(self, page: Page, name: str, *, full_page: bool = True) -> None:
        self.count += 1
        stem = f"{self.count:02d}-{name}"
        page.screenshot(
            path=SHOTS / f"{self.prefix}-{stem}.png" if self.prefix else SHOTS / f"{stem}.png", full_page=full_page
        )

    def staff(self, username: str, *, shot_login: bool = False) -> Page:
        page = self.new_page(DESKTOP)
        page.goto(f"{self.base}/login/")
        page.get_by_label("用户名").fill(username)
        page.get_by_label("密码").fill(DEMO_PASSWORD)
        if shot_login:
            self.shot(page, "login")
        page.get_by_role("button", name="登录").click()
        expect(page.locator(".who")).to_contain_text("退出")
        return page

    def phone(self) -> Page:
        return self.new_page(PHONE)

    def new_page(self, options: dict) -> Page:
        context = self.browser.new_context(**options)
        self.contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        return page

    def close(self) -> None:
        # Closing the browser's keep-alive sockets lets the live server's threads close their database
        # connections before the test database is dropped.
        for context in self.contexts:
            context.close()


def decide(hall: Hall, page: Page, case_no: str, *, name: str):
    page.goto(f"{hall.base}/tasks/")
    row = page.locator("table.inbox tbody tr", has_text=case_no)
    expect(row).to_have_count(1)
    hall.shot(page, f"inbox-{name}")
    row.get_by_role("link", name="办理").click()
    expect(page.get_by_role("heading", name="审查决定")).to_be_visible()


def sign(page: Page) -> None:
    """The recipient signs on the pad: a stroke drawn with the mouse."""
    pad = page.get_by_test_id("signature-pad")
    pad.scroll_into_view_if_needed()
    box = pad.bounding_box()
    page.mouse.move(box["x"] + 30, box["y"] + 100)
    page.mouse.down()
    for step in range(1, 12):
        page.mouse.move(box["x"] + 30 + step * 25, box["y"] + 100 - (step % 3) * 30)
    page.mouse.up()


def hand_over_on_screen(page: Page, id_number: str, *, agent: bool = False) -> None:
    """一窗通取 on the case page: the recipient's document checked, every item ticked, signed on the pad."""
    form = page.locator("form[data-handover]")
    if agent:
        form.locator("input[name=recipient_kind][value=agent]").check()
    form.locator("#recipient_id_number").fill(id_number)
    form.locator("#handover_identity_method").select_option("id_card_onsite")
    for checkbox in form.locator("input[name=item]").all():
        checkbox.check()
    sign(page)
    form.get_by_role("button", name="确认交付并办结").click()


def applicant_lookup(hall: Hall, page: Page, case_no: str, code: str):
    page.goto(f"{hall.base}/status/")
    page.get_by_label("办件编号").fill(case_no)
    page.get_by_label("查询码").fill(code)
    page.get_by_role("button", name="查询").click()
    expect(page.get_by_test_id("status-result")).to_be_visible()


@pytest.fixture
def demo(transactional_db):
    """Loaded inside the test: a transactional test empties the database when it ends."""
    load_demo(password=DEMO_PASSWORD)


@pytest.fixture
def hall(live_server, browser):
    hall = Hall(browser, live_server.url)
    yield hall
    hall.close()


@pytest.mark.django_db(transaction=True)
def test_a_whole_case_across_the_hall(hall, demo):
    assert VENDOR.exists(), "bpmn-js is missing: run scripts/dev.sh setup (copies it from npm into web/static)"

    # 1. The window logs in, picks 企业开办, fills the one form (first with mistakes), checks the materials.
    window = hall.staff("window1", shot_login=True)
    expect(window).to_have_url(re.compile(r"/window/$"))
    hall.shot(window, "window-home")
    window.get_by_role("link", name=re.compile("企业开办一件事")).click()
    expect(window.get_by_role("heading", name=re.compile("一表申请"))).to_be_visible()
    hall.shot(window, "window-form-empty")

    window.fill("#id_applicant-name", APPLICANT["name"])
    window.fill("#id_applicant-id_number", APPLICANT["id_number"])
    window.fill("#id_applicant-phone", APPLICANT["phone"])
    window.fill("#id_f_legal_representative_id", "110105199003070018")  # wrong check digit
    window.get_by_role("button", name="收件（稍后受理）").click()
    # Each message next to its field, and all of them in the summary at the top, which takes the focus.
    field = window.locator("[data-field=legal_representative_id]")
    expect(field.get_by_text("法定代表人身份证号的校验位不正确，请核对。例：11010519491231002X")).to_be_visible()
    expect(window.locator("[data-field=enterprise_name]").get_by_text("请填写企业名称")).to_be_visible()
    summary = window.locator("#error-summary")
    expect(summary).to_be_focused()
    expect(summary.get_by_role("link", name=re.compile("法定代表人身份证号.*校验位不正确"))).to_be_visible()
    expect(summary.get_by_text(re.compile("请核对并勾选必交材料"))).to_be_visible()
    hall.shot(window, "window-form-errors")

    for name in ("enterprise_name", "business_scope", "address", "legal_representative", "legal_representative_id"):
        window.fill(f"#id_f_{name}", ENTERPRISE_FORM[name])
    window.fill("#id_f_contact_phone", ENTERPRISE_FORM["contact_phone"])
    window.fill("#id_f_registered_capital", str(ENTERPRISE_FORM["registered_capital"]))
    window.fill("#id_f_seal_count", str(ENTERPRISE_FORM["seal_count"]))
    window.select_option("#id_f_enterprise_type", ENTERPRISE_FORM["enterprise_type"])
    window.check("input[name=f_invoice_needed][value=true]")
    window.check("input[name=f_seal_types][value=单位公章]")
    for checkbox in window.locator("input[name=material]").all():
        checkbox.check()
    window.get_by_role("button", name="收件（稍后受理）").click()

    # 2. The receipt: case number and query code, shown once.
    expect(window.get_by_text("查询码只显示这一次")).to_be_visible()
    case_no = window.get_by_test_id("case-no").inner_text().strip()
    code = window.get_by_test_id("query-code").inner_text().strip()
    assert re.fullmatch(r"[0-9]{20}", case_no) and re.fullmatch(r"[0-9A-Z]{8}", code)
    hall.shot(window, "window-receipt")

    # 3. Accept on the case page; the diagram marks the three departments' tasks as current.
    window.get_by_role("link", name="去受理").click()
    # the materials ticked at the window are recorded with the opening: the 受理 form shows them ticked
    expect(window.locator("fieldset.materials-check input[value=articles_of_association]")).to_be_checked()
    hall.shot(window, "case-received")
    window.get_by_label("受理意见（选填）").fill("材料齐全，符合法定形式")
    window.get_by_role("button", name="受理", exact=True).click()
    expect(window.get_by_text("已受理，各部门开始并联审查")).to_be_visible()
    expect(window.locator("#diagram[data-state=ready]")).to_be_attached()
    expect(window.locator(".djs-element.task-current")).to_have_count(3)
    expect(window.locator(".bjs-powered-by")).to_be_visible()  # the bpmn.io watermark stays
    hall.shot(window, "case-accepted")

    # 4. Three departments decide in parallel; public security asks for a correction.
    market = hall.staff("market1")
    decide(hall, market, case_no, name="market")
    market.get_by_role("button", name="认领").click()
    expect(market.get_by_text("承办人：市场监管 李强")).to_be_visible()
    hall.shot(market, "task-market")
    market.check("input[name=decision][value=approve]")
    market.get_by_label("审查意见").fill("材料齐全，准予设立登记")
    market.get_by_role("button", name="提交决定").click()
    expect(market.get_by_text(re.compile("已提交：准予"))).to_be_visible()

    police = hall.staff("police1")
    decide(hall, police, case_no, name="police")
    police.check("input[name=decision][value=need_correction]")
    police.get_by_label("审查意见").fill("请补正印章数量")
    police.locator("select[name=correction_item]").first.select_option("seal_count")
    police.locator("input[name=correction_reason]").first.fill("刻制印章数量与公章刻制申请不一致")
    hall.shot(police, "task-police-correction")
    police.get_by_role("button", name="提交决定").click()
    expect(police.get_by_text(re.compile("已提交：需补正"))).to_be_visible()

    tax = hall.staff("tax1")
    decide(hall, tax, case_no, name="tax")
    tax.check("input[name=decision][value=approve]")
    tax.get_by_role("button", name="提交决定").click()
    expect(tax.get_by_text(re.compile("已提交：准予"))).to_be_visible()
    assert Case.objects.get(case_no=case_no).status == CaseStatus.CORRECTION_REQUIRED

    # 5. The window sees the combined correction notice.
    window.goto(f"{hall.base}/window/")
    window.get_by_role("link", name=case_no).click()
    expect(window.get_by_role("heading", name=re.compile("补正告知"))).to_be_visible()
    expect(window.get_by_text("刻制印章数量与公章刻制申请不一致").first).to_be_visible()
    hall.shot(window, "window-correction-view")

    # 6. The applicant, on a phone, reads the notice and corrects once.
    applicant = hall.phone()
    page = applicant
    page.goto(f"{hall.base}/status/")
    hall.shot(page, "status-phone-lookup")
    applicant_lookup(hall, page, case_no, code)
    expect(page.get_by_text("补正告知（一次性告知）")).to_be_visible()
    hall.shot(page, "status-phone-correction")
    page.fill("#id_f_seal_count", "3")
    page.get_by_role("button", name="提交补正").click()
    expect(page.get_by_text(re.compile("补正已提交"))).to_be_visible()
    hall.shot(page, "status-phone-corrected")

    # 7. Only public security reviews again, and approves.
    decide(hall, police, case_no, name="police-round-2")
    expect(police.get_by_text("申请人已补正")).to_be_visible()
    hall.shot(police, "task-police-round-2")
    police.check("input[name=decision][value=approve]")
    police.get_by_label("审查意见").fill("补正材料已核实，准予备案")
    police.get_by_role("button", name="提交决定").click()
    expect(police.get_by_text(re.compile("已提交：准予"))).to_be_visible()

    # 8. The window hands the result over (一窗通取): the proof of delivery concludes the case.
    window.goto(f"{hall.base}/cases/{case_no}/")
    expect(window.locator("#diagram[data-state=ready]")).to_be_attached()
    hall.shot(window, "case-approved")
    hand_over_on_screen(window, APPLICANT["id_number"])
    expect(window.get_by_text("办理结果已当面交付，办件已办结")).to_be_visible()
    expect(window.locator("#diagram[data-state=ready]")).to_be_attached()
    hall.shot(window, "case-concluded")

    # 9. The applicant sees 已办结; the supervisor sees the numbers.
    applicant_lookup(hall, page, case_no, code)
    expect(page.get_by_test_id("status-result")).to_contain_text("已办结")
    expect(page.get_by_test_id("status-result")).to_contain_text("准予许可")
    hall.shot(page, "status-phone-concluded")
    page.get_by_label("非常满意").check()
    page.get_by_role("button", name="提交评价").click()
    expect(page.get_by_text("感谢您的评价！")).to_be_visible()
    hall.shot(page, "status-phone-rated")

    supervisor = hall.staff("supervisor1")
    expect(supervisor).to_have_url(re.compile(r"/dashboard/$"))
    expect(supervisor.locator(".kpi").first).to_contain_text("1")
    expect(supervisor.locator(".kpi", has_text="好评率")).to_contain_text("100.0%")
    hall.shot(supervisor, "dashboard")

    case = Case.objects.get(case_no=case_no)
    assert case.status == CaseStatus.CONCLUDED and case.form_data["seal_count"] == 3
    assert hall.count >= 15
