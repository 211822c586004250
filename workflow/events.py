"""The event registry: every kind of entry in a case's audit trail, its Chinese label, who sees it and what it
carries — and the one writer that builds trail entries (``case_event``).

Audiences (docs/api.md "Timeline events"):

- ``applicant``: on the applicant's timeline (status lookup), besides every staff member's;
- ``staff``: every staff member who may see the case;
- ``department``: the acting department's reviewers, and the window, supervisors and administrators (who see
  every department's decisions); another department's reviewer sees the entry as ``review_progress``
  (部门审查进展), without its content — they see others' progress, never their decisions.

The data of each kind is what ``case_event`` is given; the trail keeps it as written (hash-chained), so a key
once written is kept. ``task`` in data names the task (or procedure) the entry concerns: the timelines add it to
the label.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from .models import CaseEvent


class Audience(StrEnum):
    APPLICANT = "applicant"
    STAFF = "staff"
    DEPARTMENT = "department"


class EventKind(StrEnum):
    OPENED = "opened"
    MATERIALS_REUSED = "materials_reused"
    TASK_OPENED = "task_opened"
    TASK_COMPLETED = "task_completed"
    ACCEPT = "accept"
    ACCEPTED_ON_PROMISE = "accepted_on_promise"
    IDENTITY_VERIFIED = "identity_verified"
    REFUSE = "refuse"
    REQUIRE_CORRECTION = "require_correction"
    CORRECTED = "corrected"
    REOPENED = "reopened"
    ITEM_NOT_APPLICABLE = "item_not_applicable"
    ITEM_APPLICABLE = "item_applicable"
    MIGRATED = "migrated"
    RESUBMIT = "resubmit"
    APPROVE = "approve"
    REJECT = "reject"
    LICENCE_ISSUED = "licence_issued"
    LICENCE_WITHHELD = "licence_withheld"
    COMMITMENT_SIGNED = "commitment_signed"
    COMMITMENT_CHECK_OPENED = "commitment_check_opened"
    COMMITMENT_CHECKED = "commitment_checked"
    CONCLUDE = "conclude"
    WITHDRAW = "withdraw"
    TASK_CLAIMED = "task_claimed"
    TASK_UNCLAIMED = "task_unclaimed"
    TASK_REASSIGNED = "task_reassigned"
    DOCUMENT_ISSUED = "document_issued"
    QUERY_CODE_REISSUED = "query_code_reissued"
    RATED = "rated"
    RECTIFICATION_OPENED = "rectification_opened"
    RECTIFICATION_RESOLVED = "rectification_resolved"
    DEEMED_ACCEPTED = "deemed_accepted"
    PROCEDURE_STARTED = "procedure_started"
    PROCEDURE_ENDED = "procedure_ended"
    DEADLINE_EXTENDED = "deadline_extended"
    DUE_DATES_RECOMPUTED = "due_dates_recomputed"
    EXTENSION_REQUESTED = "extension_requested"
    EXTENSION_REJECTED = "extension_rejected"
    TIMER_FIRED = "timer_fired"
    YELLOW_CARD = "yellow_card"
    RED_CARD = "red_card"
    PROMISE_FULFILLED = "promise_fulfilled"
    SUSPEND = "suspend"
    RESUME = "resume"
    AUTO_APPROVED = "auto_approved"
    AUTO_APPROVAL_DECLINED = "auto_approval_declined"
    AUTO_APPROVAL_FAILED = "auto_approval_failed"
    POST_REVIEWED = "post_reviewed"
    LICENCE_REVOKED = "licence_revoked"
    RESULT_REVOKED = "result_revoked"
    MATERIAL_UPLOADED = "material_uploaded"
    MATERIAL_REMOVED = "material_removed"
    VISIT = "visit"
    DELIVERY_CHANGED = "delivery_changed"
    HANDED_OVER = "handed_over"
    MAILED = "mailed"
    POST_STATUS = "post_status"
    RESULT_DOWNLOADED = "result_downloaded"
    # Never written: what another department's reviewer sees of a department-only entry.
    REVIEW_PROGRESS = "review_progress"


@dataclass(frozen=True)
class EventSpec:
    label: str
    audiences: frozenset[Audience]
    data: dict[str, str]  # key → what it holds
    # False: the entry is caused by a step (the process moved on), not done by the step's actor; no name is shown.
    shows_actor: bool = True
    # The SMS template (workflow.sms.TEMPLATES) the applicant's phone gets for this kind; "" sends nothing;
    # "result": the result SMS, by the case's delivery method (workflow.sms.template_for).
    sms: str = ""

    @property
    def for_applicant(self) -> bool:
        return Audience.APPLICANT in self.audiences

    @property
    def department_only(self) -> bool:
        return Audience.DEPARTMENT in self.audiences


_A, _S, _D = Audience.APPLICANT, Audience.STAFF, Audience.DEPARTMENT
_APPLICANT = frozenset({_A, _S})
_STAFF = frozenset({_S})
_DEPARTMENT = frozenset({_D})
_STATUS = {"status": "the case status after the edge"}
_TASK = {"task": "the task's name"}

REGISTRY: dict[EventKind, EventSpec] = {
    EventKind.OPENED: EventSpec(
        "窗口收件",
        _APPLICANT,
        {
            "one_thing": "one-thing key",
            "version": "process version number",
            "composition": "composition version number (what the case is pinned to)",
            "hall": "accepting hall code",
            "deciding_hall": "deciding hall code (收受分离 only)",
            "materials": "codes of the materials the window received at intake",
            "delivery": "how the result will be delivered (pickup, post, electronic)",
            "agent": "{name, id_type, authorisation_letter} of the agent (经办人) for the applicant (帮办代办 only)",
            "intake": "the intake record entered: [{code, status received|not_applicable, form, count}]",
            "channel": "申办渠道 code (window / online / kiosk; absent on cases opened before channels)",
            "identity": "an applicant's own submission: {method: sms / id_card_reader, kiosk?: device id}",
        },
    ),
    EventKind.MATERIALS_REUSED: EventSpec(
        "免提交：以电子证照替代材料",
        _STAFF,
        {"materials": "material names", "codes": "their codes", "count": "how many"},
    ),
    EventKind.TASK_OPENED: EventSpec("任务生成", _STAFF, {**_TASK, "element_id": "BPMN element id"}, shows_actor=False),
    EventKind.TASK_COMPLETED: EventSpec(
        "任务办理",
        _STAFF,
        {
            **_TASK,
            "decision": "decision code (shown to the department's audience only)",
            "opinion": "the window's opinion (window decisions only)",
            "review_round": "review round (department decisions)",
            "materials": "codes of the materials received (the window's acceptance)",
            "intake": "the intake record at acceptance (as at opening), promised materials excepted",
        },
    ),
    EventKind.ACCEPT: EventSpec("已受理", _APPLICANT, _STATUS, sms="accepted"),
    EventKind.ACCEPTED_ON_PROMISE: EventSpec(
        "容缺受理（承诺补交材料）", _STAFF, {"materials": "[{name, due_date}] promised materials"}
    ),
    EventKind.IDENTITY_VERIFIED: EventSpec(
        "收件窗口核验申请人身份（收受分离）", _STAFF, {"method": "method code", "method_label": "method label"}
    ),
    EventKind.REFUSE: EventSpec("不予受理", _APPLICANT, _STATUS),
    EventKind.REQUIRE_CORRECTION: EventSpec("一次性告知补正", _APPLICANT, _STATUS, shows_actor=False, sms="correction"),
    EventKind.CORRECTED: EventSpec("申请人已补正", _APPLICANT, {"fields": "names of the fields resubmitted"}),
    EventKind.REOPENED: EventSpec(
        "补正修改了本部门需要的字段，重新审查",
        _APPLICANT,
        {
            **_TASK,
            "fields": "names of the changed fields the department needs",
            "field_titles": "their titles (shown in the label)",
            "reason": "why",
        },
    ),
    EventKind.ITEM_NOT_APPLICABLE: EventSpec(
        "补正后事项不再适用",
        _APPLICANT,
        {
            **_TASK,
            "items": "names of the items that stopped applying",
            "item_codes": "their codes",
            "fields": "the changed fields their condition rests on",
            "earlier_decision": "the review's decision before (it issues nothing now)",
            "reason": "why (shown to the applicant with the item)",
        },
        shows_actor=False,
    ),
    EventKind.ITEM_APPLICABLE: EventSpec(
        "补正后事项开始适用，开启审查",
        _APPLICANT,
        {
            **_TASK,
            "items": "names of the items that started applying",
            "fields": "the changed fields",
            "reason": "why",
        },
        shows_actor=False,
    ),
    EventKind.MIGRATED: EventSpec(
        "办件迁移到新的一件事组合版本",
        _APPLICANT,
        {
            "from_version": "composition version number before",
            "to_version": "composition version number after",
            "from_process": "process version number before",
            "to_process": "process version number after",
            "reason": "why (an administrator's decision, manage.py migrate_cases)",
        },
    ),
    EventKind.RESUBMIT: EventSpec("补正后重新审查", _APPLICANT, _STATUS, shows_actor=False),
    EventKind.APPROVE: EventSpec("统一反馈：准予许可", _APPLICANT, _STATUS, shows_actor=False, sms="result"),
    EventKind.REJECT: EventSpec("统一反馈：不予许可", _APPLICANT, _STATUS, shows_actor=False, sms="result"),
    EventKind.LICENCE_ISSUED: EventSpec(
        "电子证照签发", _STAFF, {"number": "licence number", "item": "item name"}, shows_actor=False
    ),
    EventKind.LICENCE_WITHHELD: EventSpec(
        "证照暂缓签发（容缺材料未补交）",
        _APPLICANT,
        {"item": "item name", "materials": "the promised material names still missing", "reason": "why"},
        shows_actor=False,
    ),
    EventKind.COMMITMENT_SIGNED: EventSpec(
        "告知承诺（以承诺代替证明材料）",
        _APPLICANT,
        {"materials": "[{name, text}] the materials committed and the texts"},
    ),
    EventKind.COMMITMENT_CHECK_OPENED: EventSpec(
        "开启事中事后核查",
        _APPLICANT,
        {"item": "item name", "material": "the committed material's name", "due_date": "the check's due date"},
        shows_actor=False,
    ),
    EventKind.COMMITMENT_CHECKED: EventSpec(
        "事中事后核查",
        _APPLICANT,
        {
            "item": "item name",
            "material": "the committed material's name",
            "outcome": "passed or failed",
            "outcome_label": "核查属实 / 承诺不实",
            "opinion": "what the check found",
        },
    ),
    EventKind.CONCLUDE: EventSpec(
        "办结",
        _APPLICANT,
        {
            **_STATUS,
            "delivery": "how the result was delivered (delivery method), proven before 办结",
            "one_visit": "true: concluded in the visit that submitted it (即办件当场办结)",
        },
        sms="concluded",
    ),
    EventKind.WITHDRAW: EventSpec("申请人撤回", _STAFF, {**_STATUS, "reason": "why"}),
    EventKind.TASK_CLAIMED: EventSpec("任务认领", _STAFF, _TASK),
    EventKind.TASK_UNCLAIMED: EventSpec("退回认领", _STAFF, _TASK),
    EventKind.TASK_REASSIGNED: EventSpec(
        "任务转办", _STAFF, {**_TASK, "to": "the new assignee's username", "reason": "why"}
    ),
    EventKind.DOCUMENT_ISSUED: EventSpec(
        "文书出具",
        _STAFF,
        {"document": "document id", "key": "document key", "document_kind": "kind code", "title": "title"},
    ),
    EventKind.QUERY_CODE_REISSUED: EventSpec("补发查询码", _STAFF, {}),
    EventKind.RATED: EventSpec("好差评", _STAFF, {"level": "1–5", "round": "rating round"}),
    EventKind.RECTIFICATION_OPENED: EventSpec(
        "差评整改工单生成", _STAFF, {"order": "order id", "due_date": "due date"}
    ),
    EventKind.RECTIFICATION_RESOLVED: EventSpec(
        "差评整改完成", _STAFF, {"order": "order id", "on_time": "resolved by its due date"}
    ),
    EventKind.DEEMED_ACCEPTED: EventSpec(
        "逾期未告知补正，依法视为受理",
        _APPLICANT,
        {"legal_basis": "the article", "received_at": "receipt time", "notice_due": "the notice's last day"},
    ),
    EventKind.PROCEDURE_STARTED: EventSpec(
        "特别程序开始（期间不计入办理时限）", _APPLICANT, {"procedure": "pause kind code", "task": "its label"}
    ),
    EventKind.PROCEDURE_ENDED: EventSpec(
        "特别程序结束，恢复计时", _APPLICANT, {"procedure": "pause kind code", "task": "its label"}
    ),
    EventKind.DEADLINE_EXTENDED: EventSpec(
        "经批准延期",
        _APPLICANT,
        {
            "days": "working days",
            "reason": "why (told to the applicant)",
            "approved_by": "approver's name",
            "promised_due_date": "new promised due date",
            "statutory_due_date": "new statutory due date",
        },
    ),
    EventKind.DUE_DATES_RECOMPUTED: EventSpec(
        "按工作日历重新计算期限",
        _STAFF,
        {
            "reason": "why (the year's official holiday arrangement was entered)",
            "promised_due_date": "{from, to, provisional} when the case's promised due date changed",
            "statutory_due_date": "{from, to, provisional} when its statutory due date changed",
            "tasks": "[{id, name, department, from, to, provisional}] the open tasks whose due date changed",
        },
    ),
    EventKind.EXTENSION_REQUESTED: EventSpec("申请延期（待批准）", _STAFF, {"days": "working days", "reason": "why"}),
    EventKind.EXTENSION_REJECTED: EventSpec(
        "延期申请未获批准", _STAFF, {"days": "working days", "note": "the supervisor's reason"}
    ),
    EventKind.TIMER_FIRED: EventSpec(
        "流程定时器触发", _STAFF, {"element_id": "timer element id", **_TASK, "due_at": "due time"}
    ),
    EventKind.YELLOW_CARD: EventSpec("黄牌：部门任务超期", _STAFF, {**_TASK, "due_date": "the task's due date"}),
    EventKind.RED_CARD: EventSpec("红牌：办件超期", _STAFF, {"due_date": "the case's promised due date"}),
    EventKind.PROMISE_FULFILLED: EventSpec("容缺材料已补交", _STAFF, {"material": "material name"}),
    EventKind.SUSPEND: EventSpec(
        "中止审查（容缺承诺逾期）", _STAFF, {**_STATUS, "reason": "why", "materials": "missing material names"}
    ),
    EventKind.RESUME: EventSpec("恢复审查", _STAFF, _STATUS),
    EventKind.AUTO_APPROVED: EventSpec(
        "秒批：按规则自动准予",
        _DEPARTMENT,
        {**_TASK, "decision": "approve", "review_round": "review round", "rules": "[{item, rule}] matched rules"},
    ),
    EventKind.AUTO_APPROVAL_DECLINED: EventSpec(
        "秒批规则未通过，转人工审查",
        _DEPARTMENT,
        {**_TASK, "item": "item name", "rule": "the rule (or 无规则命中)", "outputs": "the table's outputs"},
    ),
    EventKind.AUTO_APPROVAL_FAILED: EventSpec(
        "秒批规则执行出错，转人工审查", _DEPARTMENT, {**_TASK, "item": "item name(s)", "error": "first line"}
    ),
    EventKind.POST_REVIEWED: EventSpec(
        "秒批事后复核", _DEPARTMENT, {**_TASK, "outcome": "confirmed or revoked", "opinion": "the reviewer's opinion"}
    ),
    EventKind.LICENCE_REVOKED: EventSpec(
        "电子证照撤销",
        frozenset({_A, _D}),
        {"number": "licence number", "item": "item name", "reason": "why"},
    ),
    EventKind.RESULT_REVOKED: EventSpec(
        "办理结果撤销（备案/登记）",
        frozenset({_A, _D}),
        {"item": "item name", "reason": "why"},
    ),
    EventKind.MATERIAL_UPLOADED: EventSpec(
        "上传材料文件",
        _STAFF,
        {
            "material": "material name",
            "material_code": "material code",
            "file": "file id",
            "name": "file name",
            "content_type": "sniffed type",
            "size": "bytes",
            "sha256": "digest",
            "review_round": "review round",
        },
    ),
    EventKind.MATERIAL_REMOVED: EventSpec(
        "删除材料文件",
        _STAFF,
        {"material": "material name", "material_code": "material code", "file": "file id", "name": "file name"}
        | {"sha256": "digest"},
    ),
    # The trips ledger (跑动次数, workflow/delivery.py): one entry per physical visit, with its reason.
    EventKind.VISIT: EventSpec(
        "申请人到现场",
        _APPLICANT,
        {
            "reason": "submission, material, correction or pickup (delivery.VISIT_REASONS)",
            "reason_label": "its label (shown in the timeline)",
            "by": "applicant or agent: who came",
        },
    ),
    EventKind.DELIVERY_CHANGED: EventSpec(
        "变更送达方式",
        _APPLICANT,
        {"from": "method before", "to": "method after", "address": "the mailing address (post)"},
        sms="result",  # after the result (e.g. a returned mailing, now to be picked up): the new method's SMS
    ),
    EventKind.HANDED_OVER: EventSpec(
        "窗口当面交付办理结果（一窗通取）",
        _APPLICANT,
        {
            "recipient": "{kind: applicant or agent, name, id_type}",
            "identity_method": "how the clerk checked the recipient (halls.IDENTITY_METHODS)",
            "items": "the things handed over, as ticked",
            "signature": "{method: pad or scan, sha256, content_type, file}",
            "materials": "materials received at the handover (the agent's authorisation letter)",
            "same_visit": "true: handed over in the visit that submitted the case (即办件, no new trip)",
        },
    ),
    EventKind.MAILED: EventSpec(
        "办理结果已寄出", _APPLICANT, {"carrier": "carrier", "waybill": "waybill number"}, sms="mailed"
    ),
    EventKind.POST_STATUS: EventSpec(
        "寄递状态更新",
        _APPLICANT,
        {
            "status": "sent, delivered or returned",
            "status_label": "its label",
            "waybill": "waybill number",
            "occurred_at": "when the carrier says it happened",
            "source": "webhook or import",
        },
        shows_actor=False,
    ),
    EventKind.RESULT_DOWNLOADED: EventSpec(
        "申请人下载办理结果（电子送达）", _APPLICANT, {"document": "document id", "title": "its title"}
    ),
    EventKind.REVIEW_PROGRESS: EventSpec("部门审查进展", _STAFF, {}),
}


def spec(kind: str) -> EventSpec:
    """The registry entry of a kind; a kind written before the registry knew it reads as a plain entry."""
    try:
        return REGISTRY[EventKind(kind)]
    except ValueError:
        return EventSpec(kind, _STAFF, {})


def case_event(
    case, kind: EventKind | str, actor, *, department: str = "", nobody: str = "申请人", **data
) -> CaseEvent:
    """The one writer of trail entries: a new, unsaved CaseEvent (saved with the step's batch, or by the caller).

    ``case``: the case or its id. ``actor``: a user, a label, or None — the applicant, or ``nobody`` (e.g.
    "系统" for a sweep)."""
    kind = EventKind(kind)  # an unknown kind is a programming error: ValueError
    if kind == EventKind.REVIEW_PROGRESS:
        raise ValueError("review_progress is how an entry reads to another department; it is never written")
    return CaseEvent(
        **({"case_id": case} if isinstance(case, int) else {"case": case}),
        kind=str(kind),
        actor=actor if getattr(actor, "pk", None) else None,
        actor_label=actor_label(actor, nobody),
        department=department,
        data=data,
    )


def actor_label(actor, nobody: str = "申请人") -> str:
    if actor is None:
        return nobody
    if isinstance(actor, str):
        return actor
    return actor.get_full_name() or actor.get_username()
