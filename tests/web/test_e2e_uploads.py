"""Material files in a real browser (Debian's Chromium, headless): the window uploads a PNG scan and a PDF on the
case page, accepts, and market regulation previews both on its task page. Screenshots go to
test-output/screenshots/ beside the whole-case test's, named uploads-*.png (this test deletes none of them).

Same setup as tests/web/test_e2e.py (needs /usr/bin/chromium, playwright and pytest-playwright; never
``playwright install``)."""

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
# Sync Playwright runs an asyncio loop in the test thread: without this every ORM call there raises
# SynchronousOnlyOperation (see test_e2e.py).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from playwright.sync_api import Page, expect  # noqa: E402

from tests import upload_samples as samples  # noqa: E402
from tests.conftest import APPLICANT, DEMO_PASSWORD, ENTERPRISE_FORM, handed_in  # noqa: E402
from workflow import services  # noqa: E402
from workflow.demo import load_demo  # noqa: E402
from workflow.models import HumanTask, MaterialFile  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "test-output" / "screenshots"
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
    "--lang=zh-CN",
]
DESKTOP = {"viewport": {"width": 1366, "height": 768}, "locale": "zh-CN", "timezone_id": "Asia/Shanghai"}


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS, "headless": True}


class Hall:
    def __init__(self, browser, base_url: str):
        self.browser = browser
        self.base = base_url
        self.count = 0
        self.contexts = []
        SHOTS.mkdir(parents=True, exist_ok=True)

    def shot(self, page: Page, name: str) -> None:
        self.count += 1
        page.screenshot(path=SHOTS / f"uploads-{self.count:02d}-{name}.png", full_page=True)

    def staff(self, username: str) -> Page:
        context = self.browser.new_context(**DESKTOP)
        self.contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        page.goto(f"{self.base}/login/")
        page.get_by_label("用户名").fill(username)
        page.get_by_label("密码").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="登录").click()
        expect(page.locator(".who")).to_contain_text("退出")
        return page

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture
def demo(transactional_db, settings, tmp_path):
    settings.ONETHING_PRIVATE_MEDIA_ROOT = str(tmp_path / "private")
    load_demo(password=DEMO_PASSWORD)


@pytest.fixture
def hall(live_server, browser):
    hall = Hall(browser, live_server.url)
    yield hall
    hall.close()


@pytest.mark.django_db(transaction=True)
def test_the_window_uploads_a_scan_and_the_department_previews_it(hall, demo, tmp_path, users):
    opened = services.case_open(
        user=users["window1"],
        one_thing_key="enterprise_start",
        applicant=APPLICANT,
        form=dict(ENTERPRISE_FORM),
        materials=handed_in(),
    )
    case_no = opened.case.case_no
    scan = tmp_path / "法定代表人身份证.png"
    scan.write_bytes(samples.png(colour="darkorange"))
    lease = tmp_path / "租赁合同.pdf"
    lease.write_bytes(samples.image("PDF", size=(595, 842), colour="lightyellow"))  # an A4 page
    fake = tmp_path / "章程.pdf"
    fake.write_bytes(samples.HTML)

    # 1. The window's case page: one upload control per material, limits stated.
    window = hall.staff("window1")
    window.goto(f"{hall.base}/cases/{case_no}/")
    materials = window.locator("#materials")
    expect(materials).to_contain_text("10 MB")
    row = materials.locator("tr[data-material=legal_rep_id_card]")
    row.locator("input[type=file]").set_input_files(str(scan))
    row.get_by_role("button", name="上传").click()
    expect(window.get_by_text("已上传：法定代表人身份证.png")).to_be_visible()
    premises = window.locator("tr[data-material=premises_proof]")
    premises.locator("input[type=file]").set_input_files(str(lease))
    premises.get_by_role("button", name="上传").click()
    expect(window.get_by_text("已上传：租赁合同.pdf")).to_be_visible()
    # An HTML page renamed .pdf is refused with the allowed types named.
    articles = window.locator("tr[data-material=articles_of_association]")
    articles.locator("input[type=file]").set_input_files(str(fake))
    articles.get_by_role("button", name="上传").click()
    expect(window.get_by_text(re.compile("只能上传 PDF、JPG/JPEG、PNG 或 OFD"))).to_be_visible()
    expect(window.locator("tr[data-material=legal_rep_id_card] .file-row")).to_contain_text("法定代表人身份证.png")
    window.locator("#materials").scroll_into_view_if_needed()
    hall.shot(window, "window-materials")
    assert MaterialFile.objects.filter(case=opened.case).count() == 2

    # 2. 受理: the departments start; the materials can no longer be removed.
    window.get_by_role("button", name="受理", exact=True).click()
    expect(window.get_by_text("已受理，各部门开始并联审查")).to_be_visible()
    expect(window.locator("#materials").get_by_role("button", name="删除")).to_have_count(0)

    # 3. Market regulation's task page previews the scan (decoded by the browser) and the PDF.
    market = hall.staff("market1")
    task = HumanTask.objects.get(case=opened.case, lane="market_regulation")
    market.goto(f"{hall.base}/tasks/{task.pk}/")
    image = market.locator("figure.file-preview img")
    expect(image).to_have_count(1)
    image.scroll_into_view_if_needed()
    market.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())
    assert image.evaluate("img => img.naturalWidth") == 64
    expect(market.locator("figure.file-preview iframe")).to_have_count(1)
    expect(market.locator("figure.file-preview")).to_contain_text(["法定代表人身份证.png", "租赁合同.pdf"])
    market.locator("figure.file-preview iframe").scroll_into_view_if_needed()
    market.wait_for_timeout(1500)  # Chromium's PDF viewer paints the page a moment after the frame loads
    hall.shot(market, "task-preview")
