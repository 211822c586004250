"""The legal clock's rows: pauses, extensions, due timers and queued notifications (docs/clock.md)."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from .case import Case, HumanTask
from .catalogue import Department


class PauseKind(models.TextChoices):
    """Why the clock stops. 补正 by the applicant; the rest are 行政许可法 Art. 45 special procedures."""

    CORRECTION = "correction", "补正"
    HEARING = "hearing", "听证"
    TESTING = "testing", "检验、检测、检疫"
    APPRAISAL = "appraisal", "鉴定"
    EXPERT_REVIEW = "expert_review", "专家评审"
    TENDER_AUCTION = "tender_auction", "招标、拍卖"
    # 容缺受理: the review is suspended while a promised material is overdue (lifecycle "suspend").
    MATERIAL_PROMISE = "material_promise", "容缺材料待补交"


# The Art. 45 procedures staff may start and end by hand; the other kinds follow the lifecycle.
SPECIAL_PROCEDURES = (
    PauseKind.HEARING,
    PauseKind.TESTING,
    PauseKind.APPRAISAL,
    PauseKind.EXPERT_REVIEW,
    PauseKind.TENDER_AUCTION,
)


class ClockPause(models.Model):
    """A span in which the case's clock (and every task clock on it) does not run."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="clock_pauses", verbose_name="办件")
    kind = models.CharField("类型", max_length=20, choices=PauseKind.choices)
    reason = models.TextField("事由", blank=True)
    # 特别程序 (Art. 45): the working days it is expected to take, told to the applicant in writing.
    expected_days = models.PositiveSmallIntegerField("预计所需工作日", null=True, blank=True)
    # The department whose procedure it is (a hearing of the tax bureau); empty for a correction.
    department = models.ForeignKey(
        Department,
        on_delete=models.PROTECT,
        to_field="code",
        db_column="department_code",
        null=True,
        blank=True,
        related_name="+",
        verbose_name="部门",
    )
    started_at = models.DateTimeField("开始时间")
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="开始操作人",
    )
    ended_at = models.DateTimeField("结束时间", null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="结束操作人",
    )

    class Meta:
        verbose_name = verbose_name_plural = "暂停计时"
        ordering = ["started_at", "id"]
        constraints = [
            # One open pause of a kind per case: a second hearing while one runs is the same stop.
            models.UniqueConstraint(
                fields=["case", "kind"], condition=models.Q(ended_at__isnull=True), name="clock_pause_one_open_per_kind"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_id}:{self.kind}"

    @property
    def span(self) -> tuple:
        """(stopped_at, resumed_at) as workflow.calendar takes a pause."""
        return (self.started_at, self.ended_at)


class DeadlineExtension(models.Model):
    """延期: the case's limits are extended by ``days`` working days, with a reason and an approver."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="deadline_extensions", verbose_name="办件")
    days = models.PositiveSmallIntegerField("延长工作日数")
    reason = models.TextField("延期理由")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="申请人"
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="批准人"
    )
    approved_at = models.DateTimeField("批准时间")

    class Meta:
        verbose_name = verbose_name_plural = "延期"
        ordering = ["approved_at", "id"]
        constraints = [models.CheckConstraint(condition=models.Q(days__gt=0), name="extension_days_positive")]

    def __str__(self) -> str:
        return f"{self.case_id}:+{self.days}"


class ExtensionRequestState(models.TextChoices):
    PENDING = "pending", "待批准"
    APPROVED = "approved", "已批准"
    REJECTED = "rejected", "未批准"


class ExtensionRequest(models.Model):
    """延期申请: asked by the window or a reviewer, decided by a supervisor (负责人) inside the system. An
    approval creates the ``DeadlineExtension`` that moves the due dates; a rejection moves nothing."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="extension_requests", verbose_name="办件")
    days = models.PositiveSmallIntegerField("申请延长工作日数")
    reason = models.TextField("延期理由")
    # The requester's department (a reviewer's); empty when the window asked.
    department = models.ForeignKey(
        Department,
        on_delete=models.PROTECT,
        to_field="code",
        db_column="department_code",
        null=True,
        blank=True,
        related_name="+",
        verbose_name="申请部门",
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="申请人"
    )
    requested_at = models.DateTimeField("申请时间")
    state = models.CharField(
        "状态", max_length=10, choices=ExtensionRequestState.choices, default=ExtensionRequestState.PENDING
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="审批人",
    )
    decided_at = models.DateTimeField("审批时间", null=True, blank=True)
    decision_note = models.TextField("审批意见", blank=True)
    extension = models.OneToOneField(
        DeadlineExtension,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="request",
        verbose_name="批准的延期",
    )

    class Meta:
        verbose_name = verbose_name_plural = "延期申请"
        ordering = ["requested_at", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(days__gt=0), name="extension_request_days_positive"),
            # One request waiting per case: a second one would be decided against a stale cap.
            models.UniqueConstraint(
                fields=["case"], condition=models.Q(state="pending"), name="extension_request_one_pending"
            ),
        ]
        indexes = [models.Index(fields=["requested_at"], condition=models.Q(state="pending"), name="extension_pending")]

    def __str__(self) -> str:
        return f"{self.case_id}:+{self.days}:{self.state}"


class TimerKind(models.TextChoices):
    BPMN_TIMER = "bpmn_timer", "流程定时器"


class DueTimer(models.Model):
    """A row that becomes due: what Celery beat's sweep fires. The broker never holds a deadline.

    ``key`` makes a firing unique: for a BPMN timer it is the engine task id and the due instant, so a
    cycle timer's next instant is a new row, and registering the same timer again is a no-op.
    """

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="due_timers", verbose_name="办件")
    kind = models.CharField("类型", max_length=20, choices=TimerKind.choices)
    key = models.CharField("键", max_length=100)
    element_id = models.CharField("BPMN 元素 id", max_length=200, blank=True)
    name = models.CharField("名称", max_length=200, blank=True)
    due_at = models.DateTimeField("到期时间")
    # A sweep claims a due row (under SELECT ... FOR UPDATE SKIP LOCKED) before queueing its firing; a
    # claim older than ONETHING_TIMER_RECLAIM_SECONDS is taken again (the message was lost).
    claimed_at = models.DateTimeField("认领时间", null=True, blank=True)
    fired_at = models.DateTimeField("触发时间", null=True, blank=True)
    outcome = models.CharField("结果", max_length=20, blank=True)
    created_at = models.DateTimeField("登记时间", auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "到期定时"
        ordering = ["due_at", "id"]
        constraints = [models.UniqueConstraint(fields=["case", "kind", "key"], name="due_timer_unique")]
        indexes = [
            models.Index(fields=["due_at"], condition=models.Q(fired_at__isnull=True), name="due_timer_pending"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id}:{self.kind}:{self.key}"


class NotificationKind(models.TextChoices):
    TASK_WARNING = "task_warning", "任务临期预警"
    TASK_OVERDUE = "task_overdue", "黄牌：部门任务超期"
    CASE_WARNING = "case_warning", "办件临期预警"
    CASE_OVERDUE = "case_overdue", "红牌：办件超期"
    DEEMED_ACCEPTED = "deemed_accepted", "逾期未告知补正，视为受理"
    # A provisional due date moved earlier when the official holiday arrangement was entered.
    DUE_DATE_EARLIER = "due_date_earlier", "期限提前（按正式节假日安排）"


class Notification(models.Model):
    """A queued message to a department or a role. Delivery marks it sent (no external channel yet)."""

    key = models.CharField("幂等键", max_length=120, unique=True)
    kind = models.CharField("类型", max_length=20, choices=NotificationKind.choices)
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="notifications", verbose_name="办件")
    task = models.ForeignKey(
        HumanTask, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="部门任务"
    )
    # Recipient: a department (its reviewers) or a role (window, supervisor).
    department = models.ForeignKey(
        Department,
        on_delete=models.PROTECT,
        to_field="code",
        db_column="department_code",
        null=True,
        blank=True,
        related_name="notifications",
        verbose_name="接收部门",
    )
    role = models.CharField("接收角色", max_length=20)
    text = models.TextField("内容")
    created_at = models.DateTimeField("生成时间", auto_now_add=True)
    sent_at = models.DateTimeField("发送时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "督办通知"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["role", "department", "created_at"], name="notification_inbox"),
            models.Index(fields=["created_at"], condition=models.Q(sent_at__isnull=True), name="notification_unsent"),
        ]

    def __str__(self) -> str:
        return self.key
