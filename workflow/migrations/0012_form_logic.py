# Issue 15 (the one form asks only what applies): an item's condition in a one-thing becomes JSON — a declarative
# condition object, or (kept from before) a restricted-Python expression as a JSON string; items may depend on
# other items of the one-thing; a case records the applicant's identity document type; an item's form fragment
# and a one-thing's merged form keep their field order (JSON text on PostgreSQL, not jsonb: jsonb sorts object
# keys — the order already lost is restored by importing the catalogue again).

from django.db import migrations, models

import workflow.models.catalogue

from ._ordered_json import to_ordered_json


def conditions_to_json(apps, schema_editor):
    OneThingItem = apps.get_model("workflow", "OneThingItem")
    for link in OneThingItem.objects.exclude(old_condition=""):
        link.condition = link.old_condition.strip() or None  # a legacy expression, stored as a JSON string
        link.save(update_fields=["condition"])


def conditions_to_text(apps, schema_editor):
    OneThingItem = apps.get_model("workflow", "OneThingItem")
    for link in OneThingItem.objects.exclude(condition=None):
        if isinstance(link.condition, str):
            link.old_condition = link.condition
            link.save(update_fields=["old_condition"])


class Migration(migrations.Migration):
    dependencies = [("workflow", "0011_statistics_covering_indexes")]

    operations = [
        migrations.RenameField("onethingitem", "condition", "old_condition"),
        migrations.AddField(
            model_name="onethingitem",
            name="condition",
            field=models.JSONField(
                blank=True,
                help_text='如 {"field": "business_scope", "contains": "餐饮"}；留空表示始终参与（格式见 docs/forms.md）',
                null=True,
                verbose_name="参与条件",
            ),
        ),
        migrations.RunPython(conditions_to_json, conditions_to_text),
        migrations.RemoveField("onethingitem", "old_condition"),
        migrations.AddField(
            model_name="onethingitem",
            name="depends_on",
            field=models.JSONField(
                blank=True,
                default=list,
                help_text="须先办结的本一件事内事项编码列表，其审查在这些事项之后进行",
                verbose_name="前置事项",
            ),
        ),
        to_ordered_json(
            "serviceitem",
            "form_fragment",
            workflow.models.catalogue.OrderedJSONField(
                blank=True,
                default=dict,
                help_text="本事项需要申请人填写的字段，中文标题",
                verbose_name="表单片段（JSON Schema）",
            ),
            table="workflow_serviceitem",
        ),
        to_ordered_json(
            "onething",
            "merged_form",
            workflow.models.catalogue.OrderedJSONField(blank=True, default=dict, verbose_name="一表申请（合并结果）"),
            table="workflow_onething",
        ),
        migrations.AddField(
            model_name="case",
            name="applicant_id_type",
            field=models.CharField(
                default="resident_id",
                help_text="forms.ID_TYPES 的代码，默认居民身份证",
                max_length=32,
                verbose_name="证件类型",
            ),
        ),
    ]
