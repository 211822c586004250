"""Every login form is limited, and production cannot quietly run with the published demo password (issue 18)."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core import checks
from django.core.management import call_command
from django.test import Client

from workflow.checks import no_user_has_the_demo_password
from workflow.demo import DEMO_PASSWORD, load_demo

pytestmark = pytest.mark.django_db


def test_the_admin_login_is_limited_like_every_login_form(monkeypatch):
    from web.throttles import LoginThrottle

    monkeypatch.setattr(LoginThrottle, "rate", "2/min", raising=False)
    client = Client()
    for _ in range(2):
        response = client.post("/admin/login/", {"username": "admin", "password": "wrong"})
        assert response.status_code == 200
    refused = client.post("/admin/login/", {"username": "admin", "password": "wrong"})
    assert refused.status_code == 429
    assert "登录尝试过于频繁" in refused.content.decode()
    assert Client(REMOTE_ADDR="192.0.2.9").get("/admin/login/").status_code == 200


def test_the_deploy_check_reports_every_user_with_the_demo_password():
    User = get_user_model()
    User.objects.create_user("admin2", password=DEMO_PASSWORD)
    User.objects.create_user("careful", password="a-long-unpublished-secret")
    User.objects.create_user("gone", password=DEMO_PASSWORD, is_active=False)
    (issue,) = no_user_has_the_demo_password(None)
    assert issue.id == "onething.E002" and issue.level == checks.ERROR
    assert "admin2" in issue.msg and "careful" not in issue.msg and "gone" not in issue.msg
    # registered as a deployment check
    ids = {i.id for i in checks.run_checks(include_deployment_checks=True, tags=[checks.Tags.security])}
    assert "onething.E002" in ids


def test_demo_data_can_be_loaded_without_users():
    assert load_demo(password=DEMO_PASSWORD, users=False) == []
    call_command("load_demo", "--no-users", verbosity=0)
    assert not get_user_model().objects.exists()
    assert no_user_has_the_demo_password(None) == []
