"""Service halls (政务服务大厅) and their regions, for 收受分离: accept in one hall, decide in another region."""

from __future__ import annotations

from django.db import models


class Hall(models.Model):
    # Also the prefix of the case numbers the hall's windows draw.
    code = models.CharField("大厅编码", max_length=16, unique=True)
    name = models.CharField("大厅名称", max_length=100)
    region_code = models.CharField("行政区划代码", max_length=12, help_text="GB/T 2260 行政区划代码，如 110105")
    region_name = models.CharField("行政区划名称", max_length=100)
    is_active = models.BooleanField("启用", default=True)

    class Meta:
        verbose_name = verbose_name_plural = "政务服务大厅"
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name}（{self.region_name}）"
