"""The audit trail's hash chain: every CaseEvent carries the hash of the one before it.

Events are chained in one global sequence, in insertion order. Appending takes a transaction-scoped
PostgreSQL advisory lock (SQLite's IMMEDIATE transactions already serialise writers), reads the last link,
and numbers and hashes the new rows, so concurrent writers never fork the chain. The hash covers every
field of the event, so changing, deleting or reordering a row breaks the chain from that row on; the
database also refuses UPDATE and DELETE on the table (a trigger, PostgreSQL), and `manage.py
verify_audit_chain` names the first row that does not match.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator

from django.db import connection
from django.utils import timezone

GENESIS = "0" * 64
_LOCK_KEY = 0x0E7E417  # any constant: the advisory lock that serialises appends


def link_hash(previous: str, event) -> str:
    payload = json.dumps(
        [
            previous,
            event.seq,
            event.case_id,
            event.kind,
            event.actor_id,
            event.actor_label,
            event.department,
            event.data,
            event.created_at.isoformat(),
        ],
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def chain(events: list) -> None:
    """Number and hash new (unsaved) events in place, after the last stored link. Call inside the
    transaction that saves them."""
    from .models import CaseEvent

    if not events:
        return
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])
    last = CaseEvent.objects.order_by("-seq").values_list("seq", "hash").first()
    seq, previous = last if last else (0, GENESIS)
    now = timezone.now()
    for event in events:
        # Events may be built before their case was saved (opening a case): take the ids now, as saving will.
        if event.case_id is None and event.case is not None:
            event.case_id = event.case.pk
        if event.actor_id is None and event.actor is not None:
            event.actor_id = event.actor.pk
        seq += 1
        event.seq = seq
        if event.created_at is None:
            event.created_at = now
        event.prev_hash = previous
        event.hash = link_hash(previous, event)
        previous = event.hash


def verify(events: Iterable) -> tuple[int, int | None]:
    """Walk the chain in sequence order: (rows checked, seq of the first bad row or None)."""
    previous, expected_seq, checked = GENESIS, 1, 0
    for event in events:
        if event.seq != expected_seq or event.prev_hash != previous or event.hash != link_hash(previous, event):
            return checked, event.seq
        previous, expected_seq, checked = event.hash, expected_seq + 1, checked + 1
    return checked, None


def iterate_chain(batch: int = 2000) -> Iterator:
    from .models import CaseEvent

    return CaseEvent.objects.order_by("seq").iterator(chunk_size=batch)
