"""The applicant's own door: one-time SMS codes, the phone bound to an ID number, applicant sessions and drafts.

Codes and session tokens are stored only as keyed digests (like query codes): the plain values are shown or
sent once. None of these rows is a staff account; the applicant API authenticates against ``ApplicantSession``.
"""

from __future__ import annotations

from django.db import models


class IdentityMethod(models.TextChoices):
    SMS = "sms", "短信验证码"
    ID_CARD_READER = "id_card_reader", "自助终端读取身份证"


class ApplicantCode(models.Model):
    """A one-time code sent (or, for a phone not bound to the ID number, pretended to be sent) to a phone."""

    id_number = models.CharField("证件号码", max_length=32, db_index=True)
    phone = models.CharField("手机号码", max_length=20, db_index=True)
    code_hash = models.CharField("验证码摘要", max_length=64)
    # False: the phone is not the one bound to the ID number; nothing was sent and the code never verifies, but
    # the answer to the request was the same (it must not tell whether the ID number is known).
    deliverable = models.BooleanField("已发送", default=True)
    address = models.GenericIPAddressField("请求地址", null=True, blank=True, db_index=True)
    created_at = models.DateTimeField("生成时间", auto_now_add=True, db_index=True)
    expires_at = models.DateTimeField("失效时间")
    attempts = models.PositiveSmallIntegerField("验证次数", default=0)
    used_at = models.DateTimeField("使用时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "短信验证码"

    def __str__(self) -> str:
        return f"{self.phone[:3]}****{self.phone[-4:]} @ {self.created_at:%Y-%m-%d %H:%M}"


class ApplicantBinding(models.Model):
    """The phone bound to an ID number: where its codes go. Set at the first successful sign-in (or taken from
    the ID number's latest case, when it has cases but never signed in)."""

    id_number = models.CharField("证件号码", max_length=32, unique=True)
    phone = models.CharField("手机号码", max_length=20)
    bound_at = models.DateTimeField("绑定时间", auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "手机号绑定"

    def __str__(self) -> str:
        return f"{self.id_number[:3]}… → {self.phone[:3]}****{self.phone[-4:]}"


class ApplicantSession(models.Model):
    """An applicant signed in (by SMS code or at a kiosk's ID-card reader): the bearer of the token is the
    holder of the ID number until it expires, is signed out, or (kiosk) stays idle too long."""

    token_hash = models.CharField("令牌摘要", max_length=64, unique=True)
    id_number = models.CharField("证件号码", max_length=32, db_index=True)
    id_type = models.CharField("证件类型", max_length=32, default="resident_id")
    name = models.CharField("姓名", max_length=100, blank=True)
    phone = models.CharField("手机号码", max_length=20, blank=True)
    method = models.CharField("身份核验方式", max_length=32, choices=IdentityMethod.choices)
    kiosk = models.CharField("自助终端编号", max_length=64, blank=True)
    created_at = models.DateTimeField("登录时间", auto_now_add=True)
    last_seen_at = models.DateTimeField("最近活动")
    expires_at = models.DateTimeField("失效时间")
    idle_seconds = models.PositiveIntegerField("空闲超时（秒）")
    ended_at = models.DateTimeField("退出时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "申请人会话"

    def __str__(self) -> str:
        return f"{self.get_method_display()} {self.created_at:%Y-%m-%d %H:%M}"


class ApplicationDraft(models.Model):
    """An application being filled in online or at a kiosk, before it becomes a case. Resumed with its draft
    code (shown once) by its owner, or from the owner's list after signing in again."""

    code_hash = models.CharField("草稿码摘要", max_length=64, unique=True)
    id_number = models.CharField("证件号码", max_length=32, db_index=True)
    one_thing = models.ForeignKey(
        "workflow.OneThing", on_delete=models.PROTECT, related_name="+", verbose_name="一件事"
    )
    channel = models.CharField("申办渠道", max_length=16)
    applicant = models.JSONField("申请人", default=dict)
    form_data = models.JSONField("申请表数据", default=dict)
    materials = models.JSONField("已备材料编码", default=list)
    # The result's delivery as the applicant chose it ({method, address}); empty: not chosen, 窗口领取.
    delivery = models.JSONField("送达方式", default=dict, blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)
    submitted_at = models.DateTimeField("提交时间", null=True, blank=True)
    # Submit once: the client's idempotency key and the case it made. A replay with the same key answers the
    # same case; another key for a submitted draft is refused.
    idempotency_key = models.CharField("幂等键", max_length=64, blank=True)
    case = models.OneToOneField(
        "workflow.Case", on_delete=models.PROTECT, null=True, blank=True, related_name="draft", verbose_name="办件"
    )

    class Meta:
        verbose_name = verbose_name_plural = "网上申报草稿"

    def __str__(self) -> str:
        return f"草稿 {self.pk}（{self.one_thing_id}）"
