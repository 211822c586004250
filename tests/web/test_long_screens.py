"""Screens at a year's scale (issue 19): the inbox shows a page at a time, the dashboard the longest overdue with
the total. The page sizes are made small here so that a few cases show what a year's would."""

import datetime as dt

from django.utils import timezone

from tests.api.helpers import accept, open_case
from workflow.models import HumanTask


def test_the_inbox_screen_pages_its_rows(web_client, users, monkeypatch):
    cases = [accept(users, open_case(users)) for _ in range(3)]
    monkeypatch.setattr("web.views.tasks.INBOX_PAGE", 2)
    tax = web_client("tax1")
    first = tax.get("/tasks/").content.decode()
    assert 'class="count">3<' in first and "第 1 / 2 页" in first and "?page=2" in first
    second = tax.get("/tasks/?page=2").content.decode()
    assert "第 2 / 2 页" in second and "?page=1" in second
    shown = [case.case_no for case in cases if case.case_no in first] + [
        c.case_no for c in cases if c.case_no in second
    ]
    assert sorted(shown) == sorted(case.case_no for case in cases)  # each on exactly one page


def test_the_dashboard_lists_the_longest_overdue_and_counts_them_all(web_client, users, monkeypatch):
    cases = [accept(users, open_case(users)) for _ in range(2)]
    long_ago = timezone.localdate() - dt.timedelta(days=60)
    HumanTask.objects.filter(case_id__in=[c.pk for c in cases], department__isnull=False).update(due_date=long_ago)
    monkeypatch.setattr("web.views.dashboard.OVERDUE_SHOWN", 1)
    page = web_client("supervisor1").get("/dashboard/").content.decode()
    overdue = HumanTask.objects.filter(case_id__in=[c.pk for c in cases], department__isnull=False).count()
    assert f"超期最久的 1 项，共 {overdue} 项" in page


def test_the_window_home_says_when_a_list_holds_more_than_it_shows(web_client, users, monkeypatch):
    opened = [open_case(users) for _ in range(3)]
    monkeypatch.setattr("web.views.window.WORKLIST_SHOWN", 2)
    page = web_client("window1").get("/window/").content.decode()
    assert '待受理 <span class="count">2+</span>' in page
    assert "只列出前 2 件" in page and 'href="/cases/search/"' in page
    assert sum(case.case_no in page for case in opened) == 2  # the two received first
    monkeypatch.setattr("web.views.window.WORKLIST_SHOWN", 3)
    page = web_client("window1").get("/window/").content.decode()
    assert '待受理 <span class="count">3</span>' in page and "只列出前" not in page


def test_the_window_lists_hold_the_case_summaries_the_case_page_states(users):
    """The worklist reads plain values (no model instances); each row is what ``case_summary`` says of the case."""
    from workflow import selectors
    from workflow.models import Case

    opened = [open_case(users) for _ in range(3)]
    lists = selectors.window_worklist(user=users["window1"], limit=2)
    cases = Case.objects.filter(pk__in=[case.pk for case in opened]).select_related("one_thing", "process_version")
    first_two = [selectors.case_summary(case) for case in cases.order_by("opened_at")[:2]]
    assert lists.received == first_two and lists.capped == frozenset({"received"})
    assert lists.received[0].status_label == "已收件" and lists.received[0].accepting_hall is not None
    assert (lists.correction, lists.to_conclude, lists.in_review) == ([], [], 0)
