"""A one-thing's limits in working days (承诺时限 / 法定时限, extension caps) and 时限压减率."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db import models

from .. import calendar as cal
from ..errors import ValidationFailed
from ..models import OneThing, OneThingItem, ServiceItem


@dataclass(frozen=True)
class Limits:
    """A one-thing's limits in working days: the case's, and each department's promised limit."""

    promised: int
    statutory: int
    extension_cap: int
    departments: dict[str, int] = field(default_factory=dict)
    # The one-thing's items in order: (item id, department code, has a 秒批 decision table). Loaded by the
    # same query, so the engine learns which new reviews may be auto-approved at no extra cost.
    items: tuple[tuple[int, str, bool], ...] = ()

    def for_department(self, code: str) -> int:
        # A lane with no item of its own in the one-thing falls back to the one-thing's promise.
        return self.departments.get(code, self.promised)


def limits_of(one_thing: OneThing) -> Limits:
    """One query. Statutory: 45 (+15) days for joint handling (Art. 26) when the one-thing bundles two or
    more items, else its single item's statutory limit (+10, Art. 42). A department's task limit is the
    longest promised limit among its items: one task decides all of them."""
    rows = list(
        OneThingItem.objects.filter(one_thing_id=one_thing.pk)
        .annotate(
            has_table=models.Case(
                models.When(item__auto_approval_dmn="", then=models.Value(False)),
                default=models.Value(True),
                output_field=models.BooleanField(),
            )
        )
        .order_by("position", "id")
        .values_list(
            "item__department_id", "item__promised_limit_days", "item__statutory_limit_days", "item_id", "has_table"
        )
    )
    departments: dict[str, int] = {}
    for code, promised, *_ in rows:
        departments[code] = max(departments.get(code, 0), promised)
    if len(rows) == 1:
        statutory, cap = rows[0][2], cal.SINGLE_ITEM_EXTENSION_DAYS
    else:
        statutory, cap = cal.JOINT_LIMIT_DAYS, cal.JOINT_EXTENSION_DAYS
    return Limits(
        promised=one_thing.promised_limit_days,
        statutory=statutory,
        extension_cap=cap,
        departments=departments,
        items=tuple((item_id, code, has_table) for code, _, _, item_id, has_table in rows),
    )


def warning_share() -> float:
    share = float(getattr(settings, "ONETHING_WARNING_SHARE", 0.2))
    return min(max(share, 0.0), 1.0)


def warning_days(limit: int) -> int:
    """Working days into a limit after which the warning shows: when at most ``share × limit`` (at least
    one) working days remain."""
    return max(limit - max(1, math.ceil(warning_share() * limit)), 0)


def reduction_rate_or_none(promised: int, statutory: int) -> Decimal | None:
    try:
        return cal.reduction_rate(promised, statutory)
    except ValidationFailed:
        return None


def item_limits(item: ServiceItem) -> dict:
    return {
        "code": item.code,
        "name": item.name,
        "department": item.department_id,
        "statutory_limit_days": item.statutory_limit_days,
        "promised_limit_days": item.promised_limit_days,
        "reduction_rate": reduction_rate_or_none(item.promised_limit_days, item.statutory_limit_days),
    }


def one_thing_limits(one_thing: OneThing) -> dict:
    """The one-thing's statutory and promised limits, its 时限压减率 and each item's."""
    limits = limits_of(one_thing)
    items = ServiceItem.objects.filter(one_things=one_thing).order_by("code")
    return {
        "statutory_limit_days": limits.statutory,
        "promised_limit_days": limits.promised,
        "extension_limit_days": limits.extension_cap,
        "reduction_rate": reduction_rate_or_none(limits.promised, limits.statutory),
        "items": [item_limits(item) for item in items],
    }
