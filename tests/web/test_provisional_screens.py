"""Provisional (预计) due dates on the screens and in the API (docs/clock.md, docs/ui.md, docs/api.md).

Frozen on Monday 2026-12-07: a 企业开办 case accepted today has its statutory date (45 working days) in 2027,
whose holiday arrangement chinese-calendar 1.11 does not know: 2027-02-11, provisionally.
"""

from __future__ import annotations

import re

import pytest
import time_machine
from rest_framework.test import APIClient

from tests.conftest import APPLICANT, ENTERPRISE_FORM, handed_in
from tests.workflow.clock_helpers import at, set_limits
from workflow import services
from workflow.models import HumanTask

NOTE = "以国务院公布的节假日安排为准"


def text(response) -> str:
    """The page as a reader sees it: tags dropped, whitespace collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


@pytest.fixture
def december(users):
    set_limits(one_thing_days=30, market_days=20)  # the market task: due 2027-01-05, provisionally
    with time_machine.travel(at("2026-12-07"), tick=False):
        opened = services.case_open(
            user=users["window1"], one_thing_key="enterprise_start", applicant=APPLICANT, form=dict(ENTERPRISE_FORM)
        )
        services.case_accept(user=users["window1"], case_no=opened.case.case_no, materials=handed_in())
        yield opened


def test_the_case_page_says_which_dates_are_provisional(web_client, december):
    with time_machine.travel(at("2026-12-07", 11), tick=False):
        page = text(web_client("window1").get(f"/cases/{december.case.case_no}/"))
    assert f"法定办结期限 预计 2027-02-11 （{NOTE}）" in page
    assert f"承诺办结期限 预计 2027-01-19 （{NOTE}）" in page  # 30 working days
    assert "预计期限：计算到尚未录入国务院节假日安排的年份" in page


def test_the_task_page_and_the_inbox_mark_a_provisional_due_date(web_client, december):
    task = HumanTask.objects.get(case=december.case, lane="market_regulation")
    market = web_client("market1")
    with time_machine.travel(at("2026-12-07", 11), tick=False):
        task_page = text(market.get(f"/tasks/{task.pk}/"))
        inbox = market.get("/tasks/")
    assert f"预计到期 1月5日 正常 （{NOTE}）" in task_page
    body = inbox.content.decode()
    assert f'<span class="provisional" title="{NOTE}">预计 01-05</span>' in body
    assert f"{NOTE}；录入后自动重新计算" in text(inbox)


def test_the_dashboard_counts_open_cases_with_provisional_dates(web_client, december):
    with time_machine.travel(at("2026-12-07", 11), tick=False):
        page = text(web_client("supervisor1").get("/dashboard/"))
    assert "1 件在办办件的期限为预计" in page


def test_the_public_status_page_marks_the_provisional_dates(client, december):
    with time_machine.travel(at("2026-12-07", 11), tick=False):
        page = text(client.post("/status/", {"case_no": december.case.case_no, "query_code": december.query_code}))
    assert f"承诺 预计 1月19日 （{NOTE}） 前办结" in page
    assert f"法定办结期限 预计 2027年2月11日 （{NOTE}）" in page


def test_the_api_carries_a_provisional_flag_next_to_each_due_date(users, december):
    api = APIClient()
    with time_machine.travel(at("2026-12-07", 11), tick=False):
        api.force_authenticate(users["window1"])
        case = api.get(f"/api/cases/{december.case.case_no}").json()
        api.force_authenticate(users["market1"])
        [task] = api.get("/api/tasks").json()["results"]
        status = APIClient().post(
            "/api/status", {"case_no": december.case.case_no, "query_code": december.query_code}, format="json"
        )
    assert (case["statutory_due_date"], case["statutory_due_date_provisional"]) == ("2027-02-11", True)
    assert (case["promised_due_date"], case["promised_due_date_provisional"]) == ("2027-01-19", True)
    market = next(t for t in case["tasks"] if t["lane"] == "market_regulation")
    assert (market["due_date"], market["due_date_provisional"]) == ("2027-01-05", True)
    assert (task["due_date"], task["due_date_provisional"]) == ("2027-01-05", True)
    assert status.json()["statutory_due_date_provisional"] is True


@pytest.mark.parametrize("today", ["2031-05-06", "2035-12-27", "2026-12-30"])
def test_any_date_gets_due_dates_never_a_dash(web_client, users, today):
    """make demo on any date: years nobody entered count provisionally instead of leaving "—"."""
    with time_machine.travel(at(today), tick=False):
        opened = services.case_open(
            user=users["window1"], one_thing_key="enterprise_start", applicant=APPLICANT, form=dict(ENTERPRISE_FORM)
        )
        services.case_accept(user=users["window1"], case_no=opened.case.case_no, materials=handed_in())
        body = web_client("window1").get(f"/cases/{opened.case.case_no}/").content.decode()
    panel = body[body.index('data-testid="clock-panel"') : body.index("</section>", body.index("clock-panel"))]
    dates = re.findall(r"<dt>(承诺办结期限|法定办结期限)</dt><dd>(.*?)</dd>", panel)
    assert len(dates) == 2
    assert all(re.search(r"\d{4}-\d{2}-\d{2}", value) for _, value in dates), dates
    assert (
        not HumanTask.objects.filter(case=opened.case, state="open", due_date__isnull=True)
        .exclude(lane="window")
        .exists()
    )
