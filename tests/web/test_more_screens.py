"""The remaining screens through Django's test client: 转办, special procedures, 延期 and its approval, the
query-code re-issue at the window, and 撤回 (the applicant on the status page, the window on the case page).
Each screen: it renders, a good post does what the service does, errors are Chinese next to the fields, and the
API's permission rules hold (another department: 404; a wrong role: 403)."""

import re

import pytest

from workflow import services
from workflow.lifecycle import CaseStatus
from workflow.models import (
    Case,
    CaseEvent,
    ClockPause,
    DeadlineExtension,
    ExtensionRequest,
    HumanTask,
    HumanTaskState,
    Staff,
)

pytestmark = pytest.mark.django_db


def open_task(case, department):
    return HumanTask.objects.get(case=case, department_id=department, state=HumanTaskState.OPEN)


def errors_of(response) -> list[str]:
    """The messages shown next to the fields (the error blocks under each input)."""
    return re.findall(r'<div class="error">([^<]+)</div>', response.content.decode())


@pytest.fixture
def colleague(demo, django_user_model):
    """A second reviewer of the tax bureau, to hand tasks to."""
    user = django_user_model.objects.create_user("tax2", first_name="税务 王二")
    Staff.objects.create(user=user, role="reviewer", department_id="tax")
    return user


# --------------------------------------------------------------------------- 转办


def test_task_page_offers_reassigning_to_department_colleagues(web_client, accepted, colleague):
    task = open_task(accepted.case, "tax")
    body = web_client("tax1").get(f"/tasks/{task.pk}/").content.decode()
    assert "转办给本部门同事" in body
    assert '<option value="tax2">税务 王二</option>' in body
    assert 'value="police1"' not in body and 'value="tax1"' not in body  # not another department, not myself


def test_reassign_hands_the_task_over(web_client, accepted, colleague):
    task = open_task(accepted.case, "tax")
    response = web_client("tax1").post(f"/tasks/{task.pk}/reassign/", {"to": "tax2", "reason": "该企业由王二对口联系"})
    assert response.status_code == 302 and response["Location"] == f"/tasks/{task.pk}/"
    task.refresh_from_db()
    assert task.assignee == colleague
    event = CaseEvent.objects.get(case=accepted.case, kind="task_reassigned")
    assert event.data["to"] == "tax2" and event.data["reason"] == "该企业由王二对口联系"
    page = web_client("tax1").get(f"/tasks/{task.pk}/", follow=True).content.decode()
    assert "该任务已由 税务 王二 认领办理" in page


def test_reassign_errors_are_chinese_next_to_the_fields(web_client, accepted, colleague):
    task = open_task(accepted.case, "tax")
    tax = web_client("tax1")
    response = tax.post(f"/tasks/{task.pk}/reassign/", {"to": "tax2", "reason": "  "})
    assert response.status_code == 400 and errors_of(response) == ["转办须说明理由"]
    response = tax.post(f"/tasks/{task.pk}/reassign/", {"to": "police1", "reason": "试试"})
    assert response.status_code == 400 and errors_of(response) == ["只能转办给本部门的审查人员"]
    response = tax.post(f"/tasks/{task.pk}/reassign/", {})
    assert response.status_code == 400 and errors_of(response) == ["请选择转办对象", "转办须说明理由"]
    assert tax.get(f"/tasks/{task.pk}/reassign/").status_code == 200
    task.refresh_from_db()
    assert task.assignee is None


def test_reassign_follows_the_apis_rules(web_client, accepted, colleague, users):
    task = open_task(accepted.case, "tax")
    good = {"to": "tax2", "reason": "请假"}
    assert web_client("police1").get(f"/tasks/{task.pk}/reassign/").status_code == 404
    assert web_client("police1").post(f"/tasks/{task.pk}/reassign/", good).status_code == 404
    assert web_client("window1").post(f"/tasks/{task.pk}/reassign/", good).status_code == 403
    response = web_client(None).post(f"/tasks/{task.pk}/reassign/", good)
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    # a task a colleague has claimed is theirs: no reassigning it from under them
    services.human_task_claim(user=colleague, task_id=task.pk)
    response = web_client("tax1").post(f"/tasks/{task.pk}/reassign/", {"to": "tax2", "reason": "x"}, follow=True)
    assert "该任务已由他人认领" in response.content.decode()
    assert "转办给本部门同事" not in web_client("tax1").get(f"/tasks/{task.pk}/").content.decode()
    # a supervisor may hand it back to tax1
    response = web_client("supervisor1").post(f"/tasks/{task.pk}/reassign/", {"to": "tax1", "reason": "王二休假"})
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.assignee == users["tax1"]


# --------------------------------------------------------------------------- 特别程序


def test_special_procedure_start_and_end_from_the_task_page(web_client, accepted, client):
    case = accepted.case
    task = open_task(case, "market_regulation")
    market = web_client("market1")
    body = market.get(f"/tasks/{task.pk}/").content.decode()
    assert "启动特别程序（暂停计时）" in body and "专家评审" in body and "办理时限" in body

    back = f"/tasks/{task.pk}/"
    response = market.post(
        f"/cases/{case.case_no}/procedures/start/", {"kind": "hearing", "reason": "依申请举行听证", "next": back}
    )
    assert response.status_code == 302 and response["Location"] == back
    pause = ClockPause.objects.get(case=case, kind="hearing", ended_at__isnull=True)
    assert pause.department_id == "market_regulation"
    page = market.get(back).content.decode()
    assert "听证" in page and "进行中" in page and "结束听证，恢复计时" in page
    assert "暂停计时" in web_client("window1").get(f"/cases/{case.case_no}/").content.decode()
    status = client.post("/status/", {"case_no": case.case_no, "query_code": accepted.query_code}).content.decode()
    assert "暂停计时：" in status and "依申请举行听证" in status

    response = market.post(f"/cases/{case.case_no}/procedures/{pause.pk}/end/", {"next": back}, follow=True)
    assert "特别程序已结束：听证" in response.content.decode()
    pause.refresh_from_db()
    assert pause.ended_at is not None
    assert list(CaseEvent.objects.filter(case=case, kind__startswith="procedure_").values_list("kind", flat=True)) == [
        "procedure_started",
        "procedure_ended",
    ]


def test_special_procedure_errors(web_client, accepted):
    case = accepted.case
    market = web_client("market1")
    response = market.post(f"/cases/{case.case_no}/procedures/start/", {"kind": "", "reason": ""})
    assert response.status_code == 400
    assert errors_of(response) == ["请选择特别程序的类型", "请说明启动特别程序的事由"]
    response = market.post(f"/cases/{case.case_no}/procedures/start/", {"kind": "party", "reason": "x"})
    assert errors_of(response) == ["特别程序类型只能是听证、检验检测检疫、鉴定、专家评审或招标拍卖"]
    assert not ClockPause.objects.filter(case=case).exists()
    # the same kind twice is a message, not an error page
    market.post(f"/cases/{case.case_no}/procedures/start/", {"kind": "testing", "reason": "送检"})
    response = market.post(
        f"/cases/{case.case_no}/procedures/start/", {"kind": "testing", "reason": "再检"}, follow=True
    )
    assert "程序正在进行中" in response.content.decode()
    assert ClockPause.objects.filter(case=case, kind="testing").count() == 1


def test_special_procedure_permissions(web_client, accepted):
    case = accepted.case
    start = {"kind": "expert_review", "reason": "组织专家评审"}
    assert web_client("health1").post(f"/cases/{case.case_no}/procedures/start/", start).status_code == 404
    assert web_client("supervisor1").post(f"/cases/{case.case_no}/procedures/start/", start).status_code == 403
    assert not ClockPause.objects.filter(case=case).exists()
    web_client("market1").post(f"/cases/{case.case_no}/procedures/start/", start)
    pause = ClockPause.objects.get(case=case)
    # public security has its own open task, but ends only its own department's procedures
    assert web_client("police1").post(f"/cases/{case.case_no}/procedures/{pause.pk}/end/").status_code == 403
    pause.refresh_from_db()
    assert pause.ended_at is None
    # the window may end it, from the case page
    window = web_client("window1")
    assert "结束专家评审，恢复计时" in window.get(f"/cases/{case.case_no}/").content.decode()
    assert window.post(f"/cases/{case.case_no}/procedures/{pause.pk}/end/").status_code == 302
    pause.refresh_from_db()
    assert pause.ended_at is not None


# --------------------------------------------------------------------------- 延期


def test_extension_request_and_approval(web_client, accepted, users):
    case = accepted.case
    task = open_task(case, "tax")
    tax = web_client("tax1")
    assert "申请延期" in tax.get(f"/tasks/{task.pk}/").content.decode()
    before = Case.objects.get(pk=case.pk)
    response = tax.post(
        f"/cases/{case.case_no}/extensions/request/",
        {"days": "3", "reason": "需现场核查经营场所", "next": f"/tasks/{task.pk}/"},
        follow=True,
    )
    assert "已提交延期申请（3 个工作日）" in response.content.decode()
    request = ExtensionRequest.objects.get(case=case)
    assert (request.state, request.days, request.department_id) == ("pending", 3, "tax")
    assert "已有待批准的延期申请" in tax.get(f"/tasks/{task.pk}/").content.decode()
    assert not DeadlineExtension.objects.filter(case=case).exists()  # nothing moves before the approval

    supervisor = web_client("supervisor1")
    page = supervisor.get("/extensions/").content.decode()
    assert "待批准（1）" in page and "需现场核查经营场所" in page and case.case_no in page
    response = supervisor.post(f"/extensions/{request.pk}/decide/", {"decision": "approve"}, follow=True)
    assert f"已批准办件 {case.case_no} 的延期申请（3 个工作日）" in response.content.decode()
    request.refresh_from_db()
    after = Case.objects.get(pk=case.pk)
    assert request.state == "approved" and request.decided_by == users["supervisor1"]
    assert request.extension.days == 3 and request.extension.approved_by == users["supervisor1"]
    assert after.promised_due_date > before.promised_due_date
    event = CaseEvent.objects.get(case=case, kind="deadline_extended")
    assert event.department == "tax" and event.data["days"] == 3
    assert "经批准延期" in web_client("window1").get(f"/cases/{case.case_no}/").content.decode()


def test_extension_request_errors(web_client, accepted, users):
    case = accepted.case
    url = f"/cases/{case.case_no}/extensions/request/"
    tax = web_client("tax1")
    response = tax.post(url, {"days": "三", "reason": ""})
    assert response.status_code == 400 and errors_of(response) == [
        "延长的工作日数须为整数",
        "请填写延期理由（将告知申请人）",
    ]
    assert errors_of(tax.post(url, {"days": "0", "reason": "x"})) == ["至少延长 1 个工作日"]
    assert errors_of(tax.post(url, {"days": "16", "reason": "x"})) == ["最多延长 15 个工作日"]
    # the law's cap, checked by the service, shown next to the days
    services.case_deadline_extend(user=users["supervisor1"], case_no=case.case_no, days=14, reason="复杂")
    response = tax.post(url, {"days": "2", "reason": "还要核查"})
    assert response.status_code == 400
    assert errors_of(response) == ["延期合计不能超过 15 个工作日（已延期 14 个工作日）"]
    assert not ExtensionRequest.objects.filter(case=case).exists()
    # one waiting request per case
    assert tax.post(url, {"days": "1", "reason": "核查"}).status_code == 302
    response = web_client("market1").post(url, {"days": "1", "reason": "也要"}, follow=True)
    assert "该办件已有待批准的延期申请" in response.content.decode()
    assert ExtensionRequest.objects.filter(case=case).count() == 1


def test_extension_rejection_needs_a_reason(web_client, accepted, users):
    case = accepted.case
    request = services.case_extension_request(user=users["tax1"], case_no=case.case_no, days=2, reason="核查")
    before = Case.objects.get(pk=case.pk).promised_due_date
    supervisor = web_client("supervisor1")
    response = supervisor.post(f"/extensions/{request.pk}/decide/", {"decision": "reject", "note": " "})
    assert response.status_code == 400 and errors_of(response) == ["不予批准须说明理由"]
    response = supervisor.post(f"/extensions/{request.pk}/decide/", {"decision": "maybe"})
    assert response.status_code == 400 and errors_of(response) == ["请选择批准或不予批准"]
    response = supervisor.post(
        f"/extensions/{request.pk}/decide/", {"decision": "reject", "note": "理由不充分"}, follow=True
    )
    assert "已不予批准" in response.content.decode()
    request.refresh_from_db()
    assert request.state == "rejected" and request.decision_note == "理由不充分"
    assert Case.objects.get(pk=case.pk).promised_due_date == before
    assert "延期申请未获批准" in web_client("tax1").get(f"/cases/{case.case_no}/").content.decode()
    # decided once
    response = supervisor.post(f"/extensions/{request.pk}/decide/", {"decision": "approve"}, follow=True)
    assert "该延期申请已处理" in response.content.decode()


def test_extension_permissions(web_client, accepted, users):
    case = accepted.case
    url = f"/cases/{case.case_no}/extensions/request/"
    assert web_client("health1").post(url, {"days": "1", "reason": "x"}).status_code == 404
    assert web_client("supervisor1").post(url, {"days": "1", "reason": "x"}).status_code == 403
    request = services.case_extension_request(user=users["window1"], case_no=case.case_no, days=1, reason="核查")
    for username in ("window1", "tax1"):
        assert web_client(username).get("/extensions/").status_code == 403
        assert (
            web_client(username).post(f"/extensions/{request.pk}/decide/", {"decision": "approve"}).status_code == 403
        )
    assert web_client("supervisor1").post("/extensions/999999/decide/", {"decision": "approve"}).status_code == 404
    request.refresh_from_db()
    assert request.state == "pending"
    assert "延期审批" in web_client("supervisor1").get("/dashboard/").content.decode()  # the navigation link


# --------------------------------------------------------------------------- 补发查询码


def test_query_code_reissue_after_the_identity_check(web_client, accepted, client):
    case = accepted.case
    window = web_client("window1")
    assert "补发查询码" in window.get(f"/cases/{case.case_no}/").content.decode()
    url = f"/cases/{case.case_no}/query-code/"
    assert window.get(url).status_code == 200

    response = window.post(url, {"id_number": "110105199003070018", "confirm": "on"})
    assert response.status_code == 400 and errors_of(response) == ["证件号码与办件登记的申请人不一致，不能补发查询码"]
    response = window.post(url, {"id_number": ""})
    assert errors_of(response) == ["请录入申请人证件上的号码", "请先核验申请人的身份证件"]
    assert not CaseEvent.objects.filter(case=case, kind="query_code_reissued").exists()

    response = window.post(url, {"id_number": " 110105199003070017 ", "confirm": "on"})
    assert response.status_code == 302 and response["Location"] == f"/cases/{case.case_no}/query-code/issued/"
    page = window.get(response["Location"])
    assert page["Cache-Control"] == "no-store"
    code = re.search(r'data-testid="query-code">([0-9A-Z]+)<', page.content.decode()).group(1)
    assert code != accepted.query_code
    assert "查询码已在补发时显示过" in window.get(response["Location"]).content.decode()  # shown once

    assert client.post("/status/", {"case_no": case.case_no, "query_code": accepted.query_code}).status_code == 404
    assert client.post("/status/", {"case_no": case.case_no, "query_code": code}).status_code == 200


def test_query_code_reissue_is_for_the_window(web_client, accepted):
    url = f"/cases/{accepted.case.case_no}/query-code/"
    for username in ("market1", "supervisor1"):
        assert web_client(username).get(url).status_code == 403
        assert web_client(username).post(url, {"id_number": "110105199003070017", "confirm": "on"}).status_code == 403
    assert web_client(None).get(url).status_code == 302
    assert web_client("window1").get("/cases/11010520990101000001/query-code/").status_code == 404
    assert not CaseEvent.objects.filter(case=accepted.case, kind="query_code_reissued").exists()


# --------------------------------------------------------------------------- 撤回


def test_the_applicant_withdraws_on_the_status_page_after_confirming(client, accepted):
    case = accepted.case
    lookup = {"case_no": case.case_no, "query_code": accepted.query_code}
    assert "撤回申请" in client.post("/status/", lookup).content.decode()

    response = client.post("/status/withdraw/", {**lookup, "reason": ""})
    assert response.status_code == 400 and errors_of(response) == ["请说明撤回原因"]

    response = client.post("/status/withdraw/", {**lookup, "reason": "不再开办"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "确认撤回申请？" in body and 'name="confirm" value="yes"' in body
    case.refresh_from_db()
    assert case.status == CaseStatus.IN_REVIEW  # nothing happens before the confirmation

    response = client.post("/status/withdraw/", {**lookup, "reason": "不再开办", "confirm": "yes"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "您的申请已撤回" in body and "已撤回" in body and 'action="/status/withdraw/"' not in body
    case.refresh_from_db()
    assert case.status == CaseStatus.WITHDRAWN
    assert not HumanTask.objects.filter(case=case, state=HumanTaskState.OPEN).exists()
    event = CaseEvent.objects.get(case=case, kind="withdraw")
    assert event.data["reason"] == "不再开办" and event.actor is None


def test_withdrawal_needs_the_code_and_a_case_without_a_result(client, accepted, users):
    case = accepted.case
    response = client.post(
        "/status/withdraw/", {"case_no": case.case_no, "query_code": "WRONG234", "reason": "x", "confirm": "yes"}
    )
    assert response.status_code == 404 and "办件编号或查询码不正确" in response.content.decode()
    case.refresh_from_db()
    assert case.status == CaseStatus.IN_REVIEW
    for department, username in (("market_regulation", "market1"), ("public_security", "police1"), ("tax", "tax1")):
        services.human_task_complete(user=users[username], task_id=open_task(case, department).pk, decision="approve")
    lookup = {"case_no": case.case_no, "query_code": accepted.query_code}
    assert 'action="/status/withdraw/"' not in client.post("/status/", lookup).content.decode()
    response = client.post("/status/withdraw/", {**lookup, "reason": "晚了", "confirm": "yes"})
    assert response.status_code == 409 and "不能撤回" in response.content.decode()
    case.refresh_from_db()
    assert case.status == CaseStatus.APPROVED


def test_the_window_keys_in_a_withdrawal(web_client, accepted, users):
    case = accepted.case
    window = web_client("window1")
    assert "撤回申请" in window.get(f"/cases/{case.case_no}/").content.decode()
    url = f"/cases/{case.case_no}/withdraw/"
    response = window.post(url, {"reason": "申请人书面申请撤回"})
    assert response.status_code == 400 and errors_of(response) == ["请确认申请人的撤回意愿"]
    assert web_client("market1").post(url, {"reason": "x", "confirm": "on"}).status_code == 403
    case.refresh_from_db()
    assert case.status == CaseStatus.IN_REVIEW
    response = window.post(url, {"reason": "申请人书面申请撤回", "confirm": "on"}, follow=True)
    assert "已撤回，办理终止" in response.content.decode()
    case.refresh_from_db()
    assert case.status == CaseStatus.WITHDRAWN
    assert CaseEvent.objects.get(case=case, kind="withdraw").actor == users["window1"]
    assert f'href="/cases/{case.case_no}/withdraw/"' not in window.get(f"/cases/{case.case_no}/").content.decode()


# --------------------------------------------------------------------------- the shared applicant view


def test_status_page_and_api_read_the_same_applicant_view(client, accepted, users):
    """One selector (workflow.selectors.case_applicant_view) behind /status/ and /api/status."""
    from rest_framework.test import APIClient

    case = accepted.case
    services.case_procedure_start(user=users["tax1"], case_no=case.case_no, kind="appraisal", reason="委托鉴定")
    lookup = {"case_no": case.case_no, "query_code": accepted.query_code}
    api = APIClient().post("/api/status", lookup, format="json").json()
    page = client.post("/status/", lookup).content.decode()
    assert api["paused"] is True
    for row in api["timeline"]:
        assert row["label"] in page
    for row in api["departments"]:
        assert row["department_name"] in page and row["progress_label"] in page
    assert api["status_label"] in page and "委托鉴定" in page
