"""The public status page's throttles: the API's rules and budgets, shared with it.

The scopes, rates (``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]``) and cache keys are the API's, so a guesser
gains nothing by alternating between ``/status/`` and ``/api/status``: both spend the same per-IP budget and
the same per-case budget of wrong query codes. As in the API, only failed lookups count against a case, and once
its budget is spent every lookup of that case is refused, the right code included.
"""

from __future__ import annotations

import re

from rest_framework.throttling import SimpleRateThrottle

from workflow.labels import CASE_NO_PATTERN

CASE_NO_RE = re.compile(CASE_NO_PATTERN)


class _PageThrottle(SimpleRateThrottle):
    def check(self, request) -> bool:
        return self.allow_request(request, None)


class StatusIpThrottle(_PageThrottle):
    """Every lookup from one address, logged in or not."""

    scope = "status_lookup_ip"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class StatusCaseThrottle(_PageThrottle):
    """Wrong query codes for one case number, from anywhere."""

    scope = "status_lookup_case"

    def get_cache_key(self, request, view):
        case_no = request.POST.get("case_no", "")
        if not CASE_NO_RE.fullmatch(case_no):
            return None
        return self.cache_format % {"scope": self.scope, "ident": case_no}

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        self.history = self.cache.get(self.key, [])
        self.now = self.timer()
        while self.history and self.history[-1] <= self.now - self.duration:
            self.history.pop()
        return len(self.history) < self.num_requests

    def record_failure(self) -> None:
        if getattr(self, "key", None) is None:
            return
        self.history.insert(0, self.now)
        self.cache.set(self.key, self.history, self.duration)


class LoginThrottle(_PageThrottle):
    """Password guesses per address: the API's login budget."""

    scope = "login"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
