"""Pages of a long list without counting all of it (docs/api.md "Lists").

A page is read with one row more than it shows: that row tells whether ``next`` exists. ``count`` is exact when
the list ends on this page or within ``selectors.COUNT_CAP`` rows, otherwise ``COUNT_CAP`` (that many or more):
a year's completed tasks are never counted to draw a page.
"""

from __future__ import annotations

from rest_framework.exceptions import NotFound
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from workflow.selectors import COUNT_CAP


class CappedPageNumberPagination(PageNumberPagination):
    def paginate_queryset(self, queryset, request, view=None):
        """``queryset``: ``selectors.Rows`` (slices like a queryset, counts up to a limit)."""
        self.request = request
        size = self.get_page_size(request)
        raw = request.query_params.get(self.page_query_param, "1")
        try:
            number = int(raw)
        except ValueError:
            number = 0
        if number < 1:
            raise NotFound("无效页码")
        offset = (number - 1) * size
        rows = list(queryset[offset : offset + size + 1])
        if not rows and number > 1:
            raise NotFound("无效页码")
        self.number, self.has_next = number, len(rows) > size
        if not self.has_next:
            self.count = offset + len(rows)
        elif offset + size + 1 >= COUNT_CAP:
            self.count = COUNT_CAP
        else:
            self.count = queryset.count(limit=COUNT_CAP)
        return rows[:size]

    def get_paginated_response(self, data):
        return Response(
            {"count": self.count, "next": self.get_next_link(), "previous": self.get_previous_link(), "results": data}
        )

    def get_next_link(self):
        if not self.has_next:
            return None
        return replace_query_param(self.request.build_absolute_uri(), self.page_query_param, self.number + 1)

    def get_previous_link(self):
        if self.number <= 1:
            return None
        url = self.request.build_absolute_uri()
        if self.number == 2:
            return remove_query_param(url, self.page_query_param)
        return replace_query_param(url, self.page_query_param, self.number - 1)
