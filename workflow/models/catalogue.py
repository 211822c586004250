"""The hall's catalogue: departments, service items, one-things and their deployed process versions."""

from __future__ import annotations

import json

from django.conf import settings
from django.db import models


class OrderedJSONField(models.JSONField):
    """JSON whose object key order means something — a form's field order — kept as written: JSON *text* on
    PostgreSQL, not ``jsonb``, which re-sorts keys (shortest first), so an imported fragment's questions came back
    in the order of their names' lengths. Text, not ``json``: ``json`` has no equality operator, and a
    ``SELECT DISTINCT`` over a joined one-thing would fail. Nothing queries inside these columns."""

    def db_type(self, connection):
        return "text" if connection.vendor == "postgresql" else super().db_type(connection)

    def get_db_prep_value(self, value, connection, prepared=False):
        if connection.vendor != "postgresql":
            return super().get_db_prep_value(value, connection, prepared)
        if not prepared:
            value = self.get_prep_value(value)
        return None if value is None else json.dumps(value, cls=self.encoder, ensure_ascii=False)

    def from_db_value(self, value, expression, connection):
        if value is not None and not isinstance(value, str):
            return value  # already parsed (a driver or backend that hands back JSON values)
        return super().from_db_value(value, expression, connection)


class Department(models.Model):
    code = models.SlugField("部门编码", max_length=64, unique=True)
    name = models.CharField("部门名称", max_length=100)

    class Meta:
        verbose_name = verbose_name_plural = "部门"
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class ItemType(models.TextChoices):
    LICENSING = "licensing", "行政许可"
    LEVY = "levy", "行政征收"
    PAYMENT = "payment", "行政给付"
    CONFIRMATION = "confirmation", "行政确认"
    REWARD = "reward", "行政奖励"
    ADJUDICATION = "adjudication", "行政裁决"
    OTHER_POWER = "other_power", "其他行政权力"
    INSPECTION = "inspection", "行政检查"
    PENALTY = "penalty", "行政处罚"
    ENFORCEMENT = "enforcement", "行政强制"
    PUBLIC_SERVICE = "public_service", "公共服务"


class HandlingLevel(models.TextChoices):
    NATIONAL = "national", "国家级"
    PROVINCIAL = "provincial", "省级"
    MUNICIPAL = "municipal", "市级"
    COUNTY = "county", "县级"
    TOWNSHIP = "township", "乡镇（街道）级"


class ServiceItem(models.Model):
    """A catalogue item (政务服务事项) with the standard elements a hall publishes for it (十统一)."""

    # Every catalogue field of an item, in the order the catalogue file writes them: exported and imported
    # (services/catalogue.py), snapshotted into each composition version a case runs on, and compared in the
    # change history. A new catalogue field of ServiceItem is added here too, and cases pin it from then on.
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
        "result",
        "handover",
        "window_decides",
    )

    code = models.CharField("事项编码", max_length=64, unique=True, help_text="GB/T 39554.1 风格的事项编码")
    name = models.CharField("事项名称", max_length=200)
    item_type = models.CharField("事项类型", max_length=20, choices=ItemType.choices, default=ItemType.LICENSING)
    legal_basis = models.TextField("设定依据", blank=True)
    department = models.ForeignKey(
        Department,
        on_delete=models.PROTECT,
        to_field="code",
        db_column="department_code",
        related_name="items",
        verbose_name="实施部门",
    )
    handling_level = models.CharField(
        "行使层级", max_length=20, choices=HandlingLevel.choices, default=HandlingLevel.COUNTY
    )
    statutory_limit_days = models.PositiveSmallIntegerField("法定时限（工作日）", default=20)
    promised_limit_days = models.PositiveSmallIntegerField("承诺时限（工作日）", default=5)
    is_immediate = models.BooleanField("即办件", default=False)
    onsite_trips = models.PositiveSmallIntegerField("到现场次数", default=0)
    # [{code, name, required, original, source: applicant | e_licence}]
    materials = models.JSONField("申请材料", default=list, blank=True)
    form_fragment = OrderedJSONField(
        "表单片段（JSON Schema）", default=dict, blank=True, help_text="本事项需要申请人填写的字段，中文标题"
    )
    # What the item's approval gives (workflow/licence_kinds.py): {"kind": "licence", title, holder, number,
    # validity, face} for a licence kind, {"kind": "notice"} for a 备案/登记 result that is no licence; {}: the
    # generic licence of before kinds existed.
    result = models.JSONField("办理结果类型", default=dict, blank=True)
    licence_material = models.CharField(
        "证照对应材料编码",
        max_length=64,
        blank=True,
        help_text="本事项签发的电子证照可替代的申请材料编码（如 business_licence），用于免提交",
    )
    # 秒批: a DMN decision table over the form's answers and the applicant's e-licences; when it decides
    # "approve" the item's review task completes without a person and is queued for post-review.
    auto_approval_dmn = models.TextField(
        "秒批规则（DMN 决策表）", blank=True, help_text="留空表示不适用秒批；规则输出 approve 为真时自动准予"
    )

    # 一窗通取: what the window hands over for this item when it is approved (e.g. 营业执照正本、副本), ticked at
    # the handover; and, for a 即办件, whether the department delegated the decision to the window (当场办结).
    handover = models.JSONField("领取清单", default=list, blank=True, help_text="准予后窗口交付的物品名称列表")
    window_decides = models.BooleanField(
        "窗口当场决定", default=False, help_text="即办件：部门已授权综合窗口在受理时当场作出决定"
    )

    class Meta:
        verbose_name = verbose_name_plural = "政务服务事项"
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(promised_limit_days__lte=models.F("statutory_limit_days")),
                name="item_promised_within_statutory",
                violation_error_message="承诺时限不能超过法定时限",
            )
        ]

    def __str__(self) -> str:
        return self.name

    def catalogue_values(self) -> dict:
        """The item's catalogue fields as the catalogue file writes them (the department as its code)."""
        return {
            name: getattr(self, "department_id" if name == "department" else name) for name in self.CATALOGUE_FIELDS
        }

    def as_fragment(self) -> dict:
        """The item as forms.merge_fragments takes it (``produces``: the material its licence stands for)."""
        fragment = {
            "item_code": self.code,
            "item_name": self.name,
            "department": self.department_id,
            "schema": self.form_fragment or {"type": "object", "properties": {}},
            "materials": self.materials,
        }
        if self.licence_material:
            fragment["produces"] = self.licence_material
        return fragment


class OneThing(models.Model):
    """A bundle of items (一件事): one merged form, one process, one promised limit."""

    key = models.SlugField("标识", max_length=64, unique=True, help_text="与 BPMN 流程 id 相同")
    name = models.CharField("名称", max_length=200)
    lead_department = models.ForeignKey(
        Department,
        on_delete=models.PROTECT,
        to_field="code",
        db_column="lead_department_code",
        null=True,
        blank=True,
        related_name="+",
        verbose_name="牵头部门",
    )
    items = models.ManyToManyField(
        ServiceItem, through="OneThingItem", blank=True, related_name="one_things", verbose_name="包含事项"
    )
    promised_limit_days = models.PositiveSmallIntegerField("承诺时限（工作日）", default=5)
    # The merged one form (forms.MergedForm.to_dict(): schema, provenance, materials, report, UI hints).
    merged_form = OrderedJSONField("一表申请（合并结果）", default=dict, blank=True)
    current_version = models.ForeignKey(
        "ProcessVersion",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="当前流程版本",
        help_text="新组合发布时采用的 BPMN 版本",
    )
    current_composition = models.ForeignKey(
        "CompositionVersion",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="当前组合版本",
        help_text="新办件使用的组合版本（一表、事项快照、流程版本）；在办的办件保持各自的版本",
    )
    is_active = models.BooleanField("启用", default=True)

    class Meta:
        verbose_name = verbose_name_plural = "一件事"
        ordering = ["key"]

    def __str__(self) -> str:
        return self.name

    @property
    def form_schema(self) -> dict:
        return self.merged_form.get("schema") or {"type": "object"}


class OneThingItem(models.Model):
    """An item in a one-thing; ``condition`` makes it (its questions, materials and review) apply only when the
    answers need it; ``depends_on`` names the items whose result its review needs first.

    The rows of the one-thing's current composition, written only by composing (services/catalogue.py); a case
    reads the items of its own composition version (workflow/compositions.py), never these rows."""

    one_thing = models.ForeignKey(OneThing, on_delete=models.CASCADE, related_name="item_links")
    item = models.ForeignKey(ServiceItem, on_delete=models.PROTECT, related_name="+", verbose_name="事项")
    position = models.PositiveSmallIntegerField("顺序", default=0)
    # A condition of forms.conditions ({"field": "outdoor_signboard", "equals": true}); a JSON *string* is a
    # legacy restricted-Python expression, which only the process evaluates (the form asks the item's fields).
    condition = models.JSONField(
        "参与条件",
        null=True,
        blank=True,
        help_text='如 {"field": "business_scope", "contains": "餐饮"}；留空表示始终参与（格式见 docs/forms.md）',
    )
    depends_on = models.JSONField(
        "前置事项", default=list, blank=True, help_text="须先办结的本一件事内事项编码列表，其审查在这些事项之后进行"
    )

    class Meta:
        verbose_name = verbose_name_plural = "一件事包含的事项"
        ordering = ["one_thing", "position", "id"]
        constraints = [models.UniqueConstraint(fields=["one_thing", "item"], name="one_thing_item_unique")]

    def __str__(self) -> str:
        return f"{self.one_thing_id}:{self.item_id}"


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

    # The hall a window clerk receives at, or whose region's cases a reviewer decides; empty in a deployment
    # with one hall (sees every case).
    hall = models.ForeignKey(
        "Hall", on_delete=models.PROTECT, null=True, blank=True, related_name="staff", verbose_name="所属大厅"
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
