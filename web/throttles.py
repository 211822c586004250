"""The public status page's throttles: the API's rules and budgets, shared with it.

The scopes, rates (``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]``) and cache keys are the API's, so a guesser
gains nothing by alternating between ``/status/`` and ``/api/status``: both spend the same per-IP budget, and
wrong query codes count through the one ``services.applicant_lookup`` (per address and case, per case).
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


class LoginThrottle(_PageThrottle):
    """Password guesses per address: the API's login budget."""

    scope = "login"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
