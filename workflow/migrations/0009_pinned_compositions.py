# Pinned compositions (issue 13): a case keeps what it was opened with. Creates the composition versions,
# the catalogue's change history, the state format column, and backfills: one composition version per
# one-thing and BPMN version in use (the current one and every one a case runs on), built from today's
# catalogue rows, with every case pinned to the version of its BPMN; e-licences get their item's name.
# The content and its hash are frozen here as workflow.compositions / services.compositions build them on
# this date, so recomposing identical content later finds these versions instead of creating new ones.

import hashlib
import json
import re

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

CATALOGUE_FIELDS = (
    "name",
    "item_type",
    "legal_basis",
    "department",
    "handling_level",
    "statutory_limit_days",
    "promised_limit_days",
    "is_immediate",
    "onsite_trips",
    "materials",
    "form_fragment",
    "licence_material",
    "auto_approval_dmn",
)
RESERVED_LANES = {"window", "applicant"}
ITEM_SUFFIX = re.compile(r"_item([0-9]+)$")
BPMN_ID = re.compile(r"""\bid=["']([^"']+)["']""")


def element_mapping(items, user_tasks):
    mapping = {}
    lanes = {}
    for task in user_tasks:
        if task["lane"] not in RESERVED_LANES:
            lanes.setdefault(task["lane"], []).append(task)
    for lane, tasks in lanes.items():
        own = [item for item in items if item["department"] == lane]
        claimed = {}
        for task in tasks:
            named = [item for item in own if task["name"] in (item["name"], f"{item['name']}审查")]
            if len(named) == 1 and named[0]["code"] not in claimed:
                claimed[named[0]["code"]] = task["element_id"]
        per_item = any(ITEM_SUFFIX.search(task["element_id"]) for task in tasks)
        for task in tasks:
            if task["element_id"] in claimed.values():
                continue
            suffix = ITEM_SUFFIX.search(task["element_id"])
            if suffix and task["element_id"] == f"review_{lane}{suffix.group(0)}":
                k = int(suffix.group(1))
            elif per_item and task["element_id"] == f"review_{lane}":
                k = 1
            else:
                continue
            if 0 < k <= len(own) and own[k - 1]["code"] not in claimed:
                claimed[own[k - 1]["code"]] = task["element_id"]
        for code, element_id in claimed.items():
            mapping.setdefault(element_id, []).append(code)
        rest_tasks = [task for task in tasks if task["element_id"] not in mapping]
        rest_items = [item for item in own if item["code"] not in claimed]
        for i, task in enumerate(rest_tasks):
            last = i == len(rest_tasks) - 1
            chosen = rest_items[i:] if last else rest_items[i : i + 1]
            mapping[task["element_id"]] = [item["code"] for item in chosen]
    return mapping


def review_key_for(element_id, department, element_ids):
    if element_id.startswith("review_"):
        key = element_id[len("review_") :]
        if key.startswith(f"{department}_") and f"record_{key}" in element_ids:
            return key
    return department


def content_hash(content):
    text = json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def catalogue_values(item):
    return {name: getattr(item, "department_id" if name == "department" else name) for name in CATALOGUE_FIELDS}


def content_of(one_thing, links, process_version):
    element_ids = set(BPMN_ID.findall(process_version.bpmn_xml))
    elements = element_mapping(
        [{"code": link.item.code, "name": link.item.name, "department": link.item.department_id} for link in links],
        process_version.user_tasks,
    )
    element_of = {code: element_id for element_id, codes in elements.items() for code in codes}
    items = []
    for position, link in enumerate(links):
        element_id = element_of.get(link.item.code, "")
        items.append(
            {
                "position": position,
                "code": link.item.code,
                "item_id": link.item_id,
                "condition": link.condition,
                "element_id": element_id,
                "review_key": review_key_for(element_id, link.item.department_id, element_ids),
                "item": catalogue_values(link.item),
            }
        )
    return {
        "one_thing": one_thing.key,
        "name": one_thing.name,
        "lead_department": one_thing.lead_department_id or "",
        "promised_limit_days": one_thing.promised_limit_days,
        "merged_form": one_thing.merged_form or {},
        "items": items,
        "elements": elements,
        "process": {"number": process_version.number, "content_hash": process_version.content_hash},
    }


def pin_cases(apps, schema_editor):
    OneThing = apps.get_model("workflow", "OneThing")
    OneThingItem = apps.get_model("workflow", "OneThingItem")
    ProcessVersion = apps.get_model("workflow", "ProcessVersion")
    CompositionVersion = apps.get_model("workflow", "CompositionVersion")
    CatalogueChange = apps.get_model("workflow", "CatalogueChange")
    Case = apps.get_model("workflow", "Case")
    ELicence = apps.get_model("workflow", "ELicence")
    for one_thing in OneThing.objects.order_by("pk"):
        used = set(Case.objects.filter(one_thing=one_thing).values_list("process_version_id", flat=True))
        if one_thing.current_version_id:
            used.add(one_thing.current_version_id)
        links = list(OneThingItem.objects.filter(one_thing=one_thing).select_related("item").order_by("position", "id"))
        versions = ProcessVersion.objects.filter(pk__in=used).order_by("number")
        for number, process_version in enumerate(versions, start=1):
            content = content_of(one_thing, links, process_version)
            version = CompositionVersion.objects.create(
                one_thing=one_thing,
                number=number,
                content_hash=content_hash(content),
                name=content["name"],
                lead_department=content["lead_department"],
                promised_limit_days=content["promised_limit_days"],
                merged_form=content["merged_form"],
                items=content["items"],
                elements=content["elements"],
                process_version=process_version,
                created_by="migration",
            )
            Case.objects.filter(one_thing=one_thing, process_version=process_version).update(composition=version)
            if process_version.pk == one_thing.current_version_id:
                OneThing.objects.filter(pk=one_thing.pk).update(current_composition=version)
            CatalogueChange.objects.create(
                kind="one_thing",
                key=one_thing.key,
                name=one_thing.name,
                action="published",
                summary=f"按升级时的目录生成组合第 {number} 版（流程 v{process_version.number}），在办办件固定于此版本",
                diff=[],
                source="migration",
                actor_label="系统升级",
                composition=version,
            )
    for licence in ELicence.objects.select_related("item").filter(item_name=""):
        ELicence.objects.filter(pk=licence.pk).update(item_name=licence.item.name)


class Migration(migrations.Migration):
    dependencies = [
        ("workflow", "0008_provisional_due_dates"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="case",
            name="state_format",
            field=models.PositiveSmallIntegerField(default=1, verbose_name="流程状态格式版本"),
        ),
        migrations.AddField(
            model_name="elicence",
            name="item_name",
            field=models.CharField(blank=True, max_length=200, verbose_name="事项名称"),
        ),
        migrations.AddField(
            model_name="humantask",
            name="not_applicable_reason",
            field=models.TextField(blank=True, verbose_name="不再适用的原因"),
        ),
        migrations.AlterField(
            model_name="onething",
            name="current_version",
            field=models.ForeignKey(
                blank=True,
                help_text="新组合发布时采用的 BPMN 版本",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="workflow.processversion",
                verbose_name="当前流程版本",
            ),
        ),
        migrations.CreateModel(
            name="CompositionVersion",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("number", models.PositiveIntegerField(verbose_name="版本号")),
                ("content_hash", models.CharField(max_length=64, verbose_name="内容哈希（sha256）")),
                ("name", models.CharField(max_length=200, verbose_name="一件事名称")),
                ("lead_department", models.CharField(blank=True, max_length=64, verbose_name="牵头部门编码")),
                ("promised_limit_days", models.PositiveSmallIntegerField(verbose_name="承诺时限（工作日）")),
                ("merged_form", models.JSONField(default=dict, verbose_name="一表申请（合并结果）")),
                ("items", models.JSONField(default=list, verbose_name="包含事项（快照）")),
                ("elements", models.JSONField(default=dict, verbose_name="审查任务与事项对应")),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="发布时间")),
                ("created_by", models.CharField(blank=True, max_length=150, verbose_name="发布人")),
                (
                    "one_thing",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="compositions",
                        to="workflow.onething",
                        verbose_name="一件事",
                    ),
                ),
                (
                    "process_version",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="compositions",
                        to="workflow.processversion",
                        verbose_name="流程版本",
                    ),
                ),
            ],
            options={
                "verbose_name": "一件事组合版本",
                "verbose_name_plural": "一件事组合版本",
                "ordering": ["one_thing", "-number"],
            },
        ),
        migrations.CreateModel(
            name="CatalogueChange",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "kind",
                    models.CharField(
                        choices=[("item", "政务服务事项"), ("one_thing", "一件事")],
                        max_length=16,
                        verbose_name="对象类型",
                    ),
                ),
                ("key", models.CharField(help_text="事项编码或一件事标识", max_length=64, verbose_name="对象编码")),
                ("name", models.CharField(max_length=200, verbose_name="对象名称")),
                (
                    "action",
                    models.CharField(
                        choices=[
                            ("created", "新增"),
                            ("changed", "修改"),
                            ("composed", "组合"),
                            ("deployed", "部署流程"),
                            ("published", "发布"),
                        ],
                        max_length=16,
                        verbose_name="变更",
                    ),
                ),
                ("summary", models.CharField(max_length=300, verbose_name="摘要")),
                ("diff", models.JSONField(blank=True, default=list, verbose_name="变更内容")),
                (
                    "source",
                    models.CharField(
                        help_text="admin、import_catalogue、compose、deploy_bpmn …", max_length=32, verbose_name="来源"
                    ),
                ),
                ("actor_label", models.CharField(blank=True, max_length=150, verbose_name="操作人（显示）")),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="时间")),
                (
                    "actor",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="操作人",
                    ),
                ),
                (
                    "composition",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="workflow.compositionversion",
                        verbose_name="发布的组合版本",
                    ),
                ),
            ],
            options={
                "verbose_name": "目录变更记录",
                "verbose_name_plural": "目录变更记录",
                "ordering": ["-created_at", "-id"],
            },
        ),
        migrations.AddField(
            model_name="case",
            name="composition",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="cases",
                to="workflow.compositionversion",
                verbose_name="一件事组合版本",
            ),
        ),
        migrations.AddField(
            model_name="onething",
            name="current_composition",
            field=models.ForeignKey(
                blank=True,
                help_text="新办件使用的组合版本（一表、事项快照、流程版本）；在办的办件保持各自的版本",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="workflow.compositionversion",
                verbose_name="当前组合版本",
            ),
        ),
        migrations.AddConstraint(
            model_name="compositionversion",
            constraint=models.UniqueConstraint(fields=("one_thing", "number"), name="composition_number_unique"),
        ),
        migrations.AddConstraint(
            model_name="compositionversion",
            constraint=models.UniqueConstraint(fields=("one_thing", "content_hash"), name="composition_content_unique"),
        ),
        migrations.AddIndex(
            model_name="cataloguechange",
            index=models.Index(fields=["kind", "key", "created_at"], name="catalogue_change_target"),
        ),
        migrations.RunPython(pin_cases, migrations.RunPython.noop),
    ]
