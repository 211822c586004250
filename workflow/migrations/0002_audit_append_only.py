"""The audit trail is append-only in the database too (PostgreSQL): UPDATE and DELETE raise.

TRUNCATE is left alone on purpose: the test runner flushes tables with it; production roles should not be
granted TRUNCATE on this table.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION workflow_caseevent_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '办件事件只能追加，不能修改或删除';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER workflow_caseevent_append_only
    BEFORE UPDATE OR DELETE ON workflow_caseevent
    FOR EACH ROW EXECUTE FUNCTION workflow_caseevent_append_only();
"""
DROP = """
DROP TRIGGER IF EXISTS workflow_caseevent_append_only ON workflow_caseevent;
DROP FUNCTION IF EXISTS workflow_caseevent_append_only();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("workflow", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
