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

import hashlib
import json
from collections.abc import Iterable, Iterator

from django.db import connection, connections
from django.utils import timezone

from .models.audit import GENESIS

# One statement per batch of events. `head` locks the chain's head and returns the last link: an upsert, so that
# a missing row (a test runner's TRUNCATE) is recreated from the newest event; GREATEST re-syncs a head that fell
# behind the events (a schema built without migration 0006's trigger). `link` numbers the batch after it and
# chains the hashes in the batch's order (only sha256 of text: the digests of the events' contents come from
# Python). The trigger of migration 0006 then moves the head to the newest inserted row.
_APPEND = """
WITH RECURSIVE head AS (
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
),
batch AS (
    SELECT * FROM unnest(
        %s::bigint[], %s::text[], %s::bigint[], %s::text[], %s::text[], %s::text[], %s::timestamptz[], %s::text[]
    ) WITH ORDINALITY AS batch (case_id, kind, actor_id, actor_label, department, data, created_at, digest, ord)
),
link (ord, seq, prev_hash, hash) AS (
    SELECT 0::bigint, seq, NULL::text, hash::text FROM head
    UNION ALL
    SELECT batch.ord, link.seq + 1, link.hash,
        encode(sha256(convert_to(link.hash || ':' || (link.seq + 1)::text || ':' || batch.digest, 'UTF8')), 'hex')
    FROM link JOIN batch ON batch.ord = link.ord + 1
)
INSERT INTO workflow_caseevent
    (case_id, kind, actor_id, actor_label, department, data, created_at, seq, prev_hash, hash)
SELECT batch.case_id, batch.kind, batch.actor_id, batch.actor_label, batch.department, batch.data::jsonb,
    batch.created_at, link.seq, link.prev_hash, link.hash
FROM batch JOIN link ON link.ord = batch.ord
ORDER BY batch.ord
RETURNING id, seq, prev_hash, hash
"""


def content_digest(event) -> str:
    """SHA-256 (hex) of the canonical JSON of the event's own fields; the half of the hash Python computes."""
    payload = json.dumps(
        [
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


def link_hash(previous: str, seq: int, digest: str) -> str:
    """The event's hash: the half PostgreSQL computes too (`_APPEND`), so both must stay byte for byte alike."""
    return hashlib.sha256(f"{previous}:{seq}:{digest}".encode()).hexdigest()


def event_hash(previous: str, event) -> str:
    return link_hash(previous, event.seq, content_digest(event))


def append(events: list, using: str = "default") -> bool:
    """Number, hash and — on PostgreSQL — insert new (unsaved) events, after the last stored link, in one
    statement; their ``id``, ``seq``, ``prev_hash`` and ``hash`` are set. Returns whether they were inserted:
    elsewhere (SQLite) they are only numbered and hashed, and the caller's ORM insert stores them. Call inside
    the transaction that saves them (CaseEvent.save and CaseEvent.objects.bulk_create do)."""
    if not events:
        return True
    now = timezone.now()
    for event in events:
        # Events may be built before their case was saved (opening a case): take the ids now, as saving will.
        if event.case_id is None and event.case is not None:
            event.case_id = event.case.pk
        if event.actor_id is None and event.actor is not None:
            event.actor_id = event.actor.pk
        if event.created_at is None:
            event.created_at = now
    database = connections[using]
    if database.vendor != "postgresql":
        _chain_in_python(events, using)
        return False
    columns = [
        [e.case_id for e in events],
        [e.kind for e in events],
        [e.actor_id for e in events],
        [e.actor_label for e in events],
        [e.department for e in events],
        [json.dumps(e.data) for e in events],  # as Django's JSONField stores it
        [e.created_at for e in events],
        [content_digest(e) for e in events],
    ]
    with database.cursor() as cursor:
        cursor.execute(_APPEND, [GENESIS, *columns])
        rows = sorted(cursor.fetchall(), key=lambda row: row[1])
    for event, (pk, seq, prev_hash, hash_) in zip(events, rows, strict=True):
        event.pk, event.seq, event.prev_hash, event.hash = pk, seq, prev_hash, hash_
        event._state.adding, event._state.db = False, using
    return True


def _chain_in_python(events: list, using: str) -> None:
    """The same numbering and hashes as `_APPEND`, for SQLite (its writers are serialised by IMMEDIATE
    transactions, so reading the newest event is enough)."""
    from .models import CaseEvent

    last = CaseEvent.objects.using(using).order_by("-seq").values_list("seq", "hash").first()
    seq, previous = last if last else (0, GENESIS)
    for event in events:
        seq += 1
        event.seq = seq
        event.prev_hash = previous
        event.hash = event_hash(previous, event)
        previous = event.hash


def verify(events: Iterable) -> tuple[int, int | None]:
    """Walk the chain in sequence order: (rows checked, seq of the first bad row or None)."""
    previous, expected_seq, checked = GENESIS, 1, 0
    for event in events:
        if event.seq != expected_seq or event.prev_hash != previous or event.hash != event_hash(previous, event):
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
            return None  # a schema built without migration 0006 keeps no head in step
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
