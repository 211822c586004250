"""好差评: the applicant's rating of a concluded case and the rectification work order a bad one opens."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from .case import Case
from .catalogue import Department


class RatingLevel(models.IntegerChoices):
    """The five levels of 国办发〔2019〕51号 and GB/T 39734; the last two are 差评."""

    VERY_SATISFIED = 5, "非常满意"
    SATISFIED = 4, "满意"
    BASICALLY_SATISFIED = 3, "基本满意"
    DISSATISFIED = 2, "不满意"
    VERY_DISSATISFIED = 1, "非常不满意"


BAD_LEVELS = frozenset({RatingLevel.DISSATISFIED, RatingLevel.VERY_DISSATISFIED})
# 好评 for the 好评率: every level that is not 差评 (docs/documents.md, "好差评").
GOOD_LEVELS = frozenset({RatingLevel.VERY_SATISFIED, RatingLevel.SATISFIED, RatingLevel.BASICALLY_SATISFIED})

# The secondary indicators of on-site (线下) evaluation in the national 好差评 content standard, each rated on
# the same five levels; the overall level is 整体满意度. Online channels use 办事效率 / 办事指南精确度 /
# 办事便捷度 / 平台操作性 instead; a hall case is rated as on-site service.
DIMENSIONS: dict[str, str] = {
    "efficiency": "服务效率",
    "quality": "服务水平",
    "attitude": "服务态度",
}


class Rating(models.Model):
    """One rating of a case. A case has one current rating; a re-rating after a rectification supersedes it."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="ratings", verbose_name="办件")
    round = models.PositiveSmallIntegerField("评价次序", default=1, help_text="1 为首次评价，整改后的再评价依次加 1")
    level = models.PositiveSmallIntegerField("评价等级（整体满意度）", choices=RatingLevel.choices)
    dimensions = models.JSONField("分项评价", default=dict, blank=True, help_text="分项编码 → 等级 1–5")
    comment = models.TextField("评价意见", blank=True)
    created_at = models.DateTimeField("评价时间", auto_now_add=True)
    superseded_by = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="supersedes",
        verbose_name="被再评价取代",
    )

    class Meta:
        verbose_name = verbose_name_plural = "好差评"
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["case", "round"], name="rating_round_unique_per_case"),
            models.CheckConstraint(condition=models.Q(level__gte=1, level__lte=5), name="rating_level_1_to_5"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id}#{self.round}:{self.level}"

    @property
    def is_bad(self) -> bool:
        return self.level in BAD_LEVELS


class RectificationState(models.TextChoices):
    OPEN = "open", "整改中"
    DONE = "done", "已整改"


class RectificationOrder(models.Model):
    """差评整改工单: the responsible department rectifies by ``due_date`` (working days); supervisors follow."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="rectifications", verbose_name="办件")
    rating = models.OneToOneField(Rating, on_delete=models.PROTECT, related_name="rectification", verbose_name="差评")
    department = models.ForeignKey(
        Department,
        on_delete=models.PROTECT,
        to_field="code",
        db_column="department_code",
        related_name="rectifications",
        verbose_name="责任部门",
    )
    due_date = models.DateField("整改期限")
    state = models.CharField("状态", max_length=8, choices=RectificationState.choices, default=RectificationState.OPEN)
    resolution = models.TextField("整改情况", blank=True)
    resolved_at = models.DateTimeField("整改完成时间", null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="整改人",
    )
    created_at = models.DateTimeField("生成时间", auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "差评整改工单"
        ordering = ["due_date", "id"]
        indexes = [models.Index(fields=["department", "state", "due_date"], name="rectification_inbox")]

    def __str__(self) -> str:
        return f"{self.case_id}:{self.department_id}:{self.state}"
