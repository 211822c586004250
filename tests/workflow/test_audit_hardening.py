"""The audit trail survives a hostile database user (issue 18): the chain is keyed with a secret outside the
database, and signed checkpoints outside the database catch a cut tail or an emptied table."""

from __future__ import annotations

import hashlib
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from tests.conftest import DEPARTMENTS
from tests.workflow.helpers import decide, open_and_accept
from workflow.audit import GENESIS, iterate_chain, verify, write_checkpoint
from workflow.models import CaseEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def lifecycle(users):
    case = open_and_accept(users)
    for department in DEPARTMENTS:
        decide(users, case, department)
    return case


def _as_dba(*statements):
    """What the database's owner could do: triggers off, raw SQL."""
    if connection.vendor != "postgresql":
        pytest.skip("tampering past the trigger needs PostgreSQL")
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        for sql, params in statements:
            cursor.execute(sql, params)
        cursor.execute("SET LOCAL session_replication_role = origin")


def _referencing(condition: str) -> list[tuple[str, list]]:
    """Statements that delete the rows of other tables pointing at the events ``condition`` selects (SMS messages
    name their event), as a DBA cutting the trail would have to."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.conrelid::regclass::text, a.attname FROM pg_constraint c "
            "JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] "
            "WHERE c.contype = 'f' AND c.confrelid = 'workflow_caseevent'::regclass"
        )
        return [
            (f'DELETE FROM {table} WHERE "{column}" IN (SELECT id FROM workflow_caseevent WHERE {condition})', [])
            for table, column in cursor.fetchall()
        ]


def _unkeyed_digest(row) -> str:
    """The digest anyone can compute: plain SHA-256 of the canonical JSON (the chain before issue 18)."""
    case_id, kind, actor_id, actor_label, department, data, created_at = row
    payload = json.dumps(
        [case_id, kind, actor_id, actor_label, department, data, created_at.isoformat()],
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def test_an_edited_row_rehashed_without_the_key_is_caught(lifecycle):
    events = list(CaseEvent.objects.order_by("seq"))
    target = events[3]
    target.actor_label = "篡改者"
    previous = events[2].hash
    statements = []
    for event in events[3:]:  # re-chain from the edited row on, as an attacker without the key can
        fields = (event.case_id, event.kind, event.actor_id, event.actor_label, event.department, event.data)
        digest = _unkeyed_digest((*fields, event.created_at))
        new_hash = hashlib.sha256(f"{previous}:{event.seq}:{digest}".encode()).hexdigest()
        statements.append(
            (
                "UPDATE workflow_caseevent SET actor_label = %s, prev_hash = %s, hash = %s WHERE id = %s",
                [event.actor_label, previous, new_hash, event.pk],
            )
        )
        previous = new_hash
    statements.append(("UPDATE workflow_auditchainhead SET hash = %s WHERE id = 1", [previous]))
    _as_dba(*statements)
    assert verify(iterate_chain())[1] == target.seq
    with pytest.raises(CommandError, match=f"第 {target.seq} 条"):
        call_command("verify_audit_chain")


def test_the_chain_depends_on_the_key(lifecycle, settings):
    call_command("verify_audit_chain")
    settings.ONETHING_AUDIT_KEY = "another-key"
    assert verify(iterate_chain())[1] == 1


def test_a_cut_tail_with_the_head_moved_back_is_caught_by_the_checkpoint(lifecycle, settings, tmp_path):
    settings.ONETHING_AUDIT_CHECKPOINT_DIR = str(tmp_path / "checkpoints")
    path = write_checkpoint()
    assert path is not None and oct(path.stat().st_mode & 0o777) == "0o600"
    call_command("verify_audit_chain")
    events = list(CaseEvent.objects.order_by("seq"))
    keep = events[-3]
    _as_dba(
        *_referencing(f"seq > {int(keep.seq)}"),
        ("DELETE FROM workflow_caseevent WHERE seq > %s", [keep.seq]),
        ("UPDATE workflow_auditchainhead SET seq = %s, hash = %s WHERE id = 1", [keep.seq, keep.hash]),
    )
    assert verify(iterate_chain()) == (keep.seq, None)  # the chain alone looks intact
    with pytest.raises(CommandError, match=f"第 {events[-1].seq} 条事件已不存在"):
        call_command("verify_audit_chain")


def test_an_emptied_table_is_caught_by_the_checkpoint(lifecycle, settings, tmp_path):
    settings.ONETHING_AUDIT_CHECKPOINT_DIR = str(tmp_path)
    write_checkpoint()
    _as_dba(
        # The SMS outbox points at events; an owner emptying the trail empties it too.
        ("DELETE FROM workflow_smsmessage", []),
        ("DELETE FROM workflow_caseevent", []),
        ("DELETE FROM workflow_auditchainhead", []),
    )
    with pytest.raises(CommandError, match="事件表被清空"):
        call_command("verify_audit_chain")


def test_a_checkpoint_written_without_the_key_is_reported(lifecycle, settings, tmp_path):
    settings.ONETHING_AUDIT_CHECKPOINT_DIR = str(tmp_path)
    last = CaseEvent.objects.order_by("-seq").first()
    forged = {"seq": last.seq + 50, "hash": GENESIS, "written_at": "2026-01-01T00:00:00+00:00", "mac": "0" * 64}
    (tmp_path / f"checkpoint-{last.seq + 50:012d}.json").write_text(json.dumps(forged))
    with pytest.raises(CommandError, match="签名不正确"):
        call_command("verify_audit_chain")


def test_an_events_digest_is_the_hmac_of_its_canonical_content_under_the_key(lifecycle, settings):
    """The digest every stored chain was written with: HMAC-SHA256, keyed, of the canonical JSON of the event's own
    fields (hex); the derived key follows SECRET_KEY, a configured key replaces it."""
    import hmac

    from workflow.models.audit import audit_key, content_digest

    event = CaseEvent.objects.order_by("seq").last()
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
    ).encode()
    derived = hashlib.sha256(b"onething.audit-chain:" + settings.SECRET_KEY.encode()).digest()
    assert audit_key() == derived
    assert content_digest(event) == hmac.new(derived, payload, hashlib.sha256).hexdigest()
    settings.SECRET_KEY = "another-secret-for-this-test"
    assert audit_key() == hashlib.sha256(b"onething.audit-chain:another-secret-for-this-test").digest()
    settings.ONETHING_AUDIT_KEY = "a-key-of-its-own"
    assert audit_key() == b"a-key-of-its-own"
    assert content_digest(event) == hmac.new(b"a-key-of-its-own", payload, hashlib.sha256).hexdigest()
