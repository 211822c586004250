"""A query's rows as view objects, lazily: a paginator counts and slices it like a queryset."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet


class Rows:
    def __init__(self, queryset: QuerySet, to_row: Callable[[Any], Any]):
        self.queryset, self.to_row = queryset, to_row

    def count(self, limit: int | None = None) -> int:
        """How many rows; with ``limit``, counted up to that many (``limit`` means that many or more)."""
        return (self.queryset if limit is None else self.queryset.order_by()[:limit]).count()

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self.to_row(row) for row in self.queryset[index]]
        return self.to_row(self.queryset[index])

    def __iter__(self):
        return (self.to_row(row) for row in self.queryset)
