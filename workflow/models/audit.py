"""The audit chain (see workflow/audit.py for the whole story): its head — the last link of the CaseEvent hash
chain, kept on one row — and the append that numbers, hashes and inserts new events. The append lives with the
rows because CaseEvent.save and its bulk_create call it; verifying the chain is workflow/audit.py's."""

from __future__ import annotations

import functools
import hashlib
import hmac
import json

from django.conf import settings
from django.db import connections, models
from django.utils import timezone

GENESIS = "0" * 64


class AuditChainHead(models.Model):
    """One row (id 1): the sequence number and hash of the newest CaseEvent.

    The statement that appends events upserts this row first, which serialises concurrent writers (the lock
    is held until commit) and gives the link to chain from; on PostgreSQL a trigger (migration 0006) moves it to
    the newest inserted event after that same statement, so it cannot drift from the table.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.BigIntegerField("最后事件链序号", default=0)
    hash = models.CharField("最后事件摘要", max_length=64, default=GENESIS)

    class Meta:
        verbose_name = verbose_name_plural = "事件哈希链链头"

    def __str__(self) -> str:
        return f"{self.seq}:{self.hash[:12]}"


# One statement per batch of events. `head` locks the chain's head and returns the last link: an upsert, so that
# a missing row (a test runner's TRUNCATE) is recreated from the newest event; GREATEST re-syncs a head that fell
# behind the events (a schema built without migration 0006's trigger). `batch` is the new events, sent as one JSON
# array (`append_params`) and read back in its order. `link` numbers the batch after it and
# chains the hashes in the batch's order (only sha256 of text: the digests of the events' contents come from
# Python). The trigger of migration 0006 then moves the head to the newest inserted row. The common table
# expressions and the INSERT are kept apart so that a step's other writes can join them in one statement
# (`workflow.write_batch`); `_APPEND` is the append on its own.
APPEND_CTES = """
head AS (
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
    SELECT * FROM ROWS FROM (json_to_recordset(%s::json) AS (
        case_id bigint, kind text, actor_id bigint, actor_label text, department text, data jsonb,
        created_at timestamptz, digest text
    )) WITH ORDINALITY AS batch (case_id, kind, actor_id, actor_label, department, data, created_at, digest, ord)
),
link (ord, seq, prev_hash, hash) AS (
    SELECT 0::bigint, seq, NULL::text, hash::text FROM head
    UNION ALL
    SELECT batch.ord, link.seq + 1, link.hash,
        encode(sha256(convert_to(link.hash || ':' || (link.seq + 1)::text || ':' || batch.digest, 'UTF8')), 'hex')
    FROM link JOIN batch ON batch.ord = link.ord + 1
)"""
APPEND_INSERT = """
INSERT INTO workflow_caseevent
    (case_id, kind, actor_id, actor_label, department, data, created_at, seq, prev_hash, hash)
SELECT batch.case_id, batch.kind, batch.actor_id, batch.actor_label, batch.department, batch.data,
    batch.created_at, link.seq, link.prev_hash, link.hash
FROM batch JOIN link ON link.ord = batch.ord
ORDER BY batch.ord
RETURNING id, seq, prev_hash, hash
"""
_APPEND = f"WITH RECURSIVE {APPEND_CTES} {APPEND_INSERT}"


def audit_key() -> bytes:
    """The chain's secret (docs/security.md): ONETHING_AUDIT_KEY from the environment, never in the database.
    Unset (the demo, the tests), it is derived from SECRET_KEY; ``check --deploy`` asks for a key of its own."""
    configured = getattr(settings, "ONETHING_AUDIT_KEY", "")
    if configured:
        return configured.encode()
    return _derived_key(settings.SECRET_KEY)


@functools.lru_cache(maxsize=8)
def _derived_key(secret: str) -> bytes:
    return hashlib.sha256(b"onething.audit-chain:" + secret.encode()).digest()


def content_digest(event) -> str:
    """HMAC-SHA256 (hex), keyed with ``audit_key()``, of the canonical JSON of the event's own fields; the half of
    the hash Python computes. Without the key nobody can produce the digest of an edited or renumbered row, so
    nobody can re-chain the trail after changing it, even with full write access to the database."""
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
    return hmac.digest(audit_key(), payload.encode("utf-8"), "sha256").hex()


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
    params = append_params(events)
    database = connections[using]
    if database.vendor != "postgresql":
        _chain_in_python(events, using)
        return False
    with database.cursor() as cursor:
        cursor.execute(_APPEND, params)
        appended(events, cursor.fetchall(), using)
    return True


def append_params(events: list) -> list:
    """The parameters of `APPEND_CTES` for these events (which get their case, actor and time set here)."""
    now = timezone.now()
    for event in events:
        # Events may be built before their case was saved (opening a case): take the ids now, as saving will.
        if event.case_id is None and event.case is not None:
            event.case_id = event.case.pk
        if event.actor_id is None and event.actor is not None:
            event.actor_id = event.actor.pk
        if event.created_at is None:
            event.created_at = now
    rows = [
        {
            "case_id": e.case_id,
            "kind": e.kind,
            "actor_id": e.actor_id,
            "actor_label": e.actor_label,
            "department": e.department,
            "data": e.data,  # as Django's JSONField stores it (json.dumps, which refuses what JSON cannot hold)
            "created_at": e.created_at.isoformat(),
            "digest": content_digest(e),
        }
        for e in events
    ]
    # The rows as one JSON array: one parameter, encoded in C, instead of an array per column adapted by psycopg.
    return [GENESIS, json.dumps(rows, ensure_ascii=False, separators=(",", ":"))]


def appended(events: list, rows, using: str) -> None:
    """Set what `APPEND_INSERT` returned — ``(id, seq, prev_hash, hash)`` per event — on the events, in order."""
    for event, (pk, seq, prev_hash, hash_) in zip(events, sorted(rows, key=lambda row: row[1]), strict=True):
        event.pk, event.seq, event.prev_hash, event.hash = pk, seq, prev_hash, hash_
        event._state.adding, event._state.db = False, using


def _chain_in_python(events: list, using: str) -> None:
    """The same numbering and hashes as `_APPEND`, for SQLite (its writers are serialised by IMMEDIATE
    transactions, so reading the newest event is enough)."""
    last = type(events[0]).objects.using(using).order_by("-seq").values_list("seq", "hash").first()
    seq, previous = last if last else (0, GENESIS)
    for event in events:
        seq += 1
        event.seq = seq
        event.prev_hash = previous
        event.hash = event_hash(previous, event)
        previous = event.hash
