"""A case's limits in working days (承诺时限 / 法定时限, extension caps), from its composition version."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from django.conf import settings

from .. import calendar as cal
from ..compositions import Composition


@dataclass(frozen=True)
class Limits:
    """A one-thing's limits in working days: the case's, and each department's promised limit."""

    promised: int
    statutory: int
    extension_cap: int
    departments: dict[str, int] = field(default_factory=dict)
    # The composition's items in order: (item id, department code, has a 秒批 decision table), so the engine
    # learns which new reviews may be auto-approved at no extra cost.
    items: tuple[tuple[int, str, bool], ...] = ()

    def for_department(self, code: str) -> int:
        # A lane with no item of its own in the one-thing falls back to the one-thing's promise.
        return self.departments.get(code, self.promised)


def limits_of(composition: Composition) -> Limits:
    """From the case's composition version, no statement. Statutory: 45 (+15) days for joint handling
    (Art. 26) when the one-thing bundles two or more items, else its single item's statutory limit (+10,
    Art. 42). A department's task limit is the longest promised limit among its items: one task decides all
    of them."""
    departments: dict[str, int] = {}
    for item in composition.items:
        departments[item.department] = max(departments.get(item.department, 0), item.promised_limit_days)
    if len(composition.items) == 1:
        statutory, cap = composition.items[0].statutory_limit_days, cal.SINGLE_ITEM_EXTENSION_DAYS
    else:
        statutory, cap = cal.JOINT_LIMIT_DAYS, cal.JOINT_EXTENSION_DAYS
    return Limits(
        promised=composition.promised_limit_days,
        statutory=statutory,
        extension_cap=cap,
        departments=departments,
        items=tuple(
            (item.item_id, item.department, bool(item.auto_approval_dmn.strip())) for item in composition.items
        ),
    )


def warning_share() -> float:
    share = float(getattr(settings, "ONETHING_WARNING_SHARE", 0.2))
    return min(max(share, 0.0), 1.0)


def warning_days(limit: int) -> int:
    """Working days into a limit after which the warning shows: when at most ``share × limit`` (at least
    one) working days remain."""
    return max(limit - max(1, math.ceil(warning_share() * limit)), 0)
