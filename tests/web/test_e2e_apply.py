"""The applicant's own door in a real browser (Debian's Chromium, headless): the whole online path on a 390×844
phone — SMS code, the one form with the window's errors, the pre-check, uploads, one submission (a double tap
makes one case), case number and query code once, my cases — the window seeing it in its 预审 list, and a
1080×1920 kiosk: the ID-card reader, large touch targets, and the idle timeout that clears the screen.
Screenshots: test-output/screenshots/apply-*.png.

Same setup as tests/web/test_e2e.py (needs /usr/bin/chromium, playwright and pytest-playwright)."""

import os
import re

import pytest

from tests.web.test_e2e_uploads import CHROMIUM, CHROMIUM_ARGS, SHOTS

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from playwright.sync_api import Page, expect

from tests import upload_samples as samples
from tests.api.applicant_helpers import WANG, last_code
from tests.conftest import DEMO_PASSWORD, ENTERPRISE_FORM, handed_in
from workflow.demo import load_demo
from workflow.models import Case

PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
    "locale": "zh-CN",
    "timezone_id": "Asia/Shanghai",
}
KIOSK = {
    "viewport": {"width": 1080, "height": 1920},
    "has_touch": True,
    "locale": "zh-CN",
    "timezone_id": "Asia/Shanghai",
}


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS, "headless": True}


@pytest.fixture
def demo(transactional_db, settings, tmp_path):
    settings.ONETHING_PRIVATE_MEDIA_ROOT = str(tmp_path / "private")
    settings.ONETHING_ISSUE_DOCUMENTS = False
    load_demo(password=DEMO_PASSWORD)


class Shots:
    def __init__(self):
        self.count = 0
        SHOTS.mkdir(parents=True, exist_ok=True)

    def __call__(self, page: Page, name: str, full: bool = True) -> None:
        self.count += 1
        page.screenshot(path=SHOTS / f"apply-{self.count:02d}-{name}.png", full_page=full)


@pytest.mark.django_db(transaction=True)
def test_the_online_path_on_a_phone(live_server, browser, demo, tmp_path):
    shot = Shots()
    context = browser.new_context(**PHONE)
    page = context.new_page()
    page.set_default_timeout(10_000)
    base = live_server.url

    # 1. Identity: ID number + phone, the SMS code.
    page.goto(f"{base}/apply/")
    expect(page.get_by_role("heading", name="网上办理一件事")).to_be_visible()
    page.get_by_label("居民身份证号码").fill(WANG["id_number"])
    page.get_by_label("手机号码").fill(WANG["phone"])
    shot(page, "phone-sign-in")
    page.get_by_role("button", name="获取验证码").click()
    expect(page.get_by_role("status")).to_contain_text("验证码已发送")
    page.get_by_label("验证码").fill("000000" if last_code(WANG["phone"]) != "000000" else "111111")
    page.get_by_role("button", name="验证并登录").click()
    expect(page.get_by_text("验证码错误或已失效")).to_be_visible()
    page.get_by_label("验证码").fill(last_code(WANG["phone"]))
    page.get_by_role("button", name="验证并登录").click()
    expect(page.get_by_role("heading", name="选择要办的一件事")).to_be_visible()
    shot(page, "phone-home")

    # 2. A one-thing: the window's one form, with its errors.
    page.locator("button[data-one-thing=enterprise_start]").click()
    expect(page.get_by_test_id("draft-code")).to_be_visible()
    page.get_by_label("申请人姓名（单位申请填单位名称）").fill("王䶮")
    page.fill("#id_f_legal_representative_id", "110105199003070018")  # a wrong check digit, as at the window
    page.fill("#id_f_enterprise_name", ENTERPRISE_FORM["enterprise_name"])
    page.get_by_role("button", name="提交申请").click()
    field = page.locator("[data-field=legal_representative_id]")
    expect(field.get_by_text(re.compile("校验位不正确"))).to_be_visible()
    field.scroll_into_view_if_needed()
    shot(page, "phone-form-errors", full=False)
    assert Case.objects.count() == 0

    for name in ("business_scope", "address", "legal_representative", "legal_representative_id"):
        page.fill(f"#id_f_{name}", ENTERPRISE_FORM[name])
    page.fill("#id_f_contact_phone", ENTERPRISE_FORM["contact_phone"])
    page.fill("#id_f_registered_capital", str(ENTERPRISE_FORM["registered_capital"]))
    page.fill("#id_f_seal_count", str(ENTERPRISE_FORM["seal_count"]))
    page.select_option("#id_f_enterprise_type", ENTERPRISE_FORM["enterprise_type"])
    page.check("input[name=f_invoice_needed][value=true]")
    if page.locator("input[name=f_seal_types][value=单位公章]").count():
        page.check("input[name=f_seal_types][value=单位公章]")
    # The result's delivery: 窗口领取 until chosen; 邮寄送达 shows the address fields.
    expect(page.locator("input[name=delivery_method][value=pickup]")).to_be_checked()
    expect(page.get_by_label("收件人", exact=True)).to_be_hidden()
    page.check("input[name=delivery_method][value=post]")
    page.get_by_label("收件人", exact=True).fill("王䶮")
    page.get_by_label("收件人手机号码").fill("13800138000")
    page.get_by_label("详细邮寄地址").fill("北京市朝阳区示范路 1 号 3 单元 101")
    page.locator("[data-delivery-section]").scroll_into_view_if_needed()
    shot(page, "phone-delivery", full=False)

    # 3. The pre-check: one list of what is missing, and the estimated date.
    page.get_by_role("button", name="智能预审").click()
    precheck = page.get_by_test_id("precheck")
    expect(precheck).to_contain_text("请上传")
    expect(page.get_by_test_id("estimate")).to_contain_text("预计办结日期")
    precheck.scroll_into_view_if_needed()
    shot(page, "phone-precheck")

    # 4. Uploads: a disguised file is refused; real scans are accepted.
    fake = tmp_path / "章程.pdf"
    fake.write_bytes(samples.HTML)
    scan = tmp_path / "scan.pdf"
    scan.write_bytes(samples.pdf())
    first = handed_in()[0]
    row = page.locator(f"li[data-material={first}]")
    row.locator("input[type=file]").set_input_files(str(fake))
    row.get_by_role("button", name="上传").click()
    expect(page.get_by_text(re.compile("只能上传 PDF、JPG/JPEG、PNG 或 OFD"))).to_be_visible()
    for code in handed_in():
        row = page.locator(f"li[data-material={code}]")
        if row.is_hidden():
            continue
        row.locator("input[type=file]").set_input_files(str(scan))
        row.get_by_role("button", name="上传").click()
        expect(page.locator(f"li[data-material={code}]")).to_contain_text("已上传")
    page.locator("#materials").scroll_into_view_if_needed()
    shot(page, "phone-materials", full=False)
    page.get_by_role("button", name="智能预审").click()
    expect(page.get_by_test_id("precheck")).to_contain_text("可以提交")

    # 5. Submit with a double tap: one case; its number and query code shown once.
    page.get_by_role("button", name="提交申请").dblclick()
    expect(page.get_by_test_id("submitted")).to_be_visible()
    case_no = page.get_by_test_id("case-no").inner_text().strip()
    code = page.get_by_test_id("query-code").inner_text().strip()
    assert re.fullmatch(r"[0-9]{20}", case_no) and re.fullmatch(r"[0-9A-Z]{8}", code)
    assert Case.objects.filter(applicant_id_number=WANG["id_number"]).count() == 1
    assert Case.objects.get(case_no=case_no).delivery_method == "post"
    shot(page, "phone-submitted")
    page.reload()
    expect(page.get_by_test_id("query-code")).to_have_count(0)

    # 6. My cases.
    page.get_by_role("link", name="我的办件").first.click()
    expect(page.locator(f"li[data-case='{case_no}']")).to_contain_text("网上")
    shot(page, "phone-my-cases")

    # 7. The window sees it in its 预审 list.
    window_context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    window = window_context.new_page()
    window.goto(f"{base}/login/")
    window.get_by_label("用户名").fill("window1")
    window.get_by_label("密码").fill(DEMO_PASSWORD)
    window.get_by_role("button", name="登录").click()
    expect(window.get_by_text(case_no)).to_be_visible()
    window.goto(f"{base}/cases/{case_no}/")
    expect(window.get_by_test_id("case-channel")).to_have_text("网上")
    shot(window, "window-sees-online-case")
    window_context.close()
    context.close()


@pytest.mark.django_db(transaction=True)
def test_the_kiosk_reads_the_card_and_clears_the_screen_when_idle(live_server, browser, demo, settings):
    settings.ONETHING_KIOSKS = {"kiosk-01": "k3y"}
    settings.ONETHING_KIOSK_IDLE_SECONDS = 8
    shot = Shots()
    shot.count = 20
    context = browser.new_context(**KIOSK)
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{live_server.url}/apply/kiosk/?device=kiosk-01&key=k3y")
    expect(page.get_by_test_id("card-reader")).to_be_visible()
    shot(page, "kiosk-card-reader")
    reader = page.get_by_test_id("card-reader")
    reader.get_by_label("姓名").fill("王䶮")
    reader.get_by_label("身份证号码").fill(WANG["id_number"])
    page.get_by_role("button", name="读取身份证").click()
    expect(page.get_by_text("自助终端读取身份证")).to_be_visible()
    # Large touch targets: every tile and button at least 88 px high on the kiosk.
    tile = page.locator("button[data-one-thing]").first
    assert tile.bounding_box()["height"] >= 88
    shot(page, "kiosk-home")
    tile.click()
    expect(page.get_by_test_id("draft-code")).to_be_visible()
    page.get_by_label("申请人姓名（单位申请填单位名称）").fill("王䶮")
    submit = page.get_by_role("button", name="提交申请")
    assert submit.bounding_box()["height"] >= 88
    electronic = page.locator("label:has(input[name=delivery_method][value=electronic])")
    assert electronic.bounding_box()["height"] >= 64  # the delivery choice, touch-sized too
    electronic.click()
    expect(page.locator("input[name=delivery_method][value=electronic]")).to_be_checked()
    shot(page, "kiosk-form", full=False)
    # Left alone: a warning, then the screen is cleared and the session ends.
    expect(page.locator("#idle-warning")).to_be_visible(timeout=15_000)
    shot(page, "kiosk-idle-warning", full=False)
    expect(page.get_by_text("长时间未操作，已自动退出")).to_be_visible(timeout=15_000)
    expect(page.get_by_test_id("card-reader")).to_be_visible()
    shot(page, "kiosk-cleared")
    page.goto(f"{live_server.url}/apply/home/")
    expect(page.get_by_test_id("card-reader")).to_be_visible()  # signed out for real
    context.close()
