"""API tokens expire and die with a password change; staff sessions end after a working day idle (issue 18)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.api.helpers import assert_error, get, post
from tests.conftest import DEMO_PASSWORD


def login(username: str = "window1") -> str:
    response = post(APIClient(), "/api/auth/login", {"username": username, "password": DEMO_PASSWORD})
    assert response.status_code == 200, response.content
    return response.json()["token"]


def with_token(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def test_a_token_dies_with_a_password_change(users):
    token = login()
    assert get(with_token(token), "/api/auth/me").status_code == 200
    user = get_user_model().objects.get(username="window1")
    user.set_password("a-new-long-password-2026")
    user.save()
    assert_error(get(with_token(token), "/api/auth/me"), 401, "authentication_failed")
    assert not Token.objects.filter(key=token).exists()


def test_a_token_expires_after_a_working_day_and_login_gives_a_new_one(users):
    token = login()
    old = timezone.now() - dt.timedelta(hours=settings.ONETHING_API_TOKEN_HOURS, minutes=1)
    Token.objects.filter(key=token).update(created=old)
    refused = get(with_token(token), "/api/auth/me")
    assert_error(refused, 401, "authentication_failed")
    assert "过期" in refused.json()["message"] or not Token.objects.filter(key=token).exists()
    fresh = login()
    assert fresh != token and get(with_token(fresh), "/api/auth/me").status_code == 200


def test_an_expired_token_is_replaced_at_login(users):
    token = login()
    Token.objects.filter(key=token).update(created=timezone.now() - dt.timedelta(days=30))
    assert login() != token


def test_staff_sessions_end_after_a_working_day_idle(users):
    assert settings.SESSION_COOKIE_AGE <= 8 * 3600
    client = Client()
    client.force_login(users["window1"])
    response = client.get("/window/")
    assert response.status_code == 200
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert int(cookie["max-age"]) == settings.SESSION_COOKIE_AGE  # renewed by requests: idle time counts


def test_a_session_is_renewed_by_requests_but_written_at_most_once_a_minute(users):
    from django.contrib.sessions.models import Session

    from web.idle_sessions import RENEW_AFTER_SECONDS

    client = Client()
    client.force_login(users["window1"])
    client.get("/window/")
    key = client.session.session_key
    first = Session.objects.get(session_key=key).expire_date
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/window/")
    assert response.status_code == 200 and settings.SESSION_COOKIE_NAME not in response.cookies
    assert not [q for q in queries.captured_queries if "django_session" in q["sql"] and "UPDATE" in q["sql"]]
    # a minute on, the next request moves the expiry and re-sends the cookie
    session = client.session
    session["_renewed_at"] -= RENEW_AFTER_SECONDS
    session.save()
    before = Session.objects.get(session_key=key).expire_date
    assert before >= first
    response = client.get("/window/")
    assert int(response.cookies[settings.SESSION_COOKIE_NAME]["max-age"]) == settings.SESSION_COOKIE_AGE
    assert Session.objects.get(session_key=key).expire_date > before
