"""The audit trail's hash chain: every CaseEvent carries the hash of the one before it.

Events are chained in one global sequence, in insertion order. Appending locks and reads the chain's head
(`AuditChainHead`, one row: the newest event's seq and hash) in one statement, then numbers and hashes the new
rows; the row lock is held until commit, so concurrent writers never fork the chain, and a trigger (migration
0005) moves the head in the same statement that inserts the events. SQLite's IMMEDIATE transactions already
serialise writers; there the newest event is read directly.

The hash covers every field of the event, so changing, deleting or reordering a row breaks the chain from that
row on; the database also refuses UPDATE and DELETE on the table (a trigger, PostgreSQL), and `manage.py
verify_audit_chain` names the first row that does not match, or reports a head beyond the last row (events
deleted from the end, which walking the chain alone cannot see).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator

from django.db import connection
from django.utils import timezone

from .models.audit import GENESIS

# Lock the head and read the last link in one statement. An upsert, so that a missing row (a test runner's
# TRUNCATE) is recreated from the newest event; GREATEST re-syncs a head that fell behind the events (a schema
# built without the migration's trigger). With the trigger the head is always the newest event.
_LOCK_HEAD = """
INSERT INTO workflow_auditchainhead AS head (id, seq, hash)
VALUES (
    1,
    COALESCE((SELECT seq FROM workflow_caseevent ORDER BY seq DESC LIMIT 1), 0),
    COALESCE((SELECT hash FROM workflow_caseevent ORDER BY seq DESC LIMIT 1), %s)
)
ON CONFLICT (id) DO UPDATE SET
    seq = GREATEST(head.seq, EXCLUDED.seq),
    hash = CASE WHEN EXCLUDED.seq > head.seq THEN EXCLUDED.hash ELSE head.hash END
RETURNING seq, hash
"""


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
            cursor.execute(_LOCK_HEAD, [GENESIS])
            seq, previous = cursor.fetchone()
    else:
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


def head_mismatch() -> tuple[int, int] | None:
    """(the head's seq, the newest event's seq) when the stored head is not the newest event (PostgreSQL)."""
    from .models import AuditChainHead, CaseEvent

    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_trigger WHERE tgname = 'workflow_caseevent_chain_head'")
        if cursor.fetchone() is None:
            return None  # a schema built without migration 0005 keeps no head in step
    head = AuditChainHead.objects.filter(pk=1).values_list("seq", "hash").first()
    if head is None:
        return None  # not created yet (an empty trail, or emptied by a test runner): the next append creates it
    last = CaseEvent.objects.order_by("-seq").values_list("seq", "hash").first() or (0, GENESIS)
    return None if tuple(head) == tuple(last) else (head[0], last[0])


def case_event(case, kind: str, actor, *, department: str = "", nobody: str = "申请人", **data):
    """A new (unsaved) trail event. ``actor``: a user, a label, or None — the applicant, or ``nobody``
    (e.g. "系统" for a sweep)."""
    from .models import CaseEvent

    return CaseEvent(
        case=case,
        kind=kind,
        actor=actor if getattr(actor, "pk", None) else None,
        actor_label=_actor_label(actor, nobody),
        department=department,
        data=data,
    )


def _actor_label(actor, nobody: str = "申请人") -> str:
    if actor is None:
        return nobody
    if isinstance(actor, str):
        return actor
    return actor.get_full_name() or actor.get_username()
