"""Staff sessions end after ``ONETHING_SESSION_IDLE_SECONDS`` without a request (docs/security.md): each request
moves the session's expiry — but its row is written at most once a minute.

Writing the session on every request (``SESSION_SAVE_EVERY_REQUEST``) cost every screen a transaction of its own,
with PostgreSQL's flush at its commit, for a date that moved by a few seconds. Here the session keeps when it was
last renewed, and a request marks it changed (so ``SessionMiddleware`` saves it and re-sends the cookie with a
full ``max-age``) only when that was ``RENEW_AFTER_SECONDS`` ago or more. A session therefore ends between
``SESSION_COOKIE_AGE − RENEW_AFTER_SECONDS`` and ``SESSION_COOKIE_AGE`` after its last request.
"""

from __future__ import annotations

import time

RENEW_AFTER_SECONDS = 60
_RENEWED_AT = "_renewed_at"


class IdleSessionMiddleware:
    """Listed after ``SessionMiddleware``, so that its change is seen when the session middleware saves."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        session = getattr(request, "session", None)
        if session is not None and not session.is_empty():
            now = int(time.time())
            if now - session.get(_RENEWED_AT, 0) >= RENEW_AFTER_SECONDS:
                session[_RENEWED_AT] = now
        return response
