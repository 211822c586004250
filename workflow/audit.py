"""The audit trail's hash chain: every CaseEvent carries the hash of the one before it.

Events are chained in one global sequence, in insertion order. Each event's hash is split in two so that
PostgreSQL can do the chaining:

- ``content_digest(event)``: SHA-256 of the canonical JSON of the event's own fields (case, kind, actor, actor
  label, department, data, time), computed in Python — canonical JSON is Python's to define;
- ``hash = sha256(prev_hash ":" seq ":" content_digest)`` in hex, which PostgreSQL's builtin ``sha256`` computes
  as well as Python.

On PostgreSQL one statement appends a batch (`_APPEND`): a CTE upserts and so locks the chain's head
(`AuditChainHead`, one row: the newest event's seq and hash; a missing row, e.g. after a test runner's TRUNCATE,
is rebuilt from the newest event), a recursive CTE numbers the batch after it and chains the hashes in order,
the INSERT stores the events and RETURNs their id, seq and hashes, and a statement-level trigger (migration
0006) moves the head to the newest inserted row. The head's row lock is held until commit, so concurrent
writers never fork the chain. SQLite (the demo) computes the same hashes in Python; its IMMEDIATE transactions
already serialise writers, and there the newest event is read directly.

The digest is not stored: verifying recomputes both halves from the row's fields, so changing, deleting or
reordering a row breaks the chain from that row on. The database also refuses UPDATE and DELETE on the table (a
trigger, PostgreSQL), and `manage.py verify_audit_chain` names the first row that does not match, or reports a
head beyond the last row (events deleted from the end, which walking the chain alone cannot see).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from django.db import connection

from .events import case_event
from .models import AuditChainHead, CaseEvent
from .models.audit import GENESIS, append, content_digest, event_hash, link_hash

__all__ = [
    "GENESIS",
    "append",
    "case_event",
    "content_digest",
    "event_hash",
    "head_mismatch",
    "iterate_chain",
    "link_hash",
    "verify",
]


def verify(events: Iterable) -> tuple[int, int | None]:
    """Walk the chain in sequence order: (rows checked, seq of the first bad row or None)."""
    previous, expected_seq, checked = GENESIS, 1, 0
    for event in events:
        if event.seq != expected_seq or event.prev_hash != previous or event.hash != event_hash(previous, event):
            return checked, event.seq
        previous, expected_seq, checked = event.hash, expected_seq + 1, checked + 1
    return checked, None


def iterate_chain(batch: int = 2000) -> Iterator:
    return CaseEvent.objects.order_by("seq").iterator(chunk_size=batch)


def head_mismatch() -> tuple[int, int] | None:
    """(the head's seq, the newest event's seq) when the stored head is not the newest event (PostgreSQL)."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_trigger WHERE tgname = 'workflow_caseevent_chain_head'")
        if cursor.fetchone() is None:
            return None  # a schema built without migration 0006 keeps no head in step
    head = AuditChainHead.objects.filter(pk=1).values_list("seq", "hash").first()
    if head is None:
        return None  # not created yet (an empty trail, or emptied by a test runner): the next append creates it
    last = CaseEvent.objects.order_by("-seq").values_list("seq", "hash").first() or (0, GENESIS)
    return None if tuple(head) == tuple(last) else (head[0], last[0])
