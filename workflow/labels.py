"""Chinese labels for what the timeline and the applicant see, shared by the API and the hall's screens."""

from __future__ import annotations

import forms as _forms

EVENT_LABELS = {
    "opened": "窗口收件",
    "task_opened": "任务生成",
    "task_completed": "任务办理",
    "accept": "已受理",
    "accepted_on_promise": "容缺受理（承诺补交材料）",
    "identity_verified": "收件窗口核验申请人身份（收受分离）",
    "refuse": "不予受理",
    "require_correction": "一次性告知补正",
    "corrected": "申请人已补正",
    "resubmit": "补正后重新审查",
    "approve": "统一反馈：准予许可",
    "reject": "统一反馈：不予许可",
    "conclude": "办结",
    "withdraw": "申请人撤回",
    "reopened": "补正涉及本部门字段，重新审查",
    "item_not_applicable": "补正后事项不再适用",
    "item_applicable": "补正后事项开始适用，开启审查",
    "migrated": "办件迁移到新的一件事组合版本",
    "licence_issued": "电子证照签发",
    "task_claimed": "任务认领",
    "task_unclaimed": "退回认领",
    "task_reassigned": "任务转办",
    "document_issued": "文书出具",
    "query_code_reissued": "补发查询码",
    "rated": "好差评",
    "rectification_opened": "差评整改工单生成",
    "rectification_resolved": "差评整改完成",
    "deemed_accepted": "逾期未告知补正，依法视为受理",
    "procedure_started": "特别程序开始（期间不计入办理时限）",
    "procedure_ended": "特别程序结束，恢复计时",
    "deadline_extended": "经批准延期",
    "due_dates_recomputed": "按工作日历重新计算期限",
    "extension_requested": "申请延期（待批准）",
    "extension_rejected": "延期申请未获批准",
    "timer_fired": "流程定时器触发",
    "yellow_card": "黄牌：部门任务超期",
    "red_card": "红牌：办件超期",
    "promise_fulfilled": "容缺材料已补交",
    "suspend": "中止审查（容缺承诺逾期）",
    "resume": "恢复审查",
    "auto_approved": "秒批：按规则自动准予",
    "auto_approval_declined": "秒批规则未通过，转人工审查",
    "auto_approval_failed": "秒批规则执行出错，转人工审查",
    "post_reviewed": "秒批事后复核",
    "licence_revoked": "电子证照撤销",
    "material_uploaded": "上传材料文件",
    "material_removed": "删除材料文件",
    "review_progress": "部门审查进展",
}
# Events whose kind alone tells a department's decision. Another department's reviewer sees their progress,
# never their decisions (docs/departments.md), so to them these read as plain progress.
DECISION_EVENTS = frozenset(
    {"auto_approved", "auto_approval_declined", "auto_approval_failed", "post_reviewed", "licence_revoked"}
)


def event_kind_seen_by(event, department: str | None) -> str:
    """The event's kind as a reviewer of ``department`` may see it (None: staff who see every decision)."""
    if department is None or event.kind not in DECISION_EVENTS or event.department == department:
        return event.kind
    return "review_progress"


# Said next to every provisional (预计) due date — screens, API descriptions, notices: "预计 2027年2月10日
# （以国务院公布的节假日安排为准）". See docs/clock.md "Provisional dates".
PROVISIONAL_LABEL = "预计"
PROVISIONAL_NOTE = "以国务院公布的节假日安排为准"

OUTCOME_LABELS = {"approved": "准予许可", "rejected": "不予许可", "not_accepted": "不予受理"}
PROGRESS_LABELS = {"pending": "待审查", "reviewing": "审查中", "done": "已完成", "not_applicable": "不再适用"}


def event_label(event, department: str | None = None) -> str:
    """A trail event as the API's timelines label it: the kind, and the task it concerns if any."""
    task = event.data.get("task")
    kind = event_kind_seen_by(event, department)
    return EVENT_LABELS.get(kind, kind) + (f"：{task}" if task else "")


# The applicant's identity document types (forms.ID_TYPES): code → Chinese name; the default is 居民身份证.
ID_TYPE_LABELS = {code: name for code, (name, _) in _forms.ID_TYPES.items()}
DEFAULT_ID_TYPE = _forms.DEFAULT_ID_TYPE
