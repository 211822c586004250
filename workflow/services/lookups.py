"""The applicant's lookup (case number + query code) under its limits — one function for the API and the page.

Policy (docs/security.md → "The applicant's lookup"); every key uses the normalised case number
(``normalise_case_no``), so a trailing space or full-width digits reach the same counters as the plain number:

- per address, every lookup: ``status_lookup_ip`` (30/min) — the views' throttle, before this function;
- per address and case, wrong codes: ``status_lookup_addr_case`` (5/hour). Spent → that address is refused that
  case (429) without the code being checked;
- per case, wrong codes from anywhere: ``status_lookup_case`` (10/hour). Spent → the case is *under attack*: an
  address that already gave a wrong code for it is refused unchecked (429); any other address is still checked —
  the right code answers as always, a wrong one gets the same 429 as a refusal (never "wrong code"), and counts.

So strangers get at most one guess per address per case while the case is under attack, and the holder of the
right code is never locked out by others: only their own address's wrong codes can refuse them.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.core.cache import cache

from ..errors import LookupThrottled, NotFound, ValidationFailed
from ..models import CASE_NO_PATTERN, Case, normalise_case_no
from ..selectors.cases import case_for_applicant

_DURATIONS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _rate(scope: str) -> tuple[int, int] | None:
    rate = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"].get(scope)
    if not rate:
        return None
    count, period = rate.split("/")
    return int(count), _DURATIONS[period[0]]


class _Counter:
    """Wrong attempts in a fixed window that opens with the first one (atomic ``add`` + ``incr``)."""

    def __init__(self, scope: str, ident: str):
        self.rate = _rate(scope)
        self.key = f"onething:lookup:{scope}:{ident}"

    def count(self) -> int:
        return 0 if self.rate is None else int(cache.get(self.key) or 0)

    def spent(self, count: int) -> bool:
        return self.rate is not None and count >= self.rate[0]

    def record(self) -> None:
        if self.rate is None:
            return
        cache.add(self.key, 0, self.rate[1])
        try:
            cache.incr(self.key)
        except ValueError:  # expired between add and incr
            cache.add(self.key, 1, self.rate[1])


def applicant_lookup(*, case_no: str, query_code: str, address: str) -> Case:
    """The case if the code is right; NotFound (unknown case and wrong code alike) or LookupThrottled."""
    number = normalise_case_no(case_no)
    if not re.fullmatch(CASE_NO_PATTERN, number):
        raise ValidationFailed(field_errors={"case_no": ["办件编号应为 20 位数字"]})
    return _limited(
        _Counter("status_lookup_addr_case", f"{address}:{number}"),
        _Counter("status_lookup_case", number),
        lambda: case_for_applicant(case_no=number, query_code=query_code),
    )


def _limited(by_address: _Counter, by_key: _Counter, lookup):
    """Run ``lookup`` under the wrong-code limits: per address and key, and per key from anywhere. The right
    code always works from an address that guessed nothing; while the key is under attack the others get no
    right/wrong answer (docs/security.md)."""
    mine, everyone = by_address.count(), by_key.count()
    under_attack = by_key.spent(everyone)
    if by_address.spent(mine) or (under_attack and mine > 0):
        raise LookupThrottled(retry_after=by_address.rate[1] if by_address.rate else 60)
    try:
        return lookup()
    except NotFound:
        by_address.record()
        by_key.record()
        if under_attack:
            raise LookupThrottled(retry_after=by_address.rate[1] if by_address.rate else 60) from None
        raise


def licence_lookup(*, number: str, code: str, address: str):
    """The public licence check (``selectors.licences.licence_check``) under the status lookup's limits: the
    same rates, counted per licence number — wrong codes per address and number, and per number from anywhere
    — so a licence's code is guessed no faster than a case's query code. NotFound (unknown number and wrong
    code alike) or LookupThrottled."""
    from ..selectors.licences import licence_check

    number = (number or "").strip()
    if not number or len(number) > 64:
        raise ValidationFailed(field_errors={"number": ["请填写证照编号"]})
    return _limited(
        _Counter("status_lookup_addr_case", f"licence:{address}:{number}"),
        _Counter("status_lookup_case", f"licence:{number}"),
        lambda: licence_check(number=number, code=code),
    )
