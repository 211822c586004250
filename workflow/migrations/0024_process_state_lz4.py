"""The case's process state is compressed with lz4 where the server has it (PostgreSQL 14+ built with lz4, as
Debian's and the official images are): every step rewrites the state (about 12 KB of JSON), and pglz, the server's
default, cost about a tenth of a millisecond more per write than lz4 (docs/performance.md). States already stored
keep their compression until their next step rewrites them. A server without lz4 keeps pglz."""

from django.db import migrations

LZ4 = """
DO $$
BEGIN
    ALTER TABLE workflow_case ALTER COLUMN process_state SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
    RAISE NOTICE 'lz4 is not available on this server: the process state stays compressed with pglz';
END $$;
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(LZ4)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE workflow_case ALTER COLUMN process_state SET COMPRESSION default")


class Migration(migrations.Migration):
    dependencies = [("workflow", "0023_window_worklist")]

    operations = [migrations.RunPython(forwards, backwards)]
