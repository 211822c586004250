"""Throttles for the public status lookup (per IP; wrong codes are limited by ``services.applicant_lookup``) and
for login. Backed by the shared cache."""

from __future__ import annotations

import re

from rest_framework.throttling import AnonRateThrottle

from workflow.labels import CASE_NO_PATTERN

CASE_NO_RE = re.compile(CASE_NO_PATTERN)


class StatusLookupIpThrottle(AnonRateThrottle):
    scope = "status_lookup_ip"


class LoginThrottle(AnonRateThrottle):
    scope = "login"
