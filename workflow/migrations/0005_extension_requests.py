# 延期申请 (two-step extension approval): ExtensionRequest. Written by hand with only this model, because other
# features add their own migrations at the same time (the lead linearises the numbering).

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("workflow", "0004_halls_uploads_auto_approval"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="ExtensionRequest",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("days", models.PositiveSmallIntegerField(verbose_name="申请延长工作日数")),
                ("reason", models.TextField(verbose_name="延期理由")),
                ("requested_at", models.DateTimeField(verbose_name="申请时间")),
                (
                    "state",
                    models.CharField(
                        choices=[("pending", "待批准"), ("approved", "已批准"), ("rejected", "未批准")],
                        default="pending",
                        max_length=10,
                        verbose_name="状态",
                    ),
                ),
                ("decided_at", models.DateTimeField(blank=True, null=True, verbose_name="审批时间")),
                ("decision_note", models.TextField(blank=True, verbose_name="审批意见")),
                (
                    "case",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="extension_requests",
                        to="workflow.case",
                        verbose_name="办件",
                    ),
                ),
                (
                    "decided_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="审批人",
                    ),
                ),
                (
                    "department",
                    models.ForeignKey(
                        blank=True,
                        db_column="department_code",
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="workflow.department",
                        to_field="code",
                        verbose_name="申请部门",
                    ),
                ),
                (
                    "extension",
                    models.OneToOneField(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="request",
                        to="workflow.deadlineextension",
                        verbose_name="批准的延期",
                    ),
                ),
                (
                    "requested_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="申请人",
                    ),
                ),
            ],
            options={
                "verbose_name": "延期申请",
                "verbose_name_plural": "延期申请",
                "ordering": ["requested_at", "id"],
                "indexes": [
                    models.Index(
                        condition=models.Q(("state", "pending")), fields=["requested_at"], name="extension_pending"
                    )
                ],
                "constraints": [
                    models.CheckConstraint(condition=models.Q(("days__gt", 0)), name="extension_request_days_positive"),
                    models.UniqueConstraint(
                        condition=models.Q(("state", "pending")),
                        fields=("case",),
                        name="extension_request_one_pending",
                    ),
                ],
            },
        ),
    ]
