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

The digest is not stored and is keyed: HMAC-SHA256 with ONETHING_AUDIT_KEY, a secret outside the database, so
even a database user who can write every row cannot produce the digest of an edited or renumbered row, and
cannot re-chain the trail after changing it. Verifying recomputes both halves from the row's fields, so changing,
deleting or reordering a row breaks the chain from that row on.

Signed checkpoints outside the database catch what the chain itself cannot: a cut tail (with the head moved back)
or an emptied table. ``write_checkpoint`` (Celery beat, every ONETHING_AUDIT_CHECKPOINT_SECONDS, and
``manage.py audit_checkpoint``) writes the newest event's seq and hash with an HMAC under the same key into
ONETHING_AUDIT_CHECKPOINT_DIR; ``checkpoint_problem`` (run by ``verify_audit_chain``) demands that the newest
validly signed checkpoint's event still exist with that hash.

The database also refuses UPDATE and DELETE on the table (a trigger, PostgreSQL; the application's own role cannot
switch it off: docs/security.md), and `manage.py verify_audit_chain` names the first row that does not match, reports
a head beyond the last row, and a checkpoint whose event is gone or changed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.utils import timezone

from .events import case_event
from .models import AuditChainHead, CaseEvent
from .models.audit import GENESIS, append, audit_key, content_digest, event_hash, link_hash
from .models.documents import make_private_dirs

__all__ = [
    "GENESIS",
    "append",
    "case_event",
    "checkpoint_problem",
    "content_digest",
    "event_hash",
    "head_mismatch",
    "iterate_chain",
    "link_hash",
    "verify",
    "write_checkpoint",
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


# --------------------------------------------------------------------------- signed checkpoints (files)


def _checkpoint_dir() -> Path | None:
    folder = getattr(settings, "ONETHING_AUDIT_CHECKPOINT_DIR", "")
    return Path(folder) if folder else None


def _mac(seq: int, hash_: str, written_at: str) -> str:
    return hmac.new(audit_key(), f"checkpoint:{seq}:{hash_}:{written_at}".encode(), hashlib.sha256).hexdigest()


def write_checkpoint() -> Path | None:
    """Write the newest event's seq and hash, signed, as a new file (0600, folder 0700); keep the newest
    ONETHING_AUDIT_CHECKPOINT_KEEP. None when checkpoints are off (no folder configured) or the trail is empty."""
    folder = _checkpoint_dir()
    if folder is None:
        return None
    last = CaseEvent.objects.order_by("-seq").values_list("seq", "hash").first()
    if last is None:
        return None
    seq, hash_ = last
    make_private_dirs(folder)
    written_at = timezone.now().isoformat()
    body = {"seq": seq, "hash": hash_, "written_at": written_at, "mac": _mac(seq, hash_, written_at)}
    path = folder / f"checkpoint-{seq:012d}.json"
    temporary = folder / f".{path.name}.{os.getpid()}"
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        json.dump(body, handle)
    os.replace(temporary, path)
    keep = max(getattr(settings, "ONETHING_AUDIT_CHECKPOINT_KEEP", 1000), 1)
    for old in sorted(folder.glob("checkpoint-*.json"))[:-keep]:
        old.unlink(missing_ok=True)
    return path


def checkpoint_problem() -> str | None:
    """What is wrong with the trail against the newest validly signed checkpoint (Chinese), or None. A file whose
    signature does not verify is reported too: someone wrote it without the key."""
    folder = _checkpoint_dir()
    if folder is None or not folder.is_dir():
        return None
    for path in sorted(folder.glob("checkpoint-*.json"), reverse=True):
        try:
            body = json.loads(path.read_text())
            seq, hash_, written_at, mac = int(body["seq"]), str(body["hash"]), str(body["written_at"]), body["mac"]
        except (OSError, ValueError, KeyError, TypeError):
            return f"检查点文件 {path.name} 无法读取"
        if not hmac.compare_digest(str(mac), _mac(seq, hash_, written_at)):
            return f"检查点文件 {path.name} 的签名不正确：它不是用审计密钥写的"
        stored = CaseEvent.objects.filter(seq=seq).values_list("hash", flat=True).first()
        if stored is None:
            return (
                f"检查点（{written_at}）记录的第 {seq} 条事件已不存在：链尾事件被删除或事件表被清空"
                f"（现存 {CaseEvent.objects.count()} 条）"
            )
        if stored != hash_:
            return f"第 {seq} 条事件的摘要与检查点（{written_at}）不一致：事件链已被改写"
        return None
    return None
