"""Output shapes shared by the staff and applicant views of a case."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from workflow import clock, halls
from workflow.documents import DocumentKind
from workflow.labels import PROVISIONAL_NOTE, event_kind_seen_by, event_label
from workflow.lifecycle import CaseStatus
from workflow.models import Case, Decision, HumanTask, RatingLevel, RectificationState
from workflow.results import case_results
from workflow.selectors import RESULT_STATES, composition_of

# Next to every due date (docs/clock.md "Provisional dates").
PROVISIONAL_HELP = (
    "预计：期限计算到尚未录入国务院节假日安排的年份，仅按法定节假日计算（未含调休），"
    f"{PROVISIONAL_NOTE}；录入后自动重新计算"
)


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
    limit_days = serializers.IntegerField(allow_null=True, read_only=True, help_text="办理时限（工作日）")
    due_date_provisional = serializers.BooleanField(read_only=True, help_text=PROVISIONAL_HELP)
    supervision = serializers.SerializerMethodField(help_text="督办状态：正常、临期预警、黄牌、红牌、暂停计时")
    supervision_label = serializers.SerializerMethodField()
    auto_approved = serializers.BooleanField(read_only=True, help_text="秒批：由事项的决策表自动准予，无人办理")
    post_review_outcome = serializers.ChoiceField(
        choices=[("confirmed", "复核无误"), ("revoked", "复核撤销")],
        allow_blank=True,
        read_only=True,
        help_text="秒批的事后复核结论；空表示尚未复核",
    )
    post_review_opinion = serializers.CharField(allow_blank=True, read_only=True)
    post_reviewed_by = serializers.CharField(source="post_reviewed_by.username", allow_null=True, default=None)
    post_reviewed_at = serializers.DateTimeField(allow_null=True, read_only=True)

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
            "limit_days",
            "due_date",
            "due_date_provisional",
            "supervision",
            "supervision_label",
            "auto_approved",
            "post_review_outcome",
            "post_review_opinion",
            "post_reviewed_by",
            "post_reviewed_at",
        ]

    @extend_schema_field(serializers.ChoiceField(choices=clock.Supervision.choices, allow_null=True))
    def get_supervision(self, task: HumanTask) -> str | None:
        return clock.task_supervision(task)

    def get_supervision_label(self, task: HumanTask) -> str:
        return clock.supervision_label(clock.task_supervision(task))


class HallSerializer(serializers.Serializer):
    """A service hall (政务服务大厅) and its region, for 收受分离."""

    code = serializers.CharField(help_text="大厅编码（办件编号前 6 位）")
    name = serializers.CharField(help_text="大厅名称")
    region_code = serializers.CharField(help_text="行政区划代码")
    region_name = serializers.CharField(help_text="行政区划名称")


class CaseHallsSerializer(serializers.Serializer):
    """收受分离: where the case was received and formally checked, and whose region's departments decide it."""

    accepting_hall = HallSerializer(allow_null=True, help_text="收件地：受理并核验身份的大厅")
    deciding_hall = HallSerializer(allow_null=True, help_text="审批地：由其所在地区的部门审批")
    cross_region = serializers.BooleanField(help_text="收件地与审批地不同（收受分离、跨域通办）")


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
    due_date = serializers.DateField(allow_null=True, help_text="办理期限（最后一个工作日）")
    due_date_provisional = serializers.BooleanField(help_text=PROVISIONAL_HELP)
    supervision = serializers.ChoiceField(choices=clock.Supervision.choices, allow_null=True)


class EventSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    kind = serializers.CharField()
    label = serializers.CharField()
    department = serializers.CharField(allow_blank=True)
    actor = serializers.CharField(allow_blank=True)


class ItemResultSerializer(serializers.Serializer):
    """统一反馈: one row per item."""

    item_code = serializers.CharField(allow_blank=True)
    item = serializers.CharField()
    department = serializers.CharField()
    department_name = serializers.CharField()
    decision = serializers.CharField(allow_blank=True)
    decision_label = serializers.CharField(allow_blank=True)
    opinion = serializers.CharField(allow_blank=True)
    licence_no = serializers.CharField(allow_blank=True)
    valid_from = serializers.DateField(allow_null=True)
    valid_to = serializers.DateField(allow_null=True)
    auto_approved = serializers.BooleanField(help_text="秒批：按事项的决策表自动准予")
    licence_revoked = serializers.BooleanField(help_text="电子证照已撤销（秒批事后复核撤销）")
    licence_revoked_at = serializers.DateTimeField(allow_null=True)
    licence_revoked_reason = serializers.CharField(allow_blank=True, help_text="撤销理由")
    applicable = serializers.BooleanField(
        help_text="事项仍然适用；false 表示补正后不再满足其参与条件（不再适用），此前的决定不产生证照"
    )
    not_applicable_reason = serializers.CharField(allow_blank=True, help_text="不再适用的原因")


class ItemNotApplicableSerializer(serializers.Serializer):
    """An item a correction made stop applying (不再适用)."""

    item = serializers.CharField()
    department = serializers.CharField()
    department_name = serializers.CharField()
    reason = serializers.CharField(help_text="如：补正后不再满足本事项的参与条件（修改了“经营范围”）")


class ClockPauseSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField(help_text="correction、hearing、testing、appraisal、expert_review、tender_auction…")
    kind_label = serializers.CharField()
    reason = serializers.CharField(allow_blank=True)
    department = serializers.CharField(allow_blank=True)
    started_at = serializers.DateTimeField()
    ended_at = serializers.DateTimeField(allow_null=True)


class ExtensionSerializer(serializers.Serializer):
    days = serializers.IntegerField()
    reason = serializers.CharField()
    approved_by = serializers.CharField()
    approved_at = serializers.DateTimeField()


class ClockFieldsSerializer(serializers.Serializer):
    """The legal clock of a case (docs/clock.md), shared by the staff and applicant views."""

    accepted_at = serializers.DateTimeField(allow_null=True, help_text="受理时间：期限起算点")
    promised_due_date = serializers.DateField(allow_null=True, help_text="承诺办结期限（最后一个工作日）")
    promised_due_date_provisional = serializers.BooleanField(help_text=PROVISIONAL_HELP)
    statutory_due_date = serializers.DateField(allow_null=True, help_text="法定办结期限（最后一个工作日）")
    statutory_due_date_provisional = serializers.BooleanField(help_text=PROVISIONAL_HELP)
    working_days_used = serializers.IntegerField(allow_null=True, help_text="已用工作日（不含暂停）")
    paused = serializers.BooleanField(help_text="正在暂停计时（补正、听证、检验检测、专家评审等）")
    supervision = serializers.ChoiceField(choices=clock.Supervision.choices, allow_null=True)
    supervision_label = serializers.CharField(allow_blank=True)
    deemed_accepted = serializers.BooleanField(help_text="逾期未告知补正，依法视为受理")
    pauses = ClockPauseSerializer(many=True)


class CaseSerializer(CaseHallsSerializer, ClockFieldsSerializer):
    case_no = serializers.CharField()
    one_thing = serializers.CharField()
    one_thing_name = serializers.CharField()
    process_version = serializers.IntegerField()
    composition_version = serializers.IntegerField(
        help_text="办件所用的一件事组合版本号：开办时固定（一表、事项、时限、流程），只有迁移才会改变"
    )
    status = serializers.ChoiceField(choices=CaseStatus.choices)
    status_label = serializers.CharField()
    outcome = serializers.CharField(allow_blank=True)
    applicant_name = serializers.CharField()
    applicant_id_number = serializers.CharField()
    applicant_id_type = serializers.CharField(help_text="证件类型代码（resident_id 居民身份证 等）")
    applicant_phone = serializers.CharField(allow_blank=True)
    form = serializers.DictField()
    opened_at = serializers.DateTimeField()
    concluded_at = serializers.DateTimeField(allow_null=True)
    tasks = CaseTaskSerializer(many=True)
    events = EventSerializer(many=True)
    results = ItemResultSerializer(many=True, help_text="统一反馈：各事项的办理结果（形成结果后）")
    reused_materials = serializers.ListField(
        child=serializers.DictField(), help_text="免提交：以既有电子证照替代的材料（材料编码、名称、证照编号）"
    )
    extensions = ExtensionSerializer(many=True, help_text="经批准的延期")


def event_rows(events, *, decisions_of: str | None = None) -> list[dict]:
    """``decisions_of``: a reviewer's department; other departments' decision events read as progress."""
    return [
        {
            "at": e.created_at,
            "kind": event_kind_seen_by(e, decisions_of),
            "label": event_label(e, decisions_of),
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
        "composition_version": composition_of(case).number,
        "status": case.status,
        "status_label": case.get_status_display(),
        "outcome": case.outcome,
        "applicant_name": case.applicant_name,
        "applicant_id_number": case.applicant_id_number,
        "applicant_id_type": case.applicant_id_type,
        "applicant_phone": case.applicant_phone,
        "form": case.form_data,
        "opened_at": case.opened_at,
        "concluded_at": case.concluded_at,
        **halls.case_halls(case),
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
                "due_date": t.due_date,
                "due_date_provisional": t.due_date_provisional,
                "supervision": clock.task_supervision(t, case=case),
            }
            for t in tasks
        ],
        "events": event_rows(events, decisions_of=opinions_of),
        "results": case_results(case, tasks) if case.status in RESULT_STATES else [],
        "reused_materials": [
            {"material_code": r.material_code, "material_name": r.material_name, "licence_no": r.licence.number}
            for r in case.reused_materials.select_related("licence")
        ],
        **clock.case_clock(case, tasks),
    }


# --- documents and 好差评, shared by the staff and applicant views ---------------------------------------


class DocumentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=DocumentKind.choices)
    kind_label = serializers.CharField(source="get_kind_display")
    title = serializers.CharField()
    filename = serializers.CharField(help_text="下载时的文件名")
    size = serializers.IntegerField(help_text="字节数")
    sha256 = serializers.CharField(help_text="出具时记录的 SHA-256，可与下载的文件比对")
    signed = serializers.BooleanField(help_text="已加盖电子印章（PAdES 数字签名）")
    created_at = serializers.DateTimeField()


class RectificationBriefSerializer(serializers.Serializer):
    state = serializers.ChoiceField(choices=RectificationState.choices)
    state_label = serializers.CharField()
    due_date = serializers.DateField()
    resolution = serializers.CharField(allow_blank=True, help_text="整改情况（完成后）")


class RatingStateSerializer(serializers.Serializer):
    can_rate = serializers.BooleanField(help_text="现在可以评价：已办结且未评价，或差评整改完成后可再评价一次")
    level = serializers.ChoiceField(choices=RatingLevel.choices, allow_null=True)
    level_label = serializers.CharField(allow_blank=True)
    rated_at = serializers.DateTimeField(allow_null=True)
    rectification = RectificationBriefSerializer(allow_null=True)
