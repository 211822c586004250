"""秒批 on the hall's screens: the 待复核 tab, the badge and the post-review form, the applicant's revoked licence."""

import pytest

from tests.conftest import APPLICANT, ENTERPRISE_FORM, handed_in
from tests.workflow.dmn import SEAL_FILING, SEAL_TABLE, give_table
from workflow import services
from workflow.models import CaseEvent, ELicence, HumanTask, HumanTaskState

pytestmark = pytest.mark.django_db


@pytest.fixture
def auto(users):
    """An accepted case whose seal filing was approved by its table; the others approve: licences issued."""
    give_table(SEAL_FILING, SEAL_TABLE)
    opened = services.case_open(
        user=users["window1"],
        one_thing_key="enterprise_start",
        applicant=APPLICANT,
        form=dict(ENTERPRISE_FORM),
        materials=handed_in(),
    )
    services.case_accept(user=users["window1"], case_no=opened.case.case_no)
    for department, reviewer in (("market_regulation", "market1"), ("tax", "tax1")):
        task = HumanTask.objects.get(case=opened.case, department_id=department, state=HumanTaskState.OPEN)
        services.human_task_complete(user=users[reviewer], task_id=task.pk, decision="approve")
    return opened, HumanTask.objects.get(case=opened.case, department_id="public_security")


def test_the_inbox_has_a_post_review_tab(web_client, auto):
    opened, _ = auto
    police = web_client("police1")
    inbox = police.get("/tasks/").content.decode()
    assert "待复核" in inbox and "post_review=pending" in inbox
    pending = police.get("/tasks/?post_review=pending").content.decode()
    assert opened.case.case_no in pending and "秒批" in pending and "复核" in pending
    assert opened.case.case_no not in web_client("market1").get("/tasks/?post_review=pending").content.decode()


def test_the_task_page_shows_the_badge_and_the_post_review_form(web_client, auto):
    _, task = auto
    page = web_client("police1").get(f"/tasks/{task.pk}/").content.decode()
    assert "秒批" in page and "秒批事后复核" in page and 'name="outcome"' in page
    # Another department's task page is not found, as for any of its tasks.
    assert web_client("market1").get(f"/tasks/{task.pk}/").status_code == 404


def test_revoking_through_the_screen_shows_on_the_applicants_status_page(web_client, client, auto):
    opened, task = auto
    police = web_client("police1")
    refused = police.post(f"/tasks/{task.pk}/post-review/", {"outcome": "revoked", "opinion": ""}, follow=True)
    assert "撤销秒批结果时必须写明理由" in refused.content.decode()
    done = police.post(
        f"/tasks/{task.pk}/post-review/", {"outcome": "revoked", "opinion": "刻制单位不在备案名录内"}, follow=True
    )
    assert "已提交复核结论" in done.content.decode()
    assert not ELicence.objects.filter(task=task).exists()  # 公章刻制备案 is a 备案: no licence, its result is revoked
    assert CaseEvent.objects.filter(case=task.case, kind="result_revoked").exists()
    page = police.get(f"/tasks/{task.pk}/").content.decode()
    assert "复核撤销" in page and 'name="outcome"' not in page

    status = client.post("/status/", {"case_no": opened.case.case_no, "query_code": opened.query_code})
    body = status.content.decode()
    assert "已撤销" in body and "刻制单位不在备案名录内" in body


def test_another_departments_case_page_shows_the_auto_approval_as_progress(web_client, auto):
    opened, _ = auto
    market = web_client("market1").get(f"/cases/{opened.case.case_no}/").content.decode()
    assert "部门审查进展" in market and "秒批：按规则自动准予" not in market
    police = web_client("police1").get(f"/cases/{opened.case.case_no}/").content.decode()
    assert "秒批：按规则自动准予" in police
