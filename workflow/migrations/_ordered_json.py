"""A JSON column turned into OrderedJSONField (JSON text on PostgreSQL, models/catalogue.py), reversibly.

Django sees no type change between a JSONField and an OrderedJSONField (the same internal type), so its own
AlterField would cast text back to jsonb without ``USING`` and fail when a migration is reversed."""

from django.db import migrations


def _retype(table: str, column: str, to: str):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(f'ALTER TABLE "{table}" ALTER COLUMN "{column}" TYPE {to} USING "{column}"::{to}')

    return run


def to_ordered_json(model_name: str, name: str, field, *, table: str):
    return migrations.SeparateDatabaseAndState(
        state_operations=[migrations.AlterField(model_name=model_name, name=name, field=field)],
        database_operations=[migrations.RunPython(_retype(table, name, "text"), _retype(table, name, "jsonb"))],
    )
