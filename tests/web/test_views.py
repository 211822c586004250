"""The hall's screens through Django's test client: who may open what, and each screen's own rules."""

import base64
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests import upload_samples
from tests.conftest import APPLICANT, ENTERPRISE_FORM, hand_over
from tests.upload_samples import png
from workflow import selectors, services
from workflow.lifecycle import CaseStatus
from workflow.models import Case, HumanTask, HumanTaskState

pytestmark = pytest.mark.django_db


def open_task(case, department):
    return HumanTask.objects.get(case=case, department_id=department, state=HumanTaskState.OPEN)


def form_post(form: dict, *, materials=("registration_application", "articles_of_association", "premises_proof")):
    """The one form as the browser posts it."""
    data = {
        "applicant-name": APPLICANT["name"],
        "applicant-id_number": APPLICANT["id_number"],
        "applicant-phone": APPLICANT["phone"],
        "material": list(materials),
        "action": "open",
    }
    for name, value in form.items():
        if isinstance(value, bool):
            data[f"f_{name}"] = "true" if value else "false"
        elif isinstance(value, list):
            data[f"f_{name}"] = value
        else:
            data[f"f_{name}"] = str(value)
    return data


def required_materials(case_or_one_thing=None):
    from workflow.models import OneThing

    merged = OneThing.objects.get(key="enterprise_start").merged_form
    return [m["code"] for m in merged["materials"] if m["required"] and m["source"] != "e_licence"]


# --------------------------------------------------------------------------- who may open what


STAFF_PAGES = ["/", "/window/", "/window/new/enterprise_start/", "/tasks/", "/dashboard/", "/dashboard/cases.csv"]


@pytest.mark.parametrize("url", STAFF_PAGES)
def test_anonymous_is_sent_to_login(web_client, demo, url):
    response = web_client(None).get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")


def test_anonymous_is_sent_to_login_from_case_and_task_pages(web_client, accepted):
    client = web_client(None)
    case_no = accepted.case.case_no
    task = open_task(accepted.case, "tax")
    for url in (f"/cases/{case_no}/", f"/cases/{case_no}/diagram.json", f"/tasks/{task.pk}/"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/"), url
    response = client.post(f"/cases/{case_no}/conclude/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_window_only_pages_are_forbidden_to_reviewers_and_supervisors(web_client, opened):
    case_no = opened.case.case_no
    for username in ("police1", "supervisor1"):
        client = web_client(username)
        for url in ("/window/", "/window/new/enterprise_start/", f"/cases/{case_no}/receipt/"):
            assert client.get(url).status_code == 403, (username, url)
        for url in (
            f"/cases/{case_no}/accept/",
            f"/cases/{case_no}/refuse/",
            f"/cases/{case_no}/conclude/",
            f"/cases/{case_no}/handover/",
            f"/cases/{case_no}/mail/",
            f"/cases/{case_no}/delivery/",
        ):
            assert client.post(url, {"reasons": "x"}).status_code == 403, (username, url)
    assert Case.objects.get(case_no=case_no).status == CaseStatus.RECEIVED


def test_forbidden_page_is_chinese(web_client, demo):
    response = web_client("tax1").get("/window/")
    assert response.status_code == 403
    assert "无权访问此页面" in response.content.decode()


def test_dashboard_is_for_supervisors(web_client, demo):
    assert web_client("window1").get("/dashboard/").status_code == 403
    assert web_client("market1").get("/dashboard/").status_code == 403
    assert web_client("supervisor1").get("/dashboard/").status_code == 200
    assert web_client("admin").get("/dashboard/").status_code == 200


def test_reviewer_cannot_open_another_departments_task(web_client, accepted):
    tax_task = open_task(accepted.case, "tax")
    police = web_client("police1")
    response = police.get(f"/tasks/{tax_task.pk}/")
    assert response.status_code == 404
    assert police.post(f"/tasks/{tax_task.pk}/", {"decision": "approve"}).status_code == 404
    assert web_client("tax1").get(f"/tasks/{tax_task.pk}/").status_code == 200
    tax_task.refresh_from_db()
    assert tax_task.state == HumanTaskState.OPEN


def test_reviewer_cannot_open_a_case_without_their_department(web_client, accepted):
    case_no = accepted.case.case_no
    assert web_client("health1").get(f"/cases/{case_no}/").status_code == 404
    assert web_client("health1").get(f"/cases/{case_no}/diagram.json").status_code == 404
    assert web_client("market1").get(f"/cases/{case_no}/").status_code == 200


def test_unknown_case_and_task_are_404(web_client, demo):
    client = web_client("window1")
    assert client.get("/cases/11010520990101000001/").status_code == 404
    assert client.get("/tasks/999999/").status_code == 404
    assert "未找到" in client.get("/cases/11010520990101000001/").content.decode()


def test_home_sends_each_role_to_its_screen(web_client, demo):
    assert web_client("window1").get("/")["Location"] == "/window/"
    assert web_client("tax1").get("/")["Location"] == "/tasks/"
    assert web_client("supervisor1").get("/")["Location"] == "/dashboard/"


# --------------------------------------------------------------------------- login


def test_login_with_a_wrong_password_says_so_in_chinese(client, demo):
    response = client.post("/login/", {"username": "window1", "password": "wrong"})
    assert response.status_code == 200
    assert "用户名或密码不正确" in response.content.decode()


def test_login_and_logout(client, demo):
    from tests.conftest import DEMO_PASSWORD

    response = client.post("/login/", {"username": "tax1", "password": DEMO_PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/tasks/"
    assert client.get("/tasks/").status_code == 200
    response = client.post("/logout/")
    assert response.status_code == 302 and response["Location"] == "/login/"
    assert client.get("/tasks/").status_code == 302


def test_login_is_throttled(client, demo, monkeypatch):
    from web.throttles import LoginThrottle

    monkeypatch.setattr(LoginThrottle, "rate", "2/min", raising=False)
    for _ in range(2):
        assert client.post("/login/", {"username": "window1", "password": "wrong"}).status_code == 200
    response = client.post("/login/", {"username": "window1", "password": "wrong"})
    assert response.status_code == 429
    assert "登录尝试过于频繁" in response.content.decode()


# --------------------------------------------------------------------------- the window


def test_window_home_lists_one_things_and_work(web_client, opened):
    body = web_client("window1").get("/window/").content.decode()
    assert "企业开办一件事" in body and "新生儿出生一件事" in body
    assert opened.case.case_no in body  # 待受理


def test_form_is_rendered_from_the_merged_schema(web_client, demo):
    body = web_client("window1").get("/window/new/enterprise_start/").content.decode()
    assert "共同信息" in body  # the shared section first
    assert 'name="f_enterprise_name"' in body
    assert '<option value="有限责任公司">' in body  # enum → select
    assert 'name="f_invoice_needed" value="true"' in body  # boolean → 是/否
    assert 'type="checkbox" name="f_seal_types" value="财务专用章"' in body  # array of enum → checkboxes
    assert 'name="f_business_scope"' in body and "<textarea" in body
    assert "公司章程" in body  # the materials checklist
    assert 'data-material="business_licence"' not in body  # what the one-thing itself issues is never asked
    newborn = web_client("window1").get("/window/new/newborn/").content.decode()
    assert "电子证照 免提交" in newborn  # 结婚证 comes from the e-licence library


def test_form_errors_are_chinese_and_next_to_their_fields(web_client, demo):
    form = {**ENTERPRISE_FORM, "legal_representative_id": "110105199003070018", "registered_capital": "一百"}
    del form["enterprise_name"]
    response = web_client("window1").post(
        "/window/new/enterprise_start/", {**form_post(form, materials=()), "applicant-phone": "12345"}
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "请填写企业名称" in body
    assert "法定代表人身份证号的校验位不正确，请核对。例：11010519491231002X" in body
    assert "注册资本（万元）应为数字" in body
    assert "手机号码应为 11 位数字" in body
    assert "请核对并勾选必交材料：" in body and "公司章程" in body
    # what was typed stays in the form
    assert 'value="110105199003070018"' in body
    assert not Case.objects.exists()


def test_open_shows_the_query_code_once_then_accept(web_client, demo):
    client = web_client("window1")
    response = client.post("/window/new/enterprise_start/", form_post(ENTERPRISE_FORM, materials=required_materials()))
    assert response.status_code == 302
    case = Case.objects.get()
    assert response["Location"] == f"/cases/{case.case_no}/receipt/"
    assert case.form_data == ENTERPRISE_FORM
    assert case.applicant_name == APPLICANT["name"]

    body = client.get(response["Location"]).content.decode()
    code = re.search(r'data-testid="query-code">([0-9A-Z]{8})<', body).group(1)
    from workflow import query_codes

    assert query_codes.matches(code, case.query_code_hash)
    assert "公司章程" in body  # the materials that were ticked
    assert "<svg" in body  # the QR code to the status page
    again = client.get(response["Location"]).content.decode()
    assert code not in again and "查询码已在收件时显示" in again

    response = client.post(f"/cases/{case.case_no}/accept/", {"opinion": "材料齐全"})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == CaseStatus.IN_REVIEW
    assert "已受理" in client.get(response["Location"]).content.decode()


def test_open_and_accept_in_one_go(web_client, demo):
    client = web_client("window1")
    data = {**form_post(ENTERPRISE_FORM, materials=required_materials()), "action": "accept"}
    assert client.post("/window/new/enterprise_start/", data).status_code == 302
    assert Case.objects.get().status == CaseStatus.IN_REVIEW


def test_refuse_needs_reasons(web_client, opened):
    client = web_client("window1")
    case_no = opened.case.case_no
    response = client.post(f"/cases/{case_no}/refuse/", {"reasons": " "}, follow=True)
    assert "请填写不予受理的理由" in response.content.decode()
    assert Case.objects.get(case_no=case_no).status == CaseStatus.RECEIVED
    client.post(f"/cases/{case_no}/refuse/", {"reasons": "不属于本中心受理范围"})
    assert Case.objects.get(case_no=case_no).status == CaseStatus.NOT_ACCEPTED


def test_accepting_twice_is_a_message_not_an_error(web_client, accepted):
    response = web_client("window1").post(f"/cases/{accepted.case.case_no}/accept/", follow=True)
    assert response.status_code == 200
    assert "办件当前状态不允许此操作" in response.content.decode()


# --------------------------------------------------------------------------- departments


def test_inbox_shows_only_my_departments_open_tasks(web_client, accepted):
    body = web_client("tax1").get("/tasks/").content.decode()
    assert accepted.case.case_no in body and "涉税事项审查" in body
    assert "营业执照审查" not in body
    assert web_client("health1").get("/tasks/").content.decode().count(accepted.case.case_no) == 0


def test_task_page_puts_my_departments_fields_first(web_client, accepted):
    task = open_task(accepted.case, "tax")
    body = web_client("tax1").get(f"/tasks/{task.pk}/").content.decode()
    own, rest = body.split("申请表其他字段", 1)
    assert "申领发票" in own  # tax's own field
    assert "刻制印章数量" not in own and "刻制印章数量" in rest  # police's field comes later
    assert "财务负责人身份证件" in body  # materials tax needs


def test_reviewer_sees_other_departments_progress_but_not_their_opinions(web_client, accepted, users):
    case = accepted.case
    services.human_task_complete(
        user=users["market1"],
        task_id=open_task(case, "market_regulation").pk,
        decision="approve",
        opinion="准予登记XYZ",
    )
    for url in (f"/tasks/{open_task(case, 'tax').pk}/", f"/cases/{case.case_no}/"):
        body = web_client("tax1").get(url).content.decode()
        assert "区市场监督管理局" in body
        assert "准予登记XYZ" not in body, url
        assert "营业执照审查（准予）" not in body, url
    assert "准予登记XYZ" in web_client("window1").get(f"/cases/{case.case_no}/").content.decode()


def test_need_correction_without_items_is_refused_with_chinese_messages(web_client, accepted):
    task = open_task(accepted.case, "public_security")
    response = web_client("police1").post(f"/tasks/{task.pk}/", {"decision": "need_correction", "opinion": ""})
    assert response.status_code == 400
    body = response.content.decode()
    assert "不予许可或要求补正时必须填写意见和理由" in body
    assert "要求补正时请逐项列出需要补正的内容" in body
    task.refresh_from_db()
    assert task.state == HumanTaskState.OPEN


def test_decisions_through_the_task_page(web_client, accepted):
    case = accepted.case
    police = open_task(case, "public_security")
    response = web_client("police1").post(
        f"/tasks/{police.pk}/",
        {
            "decision": "need_correction",
            "opinion": "请补正印章数量",
            "correction_item": ["seal_count", "", ""],
            "correction_reason": ["印章数量与申请不一致", "", ""],
        },
    )
    assert response.status_code == 302 and response["Location"] == "/tasks/"
    police.refresh_from_db()
    assert police.decision == "need_correction"
    assert police.corrections == [{"item": "seal_count", "reason": "印章数量与申请不一致"}]
    for username, department in (("market1", "market_regulation"), ("tax1", "tax")):
        task = open_task(case, department)
        assert web_client(username).post(f"/tasks/{task.pk}/", {"decision": "approve"}).status_code == 302
    case.refresh_from_db()
    assert case.status == CaseStatus.CORRECTION_REQUIRED
    # the task page of a decided task shows the decision, not the form
    body = web_client("police1").get(f"/tasks/{police.pk}/").content.decode()
    assert "提交决定" not in body and "刻制印章数量：印章数量与申请不一致" in body


def test_correction_item_without_reason(web_client, accepted):
    task = open_task(accepted.case, "public_security")
    response = web_client("police1").post(
        f"/tasks/{task.pk}/",
        {"decision": "need_correction", "opinion": "x", "correction_item": ["address"], "correction_reason": [""]},
    )
    assert response.status_code == 400
    assert "每一项补正都要写明理由" in response.content.decode()


# --------------------------------------------------------------------------- corrections and conclusion


@pytest.fixture
def correction_required(accepted, users, settings, tmp_path):
    settings.ONETHING_PRIVATE_MEDIA_ROOT = str(tmp_path / "private")
    case = accepted.case
    for department, username in (("market_regulation", "market1"), ("tax", "tax1")):
        services.human_task_complete(user=users[username], task_id=open_task(case, department).pk, decision="approve")
    services.human_task_complete(
        user=users["police1"],
        task_id=open_task(case, "public_security").pk,
        decision="need_correction",
        opinion="请补正",
        corrections=[{"item": "seal_count", "reason": "印章数量不一致"}, {"item": "公司章程", "reason": "缺页"}],
    )
    case.refresh_from_db()
    assert case.status == CaseStatus.CORRECTION_REQUIRED
    return accepted


def test_combined_correction_view_and_window_keyed_correction(web_client, correction_required):
    case = correction_required.case
    client = web_client("window1")
    body = client.get(f"/cases/{case.case_no}/correction/").content.decode()
    assert "公安分局" in body and "刻制印章数量" in body and "印章数量不一致" in body and "公司章程" in body
    assert "需补正 — 公安分局：印章数量不一致" in body  # the asked field is singled out

    response = client.post(f"/cases/{case.case_no}/correction/", {"f_seal_count": "0"})
    assert response.status_code == 400
    assert "刻制印章数量不能小于 1" in response.content.decode()

    assert 'name="materials.articles_of_association"' in body  # the asked material has its upload

    response = client.post(f"/cases/{case.case_no}/correction/", {"f_seal_count": "3"})
    assert response.status_code == 400  # the asked material is missing, and named
    assert "补正不完整" in response.content.decode() and "请上传需补正的材料“公司章程”" in response.content.decode()

    response = client.post(
        f"/cases/{case.case_no}/correction/", {"f_seal_count": "3", "materials.articles_of_association": _pdf()}
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == CaseStatus.IN_REVIEW and case.form_data["seal_count"] == 3
    # only the department that asked reviews again
    assert list(HumanTask.objects.filter(case=case, state="open").values_list("department_id", flat=True)) == [
        "public_security"
    ]
    body = web_client("police1").get(f"/tasks/{open_task(case, 'public_security').pk}/").content.decode()
    assert "申请人已补正" in body and "补正后重新审查" in body


def _pdf(name="公司章程.pdf"):
    return SimpleUploadedFile(name, upload_samples.pdf(), content_type="application/pdf")


def test_conclude(web_client, correction_required, users):
    case = correction_required.case
    services.case_correction_submit(
        case_no=case.case_no, changes={"seal_count": 3}, files={"articles_of_association": [_pdf()]}
    )
    services.human_task_complete(
        user=users["police1"], task_id=open_task(case, "public_security").pk, decision="approve"
    )
    client = web_client("window1")
    page = client.get(f"/cases/{case.case_no}/").content.decode()
    assert "一窗通取：当面交付" in page and "办理结果在综合窗口，待申请人领取" in page and "营业执照正本" in page
    # 办结 without a proven delivery is refused; the handover (identity, every item, the pad's signature) concludes.
    refused = client.post(f"/cases/{case.case_no}/conclude/", follow=True).content.decode()
    assert "尚未证明送达" in refused
    case.refresh_from_db()
    assert case.status == CaseStatus.APPROVED
    items = selectors.delivery_view(case).handover_items
    form = {
        "recipient_kind": "applicant",
        "recipient_id_type": "resident_id",
        "recipient_id_number": case.applicant_id_number,
        "identity_method": "id_card_onsite",
        "item": items[:-1],
        "signature_pad": "data:image/png;base64," + base64.b64encode(png()).decode(),
    }
    missing = client.post(f"/cases/{case.case_no}/handover/", form, follow=True).content.decode()
    assert "未勾选：" + items[-1] in missing
    done = client.post(f"/cases/{case.case_no}/handover/", {**form, "item": items}, follow=True).content.decode()
    assert "办理结果已在窗口当面交付" in done and "已当面领取" in done
    case.refresh_from_db()
    assert case.status == CaseStatus.CONCLUDED and case.trips == 2


def test_post_delivery_on_the_case_page(web_client, correction_required, users):
    case = correction_required.case
    services.case_correction_submit(
        case_no=case.case_no, changes={"seal_count": 3}, files={"articles_of_association": [_pdf()]}
    )
    services.human_task_complete(
        user=users["police1"], task_id=open_task(case, "public_security").pk, decision="approve"
    )
    client = web_client("window1")
    address = {"delivery_recipient": "王䶮", "delivery_phone": "13800138000", "delivery_address": "示范区示范路 1 号"}
    client.post(f"/cases/{case.case_no}/delivery/", {"delivery_method": "post", **address})
    page = client.get(f"/cases/{case.case_no}/").content.decode()
    assert "邮寄送达：登记寄出" in page and "办理结果在综合窗口，待邮寄" in page
    client.post(f"/cases/{case.case_no}/mail/", {"carrier": "中国邮政EMS", "waybill": "EMS0000000001"})
    case.refresh_from_db()
    assert case.delivery_status == "sent" and case.delivery_waybill == "EMS0000000001"
    assert "已寄出（中国邮政EMS EMS0000000001），等待妥投" in client.get(f"/cases/{case.case_no}/").content.decode()


# --------------------------------------------------------------------------- the case page and its diagram


def test_case_page_and_diagram(web_client, accepted):
    case = accepted.case
    client = web_client("window1")
    body = client.get(f"/cases/{case.case_no}/").content.decode()
    assert "办理过程" in body and "窗口收件" in body and "已受理" in body
    assert "bpmn-navigated-viewer.production.min.js" in body and "https://" not in body.split("<body")[0]
    data = client.get(f"/cases/{case.case_no}/diagram.json").json()
    assert data["current"] == ["review_market_regulation", "review_public_security", "review_tax"]
    assert data["finished"] == ["window_accept"]
    assert 'name="公安分局"' in data["xml"] and 'name="public_security"' not in data["xml"]
    assert "<bpmndi:BPMNDiagram" in data["xml"]


# --------------------------------------------------------------------------- dashboard


def test_dashboard_and_csv(web_client, correction_required):
    client = web_client("supervisor1")
    body = client.get("/dashboard/").content.decode()
    for text in ("办结率", "即办件占比", "时限压减率", "平均办理用时", "黄牌", "企业开办一件事", "<svg"):
        assert text in body, text
    response = client.get("/dashboard/cases.csv")
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff办件编号,一件事,状态")
    assert correction_required.case.case_no in text and "待补正" in text
    assert APPLICANT["id_number"] not in text


# --------------------------------------------------------------------------- the public status page


def test_status_page_form(client, demo):
    response = client.get("/status/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "办件编号" in body and "查询码" in body and 'name="viewport"' in body


def test_status_unknown_case_and_wrong_code_get_the_same_answer(client, opened):
    wrong = client.post("/status/", {"case_no": opened.case.case_no, "query_code": "ZZZZZZZZ"})
    unknown = client.post("/status/", {"case_no": "11010520990101000001", "query_code": opened.query_code})
    assert wrong.status_code == unknown.status_code == 404
    assert "办件编号或查询码不正确" in wrong.content.decode()
    strip = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"|value="[0-9]{20}"')
    assert strip.sub("", wrong.content.decode()) == strip.sub("", unknown.content.decode())


def test_status_bad_case_number(client, demo):
    response = client.post("/status/", {"case_no": "123", "query_code": "X"})
    assert response.status_code == 400
    assert "办件编号应为 20 位数字" in response.content.decode()


def test_status_shows_the_applicants_view(client, accepted):
    response = client.post("/status/", {"case_no": accepted.case.case_no, "query_code": accepted.query_code.lower()})
    assert response.status_code == 200
    body = response.content.decode()
    assert "审查中" in body and "区税务局" in body and "企业开办一件事" in body
    assert "王敏" not in body  # staff names stay inside the hall


def test_status_throttle_is_shared_with_the_api(client, opened, settings):
    from rest_framework.test import APIClient

    case_no = opened.case.case_no
    api = APIClient()
    allowed = int(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["status_lookup_addr_case"].split("/")[0])
    for index in range(allowed):
        # the page's case number with a trailing space (issue 18) reaches the same counter as the API's
        if index % 2:
            assert client.post("/status/", {"case_no": case_no + " ", "query_code": "WRONG234"}).status_code == 404
        else:
            api.post("/api/status", {"case_no": case_no, "query_code": "WRONG234"}, format="json")
    response = client.post("/status/", {"case_no": case_no, "query_code": opened.query_code})
    assert response.status_code == 429
    assert "查询过于频繁" in response.content.decode()
    assert (
        api.post("/api/status", {"case_no": case_no, "query_code": opened.query_code}, format="json").status_code == 429
    )
    # another address holding the right code is not locked out
    other = client.post("/status/", {"case_no": case_no, "query_code": opened.query_code}, REMOTE_ADDR="192.0.2.77")
    assert other.status_code == 200


def test_applicant_correction_through_the_status_page(client, correction_required):
    case = correction_required.case
    lookup = {"case_no": case.case_no, "query_code": correction_required.query_code}
    body = client.post("/status/", lookup).content.decode()
    assert "补正告知" in body and "印章数量不一致" in body and 'name="f_seal_count"' in body
    assert 'name="f_enterprise_name"' not in body  # only the fields the departments named
    assert 'name="materials.articles_of_association"' in body and "公司章程" in body  # uploaded on the phone
    # the note about the material sits above the submit button
    assert body.index("data-material-note") < body.index("提交补正</button>")

    response = client.post("/status/correction/", {**lookup, "f_seal_count": "4"})
    assert response.status_code == 400
    assert "请上传需补正的材料“公司章程”" in response.content.decode()

    response = client.post(
        "/status/correction/", {**lookup, "f_seal_count": "4", "materials.articles_of_association": _pdf()}
    )
    assert response.status_code == 200
    assert "补正已提交" in response.content.decode()
    case.refresh_from_db()
    assert case.status == CaseStatus.IN_REVIEW and case.form_data["seal_count"] == 4


def test_applicant_correction_needs_the_query_code(client, correction_required):
    case = correction_required.case
    response = client.post(
        "/status/correction/", {"case_no": case.case_no, "query_code": "WRONG234", "f_seal_count": "4"}
    )
    assert response.status_code == 404
    case.refresh_from_db()
    assert case.status == CaseStatus.CORRECTION_REQUIRED


# --------------------------------------------------------------------------- claims, 容缺受理, documents, ratings


def test_claim_and_unclaim(web_client, accepted, users):
    task = open_task(accepted.case, "tax")
    tax = web_client("tax1")
    assert "认领" in tax.get(f"/tasks/{task.pk}/").content.decode()
    assert tax.post(f"/tasks/{task.pk}/claim/").status_code == 302
    task.refresh_from_db()
    assert task.assignee == users["tax1"]
    assert "税务 刘洋" in tax.get("/tasks/").content.decode()  # the inbox shows who works on it
    assert tax.post(f"/tasks/{task.pk}/unclaim/").status_code == 302
    task.refresh_from_db()
    assert task.assignee is None
    # claiming is a reviewer's act, and only in their own department
    assert web_client("window1").post(f"/tasks/{task.pk}/claim/").status_code == 403
    assert web_client("police1").post(f"/tasks/{task.pk}/claim/").status_code == 404


def test_a_task_claimed_by_a_colleague_cannot_be_decided_here(web_client, accepted, users, django_user_model):
    from workflow.models import Staff

    colleague = django_user_model.objects.create_user("tax2", first_name="税务 王二")
    Staff.objects.create(user=colleague, role="reviewer", department_id="tax")
    task = open_task(accepted.case, "tax")
    services.human_task_claim(user=colleague, task_id=task.pk)
    tax = web_client("tax1")
    body = tax.get(f"/tasks/{task.pk}/").content.decode()
    assert "该任务已由 税务 王二 认领办理" in body and "提交决定" not in body
    response = tax.post(f"/tasks/{task.pk}/", {"decision": "approve"}, follow=True)
    assert "该任务已办理或您无权办理" in response.content.decode()
    task.refresh_from_db()
    assert task.state == HumanTaskState.OPEN


def test_accept_on_promise(web_client, demo):
    """容缺受理: a deferrable material left out at the window, with the date the applicant promises."""
    import datetime as dt

    from workflow import calendar

    client = web_client("window1")
    promised = calendar.add_working_days(dt.date.today(), 3).isoformat()  # noqa: DTZ011
    materials = [code for code in required_materials() if code != "shareholder_certificate"]
    data = {
        **form_post(ENTERPRISE_FORM, materials=materials),
        "action": "accept",
        "promise_shareholder_certificate": promised,
    }
    response = client.post("/window/new/enterprise_start/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    case = Case.objects.get()
    assert case.status == CaseStatus.IN_REVIEW
    promise = case.promises.get()
    assert promise.material_code == "shareholder_certificate" and promise.due_date.isoformat() == promised
    body = client.get(f"/cases/{case.case_no}/").content.decode()
    assert "容缺承诺" in body and "待补交" in body
    client.post(f"/cases/{case.case_no}/promises/shareholder_certificate/fulfil/")
    promise.refresh_from_db()
    assert promise.fulfilled_at is not None


def test_a_key_material_cannot_be_left_out(web_client, demo):
    materials = [code for code in required_materials() if code != "articles_of_association"]
    response = web_client("window1").post(
        "/window/new/enterprise_start/", form_post(ENTERPRISE_FORM, materials=materials)
    )
    assert response.status_code == 400
    assert "请核对并勾选必交材料：公司章程" in response.content.decode()


@pytest.fixture
def receipt_document(accepted, settings, tmp_path):
    """A stored document row, without rendering a PDF (issuing has its own tests in tests/documents)."""
    import hashlib

    from django.core.files.base import ContentFile

    from workflow.models import Document

    settings.ONETHING_PRIVATE_MEDIA_ROOT = str(tmp_path / "private")
    content = b"%PDF-1.7\n% a receipt\n%%EOF\n"
    document = Document(
        case=accepted.case,
        kind="acceptance_receipt",
        key="acceptance_receipt",
        title="受理回执",
        sha256=hashlib.sha256(content).hexdigest(),
        size=len(content),
        signed=True,
    )
    document.file.save("receipt.pdf", ContentFile(content), save=False)
    document.save()
    return document


def test_documents_for_staff_and_applicant(web_client, client, accepted, receipt_document):
    case, document = accepted.case, receipt_document
    window = web_client("window1")
    assert "受理回执" in window.get(f"/cases/{case.case_no}/").content.decode()
    response = window.get(f"/cases/{case.case_no}/documents/{document.pk}/")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert "attachment" in response["Content-Disposition"]
    assert web_client("health1").get(f"/cases/{case.case_no}/documents/{document.pk}/").status_code == 404

    lookup = {"case_no": case.case_no, "query_code": accepted.query_code}
    assert "文书下载" in client.post("/status/", lookup).content.decode()
    response = client.post(f"/status/documents/{document.pk}/", lookup)
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    wrong = client.post(f"/status/documents/{document.pk}/", {**lookup, "query_code": "WRONG234"})
    assert wrong.status_code == 404 and wrong["Content-Type"].startswith("text/html")
    missing = client.post("/status/documents/999999/", lookup)
    assert missing.status_code == 404 and "未找到该文书" in missing.content.decode()


def test_rating_after_conclusion(client, correction_required, users):
    from workflow.models import Rating

    case = correction_required.case
    lookup = {"case_no": case.case_no, "query_code": correction_required.query_code}
    assert "服务评价" not in client.post("/status/", lookup).content.decode()  # not before the end
    services.case_correction_submit(
        case_no=case.case_no, changes={"seal_count": 3}, files={"articles_of_association": [_pdf()]}
    )
    services.human_task_complete(
        user=users["police1"], task_id=open_task(case, "public_security").pk, decision="approve"
    )
    hand_over(users["window1"], case.case_no)
    body = client.post("/status/", lookup).content.decode()
    assert "服务评价（好差评）" in body and "非常满意" in body
    response = client.post("/status/rating/", lookup)
    assert response.status_code == 400 and "请选择评价等级" in response.content.decode()
    for odd in ("²", "٣", "9" * 5000):  # digits to str.isdigit, not to int(): a 500 before (issue 18)
        assert client.post("/status/rating/", {**lookup, "level": odd, "dim_attitude": odd}).status_code == 400
    response = client.post("/status/rating/", {**lookup, "level": "2", "dim_attitude": "1", "comment": "等太久"})
    assert response.status_code == 200 and "感谢您的评价" in response.content.decode()
    rating = Rating.objects.get(case=case)
    assert rating.level == 2 and rating.dimensions == {"attitude": 1} and rating.comment == "等太久"
    assert "整改工单" in response.content.decode()  # a bad rating opens a rectification order
    body = web_client_get_dashboard(users)
    assert "0.0%" in body  # 好评率: the one rating is bad


def web_client_get_dashboard(users):
    from django.test import Client

    client = Client()
    client.force_login(users["supervisor1"])
    return client.get("/dashboard/").content.decode()


def test_a_promise_needs_acceptance_at_once(web_client, demo):
    materials = [code for code in required_materials() if code != "shareholder_certificate"]
    data = {**form_post(ENTERPRISE_FORM, materials=materials), "promise_shareholder_certificate": "2099-01-01"}
    response = web_client("window1").post("/window/new/enterprise_start/", data)
    assert response.status_code == 400
    assert "须选择“收件并受理”" in response.content.decode()
    assert not Case.objects.exists()


def test_the_search_page_posts_the_id_number_and_lists_only_what_the_caller_may_open(web_client, opened):
    case_no = opened.case.case_no
    form = {"id_number": APPLICANT["id_number"]}
    window = web_client("window1").post("/cases/search/", form)
    assert window.status_code == 200 and case_no in window.content.decode()
    # a reviewer whose department has no task on the received case does not find it
    police = web_client("police1").post("/cases/search/", form).content.decode()
    assert case_no not in police and "没有符合条件的办件" in police
    assert web_client("window1").get("/cases/search/").status_code == 200
    bad = web_client("window1").post("/cases/search/", {"since": "2026-13-01"})
    assert bad.status_code == 400 and "日期格式应为 YYYY-MM-DD" in bad.content.decode()
