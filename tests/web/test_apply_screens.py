"""The applicant's screens (/apply/) with Django's test client: the same services as the API, the window's form
errors, uploads, pre-check, one submission, my cases, and the kiosk's card reader and idle timeout.
(tests/web/test_e2e_apply.py drives them in a browser on a phone and a kiosk viewport.)"""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from tests.api.applicant_helpers import WANG, last_code
from tests.conftest import ENTERPRISE_FORM, handed_in
from tests.upload_samples import pdf
from workflow.models import ApplicationDraft, Case

pytestmark = pytest.mark.django_db


def form_post(data: dict) -> dict:
    post = {}
    for name, value in data.items():
        if isinstance(value, bool):
            post[f"f_{name}"] = "true" if value else "false"
        elif isinstance(value, list):
            post[f"f_{name}"] = value
        else:
            post[f"f_{name}"] = str(value)
    return post


def signed_in_client(person=WANG) -> Client:
    client = Client()
    assert client.post("/apply/code/", person).status_code == 302
    page = client.get("/apply/").content.decode()
    assert "验证码已发送" in page
    client.post("/apply/verify/", {"code": last_code(person["phone"])})
    return client


def test_apply_on_the_web_from_sign_in_to_my_cases(users, settings, tmp_path):
    settings.ONETHING_PRIVATE_MEDIA_ROOT = str(tmp_path)
    client = signed_in_client()
    home = client.get("/apply/").content.decode()
    assert "选择要办的一件事" in home and "企业开办一件事" in home
    started = client.post("/apply/start/enterprise_start/")
    draft = ApplicationDraft.objects.get()
    assert started["Location"] == f"/apply/drafts/{draft.pk}/"
    page = client.get(started["Location"]).content.decode()
    assert "草稿码" in page and "一表申请" in page
    assert "草稿码" not in client.get(started["Location"]).content.decode()  # shown once

    # The window's messages for a wrong answer.
    bad = client.post(
        started["Location"],
        {
            "action": "submit",
            "applicant_name": "王䶮",
            "idempotency_key": "k1",
            **form_post({**ENTERPRISE_FORM, "legal_representative_id": "110105199003070018"}),
        },
    )
    assert bad.status_code == 400 and "校验位不正确" in bad.content.decode()
    assert Case.objects.count() == 0
    # The pre-check lists the materials at once.
    check = client.post(
        started["Location"], {"action": "precheck", "applicant_name": "王䶮", **form_post(ENTERPRISE_FORM)}
    )
    text = check.content.decode()
    assert "智能预审" in text and "请上传" in text and "预计办结日期" in text
    for code in handed_in():
        client.post(
            f"/apply/drafts/{draft.pk}/files/", {"material_code": code, "file": SimpleUploadedFile("a.pdf", pdf())}
        )
    check = client.post(
        started["Location"], {"action": "precheck", "applicant_name": "王䶮", **form_post(ENTERPRISE_FORM)}
    )
    assert "可以提交" in check.content.decode()
    body = {"action": "submit", "applicant_name": "王䶮", "idempotency_key": "tap", **form_post(ENTERPRISE_FORM)}
    first = client.post(started["Location"], body)
    case = Case.objects.get()
    assert first["Location"] == f"/apply/done/{case.case_no}/"
    done = client.get(first["Location"]).content.decode()
    assert case.case_no in done and "查询码只显示这一次" in done
    again = client.post(started["Location"], body)  # the double tap: the same case, no second one
    assert Case.objects.count() == 1 and again.status_code == 302
    assert "查询码只显示这一次" not in client.get(f"/apply/done/{case.case_no}/").content.decode()
    mine = client.get("/apply/cases/").content.decode()
    assert case.case_no in mine and "网上" in mine
    assert case.channel == "online" and case.files.count() == len(handed_in())


def test_the_kiosk_reads_the_card_and_clears_itself_when_idle(users, settings):
    settings.ONETHING_KIOSKS = {"kiosk-01": "k3y"}
    client = Client()
    assert client.get("/apply/kiosk/").status_code == 403  # not a registered kiosk
    assert client.get("/apply/kiosk/?device=kiosk-01&key=wrong").status_code == 403
    page = client.get("/apply/kiosk/?device=kiosk-01&key=k3y").content.decode()
    assert "刷身份证" in page and 'class="apply kiosk"' in page
    with time_machine.travel(timezone.now(), tick=False) as clock:
        assert client.post("/apply/card/", {"name": "王䶮", "id_number": WANG["id_number"]}).status_code == 302
        home = client.get("/apply/home/").content.decode()
        assert "自助终端读取身份证" in home and "120 秒自动退出" in home
        client.post("/apply/start/enterprise_start/")
        draft = ApplicationDraft.objects.get()
        assert draft.channel == "kiosk"
        clock.shift(dt.timedelta(seconds=121))
        idle = client.get("/apply/home/", follow=True).content.decode()
    assert "刷身份证" in idle and "长时间未操作" in idle
    assert client.post("/apply/sign-out/", {"idle": "1"})["Location"] == "/apply/kiosk/?idle=1"


def test_the_applicant_chooses_the_delivery_on_the_draft_page(users, settings, tmp_path):
    settings.ONETHING_PRIVATE_MEDIA_ROOT = str(tmp_path)
    client = signed_in_client()
    url = client.post("/apply/start/enterprise_start/")["Location"]
    page = client.get(url).content.decode()
    assert "结果送达方式" in page and 'value="pickup" checked' in page  # 窗口领取 until the applicant chooses
    assert 'value="electronic" data-delivery-method' in page and 'value="post" data-delivery-method' in page
    base = {"action": "save", "applicant_name": "王䶮", **form_post(ENTERPRISE_FORM)}
    # The window's checks and Chinese messages; nothing saved.
    bad = client.post(url, {**base, "delivery_method": "post", "delivery_recipient": "王䶮"})
    assert bad.status_code == 400 and "收件人手机号码应为 11 位数字" in bad.content.decode()
    assert ApplicationDraft.objects.get().delivery == {}
    address = {
        "delivery_recipient": "王䶮",
        "delivery_phone": "13800138000",
        "delivery_address": "北京市朝阳区示范路 1 号",
    }
    saved = client.post(url, {**base, "delivery_method": "post", **address})
    assert saved.status_code == 200 and 'value="post" checked' in saved.content.decode()
    assert ApplicationDraft.objects.get().delivery["address"]["phone"] == "13800138000"
    for code in handed_in():
        client.post(
            f"/apply/drafts/{ApplicationDraft.objects.get().pk}/files/",
            {"material_code": code, "file": SimpleUploadedFile("a.pdf", pdf())},
        )
    client.post(url, {**base, "action": "submit", "idempotency_key": "d", "delivery_method": "electronic"})
    assert Case.objects.get().delivery_method == "electronic"


def test_the_kiosk_draft_page_offers_the_delivery_choice(users, settings):
    settings.ONETHING_KIOSKS = {"kiosk-01": "k3y"}
    client = Client()
    client.get("/apply/kiosk/?device=kiosk-01&key=k3y")
    client.post("/apply/card/", {"name": "王䶮", "id_number": WANG["id_number"]})
    page = client.get(client.post("/apply/start/enterprise_start/")["Location"]).content.decode()
    assert 'class="apply kiosk"' in page and "结果送达方式" in page and 'value="pickup" checked' in page
