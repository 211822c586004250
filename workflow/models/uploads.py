"""Files uploaded for a case's materials (申请材料文件), kept in private storage by content digest."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from .case import Case


class MaterialFile(models.Model):
    # The id in URLs: not guessable, unlike the row id.
    public_id = models.UUIDField("文件标识", default=uuid.uuid4, unique=True, editable=False)
    # None while the file belongs to an applicant's draft (网上申报草稿); set when the draft is submitted.
    case = models.ForeignKey(
        Case, on_delete=models.PROTECT, null=True, blank=True, related_name="files", verbose_name="办件"
    )
    draft = models.ForeignKey(
        "workflow.ApplicationDraft",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="files",
        verbose_name="网上申报草稿",
    )
    material_code = models.CharField("材料编码", max_length=64)
    original_name = models.CharField("原文件名", max_length=255)
    # Sniffed from the content, never taken from the client's Content-Type or file name.
    content_type = models.CharField("文件类型", max_length=100)
    size = models.PositiveIntegerField("大小（字节）")
    sha256 = models.CharField("SHA-256", max_length=64)
    storage_name = models.CharField("存储路径", max_length=255)
    review_round = models.PositiveSmallIntegerField("提交轮次", default=0)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="上传人",
    )
    uploaded_at = models.DateTimeField("上传时间", auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "材料文件"
        ordering = ["case", "material_code", "uploaded_at", "id"]
        indexes = [models.Index(fields=["case", "material_code"], name="material_file_case")]

    def __str__(self) -> str:
        return f"{self.case_id}:{self.material_code}:{self.original_name}"
