"""Long lists at a year's scale (issue 19): a page of the inbox is read with one row more than it shows, and the
counts stop at ``selectors.COUNT_CAP`` — here made small so that a few cases show what a year's would."""

import pytest

from api.pagination import CappedPageNumberPagination
from tests.api.helpers import accept, assert_error, get, open_case
from workflow import selectors


@pytest.fixture
def five_open_reviews(users):
    """The window's five cases accepted: tax has five open reviews."""
    return [accept(users, open_case(users)) for _ in range(5)]


def test_pages_follow_one_another_without_counting_past_the_cap(client_for, five_open_reviews, monkeypatch):
    monkeypatch.setattr(CappedPageNumberPagination, "page_size", 2)
    tax = client_for("tax1")
    first = get(tax, "/api/tasks").json()
    assert (first["count"], len(first["results"]), first["previous"]) == (5, 2, None)
    assert first["next"].endswith("/api/tasks?page=2")
    second = get(tax, "/api/tasks?page=2").json()
    assert second["previous"].endswith("/api/tasks") and second["next"].endswith("page=3")
    last = get(tax, "/api/tasks?page=3").json()
    assert (last["count"], len(last["results"]), last["next"]) == (5, 1, None)
    assert last["previous"].endswith("page=2")
    seen = [row["id"] for page in (first, second, last) for row in page["results"]]
    assert len(set(seen)) == 5  # the inbox order pages without a gap or a repeat
    assert_error(get(tax, "/api/tasks?page=4"), 404)
    assert_error(get(tax, "/api/tasks?page=0"), 404)
    assert_error(get(tax, "/api/tasks?page=x"), 404)

    monkeypatch.setattr(selectors.tasks, "COUNT_CAP", 3)
    monkeypatch.setattr("api.pagination.COUNT_CAP", 3)
    capped = get(tax, "/api/tasks").json()
    assert capped["count"] == 3 and capped["counts"]["open"] == 3  # three or more
    assert get(tax, "/api/tasks?page=3").json()["count"] == 5  # the last page knows where the list ends
