# The audit chain's head on one row (issue 8: one statement per event batch instead of an advisory lock plus a
# read of the newest event), kept in step with the events by a trigger; and the statistics' covering indexes.
# Written by hand with only these changes: other features add their own migrations at the same time (the lead
# linearises the numbering; this one follows 0005_extension_requests so that the tree has one leaf meanwhile).

from django.db import migrations, models

GENESIS = "0" * 64

# After every INSERT statement on the events, move the head to the newest row it inserted: one statement-level
# trigger with a transition table, so a bulk insert costs one update of the head.
CREATE_TRIGGER = """
CREATE OR REPLACE FUNCTION workflow_caseevent_chain_head() RETURNS trigger AS $$
BEGIN
    INSERT INTO workflow_auditchainhead AS head (id, seq, hash)
    SELECT 1, inserted.seq, inserted.hash FROM inserted ORDER BY inserted.seq DESC LIMIT 1
    ON CONFLICT (id) DO UPDATE SET seq = EXCLUDED.seq, hash = EXCLUDED.hash WHERE EXCLUDED.seq > head.seq;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER workflow_caseevent_chain_head
    AFTER INSERT ON workflow_caseevent
    REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION workflow_caseevent_chain_head();
"""
DROP_TRIGGER = """
DROP TRIGGER IF EXISTS workflow_caseevent_chain_head ON workflow_caseevent;
DROP FUNCTION IF EXISTS workflow_caseevent_chain_head();
"""


def forwards(apps, schema_editor):
    """The head starts at the existing last event (or the genesis of an empty trail). PostgreSQL only: SQLite's
    IMMEDIATE transactions already serialise writers, and there the newest event is read directly."""
    if schema_editor.connection.vendor != "postgresql":
        return
    CaseEvent = apps.get_model("workflow", "CaseEvent")
    AuditChainHead = apps.get_model("workflow", "AuditChainHead")
    last = CaseEvent.objects.using(schema_editor.connection.alias).order_by("-seq").values_list("seq", "hash").first()
    seq, hash_ = last if last else (0, GENESIS)
    AuditChainHead.objects.using(schema_editor.connection.alias).update_or_create(
        id=1, defaults={"seq": seq, "hash": hash_}
    )
    schema_editor.execute(CREATE_TRIGGER, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_TRIGGER, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("workflow", "0005_extension_requests"),
    ]

    operations = [
        migrations.CreateModel(
            name="AuditChainHead",
            fields=[
                ("id", models.PositiveSmallIntegerField(default=1, primary_key=True, serialize=False)),
                ("seq", models.BigIntegerField(default=0, verbose_name="最后事件链序号")),
                ("hash", models.CharField(default=GENESIS, max_length=64, verbose_name="最后事件摘要")),
            ],
            options={"verbose_name": "事件哈希链链头", "verbose_name_plural": "事件哈希链链头"},
        ),
        migrations.RunPython(forwards, backwards),
        migrations.AddIndex(
            model_name="case",
            index=models.Index(
                fields=["opened_at", "one_thing", "status", "concluded_at", "promised_due_date"],
                name="case_opened_stats",
            ),
        ),
        migrations.AddIndex(
            model_name="humantask",
            index=models.Index(
                fields=["created_at", "department", "state", "decision", "due_date"], name="task_created_stats"
            ),
        ),
    ]
