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
