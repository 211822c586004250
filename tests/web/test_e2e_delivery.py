"""Issue 17 in a real browser (Debian's Chromium, headless): the window chooses 邮寄送达 and names an agent at
intake, mails the result, the mailing comes back, the choice reopens and the agent collects it at the window
(一窗通取: identity, every item ticked, a signature on the pad) — the case is concluded with two trips; and an
electronic delivery proven by the applicant's first download on a phone. Screens go to test-output/screenshots/ as
``delivery-post-NN-*.png`` and ``delivery-electronic-NN-*.png``.

Same setup as tests/web/test_e2e.py (imported from it): /usr/bin/chromium and the playwright +
pytest-playwright packages.
"""

import datetime as dt
import re

import pytest

from tests.web import test_e2e as e2e
from tests.web.test_e2e import SHOTS, applicant_lookup, browser_type_launch_args  # noqa: F401  (launch args)

pytest.importorskip("playwright", reason="playwright is not installed: pip install -e '.[dev]'")

from playwright.sync_api import Page, expect

from tests.conftest import APPLICANT, DEMO_PASSWORD, ENTERPRISE_FORM, REVIEWER_OF, handed_in
from workflow import services
from workflow.demo import load_demo
from workflow.models import Case, HumanTask, HumanTaskState

PREFIX = "delivery"
AGENT_ID = "11010519491231002X"


@pytest.fixture
def demo(transactional_db):
    load_demo(password=DEMO_PASSWORD)


@pytest.fixture
def hall(live_server, browser):
    hall = e2e.Hall(browser, live_server.url, prefix=None)
    yield hall
    hall.close()


def approve_all(users: dict, case_no: str) -> None:
    for department, reviewer in REVIEWER_OF.items():
        task = HumanTask.objects.get(case__case_no=case_no, lane=department, state=HumanTaskState.OPEN)
        services.human_task_complete(user=users[reviewer], task_id=task.pk, decision="approve")


def fill_enterprise_form(window: Page) -> None:
    window.fill("#id_applicant-name", APPLICANT["name"])
    window.fill("#id_applicant-id_number", APPLICANT["id_number"])
    window.fill("#id_applicant-phone", APPLICANT["phone"])
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


@pytest.mark.django_db(transaction=True)
def test_post_returned_then_the_agent_collects_at_the_window(hall, demo, django_user_model):
    hall.begin(f"{PREFIX}-post")
    users = {u.username: u for u in django_user_model.objects.all()}

    # 1. Intake: 邮寄送达 with an address, an agent (经办人) with the authorisation letter; opened and accepted.
    window = hall.staff("window1")
    window.goto(f"{hall.base}/window/new/enterprise_start/")
    fill_enterprise_form(window)
    address = window.locator("[data-delivery-address]")
    expect(address).to_be_hidden()
    window.check("input[name=delivery_method][value=post]")
    expect(address).to_be_visible()
    window.fill("#delivery_recipient", "王䶮")
    window.fill("#delivery_phone", "13800138000")
    window.fill("#delivery_address", "北京市朝阳区示范路 1 号 3 单元 101")
    window.fill("#agent_name", "李四")
    window.fill("#agent_id_number", AGENT_ID)
    window.check("input[name=authorisation_letter]")
    hall.shot(window, "intake-delivery-agent")
    window.get_by_role("button", name="收件并受理").click()
    expect(window.get_by_text("查询码只显示这一次")).to_be_visible()
    case_no = window.get_by_test_id("case-no").inner_text().strip()
    case = Case.objects.get(case_no=case_no)
    assert case.delivery_method == "post" and case.agent_name == "李四" and case.status == "in_review"
    assert case.delivery_address["address"] == "北京市朝阳区示范路 1 号 3 单元 101" and case.trips == 1

    # 2. The result: mailed with a waybill; the case page says where it is.
    approve_all(users, case_no)
    window.goto(f"{hall.base}/cases/{case_no}/")
    expect(window.get_by_test_id("delivery-where")).to_contain_text("办理结果在综合窗口，待邮寄")
    expect(window.get_by_role("button", name="办结")).to_have_count(0)  # no 办结 without proof
    window.fill("#waybill", "EMS1234567890")
    window.get_by_role("button", name="登记已寄出").click()
    expect(window.get_by_test_id("delivery-where")).to_contain_text("已寄出（中国邮政EMS EMS1234567890）")
    hall.shot(window, "mailed")

    # 3. The carrier reports it returned: the choice reopens; the window switches to 窗口领取.
    services.delivery_status_update(
        waybill="EMS1234567890", status="returned", occurred_at=dt.datetime.now(dt.UTC), source="webhook"
    )
    window.reload()
    expect(window.get_by_test_id("delivery-where")).to_contain_text("邮件被退回")
    hall.shot(window, "returned")
    change = window.locator("details.change-delivery")
    change.locator("input[name=delivery_method][value=pickup]").check()
    change.get_by_role("button", name="保存送达方式").click()
    expect(window.get_by_text("已变更送达方式")).to_be_visible()
    expect(window.get_by_test_id("delivery-where")).to_contain_text("办理结果在综合窗口，待申请人领取")

    # 4. 一窗通取: the agent collects; identity, every item, the signature; concluded, two trips.
    expect(window.locator("form[data-handover] input[name=item]")).to_have_count(8)
    e2e.hand_over_on_screen(window, AGENT_ID, agent=True)
    expect(window.get_by_text("办理结果已当面交付，办件已办结")).to_be_visible()
    expect(window.get_by_test_id("trips")).to_have_text("2")
    expect(window.locator(".timeline")).to_contain_text("经办人李四签收")
    hall.shot(window, "handed-over")
    case.refresh_from_db()
    assert case.status == "concluded" and case.delivery_status == "handed_over" and case.trips == 2


@pytest.mark.django_db(transaction=True)
def test_electronic_delivery_is_proven_by_the_applicants_download(
    hall, demo, django_user_model, settings, signing_certificate, tmp_path
):
    for name, value in signing_certificate.items():
        setattr(settings, name, value)
    settings.ONETHING_PRIVATE_MEDIA_ROOT = str(tmp_path / "private")
    hall.begin(f"{PREFIX}-electronic")
    users = {u.username: u for u in django_user_model.objects.all()}
    opened = services.case_open(
        user=users["window1"],
        one_thing_key="enterprise_start",
        applicant=APPLICANT,
        form=dict(ENTERPRISE_FORM),
        materials=handed_in(),
        delivery={"method": "electronic"},
    )
    case_no, code = opened.case.case_no, opened.query_code
    services.case_accept(user=users["window1"], case_no=case_no)
    approve_all(users, case_no)
    services.document_issue(case_id=opened.case.pk, key="conclusion_notice")

    phone = hall.phone()
    applicant_lookup(hall, phone, case_no, code)
    expect(phone.get_by_test_id("status-delivery")).to_contain_text("待申请人下载")
    hall.shot(phone, "electronic-waiting")
    with phone.expect_download():
        phone.get_by_role("button", name="办结通知书").click()
    case = Case.objects.get(case_no=case_no)
    assert case.status == "concluded" and case.delivery_status == "downloaded" and case.trips == 1
    applicant_lookup(hall, phone, case_no, code)
    expect(phone.get_by_test_id("status-delivery")).to_contain_text("办理结果已由申请人下载（电子送达）")
    expect(phone.get_by_test_id("status-result")).to_contain_text("已办结")
    hall.shot(phone, "electronic-downloaded")

    window = hall.staff("window1")
    window.goto(f"{hall.base}/cases/{case_no}/")
    expect(window.get_by_test_id("delivery-where")).to_contain_text(re.compile("已由申请人下载"))
    hall.shot(window, "electronic-case-page")
