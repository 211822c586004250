"""Output shapes shared by the staff and applicant views of a case."""

from __future__ import annotations

from rest_framework import serializers

from workflow.lifecycle import CaseStatus
from workflow.models import Case, Decision, HumanTask

EVENT_LABELS = {
    "opened": "窗口收件",
    "task_opened": "任务生成",
    "task_completed": "任务办理",
    "accept": "已受理",
    "refuse": "不予受理",
    "require_correction": "一次性告知补正",
    "corrected": "申请人已补正",
    "resubmit": "补正后重新审查",
    "approve": "统一反馈：准予许可",
    "reject": "统一反馈：不予许可",
    "conclude": "办结",
}
OUTCOME_LABELS = {"approved": "准予许可", "rejected": "不予许可", "not_accepted": "不予受理"}


class CorrectionItemSerializer(serializers.Serializer):
    item = serializers.CharField(max_length=200, help_text="需补正的字段或材料")
    reason = serializers.CharField(max_length=1000, help_text="补正理由")


class TaskSerializer(serializers.ModelSerializer):
    case_no = serializers.CharField(source="case.case_no")
    one_thing = serializers.CharField(source="case.one_thing.name")
    department = serializers.CharField(source="department.code", allow_null=True, default=None)
    department_name = serializers.CharField(source="department.name", allow_null=True, default=None)
    decision = serializers.ChoiceField(choices=Decision.choices, allow_blank=True)
    corrections = CorrectionItemSerializer(many=True)
    # Declared, not derived: the derived bounds depend on the database (smallint on PostgreSQL).
    review_round = serializers.IntegerField(min_value=0, read_only=True)
    assignee = serializers.CharField(source="assignee.username", allow_null=True, default=None)
    result = serializers.DictField(read_only=True)

    class Meta:
        model = HumanTask
        fields = [
            "id",
            "case_no",
            "one_thing",
            "name",
            "element_id",
            "lane",
            "department",
            "department_name",
            "review_round",
            "state",
            "decision",
            "opinion",
            "corrections",
            "result",
            "assignee",
            "claimed_at",
            "created_at",
            "completed_at",
        ]


class CaseTaskSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    lane = serializers.CharField()
    department_name = serializers.CharField(allow_null=True)
    review_round = serializers.IntegerField()
    state = serializers.CharField()
    decision = serializers.CharField(allow_blank=True, allow_null=True)
    opinion = serializers.CharField(allow_blank=True, allow_null=True)
    corrections = CorrectionItemSerializer(many=True, allow_null=True)
    completed_at = serializers.DateTimeField(allow_null=True)


class EventSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    kind = serializers.CharField()
    label = serializers.CharField()
    department = serializers.CharField(allow_blank=True)
    actor = serializers.CharField(allow_blank=True)


class CaseSerializer(serializers.Serializer):
    case_no = serializers.CharField()
    one_thing = serializers.CharField()
    one_thing_name = serializers.CharField()
    process_version = serializers.IntegerField()
    status = serializers.ChoiceField(choices=CaseStatus.choices)
    status_label = serializers.CharField()
    outcome = serializers.CharField(allow_blank=True)
    applicant_name = serializers.CharField()
    applicant_id_number = serializers.CharField()
    applicant_phone = serializers.CharField(allow_blank=True)
    form = serializers.DictField()
    opened_at = serializers.DateTimeField()
    concluded_at = serializers.DateTimeField(allow_null=True)
    tasks = CaseTaskSerializer(many=True)
    events = EventSerializer(many=True)


def event_rows(events) -> list[dict]:
    return [
        {
            "at": e.created_at,
            "kind": e.kind,
            "label": EVENT_LABELS.get(e.kind, e.kind) + (f"：{e.data['task']}" if e.data.get("task") else ""),
            "department": e.department,
            "actor": e.actor_label,
        }
        for e in events
    ]


def case_row(case: Case, tasks: list[HumanTask], events, *, opinions_of: str | None = None) -> dict:
    """``opinions_of``: a reviewer sees other departments' progress but only their own opinions."""

    def show(task: HumanTask) -> bool:
        return opinions_of is None or task.lane == opinions_of

    return {
        "case_no": case.case_no,
        "one_thing": case.one_thing.key,
        "one_thing_name": case.one_thing.name,
        "process_version": case.process_version.number,
        "status": case.status,
        "status_label": case.get_status_display(),
        "outcome": case.outcome,
        "applicant_name": case.applicant_name,
        "applicant_id_number": case.applicant_id_number,
        "applicant_phone": case.applicant_phone,
        "form": case.form_data,
        "opened_at": case.opened_at,
        "concluded_at": case.concluded_at,
        "tasks": [
            {
                "id": t.pk,
                "name": t.name,
                "lane": t.lane,
                "department_name": t.department.name if t.department_id else None,
                "review_round": t.review_round,
                "state": t.state,
                "decision": t.decision if show(t) else None,
                "opinion": t.opinion if show(t) else None,
                "corrections": t.corrections if show(t) else None,
                "completed_at": t.completed_at,
            }
            for t in tasks
        ],
        "events": event_rows(events),
    }
