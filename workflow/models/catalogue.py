"""The hall's catalogue: departments, service items, one-things and their deployed process versions."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Department(models.Model):
    code = models.SlugField("部门编码", max_length=64, unique=True)
    name = models.CharField("部门名称", max_length=100)

    class Meta:
        verbose_name = verbose_name_plural = "部门"
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class ServiceItem(models.Model):
    """A catalogue item (政务服务事项). Minimal here; the catalogue issue adds the standard elements."""

    code = models.CharField("事项编码", max_length=64, unique=True)
    name = models.CharField("事项名称", max_length=200)
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="items", verbose_name="实施部门")
    statutory_limit_days = models.PositiveSmallIntegerField("法定时限（工作日）", default=20)
    promised_limit_days = models.PositiveSmallIntegerField("承诺时限（工作日）", default=5)

    class Meta:
        verbose_name = verbose_name_plural = "政务服务事项"
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class OneThing(models.Model):
    key = models.SlugField("标识", max_length=64, unique=True, help_text="与 BPMN 流程 id 相同")
    name = models.CharField("名称", max_length=200)
    lead_department = models.ForeignKey(
        Department, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="牵头部门"
    )
    items = models.ManyToManyField(ServiceItem, blank=True, related_name="one_things", verbose_name="包含事项")
    promised_limit_days = models.PositiveSmallIntegerField("承诺时限（工作日）", default=5)
    form_schema = models.JSONField("一表申请表单（JSON Schema）", default=dict, blank=True)
    current_version = models.ForeignKey(
        "ProcessVersion",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="当前流程版本",
        help_text="新办件使用的版本；在办的办件保持各自的版本",
    )
    is_active = models.BooleanField("启用", default=True)

    class Meta:
        verbose_name = verbose_name_plural = "一件事"
        ordering = ["key"]

    def __str__(self) -> str:
        return self.name


class ProcessVersion(models.Model):
    """One deployed BPMN model. Immutable: a running case stays on the version it started with."""

    one_thing = models.ForeignKey(OneThing, on_delete=models.PROTECT, related_name="versions", verbose_name="一件事")
    number = models.PositiveIntegerField("版本号")
    process_id = models.CharField("流程 id", max_length=200)
    content_hash = models.CharField("内容哈希（sha256）", max_length=64)
    filename = models.CharField("文件名", max_length=255)
    bpmn_xml = models.TextField("BPMN 原文")
    # Serialized SpiffWorkflow spec as JSON *text*; parsed once per process, cached by content hash.
    compiled = models.TextField("编译结果")
    departments = models.JSONField("参与部门", default=list)
    user_tasks = models.JSONField("人工任务", default=list)
    deployed_at = models.DateTimeField("部署时间", auto_now_add=True)
    deployed_by = models.CharField("部署人", max_length=150, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "流程版本"
        ordering = ["one_thing", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["one_thing", "number"], name="process_version_number_unique"),
            models.UniqueConstraint(fields=["one_thing", "content_hash"], name="process_version_content_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.one_thing.key} v{self.number}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.pop("_allow_update", False):
            raise ValueError("流程版本部署后不可修改")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("流程版本部署后不可删除")


class StaffRole(models.TextChoices):
    WINDOW = "window", "综合窗口"
    REVIEWER = "reviewer", "部门审查人员"
    SUPERVISOR = "supervisor", "效能监督"
    ADMINISTRATOR = "administrator", "系统管理员"


class Staff(models.Model):
    """What a user does in the hall: a role, and for reviewers their department."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff")
    role = models.CharField("角色", max_length=20, choices=StaffRole.choices)
    department = models.ForeignKey(
        Department,
        on_delete=models.PROTECT,
        to_field="code",
        db_column="department_code",
        null=True,
        blank=True,
        related_name="staff",
        verbose_name="所属部门",
    )

    class Meta:
        verbose_name = verbose_name_plural = "工作人员"
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(role="reviewer") | models.Q(department__isnull=False),
                name="reviewer_has_department",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user.get_username()}（{self.get_role_display()}）"
