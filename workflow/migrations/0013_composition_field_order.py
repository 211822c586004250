# A composition version's merged form and item snapshots keep their field order (JSON text on PostgreSQL, like
# the one-thing's merged form since 0012): jsonb re-sorts object keys, and the form's questions follow them.

from django.db import migrations

import workflow.models.catalogue

from ._ordered_json import to_ordered_json


class Migration(migrations.Migration):
    dependencies = [("workflow", "0012_form_logic")]

    operations = [
        to_ordered_json(
            "compositionversion",
            "items",
            workflow.models.catalogue.OrderedJSONField(default=list, verbose_name="包含事项（快照）"),
            table="workflow_compositionversion",
        ),
        to_ordered_json(
            "compositionversion",
            "merged_form",
            workflow.models.catalogue.OrderedJSONField(default=dict, verbose_name="一表申请（合并结果）"),
            table="workflow_compositionversion",
        ),
    ]
