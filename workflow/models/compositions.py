"""Composition versions (一件事组合版本) and the catalogue's change history.

A case is a legal record: what it was opened with stays fixed until someone migrates it on purpose. A
``CompositionVersion`` holds everything a case needs — the merged one form with its provenance, materials and
report, the ordered items with their conditions and a snapshot of every catalogue field of each item, the
element-id → item mapping, the one promised limit, the lead department and the BPMN version — and never
changes. Composing or deploying creates a new version for new cases; running cases keep theirs.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from .catalogue import OneThing, OrderedJSONField, ProcessVersion


class CompositionVersion(models.Model):
    """One published composition of a one-thing. Immutable: save and delete of a stored row are refused."""

    one_thing = models.ForeignKey(
        OneThing, on_delete=models.PROTECT, related_name="compositions", verbose_name="一件事"
    )
    number = models.PositiveIntegerField("版本号")
    # sha256 of the canonical JSON of everything below but number and creation (workflow/compositions.py):
    # recomposing identical content finds this row instead of creating another.
    content_hash = models.CharField("内容哈希（sha256）", max_length=64)
    name = models.CharField("一件事名称", max_length=200)
    lead_department = models.CharField("牵头部门编码", max_length=64, blank=True)
    promised_limit_days = models.PositiveSmallIntegerField("承诺时限（工作日）")
    # forms.MergedForm.to_dict(): schema, provenance, materials, report, UI hints.
    merged_form = OrderedJSONField("一表申请（合并结果）", default=dict)
    # In order: {position, code, item_id, condition, review_key, element_id, item: {every catalogue field}}.
    items = OrderedJSONField("包含事项（快照）", default=list)
    # BPMN element id of each department review → the codes of the items it decides.
    elements = models.JSONField("审查任务与事项对应", default=dict)
    process_version = models.ForeignKey(
        ProcessVersion, on_delete=models.PROTECT, related_name="compositions", verbose_name="流程版本"
    )
    created_at = models.DateTimeField("发布时间", auto_now_add=True)
    created_by = models.CharField("发布人", max_length=150, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "一件事组合版本"
        ordering = ["one_thing", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["one_thing", "number"], name="composition_number_unique"),
            models.UniqueConstraint(fields=["one_thing", "content_hash"], name="composition_content_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.name} 第 {self.number} 版"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("一件事组合版本发布后不可修改")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("一件事组合版本发布后不可删除")


class CatalogueChangeKind(models.TextChoices):
    ITEM = "item", "政务服务事项"
    ONE_THING = "one_thing", "一件事"


class CatalogueChangeAction(models.TextChoices):
    CREATED = "created", "新增"
    CHANGED = "changed", "修改"
    COMPOSED = "composed", "组合"
    DEPLOYED = "deployed", "部署流程"
    PUBLISHED = "published", "发布"


class CatalogueChangeQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise ValueError("目录变更记录只能追加")

    def delete(self):
        raise ValueError("目录变更记录只能追加")


class CatalogueChange(models.Model):
    """One change to the catalogue (an item or a one-thing): who, when, what, as a readable Chinese diff.
    Written by the services that change the catalogue (import, admin, composing, deploying); append-only."""

    kind = models.CharField("对象类型", max_length=16, choices=CatalogueChangeKind.choices)
    key = models.CharField("对象编码", max_length=64, help_text="事项编码或一件事标识")
    name = models.CharField("对象名称", max_length=200)
    action = models.CharField("变更", max_length=16, choices=CatalogueChangeAction.choices)
    summary = models.CharField("摘要", max_length=300)
    # Readable lines, e.g. "承诺时限（工作日）：5 → 3".
    diff = models.JSONField("变更内容", default=list, blank=True)
    source = models.CharField("来源", max_length=32, help_text="admin、import_catalogue、compose、deploy_bpmn …")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="操作人",
    )
    actor_label = models.CharField("操作人（显示）", max_length=150, blank=True)
    composition = models.ForeignKey(
        CompositionVersion,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="发布的组合版本",
    )
    created_at = models.DateTimeField("时间", auto_now_add=True)

    objects = CatalogueChangeQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "目录变更记录"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["kind", "key", "created_at"], name="catalogue_change_target")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.key}：{self.summary}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("目录变更记录只能追加")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("目录变更记录只能追加")
