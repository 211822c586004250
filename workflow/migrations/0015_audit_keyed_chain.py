# The audit chain's content digests become HMAC-SHA256 keyed with ONETHING_AUDIT_KEY (issue 18): the existing trail
# is re-chained once with the key configured when this migration runs (as the owner role: it switches the
# append-only trigger off for the rewrite and on again). Written by hand; the number was given by the lead.

import datetime as dt
import hashlib
import hmac
import json

from django.conf import settings
from django.db import migrations
from django.utils import timezone
from django.utils.dateparse import parse_datetime

GENESIS = "0" * 64


def _key() -> bytes:
    configured = getattr(settings, "ONETHING_AUDIT_KEY", "")
    if configured:
        return configured.encode()
    return hashlib.sha256(b"onething.audit-chain:" + settings.SECRET_KEY.encode()).digest()


def _digest(key, row) -> str:
    case_id, kind, actor_id, actor_label, department, data, created_at = row
    if isinstance(data, str):
        data = json.loads(data)
    payload = json.dumps(
        [case_id, kind, actor_id, actor_label, department, data, created_at.isoformat()],
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hmac.new(key, payload.encode("utf-8"), hashlib.sha256).hexdigest()


def rechain(apps, schema_editor):
    connection = schema_editor.connection
    key = _key()
    postgres = connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM workflow_caseevent")
        if cursor.fetchone()[0] == 0:
            return
        if postgres:
            cursor.execute("ALTER TABLE workflow_caseevent DISABLE TRIGGER workflow_caseevent_append_only")
        cursor.execute(
            "SELECT id, seq, case_id, kind, actor_id, actor_label, department, data, created_at "
            "FROM workflow_caseevent ORDER BY seq"
        )
        rows = cursor.fetchall()
        previous = GENESIS
        updates = []
        for pk, seq, *fields in rows:
            if isinstance(fields[-1], str):  # SQLite: naive UTC text
                fields[-1] = parse_datetime(fields[-1])
            if timezone.is_naive(fields[-1]):
                fields[-1] = fields[-1].replace(tzinfo=dt.UTC)
            link = hashlib.sha256(f"{previous}:{seq}:{_digest(key, fields)}".encode()).hexdigest()
            updates.append((previous, link, pk))
            previous = link
        cursor.executemany("UPDATE workflow_caseevent SET prev_hash = %s, hash = %s WHERE id = %s", updates)
        if postgres:
            cursor.execute("ALTER TABLE workflow_caseevent ENABLE TRIGGER workflow_caseevent_append_only")
            cursor.execute("UPDATE workflow_auditchainhead SET seq = %s, hash = %s WHERE id = 1", [rows[-1][1], previous])


class Migration(migrations.Migration):
    dependencies = [
        ("workflow", "0014_case_channel"),
    ]

    operations = [migrations.RunPython(rechain, migrations.RunPython.noop)]
