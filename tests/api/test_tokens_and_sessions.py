"""API tokens expire and die with a password change; staff sessions end after a working day idle (issue 18)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client
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
    assert settings.SESSION_COOKIE_AGE <= 8 * 3600 and settings.SESSION_SAVE_EVERY_REQUEST
    client = Client()
    client.force_login(users["window1"])
    response = client.get("/window/")
    assert response.status_code == 200
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert int(cookie["max-age"]) == settings.SESSION_COOKIE_AGE  # renewed on every request: idle time counts
