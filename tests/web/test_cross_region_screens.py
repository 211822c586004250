"""收受分离 on the window's screens: the 审批地 select, the identity check before acceptance, both halls shown."""

import pytest

from tests.conftest import ENTERPRISE_FORM
from tests.web.test_views import form_post, required_materials
from workflow.lifecycle import CaseStatus
from workflow.models import Case

pytestmark = pytest.mark.django_db

HOME, AWAY = "110105", "120101"
NEW = "/window/new/enterprise_start/"


def _data(**extra) -> dict:
    return {**form_post(ENTERPRISE_FORM, materials=required_materials()), **extra}


def test_the_open_form_offers_the_halls_with_this_one_chosen(web_client, demo):
    page = web_client("window2").get(NEW).content.decode()
    assert 'name="deciding_hall"' in page
    assert f'<option value="{AWAY}" selected>和平区政务服务中心（天津市和平区）· 本大厅' in page
    assert f'<option value="{HOME}">' in page and 'name="identity_method"' in page


def test_open_and_accept_for_another_region_needs_the_identity_check(web_client, demo):
    client = web_client("window2")
    refused = client.post(NEW, _data(deciding_hall=HOME, action="accept"))
    assert refused.status_code == 400 and "须核验申请人身份" in refused.content.decode()
    assert not Case.objects.exists()
    done = client.post(
        NEW, _data(deciding_hall=HOME, action="accept", identity_verified="on", identity_method="id_card_onsite")
    )
    assert done.status_code == 302
    case = Case.objects.get()
    assert case.status == CaseStatus.IN_REVIEW and case.case_no.startswith(AWAY)
    assert (case.accepting_hall.code, case.deciding_hall.code) == (AWAY, HOME)


def test_the_case_page_shows_both_halls_and_only_the_accepting_window_may_accept(web_client, demo):
    client = web_client("window2")
    assert client.post(NEW, _data(deciding_hall=HOME, action="open")).status_code == 302
    case = Case.objects.get()
    page = client.get(f"/cases/{case.case_no}/").content.decode()
    assert "收件地：和平区政务服务中心（天津市和平区）" in page and "审批地" in page
    accept_form = f'action="/cases/{case.case_no}/accept/"'
    assert accept_form in page and 'name="identity_verified"' in page
    followed = web_client("window1").get(f"/cases/{case.case_no}/").content.decode()
    assert "收件地：和平区政务服务中心" in followed and accept_form not in followed  # the deciding hall follows
    without = client.post(f"/cases/{case.case_no}/accept/", {}, follow=True)
    assert "身份" in without.content.decode() and Case.objects.get().status == CaseStatus.RECEIVED
    client.post(f"/cases/{case.case_no}/accept/", {"identity_verified": "on", "identity_method": "face"})
    assert Case.objects.get().status == CaseStatus.IN_REVIEW


def test_a_supervisor_bound_to_a_hall_sees_that_halls_cases_on_the_dashboard(web_client, users, demo):
    from workflow.models import Hall

    assert web_client("window1").post("/window/new/enterprise_start/", _data(action="open")).status_code == 302
    assert web_client("window2").post(NEW, _data(deciding_hall=HOME, action="open")).status_code == 302
    home_case, away_case = (Case.objects.get(accepting_hall__code=code).case_no for code in (HOME, AWAY))

    everything = web_client("supervisor1").get("/dashboard/?period=all")
    assert everything.context["board"].total == 2

    staff = users["supervisor1"].staff
    staff.hall = Hall.objects.get(code=AWAY)
    staff.save()
    supervisor = web_client("supervisor1")
    board = supervisor.get("/dashboard/?period=all")
    assert board.context["board"].total == 1 and "和平区政务服务中心收件或审批的" in board.content.decode()
    csv = b"".join(supervisor.get("/dashboard/cases.csv?period=all").streaming_content).decode("utf-8-sig")
    assert away_case in csv and home_case not in csv
