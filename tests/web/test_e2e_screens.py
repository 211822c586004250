"""The remaining screens in a real browser (Debian's Chromium, headless), on one accepted 企业开办 case: a reviewer
hands the task to a colleague (转办), a department starts and ends a hearing (the clock stops), asks for an
extension that the supervisor approves, the window re-issues the lost query code after the identity check, and
the applicant withdraws on the status page with the new code. Screens go to test-output/screenshots/ as
``screens-NN-*.png`` (the folder of tests/web/test_e2e.py, whose own files this test leaves alone).

Same setup as tests/web/test_e2e.py (imported from it): /usr/bin/chromium and the playwright +
pytest-playwright packages.
"""

import re

import pytest

# First: the browser setup of tests/web/test_e2e.py, which skips the module when Chromium or Playwright is missing.
from tests.web import test_e2e as e2e
from tests.web.test_e2e import PHONE, SHOTS, browser_type_launch_args  # noqa: F401  (the launch-args fixture)

pytest.importorskip("playwright", reason="playwright is not installed: pip install -e '.[dev]'")

from playwright.sync_api import expect

from tests.conftest import APPLICANT, DEMO_PASSWORD, ENTERPRISE_FORM, handed_in
from workflow import services
from workflow.demo import load_demo
from workflow.lifecycle import CaseStatus
from workflow.models import Case, ClockPause, DeadlineExtension, HumanTask, HumanTaskState, Staff

PREFIX = "screens"


@pytest.fixture
def demo(transactional_db):
    """Loaded inside the test: a transactional test empties the database when it ends."""
    load_demo(password=DEMO_PASSWORD)


@pytest.fixture
def hall(live_server, browser):
    hall = e2e.Hall(browser, live_server.url, prefix=PREFIX)
    yield hall
    hall.close()


@pytest.mark.django_db(transaction=True)
def test_reassign_clock_query_code_and_withdrawal(hall, demo, django_user_model):
    # The case is opened and accepted through the services (the window's screens have their own browser test).
    window_user = django_user_model.objects.get(username="window1")
    opened = services.case_open(
        user=window_user,
        one_thing_key="enterprise_start",
        applicant=APPLICANT,
        form=dict(ENTERPRISE_FORM),
        materials=handed_in(),
    )
    case_no = opened.case.case_no
    services.case_accept(user=window_user, case_no=case_no)
    colleague = django_user_model.objects.create_user("tax2", first_name="税务 王二")
    Staff.objects.create(user=colleague, role="reviewer", department_id="tax")
    tax_task = HumanTask.objects.get(case__case_no=case_no, department_id="tax", state=HumanTaskState.OPEN)
    market_task = HumanTask.objects.get(
        case__case_no=case_no, department_id="market_regulation", state=HumanTaskState.OPEN
    )

    # 1. 转办: tax1 hands the tax review to a colleague, with a reason.
    tax = hall.staff("tax1")
    tax.goto(f"{hall.base}/tasks/{tax_task.pk}/")
    tax.get_by_text("转办给本部门同事").click()
    tax.get_by_label("转办给").select_option("tax2")
    tax.get_by_label("转办理由").fill("该企业由王二对口联系")
    hall.shot(tax, "task-reassign")
    tax.get_by_role("button", name="转办", exact=True).click()
    expect(tax.get_by_text("已转办给 税务 王二")).to_be_visible()
    expect(tax.get_by_text("该任务已由 税务 王二 认领办理")).to_be_visible()
    hall.shot(tax, "task-reassigned")
    tax_task.refresh_from_db()
    assert tax_task.assignee == colleague

    # 2. 特别程序: market regulation holds a hearing; the clock stops, then runs again.
    market = hall.staff("market1")
    market.goto(f"{hall.base}/tasks/{market_task.pk}/")
    market.get_by_text("启动特别程序（暂停计时）").click()
    market.get_by_label("特别程序").select_option("hearing")
    market.get_by_label("事由（将告知申请人）").fill("涉及相邻权利人重大利益，依申请举行听证")
    hall.shot(market, "task-procedure-form")
    market.get_by_role("button", name="启动并暂停计时").click()
    expect(market.get_by_text("已启动特别程序：听证，期间暂停计时")).to_be_visible()
    expect(market.get_by_test_id("clock-panel")).to_contain_text("暂停计时")
    hall.shot(market, "task-procedure-started")
    market.get_by_role("button", name="结束听证，恢复计时").click()
    expect(market.get_by_text(re.compile("特别程序已结束：听证"))).to_be_visible()
    hall.shot(market, "task-procedure-ended")
    assert ClockPause.objects.get(case__case_no=case_no, kind="hearing").ended_at is not None

    # 3. 延期: market regulation asks for 3 working days; the supervisor approves.
    before = Case.objects.get(case_no=case_no).promised_due_date
    market.get_by_text("申请延期").click()
    market.get_by_label("延长工作日数").fill("3")
    market.get_by_label("延期理由（将告知申请人）").fill("需现场核查经营场所")
    market.get_by_role("button", name="提交延期申请").click()
    expect(market.get_by_text("已提交延期申请（3 个工作日），待效能监督负责人批准")).to_be_visible()
    hall.shot(market, "task-extension-requested")

    supervisor = hall.staff("supervisor1")
    supervisor.get_by_role("link", name="延期审批").click()
    row = supervisor.locator("table.extensions tbody tr", has_text=case_no)
    expect(row).to_contain_text("需现场核查经营场所")
    hall.shot(supervisor, "extensions-pending")
    row.get_by_role("button", name="批准", exact=True).click()
    expect(supervisor.get_by_text(f"已批准办件 {case_no} 的延期申请（3 个工作日）")).to_be_visible()
    hall.shot(supervisor, "extensions-approved")
    assert DeadlineExtension.objects.get(case__case_no=case_no).days == 3
    assert Case.objects.get(case_no=case_no).promised_due_date > before

    # 4. 补发查询码: the applicant lost the code; the window checks the identity document and re-issues it.
    window = hall.staff("window1")
    window.goto(f"{hall.base}/cases/{case_no}/")
    expect(window.get_by_test_id("clock-panel")).to_contain_text("经")
    hall.shot(window, "case-clock-and-tools")
    window.get_by_role("link", name="补发查询码").click()
    window.get_by_label("申请人证件号码").fill("110105199003070018")
    window.get_by_label("已当面核验申请人身份证件原件").check()
    window.get_by_role("button", name="核验并补发").click()
    expect(window.get_by_text("证件号码与办件登记的申请人不一致，不能补发查询码")).to_be_visible()
    hall.shot(window, "query-code-identity-error")
    window.get_by_label("申请人证件号码").fill(APPLICANT["id_number"])
    window.get_by_label("已当面核验申请人身份证件原件").check()
    window.get_by_role("button", name="核验并补发").click()
    expect(window.get_by_text("新查询码只显示这一次")).to_be_visible()
    code = window.get_by_test_id("query-code").inner_text().strip()
    assert re.fullmatch(r"[0-9A-Z]{8}", code) and code != opened.query_code
    hall.shot(window, "query-code-issued")

    # 5. 撤回: the applicant, on a phone, with the new code, withdraws after a confirmation page.
    page = hall.new_page(PHONE)
    page.goto(f"{hall.base}/status/")
    page.get_by_label("办件编号").fill(case_no)
    page.get_by_label("查询码").fill(code)
    page.get_by_role("button", name="查询").click()
    expect(page.get_by_test_id("status-result")).to_contain_text("审查中")
    page.get_by_text("撤回申请", exact=True).click()
    page.get_by_label("撤回原因").fill("经营计划调整，暂不开办")
    hall.shot(page, "status-phone-withdraw")
    page.get_by_role("button", name="撤回申请…").click()
    expect(page.get_by_test_id("withdraw-confirm")).to_contain_text("经营计划调整，暂不开办")
    hall.shot(page, "status-phone-withdraw-confirm")
    page.get_by_role("button", name="确认撤回").click()
    expect(page.get_by_text("您的申请已撤回，办理终止")).to_be_visible()
    expect(page.get_by_test_id("status-result")).to_contain_text("已撤回")
    hall.shot(page, "status-phone-withdrawn")

    case = Case.objects.get(case_no=case_no)
    assert case.status == CaseStatus.WITHDRAWN
    assert not HumanTask.objects.filter(case=case, state=HumanTaskState.OPEN).exists()
    assert hall.count >= 14
