"""The application's PostgreSQL role cannot switch off the audit trail's protections (issue 18): it owns nothing,
so TRUNCATE, ALTER TABLE … DISABLE TRIGGER and the replica role are refused, while the app still works as it."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest
from django.core.management import call_command
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent.parent
pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def app_role():
    if connection.vendor != "postgresql":
        pytest.skip("roles are PostgreSQL's")
    role = f"onething_app_{uuid.uuid4().hex[:10]}"  # roles are cluster-wide: one per run
    call_command("grant_app_role", "--role", role, "--create", verbosity=0)
    try:
        yield role
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f'DROP OWNED BY "{role}"')
            cursor.execute(f'DROP ROLE "{role}"')


def _connect(role: str) -> psycopg.Connection:
    settings = connection.settings_dict
    return psycopg.connect(
        dbname=settings["NAME"], user=role, host=settings["HOST"], port=settings["PORT"], autocommit=True
    )


@pytest.mark.parametrize(
    "statement",
    [
        "TRUNCATE workflow_caseevent",
        "TRUNCATE workflow_auditchainhead",
        "ALTER TABLE workflow_caseevent DISABLE TRIGGER ALL",
        "ALTER TABLE workflow_caseevent DISABLE TRIGGER workflow_caseevent_append_only",
        "DROP TRIGGER workflow_caseevent_append_only ON workflow_caseevent",
        "SET session_replication_role = replica",
        "UPDATE workflow_caseevent SET kind = 'x'",
        "DELETE FROM workflow_caseevent",
        "DELETE FROM workflow_auditchainhead",
        "CREATE TABLE evil (id int)",
    ],
)
def test_the_app_role_cannot_disable_or_empty_the_trail(app_role, statement):
    with _connect(app_role) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute(statement)


def test_the_app_works_as_that_role(app_role):
    """Loading the catalogue (inserts, upserts, deploys) and verifying the chain, as the application role."""
    settings = connection.settings_dict
    url = f"postgresql://{app_role}@{settings['HOST']}:{settings['PORT']}/{settings['NAME']}"
    env = {**os.environ, "DATABASE_URL": url, "CELERY_BROKER_URL": "memory://", "MIGRATE_DATABASE_URL": ""}
    for command in (["load_demo", "--no-users"], ["verify_audit_chain"]):
        done = subprocess.run(
            [sys.executable, "manage.py", *command], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180
        )
        assert done.returncode == 0, done.stdout + done.stderr


def test_the_owner_role_is_refused_as_the_app_role():
    if connection.vendor != "postgresql":
        pytest.skip("roles are PostgreSQL's")
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="所有者"):
        call_command("grant_app_role", "--role", connection.settings_dict["USER"], verbosity=0)
