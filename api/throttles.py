"""Throttles for the public status lookup (per IP and per case) and for login. Backed by the shared cache."""

from __future__ import annotations

import re

from rest_framework.throttling import AnonRateThrottle, SimpleRateThrottle

CASE_NO_RE = re.compile(r"^[0-9]{20}$")


class StatusLookupIpThrottle(AnonRateThrottle):
    scope = "status_lookup_ip"


class StatusLookupCaseThrottle(SimpleRateThrottle):
    """Limits guesses at one case's query code however many addresses they come from."""

    scope = "status_lookup_case"

    def get_cache_key(self, request, view):
        data = request.data if isinstance(request.data, dict) else {}  # throttles run before validation
        case_no = data.get("case_no")
        if not (isinstance(case_no, str) and CASE_NO_RE.fullmatch(case_no)):
            return None  # malformed: the serializer refuses it; the per-IP limit still applies
        return self.cache_format % {"scope": self.scope, "ident": case_no}


class LoginThrottle(AnonRateThrottle):
    scope = "login"
