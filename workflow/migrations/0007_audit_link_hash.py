# The audit chain's hash split in two (issue 8: one statement per event batch): the digest of an event's own
# fields (Python, canonical JSON) and the link sha256(prev_hash ":" seq ":" digest), which PostgreSQL computes
# too (workflow/audit.py). No schema change: existing events are re-chained under the new formula, but only if
# their whole chain verifies under the old one, so that a tampered trail stays visibly broken instead of being
# laundered. Both formulas are frozen here; the live one is workflow.audit.

import hashlib
import json
import sys

from django.db import migrations

GENESIS = "0" * 64


def _canonical(values) -> bytes:
    return json.dumps(values, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str).encode("utf-8")


def _fields(event) -> list:
    return [
        event.case_id,
        event.kind,
        event.actor_id,
        event.actor_label,
        event.department,
        event.data,
        event.created_at.isoformat(),
    ]


def old_hash(previous: str, event) -> str:
    return hashlib.sha256(_canonical([previous, event.seq, *_fields(event)])).hexdigest()


def new_hash(previous: str, event) -> str:
    digest = hashlib.sha256(_canonical(_fields(event))).hexdigest()
    return hashlib.sha256(f"{previous}:{event.seq}:{digest}".encode()).hexdigest()


def _rechain(apps, schema_editor, was, becomes):
    connection = schema_editor.connection
    CaseEvent = apps.get_model("workflow", "CaseEvent")
    events = CaseEvent.objects.using(connection.alias).order_by("seq")
    previous, expected, rows = GENESIS, 1, []
    for event in events.iterator(chunk_size=2000):
        if event.seq != expected or event.prev_hash != previous or event.hash != was(previous, event):
            sys.stderr.write(
                f"\n  审计哈希链在第 {event.seq} 条事件处已断开，未按新算法重算（verify_audit_chain 将报告断链）\n"
            )
            return
        rows.append(event)
        previous, expected = event.hash, expected + 1
    if not rows:
        return
    updates, previous = [], GENESIS
    for event in rows:
        link = becomes(previous, event)
        updates.append([previous, link, event.pk])
        previous = link
    postgres = connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        if postgres:  # migration 0002's trigger refuses UPDATE; this one rewrite is the migration's to make
            cursor.execute("ALTER TABLE workflow_caseevent DISABLE TRIGGER workflow_caseevent_append_only")
        cursor.executemany("UPDATE workflow_caseevent SET prev_hash = %s, hash = %s WHERE id = %s", updates)
        if postgres:
            cursor.execute("ALTER TABLE workflow_caseevent ENABLE TRIGGER workflow_caseevent_append_only")
            head = "UPDATE workflow_auditchainhead SET seq = %s, hash = %s WHERE id = 1"
            cursor.execute(head, [rows[-1].seq, previous])


def forwards(apps, schema_editor):
    _rechain(apps, schema_editor, old_hash, new_hash)


def backwards(apps, schema_editor):
    _rechain(apps, schema_editor, new_hash, old_hash)


class Migration(migrations.Migration):
    dependencies = [
        ("workflow", "0006_audit_chain_head"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
