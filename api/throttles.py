"""Throttles for the public status lookup (per IP and per case) and for login. Backed by the shared cache."""

from __future__ import annotations

import re

from rest_framework.throttling import AnonRateThrottle, SimpleRateThrottle

from workflow.labels import CASE_NO_PATTERN

CASE_NO_RE = re.compile(CASE_NO_PATTERN)


class StatusLookupIpThrottle(AnonRateThrottle):
    scope = "status_lookup_ip"


class StatusLookupCaseThrottle(SimpleRateThrottle):
    """Limits wrong query codes for one case, however many addresses they come from.

    Only failed lookups count (the view calls ``record_failure``), so the applicant holding the right code
    does not use up the budget; once the budget is spent every lookup of that case gets 429 until it
    refills, the right code included — otherwise a 429 or 200 would tell a guesser which code is right.
    """

    scope = "status_lookup_case"

    def get_cache_key(self, request, view):
        data = request.data if isinstance(request.data, dict) else {}  # throttles run before validation
        case_no = data.get("case_no")
        if not (isinstance(case_no, str) and CASE_NO_RE.fullmatch(case_no)):
            return None  # not a case number: the serializer refuses it; the per-IP limit still applies
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
        if len(self.history) >= self.num_requests:
            return self.throttle_failure()
        return True

    def record_failure(self) -> None:
        if getattr(self, "key", None) is None:
            return
        self.history.insert(0, self.now)
        self.cache.set(self.key, self.history, self.duration)


class LoginThrottle(AnonRateThrottle):
    scope = "login"
