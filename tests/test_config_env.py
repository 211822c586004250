"""DATABASE_URL as the settings read it: SQLite paths relative to the project or absolute, PostgreSQL parts."""

from pathlib import Path

from config.env import database_from_url

PROJECT = Path("/srv/onething")


def test_sqlite_paths_are_relative_to_the_project_unless_absolute():
    assert database_from_url("sqlite:///var/a.sqlite3", base_dir=PROJECT)["NAME"] == "/srv/onething/var/a.sqlite3"
    assert database_from_url("sqlite:////tmp/b.sqlite3", base_dir=PROJECT)["NAME"] == "/tmp/b.sqlite3"
    assert database_from_url("sqlite://", base_dir=PROJECT)["NAME"] == "/srv/onething/var/onething.sqlite3"


def test_postgresql_urls_are_split_into_their_parts():
    db = database_from_url("postgresql://hall:s%40cret@db.internal:6432/onething_prod", base_dir=PROJECT)
    assert (db["USER"], db["PASSWORD"], db["HOST"], db["PORT"], db["NAME"]) == (
        "hall",
        "s@cret",
        "db.internal",
        "6432",
        "onething_prod",
    )


def test_libpq_options_come_from_the_query_string():
    db = database_from_url(
        "postgresql://hall@replica-1:6432/onething?sslmode=require&application_name=onething-web", base_dir=PROJECT
    )
    assert db["OPTIONS"] == {
        "connect_timeout": 5,
        "options": "-c jit=off",
        "prepare_threshold": 5,
        "sslmode": "require",
        "application_name": "onething-web",
    }
    plain = database_from_url("postgresql://hall@db/onething", base_dir=PROJECT)["OPTIONS"]
    assert plain == {"connect_timeout": 5, "options": "-c jit=off", "prepare_threshold": 5}


def test_jit_is_off_on_the_applications_connections_unless_the_url_says_otherwise(db):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone() == ("off",)
    url = "postgresql://hall@db/onething?options=-c%20statement_timeout%3D5000"
    assert database_from_url(url, base_dir=PROJECT)["OPTIONS"]["options"] == "-c statement_timeout=5000"


def test_db_prepared_statements_0_keeps_psycopg_from_preparing(monkeypatch):
    monkeypatch.setenv("DB_PREPARED_STATEMENTS", "0")
    options = database_from_url("postgresql://hall@db/onething", base_dir=PROJECT)["OPTIONS"]
    assert options["prepare_threshold"] is None
