"""Timestamps read from PostgreSQL by psycopg's C loader instead of Django's Python one.

Django (5.2) reads every ``timestamptz`` value through its own loader, a Python subclass of psycopg's pure-Python
``TimestamptzLoader`` (``django.db.backends.postgresql.psycopg_any.BaseTzLoader``), so that the value comes back in
the connection's time zone: about 4 µs a value against 0.6 µs for psycopg's C loader. A step reads some twenty
such values (the case row, its task rows, its process version), a worklist page hundreds.

With ``USE_TZ`` and no per-database ``TIME_ZONE`` (this installation: ``config/settings.py``), Django sets the
session's ``TimeZone`` to UTC and wants aware datetimes in ``datetime.UTC``, which is exactly what
psycopg's C loader returns for a session in UTC. So on such a connection its loader is replaced by one that calls
the C loader; on any other (another zone, the pure-Python psycopg) Django's stays.
"""

from __future__ import annotations

import datetime as dt
import functools


def use_c_loader(sender, connection, **kwargs) -> None:
    """``connection_created`` receiver: the fast loader on a PostgreSQL connection whose session is in UTC."""
    if connection.vendor != "postgresql" or connection.timezone is not dt.UTC:
        return
    loader = _c_loader_class()
    if loader is None or connection.connection.info.parameter_status("TimeZone") != "UTC":
        return
    connection.connection.adapters.register_loader("timestamptz", loader)


@functools.cache
def _c_loader_class():
    """A loader whose ``load`` is the C loader's own (psycopg's C row maker calls it without a Python frame of ours),
    with the ``timezone`` attribute Django's cursor factory compares before it registers a loader per cursor; None
    when psycopg runs without its C extension."""
    import importlib

    from psycopg import pq
    from psycopg.adapt import Loader

    if pq.__impl__ not in ("binary", "c"):
        return None
    CLoader = importlib.import_module(f"psycopg_{pq.__impl__}._psycopg").TimestamptzLoader  # psycopg-binary or -c

    class UtcTimestampLoader(Loader):
        timezone = dt.UTC

        def __init__(self, oid, context=None):
            super().__init__(oid, context)
            self.load = CLoader(oid, context).load  # the session's zone, UTC: timezone.utc

        def load(self, data):  # shadowed per instance; declared because Loader's is abstract
            raise NotImplementedError

    return UtcTimestampLoader
