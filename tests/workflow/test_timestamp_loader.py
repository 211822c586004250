"""Timestamps read by psycopg's C loader (workflow/timestamp_loader.py): the same values Django's own loader gives."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.db.backends.postgresql.psycopg_any import BaseTzLoader
from psycopg.adapt import Transformer
from psycopg.postgres import types

from workflow.timestamp_loader import use_c_loader

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="Django's timestamptz loader is PostgreSQL's"),
]

TIMESTAMPTZ = types["timestamptz"].oid
# What a UTC session sends for timestamptz: whole seconds, fractions, dates before 1970 and far ahead, year 1.
TEXTS = [
    "2026-12-08 04:25:19+00",
    "2026-12-08 04:25:19.5+00",
    "2026-03-01 12:00:00.000001+00",
    "1949-10-01 07:00:00+00",
    "9999-12-31 23:59:59.999999+00",
    "0001-01-01 00:00:00+00",
]


class DjangosLoader(BaseTzLoader):
    timezone = dt.UTC


def _loader(cls):
    return cls(TIMESTAMPTZ, Transformer(connection.connection))


def test_a_utc_connection_reads_timestamps_with_the_c_loader():
    connection.ensure_connection()
    registered = connection.connection.adapters.get_loader(TIMESTAMPTZ, 0)
    assert registered.__name__ == "UtcTimestampLoader"
    assert registered.timezone is connection.timezone is dt.UTC  # what Django's cursor factory compares


@pytest.mark.parametrize("text", TEXTS)
def test_each_value_is_the_one_djangos_loader_gives(text):
    connection.ensure_connection()
    mine = _loader(connection.connection.adapters.get_loader(TIMESTAMPTZ, 0)).load(text.encode())
    theirs = _loader(DjangosLoader).load(text.encode())
    assert mine == theirs and mine.tzinfo is theirs.tzinfo is dt.UTC


def test_rows_read_through_the_orm_are_aware_in_utc(users):
    from tests.workflow.helpers import open_and_accept

    case = open_and_accept(users)
    with connection.cursor() as cursor:
        cursor.execute("SELECT opened_at, opened_at::text FROM workflow_case WHERE id = %s", [case.pk])
        value, text = cursor.fetchone()
    assert value.tzinfo is dt.UTC
    assert value == _loader(DjangosLoader).load(text.encode())
    case.refresh_from_db()
    assert case.opened_at == value and case.opened_at.tzinfo is dt.UTC


def test_a_connection_in_another_time_zone_keeps_djangos_loader(django_db_blocker):
    """A database configured with its own TIME_ZONE: Django reads timestamps in that zone, so its loader stays."""
    from django.db.backends.postgresql.base import DatabaseWrapper

    other = DatabaseWrapper({**connection.settings_dict, "TIME_ZONE": "Asia/Shanghai"}, alias="timestamp_loader_tz")
    try:
        with django_db_blocker.unblock():
            other.ensure_connection()
        use_c_loader(sender=DatabaseWrapper, connection=other)  # as connection_created does: it declines
        loader = other.connection.adapters.get_loader(TIMESTAMPTZ, 0)
        assert loader.__name__ != "UtcTimestampLoader"
        with other.cursor() as cursor:
            cursor.execute("SELECT '2026-12-08 04:25:19+00'::timestamptz")
            (value,) = cursor.fetchone()
        assert value == dt.datetime(2026, 12, 8, 12, 25, 19, tzinfo=ZoneInfo("Asia/Shanghai"))
        assert value.utcoffset() == dt.timedelta(hours=8)
    finally:
        other.close()
