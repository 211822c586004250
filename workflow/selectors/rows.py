"""A query's rows as view objects, lazily: a paginator counts and slices it like a queryset."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet


class Rows:
    """``to_row`` builds each view object from a model instance of ``queryset``, or, with ``columns``, from those
    columns' plain values (``values_list``: no model instances). Either way the rows are counted on ``queryset``
    itself: the joins the columns need would be counted through too (a supervisor's open tasks, each joined to
    its case, one-thing, department and users, to count them)."""

    def __init__(self, queryset: QuerySet, to_row: Callable[[Any], Any], *, columns: tuple[str, ...] = ()):
        self.queryset, self.to_row = queryset, to_row
        self.read = queryset.values_list(*columns) if columns else queryset

    def count(self, limit: int | None = None) -> int:
        """How many rows; with ``limit``, counted up to that many (``limit`` means that many or more)."""
        return (self.queryset if limit is None else self.queryset.order_by()[:limit]).count()

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self.to_row(row) for row in self.read[index]]
        return self.to_row(self.read[index])

    def __iter__(self):
        return (self.to_row(row) for row in self.read)
