"""A case (办件), the human-task rows its process projects, and its append-only event trail."""

from __future__ import annotations

import unicodedata

from django.conf import settings
from django.db import models, router
from django_fsm import FSMField, FSMModelMixin, transition

from ..lifecycle import TRANSITIONS, CaseStatus
from .audit import append
from .catalogue import Department, OneThing, ProcessVersion
from .compositions import CompositionVersion
from .halls import Hall

# 办件编号: the accepting hall's code (6 digits) + the date (8) + the day's sequence (6); see services/cases.py.
CASE_NO_PATTERN = "[0-9]{20}"


def normalise_case_no(value: str) -> str:
    """The one normaliser of a typed case number, used by every lookup and every limit keyed on it: full-width
    forms to ASCII (NFKC: ０１２ → 012, the ideographic space → a space), then every whitespace character and
    hyphen (- – — －) dropped. ``" 1101０5-2026…"`` → ``"110105…"``. The result may still not be 20 digits."""
    text = unicodedata.normalize("NFKC", value)
    return "".join(ch for ch in text if not ch.isspace() and ch not in "-‐‑‒–—―−")


def _edge(name: str) -> dict:
    sources, target = TRANSITIONS[name]
    return {"field": "status", "source": list(sources), "target": target}


class Channel(models.TextChoices):
    """How the application came in (申办渠道): a fact of the case, counted by the statistics."""

    WINDOW = "window", "窗口"
    ONLINE = "online", "网上"
    KIOSK = "kiosk", "自助终端"


class DeliveryMethod(models.TextChoices):
    PICKUP = "pickup", "窗口领取"
    POST = "post", "邮寄送达"
    ELECTRONIC = "electronic", "电子送达"


class DeliveryStatus(models.TextChoices):
    PENDING = "", "待送达"
    SENT = "sent", "已寄出"
    RETURNED = "returned", "邮件退回"
    HANDED_OVER = "handed_over", "已当面领取"
    DELIVERED = "delivered", "已妥投"
    DOWNLOADED = "downloaded", "申请人已下载"


# The statuses that prove the result reached the applicant (办结 needs one).
PROVEN_DELIVERY = frozenset({DeliveryStatus.HANDED_OVER, DeliveryStatus.DELIVERED, DeliveryStatus.DOWNLOADED})


class Case(FSMModelMixin, models.Model):
    case_no = models.CharField("办件编号", max_length=32, unique=True)
    # HMAC-SHA256 of the query code (查询码); the code itself is shown once and never stored.
    query_code_hash = models.CharField("查询码摘要", max_length=64)
    one_thing = models.ForeignKey(OneThing, on_delete=models.PROTECT, related_name="cases", verbose_name="一件事")
    process_version = models.ForeignKey(
        ProcessVersion, on_delete=models.PROTECT, related_name="cases", verbose_name="流程版本"
    )
    # What the case was opened with (merged form, items and their snapshots, limits, BPMN): every case-time read
    # uses it (workflow/compositions.py), until a deliberate migration (services/case_migration.py) moves it.
    composition = models.ForeignKey(
        CompositionVersion, on_delete=models.PROTECT, related_name="cases", verbose_name="一件事组合版本"
    )
    applicant_name = models.CharField("申请人", max_length=100)
    applicant_id_number = models.CharField("证件号码", max_length=32)
    applicant_id_type = models.CharField(
        "证件类型", max_length=32, default="resident_id", help_text="forms.ID_TYPES 的代码，默认居民身份证"
    )
    applicant_phone = models.CharField("联系电话", max_length=20, blank=True)
    channel = models.CharField("申办渠道", max_length=16, choices=Channel.choices, default=Channel.WINDOW)
    form_data = models.JSONField("申请表数据", default=dict)
    status = FSMField("办件状态", default=CaseStatus.RECEIVED, choices=CaseStatus.choices, protected=True)
    outcome = models.CharField("办理结果", max_length=20, blank=True)
    # SpiffWorkflow instance state without the spec, as JSON *text*: never jsonb, whose key reordering
    # breaks the library's parent-before-child task data deltas.
    process_state = models.TextField("流程实例状态")
    # The format ``process_state`` is written in (bpmn.STATE_FORMAT); loading an older one runs bpmn's upgrades.
    state_format = models.PositiveSmallIntegerField("流程状态格式版本")
    version = models.PositiveIntegerField("乐观锁版本", default=0)
    # None: the applicant submitted it (online or at a kiosk); the window accepts it from its 预审 queue.
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="收件人",
    )
    opened_at = models.DateTimeField("收件时间", auto_now_add=True)
    # 收受分离: the hall whose window received and formally checked the case, and the hall whose region's
    # departments decide it. Equal for an ordinary case.
    accepting_hall = models.ForeignKey(
        Hall, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="收件大厅"
    )
    deciding_hall = models.ForeignKey(
        Hall, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="审批地大厅"
    )
    updated_at = models.DateTimeField("更新时间", auto_now=True)
    concluded_at = models.DateTimeField("办结时间", null=True, blank=True)
    # The legal clock (workflow/clock.py, docs/clock.md). Received = opened_at. Due dates are the last
    # working day on which acting is in time; they move when a pause ends or an extension is approved.
    accepted_at = models.DateTimeField(
        "受理时间", null=True, blank=True, help_text="期限起算点；逾期未告知补正视为受理时为收件时间"
    )
    decided_at = models.DateTimeField("作出决定时间", null=True, blank=True, help_text="计时止于此")
    promised_due_date = models.DateField("承诺办结期限", null=True, blank=True, db_index=True)
    statutory_due_date = models.DateField("法定办结期限", null=True, blank=True)
    warning_date = models.DateField("预警日期", null=True, blank=True)
    # 预计: the date reaches into a year whose official holiday arrangement is not known yet, so it was counted
    # on the law's holidays alone (workflow/calendar.py); recomputed when the arrangement is entered.
    promised_due_date_provisional = models.BooleanField("承诺办结期限为预计", default=False)
    statutory_due_date_provisional = models.BooleanField("法定办结期限为预计", default=False)
    paused_since = models.DateTimeField("暂停计时起", null=True, blank=True, help_text="有未结束的暂停时为其开始时间")
    deemed_accepted_at = models.DateTimeField("视为受理记录时间", null=True, blank=True)
    # 结果送达 (workflow/delivery.py, docs/api.md "Delivery"): chosen at intake, changeable until the result is
    # handed over or mailed (and again after a returned mailing); proven by the handover at the window, the
    # carrier's "delivered" or the applicant's first download. Only a proven delivery concludes the case.
    delivery_method = models.CharField(
        "送达方式", max_length=16, choices=DeliveryMethod.choices, default=DeliveryMethod.PICKUP
    )
    delivery_address = models.JSONField("邮寄地址", default=dict, blank=True, help_text="{recipient, phone, address}")
    delivery_status = models.CharField(
        "送达状态", max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING, blank=True
    )
    delivery_carrier = models.CharField("寄递企业", max_length=50, blank=True)
    delivery_waybill = models.CharField("运单号", max_length=50, blank=True)
    delivered_at = models.DateTimeField("送达时间", null=True, blank=True, help_text="送达得到证明的时间")
    # 跑动次数: how many physical visits the trail records (``visit`` events); kept with them in one transaction.
    trips = models.PositiveSmallIntegerField("跑动次数", default=0)
    # 帮办代办: the agent (经办人) acting for the applicant with an authorisation letter (授权委托书).
    agent_name = models.CharField("经办人", max_length=100, blank=True)
    agent_id_type = models.CharField("经办人证件类型", max_length=32, blank=True)
    agent_id_number = models.CharField("经办人证件号码", max_length=32, blank=True)
    agent_phone = models.CharField("经办人联系电话", max_length=20, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "办件"
        ordering = ["-opened_at"]
        indexes = [
            models.Index(fields=["status", "one_thing"], name="case_status_one_thing"),
            # The supervisor's statistics (workflow/statistics.py) over a period of receipt: every column they
            # read of a case, so an index-only scan; the id for joining the tasks, ratings and pauses.
            models.Index(
                fields=["opened_at"],
                include=[
                    "id",
                    "one_thing",
                    "status",
                    "accepted_at",
                    "decided_at",
                    "concluded_at",
                    "promised_due_date",
                    "accepting_hall",
                    "deciding_hall",
                    "trips",
                    "delivery_method",
                    "channel",
                ],
                name="case_opened_stats_trips",
            ),
            # 收受分离: the cases other halls received for this hall to decide, still in flight (the window's
            # worklist) — neither the year's finished cases nor the hall's own are in this index.
            models.Index(
                fields=["deciding_hall", "updated_at"],
                condition=~models.Q(status__in=["concluded", "not_accepted", "withdrawn"])
                & ~models.Q(accepting_hall=models.F("deciding_hall")),
                name="case_cross_in_flight",
            ),
            # The window's worklist: 待补正 and 待办结 in the order they waited, and the count under review read
            # from the index alone (the hall's own cases: the hall is included).
            models.Index(fields=["status", "updated_at"], include=["accepting_hall"], name="case_status_updated"),
            # Staff case search (workflow/selectors/search.py): the applicant's name (exact or prefix), document
            # number (ID number or credit code), phone; a hall's cases by receipt time; a mailed result's waybill.
            models.Index(fields=["applicant_name"], opclasses=["varchar_pattern_ops"], name="case_applicant_name"),
            models.Index(fields=["applicant_id_number"], name="case_applicant_id"),
            models.Index(fields=["applicant_phone"], name="case_applicant_phone"),
            models.Index(fields=["accepting_hall", "opened_at"], name="case_hall_opened"),
            models.Index(fields=["deciding_hall", "opened_at"], name="case_deciding_hall_opened"),
            models.Index(fields=["one_thing", "opened_at"], name="case_one_thing_opened"),
            models.Index(fields=["delivery_waybill"], condition=~models.Q(delivery_waybill=""), name="case_waybill"),
            # The few cases with a provisional date: what import_calendar recomputes and the dashboard counts.
            models.Index(
                fields=["status"],
                condition=models.Q(promised_due_date_provisional=True) | models.Q(statutory_due_date_provisional=True),
                name="case_provisional_due",
            ),
        ]

    def __str__(self) -> str:
        return self.case_no

    @classmethod
    def from_db(cls, db, field_names, values):
        case = super().from_db(db, field_names, values)
        case._row = dict(zip(field_names, values, strict=True))  # the row as read: see ``columns_to_write``
        return case

    def columns_to_write(self, values: dict) -> dict:
        """Of ``values`` (field → what a step leaves in it), those that differ from the row as this object read or
        last wrote it: the write path (``services.engine``) sends only those, so a review that moves nothing but
        the process state does not re-send the form and the clock. JSON fields are replaced, never changed in
        place (a correction assigns a new ``form_data``), so a changed one is a different object."""
        row = getattr(self, "_row", None)
        if row is None:
            return values
        changed = {
            name: value
            for name, value in values.items()
            if name not in row or (value is not row[name] and value != row[name])
        }
        row.update(changed)
        return changed

    # django-fsm edges, one per row of workflow.lifecycle.TRANSITIONS. No side effects here.
    @transition(**_edge("accept"))
    def accept(self) -> None: ...

    @transition(**_edge("refuse"))
    def refuse(self) -> None: ...

    @transition(**_edge("require_correction"))
    def require_correction(self) -> None: ...

    @transition(**_edge("resubmit"))
    def resubmit(self) -> None: ...

    @transition(**_edge("approve"))
    def approve(self) -> None: ...

    @transition(**_edge("reject"))
    def reject(self) -> None: ...

    @transition(**_edge("conclude"))
    def conclude(self) -> None: ...

    @transition(**_edge("withdraw"))
    def withdraw(self) -> None: ...

    @transition(**_edge("suspend"))
    def suspend(self) -> None: ...

    @transition(**_edge("resume"))
    def resume(self) -> None: ...


class DeliveryUpdate(models.Model):
    """A carrier's status report of a mailed result (webhook or import), kept once: a replay of the same report
    (same waybill, status and time) finds this row and changes nothing."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="delivery_updates", verbose_name="办件")
    waybill = models.CharField("运单号", max_length=50)
    status = models.CharField("寄递状态", max_length=16)
    occurred_at = models.DateTimeField("发生时间")
    source = models.CharField("来源", max_length=16, help_text="webhook 或 import")
    received_at = models.DateTimeField("接收时间", auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "寄递状态"
        ordering = ["occurred_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["waybill", "status", "occurred_at"], name="delivery_update_once")
        ]

    def __str__(self) -> str:
        return f"{self.waybill}:{self.status}"


class CaseNumberCounter(models.Model):
    """Per-day sequence behind case numbers; incremented under a row lock inside case_open."""

    day = models.DateField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.day}: {self.last}"


class HumanTaskState(models.TextChoices):
    OPEN = "open", "待办"
    COMPLETED = "completed", "已办"
    CANCELLED = "cancelled", "已取消"


class Decision(models.TextChoices):
    ACCEPT = "accept", "受理"
    REFUSE = "refuse", "不予受理"
    APPROVE = "approve", "准予"
    REJECT = "reject", "不予许可"
    NEED_CORRECTION = "need_correction", "需补正"
    CORRECTED = "corrected", "已补正"


class HumanTask(models.Model):
    """A ready BPMN user task projected into a row, for inboxes and history."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="tasks", verbose_name="办件")
    engine_task_id = models.CharField("引擎任务 id", max_length=36, unique=True)
    element_id = models.CharField("BPMN 元素 id", max_length=200)
    name = models.CharField("任务名称", max_length=200)
    lane = models.CharField("泳道", max_length=64, help_text="部门编码，或保留泳道 window/applicant")
    # Keyed by department code, which is also the BPMN lane name: a ready task maps to its row directly.
    department = models.ForeignKey(
        Department,
        on_delete=models.PROTECT,
        to_field="code",
        db_column="department_code",
        null=True,
        blank=True,
        related_name="tasks",
        verbose_name="部门",
    )
    review_round = models.PositiveSmallIntegerField("审查轮次", default=0)
    state = models.CharField("状态", max_length=16, choices=HumanTaskState.choices, default=HumanTaskState.OPEN)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="承办人",
    )
    claimed_at = models.DateTimeField("认领时间", null=True, blank=True)
    decision = models.CharField("决定", max_length=20, choices=Decision.choices, blank=True)
    opinion = models.TextField("意见", blank=True)
    # 不予许可 / 不予受理: the law the decision rests on, as the department (or window) entered it (Art. 38).
    legal_basis = models.TextField("法律依据", blank=True)
    # The item's result with an approval: {"licence_no", "valid_from", "valid_to"} (证照编号、有效期).
    result = models.JSONField("办理结果", default=dict, blank=True)
    corrections = models.JSONField("补正要求", default=list, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="办理人",
    )
    created_at = models.DateTimeField("生成时间", auto_now_add=True)
    completed_at = models.DateTimeField("办理时间", null=True, blank=True)
    # The department's promised limit (working days) counted from created_at; see workflow/clock.py.
    limit_days = models.PositiveSmallIntegerField("办理时限（工作日）", null=True, blank=True)
    due_date = models.DateField("办理期限", null=True, blank=True, db_index=True)
    warning_date = models.DateField("预警日期", null=True, blank=True)
    due_date_provisional = models.BooleanField("办理期限为预计", default=False)
    # 秒批: decided by the item's decision table instead of a person; a reviewer of the department checks
    # it afterwards (事后复核) and may confirm it or revoke the licence it produced.
    auto_approved = models.BooleanField("秒批", default=False)
    post_review_outcome = models.CharField(
        "事后复核结论",
        max_length=16,
        blank=True,
        choices=[("confirmed", "复核无误"), ("revoked", "复核撤销")],
    )
    post_review_opinion = models.TextField("事后复核意见", blank=True)
    post_reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="复核人",
    )
    post_reviewed_at = models.DateTimeField("复核时间", null=True, blank=True)
    # Set on a review's latest task when a correction made its item(s) stop applying (不再适用): its decision
    # stands in the record but issues nothing (no e-licence).
    not_applicable_reason = models.TextField("不再适用的原因", blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "部门任务"
        ordering = ["created_at", "id"]
        indexes = [
            # The inbox's order (earliest due first): a department's open tasks in index order, no sort.
            models.Index(fields=["department", "state", "due_date", "created_at", "id"], name="task_inbox_due"),
            # A case's tasks by state; with the department and the decision included, the statistics' count of
            # the tasks of a period's cases is an index-only scan.
            models.Index(fields=["case", "state"], include=["department", "decision"], name="task_case_state"),
            models.Index(fields=["case"], condition=models.Q(due_date_provisional=True), name="task_provisional_due"),
            # The window's and the supervisor's inboxes in the inbox order (a page is read in index order, never
            # the year's tasks sorted), and their tabs' counts per state as index range scans.
            models.Index(fields=["lane", "state", "due_date", "created_at", "id"], name="task_lane_due"),
            models.Index(fields=["state", "due_date", "created_at", "id"], name="task_state_due"),
            # 最近已办 (the inbox's latest decided tasks): read backwards from the newest completion.
            models.Index(fields=["completed_at"], condition=models.Q(state="completed"), name="task_completed_at"),
            # 待复核: a department's 秒批 tasks not yet post-reviewed (a work queue: few rows).
            models.Index(
                fields=["department"],
                condition=models.Q(auto_approved=True, post_review_outcome="", not_applicable_reason=""),
                name="task_post_review_pending",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case.case_no} · {self.name}"


class CaseEventQuerySet(models.QuerySet):
    def bulk_create(self, objs, *args, **kwargs):
        objs = list(objs)
        if append(objs, self.db):  # PostgreSQL: numbered, hashed and inserted in one statement
            return objs
        return super().bulk_create(objs, *args, **kwargs)

    def update(self, **kwargs):
        raise ValueError("办件事件只能追加，不能修改")

    def delete(self):
        raise ValueError("办件事件只能追加，不能删除")


class CaseEvent(models.Model):
    """Append-only, hash-chained trail of what happened to a case, written in the same transaction as the
    change (the chain: workflow/models/audit.py, verified by workflow/audit.py)."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="events", verbose_name="办件")
    kind = models.CharField("事件", max_length=40)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="操作人",
    )
    actor_label = models.CharField("操作人（显示）", max_length=150, blank=True)
    department = models.CharField("部门", max_length=64, blank=True)
    data = models.JSONField("内容", default=dict, blank=True)
    created_at = models.DateTimeField("时间", default=None, editable=False)
    seq = models.BigIntegerField("链序号", unique=True, editable=False)
    prev_hash = models.CharField("前一事件摘要", max_length=64, editable=False)
    hash = models.CharField("本事件摘要", max_length=64, editable=False)

    objects = CaseEventQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "办件事件"
        ordering = ["created_at", "id"]
        # The document sweep (beat) reads the last two days' events by time.
        indexes = [models.Index(fields=["created_at"], name="caseevent_created")]

    def __str__(self) -> str:
        return f"{self.case_id}:{self.kind}"

    def save(self, *args, **kwargs):
        """Appends (never updates). On PostgreSQL the row is inserted by the audit chain's one statement, without
        Model.save's signals (no receivers listen to CaseEvent)."""
        if self.pk is not None:
            raise ValueError("办件事件只能追加，不能修改")
        if not append([self], kwargs.get("using") or router.db_for_write(type(self), instance=self)):
            super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("办件事件只能追加，不能删除")
