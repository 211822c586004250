"""容缺受理: materials accepted as missing under the applicant's written promise to hand them in by a date."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from .case import Case


class MaterialPromise(models.Model):
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="promises", verbose_name="办件")
    material_code = models.CharField("材料编码", max_length=64)
    material_name = models.CharField("材料名称", max_length=200)
    due_date = models.DateField("承诺补交日期")
    promised_at = models.DateTimeField("承诺时间", auto_now_add=True)
    fulfilled_at = models.DateTimeField("补交时间", null=True, blank=True)
    fulfilled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="收件人",
    )
    lapsed_at = models.DateTimeField("逾期时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "容缺承诺"
        ordering = ["case", "due_date", "id"]
        constraints = [models.UniqueConstraint(fields=["case", "material_code"], name="promise_unique_material")]
        indexes = [models.Index(fields=["fulfilled_at", "due_date"], name="promise_open_due")]

    def __str__(self) -> str:
        return f"{self.case_id}:{self.material_name}（{self.due_date}）"


class MaterialCommitment(models.Model):
    """告知承诺: the applicant signed a commitment in place of a certificate (the catalogue's text for the
    material, as signed). The items needing the material are approved on it; each approval opens a post-approval
    check (``CommitmentCheck``)."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="commitments", verbose_name="办件")
    material_code = models.CharField("材料编码", max_length=64)
    material_name = models.CharField("材料名称", max_length=200)
    text = models.TextField("承诺内容")
    signed_by = models.CharField("承诺人", max_length=100)
    signed_at = models.DateTimeField("承诺时间", auto_now_add=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="收件人",
    )

    class Meta:
        verbose_name = verbose_name_plural = "告知承诺"
        ordering = ["case", "id"]
        constraints = [models.UniqueConstraint(fields=["case", "material_code"], name="commitment_unique_material")]

    def __str__(self) -> str:
        return f"{self.case_id}:{self.material_name}（告知承诺）"


class CommitmentCheckOutcome(models.TextChoices):
    PASSED = "passed", "核查属实"
    FAILED = "failed", "承诺不实"


class CommitmentCheck(models.Model):
    """事中事后核查: after an item was approved on a 告知承诺, its department checks the commitment by a date; a
    false commitment (``failed``) revokes the item's licence."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="commitment_checks", verbose_name="办件")
    commitment = models.ForeignKey(
        MaterialCommitment, on_delete=models.PROTECT, related_name="checks", verbose_name="告知承诺"
    )
    item_code = models.CharField("事项编码", max_length=32)
    item_name = models.CharField("事项名称", max_length=200)
    department = models.ForeignKey(
        "workflow.Department", on_delete=models.PROTECT, to_field="code", related_name="+", verbose_name="核查部门"
    )
    due_date = models.DateField("核查期限")
    opened_at = models.DateTimeField("开启时间", auto_now_add=True)
    outcome = models.CharField("核查结论", max_length=16, choices=CommitmentCheckOutcome.choices, blank=True)
    opinion = models.TextField("核查意见", blank=True)
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="核查人",
    )
    checked_at = models.DateTimeField("核查时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "事中事后核查"
        ordering = ["due_date", "id"]
        indexes = [models.Index(fields=["department", "checked_at", "due_date"], name="commitment_check_inbox")]

    def __str__(self) -> str:
        return f"{self.case_id}:{self.item_name}（核查 {self.due_date}）"
