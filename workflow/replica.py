"""Reads from a read replica (docs/scaling.md): the applicant's status lookups and the supervisor's statistics.

Configured by ``DATABASE_REPLICA_URL`` (config/settings.py): a second database alias, ``replica``, a streaming
replica of the primary (or, in a test, the same server). Only the views in ``REPLICA_VIEWS`` read from it, and
only while they run (``ReplicaReadsMiddleware``; a streamed body, the statistics CSV, while it streams); every
other read, every write, and any read inside a transaction (the write path locks and reads rows it will write)
stays on the primary. Everything else — sessions, users, tokens — is always on the primary.
"""

from __future__ import annotations

import contextvars
from contextlib import contextmanager

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.urls import Resolver404, resolve

REPLICA = "replica"
# URL names (config/urls.py) whose reads may come from the replica: views that only read (the status lookup is a
# POST so that the query code stays out of URLs and logs; a write would still go to the primary). A few seconds'
# lag is harmless to them. A case opened a moment ago may be missing on a lagging replica: the status lookup answers
# "not found" until the replica has it, which is why the replica's lag must be watched (docs/scaling.md).
REPLICA_VIEWS = frozenset(
    {
        "case-status",  # POST /api/status: the applicant's status lookup
        "case-status-documents",  # GET /api/status/documents
        "statistics",  # GET /api/statistics and the three below
        "statistics-one-things",
        "statistics-departments",
        "rating-statistics",
        "web:status",  # the status page
        "web:dashboard",  # the supervisor's dashboard and its CSV
        "web:dashboard-export",
    }
)
_reading_replica = contextvars.ContextVar("onething_reading_replica", default=False)


def configured() -> bool:
    return REPLICA in settings.DATABASES


@contextmanager
def replica_reads():
    """Reads of OneThing's rows in this block come from the replica (outside transactions)."""
    token = _reading_replica.set(True)
    try:
        yield
    finally:
        _reading_replica.reset(token)


class ReplicaRouter:
    """``DATABASE_ROUTERS`` when a replica is configured."""

    def db_for_read(self, model, **hints):
        if (
            _reading_replica.get()
            and model._meta.app_label == "workflow"
            and not connections[DEFAULT_DB_ALIAS].in_atomic_block
        ):
            return REPLICA
        return DEFAULT_DB_ALIAS

    def db_for_write(self, model, **hints):
        return DEFAULT_DB_ALIAS  # also for a row that was read from the replica

    def allow_relation(self, obj1, obj2, **hints):
        return True  # the same rows on both

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == DEFAULT_DB_ALIAS


def routed(request) -> bool:
    try:
        return resolve(request.path_info).view_name in REPLICA_VIEWS
    except Resolver404:
        return False


class ReplicaReadsMiddleware:
    """Runs the views of ``REPLICA_VIEWS`` with ``replica_reads``."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not routed(request):
            return self.get_response(request)
        with replica_reads():
            response = self.get_response(request)
        if response.streaming:
            response.streaming_content = _streamed_from_replica(response.streaming_content)
        return response


def _streamed_from_replica(content):
    with replica_reads():
        yield from content
