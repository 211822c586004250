"""Electronic licences (电子证照) issued with a case's unified approval, one per approved item."""

from __future__ import annotations

from django.db import models

from .case import Case, HumanTask
from .catalogue import Department, ServiceItem


class ELicence(models.Model):
    number = models.CharField("证照编号", max_length=64, unique=True)
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="licences", verbose_name="办件")
    task = models.OneToOneField(HumanTask, on_delete=models.PROTECT, related_name="licence", verbose_name="审查任务")
    item = models.ForeignKey(ServiceItem, on_delete=models.PROTECT, related_name="+", verbose_name="事项")
    # The item's name as the case's composition version held it when the licence was issued.
    item_name = models.CharField("事项名称", max_length=200, blank=True)
    issuer = models.ForeignKey(
        Department,
        on_delete=models.PROTECT,
        to_field="code",
        db_column="issuer_code",
        related_name="+",
        verbose_name="发证部门",
    )
    title = models.CharField("证照名称", max_length=100, blank=True, help_text="证照类型的名称，如 营业执照")
    holder_kind = models.CharField(
        "持证主体", max_length=20, blank=True, help_text="applicant 申请人 / enterprise 企业 / newborn 新生儿"
    )
    # Printed on the licence next to its number: with it anyone may check the licence's state (/licences/).
    verification_code = models.CharField("核验码", max_length=12, blank=True)
    # The fields printed on the licence's face, in order: [[label, value], ...]
    face = models.JSONField("证照票面", default=list, blank=True)
    holder_name = models.CharField("持证人", max_length=200)
    holder_id_number = models.CharField("持证人证件号码", max_length=32)
    # The issuing case's applicant (a 营业执照's holder is the enterprise): 免提交 finds an applicant's licences by
    # holder or by this, on this table alone, with an index each (not through a join to the cases).
    applicant_id_number = models.CharField("申请人证件号码", max_length=32, blank=True)
    valid_from = models.DateField("有效期起")
    valid_to = models.DateField("有效期止", null=True, blank=True, help_text="留空表示长期有效")
    issued_at = models.DateTimeField("签发时间", auto_now_add=True)
    # Revoked after a 秒批 post-review found the automatic approval wrong (撤销).
    revoked_at = models.DateTimeField("撤销时间", null=True, blank=True)
    revoked_reason = models.TextField("撤销理由", blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "电子证照"
        ordering = ["case", "issued_at", "id"]
        indexes = [
            models.Index(fields=["holder_id_number"], name="licence_holder"),
            models.Index(fields=["applicant_id_number"], name="licence_applicant"),
        ]

    def __str__(self) -> str:
        return f"{self.number}（{self.item_name}）"


class MaterialReuse(models.Model):
    """免提交: a material of a case taken from an e-licence an earlier case issued to the same holder."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="reused_materials", verbose_name="办件")
    material_code = models.CharField("材料编码", max_length=64)
    material_name = models.CharField("材料名称", max_length=200)
    licence = models.ForeignKey(ELicence, on_delete=models.PROTECT, related_name="+", verbose_name="电子证照")
    attached_at = models.DateTimeField("关联时间", auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "免提交材料"
        constraints = [models.UniqueConstraint(fields=["case", "material_code"], name="reuse_unique_material")]

    def __str__(self) -> str:
        return f"{self.case_id}:{self.material_name}←{self.licence_id}"
