"""Production settings pass ``manage.py check --deploy``.

Settings are read from the environment when Django starts, so each check runs ``manage.py`` in a fresh
process with the production environment (config.settings, not the test settings). Deliberately silenced:
``security.W021`` (HSTS preload — the domain owner's decision; see config/settings.py).

drf-spectacular registers a deploy check that generates the OpenAPI schema; its warnings are about the
schema, which CI validates on its own (``manage.py spectacular --validate --fail-on-warn`` in
``scripts/dev.sh test``), so this test holds every other check to zero issues.
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "config.settings",
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
    "DJANGO_SECURE": "1",
    "DJANGO_ALLOWED_HOSTS": "hall.example.gov.cn",
    "ONETHING_AUDIT_KEY": secrets.token_urlsafe(48),
    # An empty database: whatever users a developer's database holds (onething.E002 reports demo passwords) is not
    # what these settings checks are about; tests/security/test_login_limits.py holds that check.
    "DATABASE_URL": "sqlite:////tmp/onething-deploy-check-empty.sqlite3",
}
ISSUE = re.compile(r"^\S*: \((?P<id>[\w.]+)\) ", re.MULTILINE)
SCHEMA_CHECKS = "drf_spectacular."


def deploy_check(**overrides: str) -> tuple[int, list[str], str]:
    env = {**os.environ, **PRODUCTION, **overrides}
    # Test-only switches set by other test modules (the browser tests) are not part of a production environment.
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    env = {key: value for key, value in env.items() if value is not None}
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = result.stdout + result.stderr
    return result.returncode, ISSUE.findall(output), output


@pytest.mark.slow
def test_production_settings_pass_the_deploy_check():
    returncode, issues, output = deploy_check()

    assert [issue for issue in issues if not issue.startswith(SCHEMA_CHECKS)] == [], output
    if returncode != 0:  # then only because of schema warnings, which CI checks separately
        assert issues, output


@pytest.mark.slow
def test_the_deploy_check_refuses_the_development_secret_key_and_debug():
    env = {**PRODUCTION, "DJANGO_DEBUG": "1"}
    env.pop("DJANGO_SECRET_KEY")
    os_env = {key: value for key, value in os.environ.items() if key != "DJANGO_SECRET_KEY"}

    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        cwd=ROOT,
        env={**os_env, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )

    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert {"onething.E001", "security.W018"} <= set(ISSUE.findall(output)), output


@pytest.mark.slow
def test_the_deploy_check_asks_for_an_audit_key_of_its_own():
    returncode, issues, output = deploy_check(ONETHING_AUDIT_KEY="")
    assert returncode != 0 and "onething.E003" in issues, output
