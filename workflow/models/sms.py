"""The SMS outbox: one row per (case, event, recipient), written in the event's transaction, sent after commit."""

from __future__ import annotations

from django.db import models


class SmsState(models.TextChoices):
    PENDING = "pending", "待发送"
    SENDING = "sending", "发送中"
    SENT = "sent", "已发送"
    UNCERTAIN = "uncertain", "待核实"  # a sender died mid-call: maybe sent; never resent without a person
    FAILED = "failed", "发送失败"  # the provider refused it for good (a wrong number, a template refused)


class SmsMessage(models.Model):
    case = models.ForeignKey("workflow.Case", on_delete=models.PROTECT, related_name="sms", verbose_name="办件")
    event = models.ForeignKey("workflow.CaseEvent", on_delete=models.PROTECT, related_name="+", verbose_name="办件事件")
    recipient = models.CharField("接收号码", max_length=20)
    template = models.CharField("模板", max_length=32)
    params = models.JSONField("模板参数", default=list)
    body = models.TextField("短信内容")
    idempotency_key = models.CharField("幂等键", max_length=120, unique=True)
    state = models.CharField("状态", max_length=16, choices=SmsState.choices, default=SmsState.PENDING)
    attempts = models.PositiveSmallIntegerField("尝试次数", default=0)
    next_attempt_at = models.DateTimeField("下次尝试", null=True, blank=True)
    last_error = models.TextField("最近错误", blank=True)
    provider = models.CharField("服务商", max_length=32, blank=True)
    provider_message_id = models.CharField("服务商流水号", max_length=100, blank=True)
    created_at = models.DateTimeField("生成时间", auto_now_add=True)
    claimed_at = models.DateTimeField("开始发送", null=True, blank=True)
    sent_at = models.DateTimeField("发送时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "短信发件箱"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["case", "event", "recipient"], name="sms_case_event_recipient"),
        ]
        indexes = [
            models.Index(fields=["next_attempt_at"], condition=models.Q(state="pending"), name="sms_pending_due"),
        ]

    def __str__(self) -> str:
        return self.idempotency_key
