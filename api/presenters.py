"""Output shapes shared by the staff and applicant views of a case."""

from __future__ import annotations

from rest_framework import serializers

from workflow.labels import (
    POST_REVIEW_OUTCOMES,
    PROGRESS_LABELS,
    PROVISIONAL_NOTE,
    VISIT_REASONS,
    CaseStatus,
    Channel,
    Decision,
    DeliveryMethod,
    DeliveryStatus,
    DocumentKind,
    HumanTaskState,
    RatingLevel,
    RectificationState,
    Supervision,
)
from workflow.selectors import ACTION_CHOICES, INTAKE_STATUS_LABELS

# Next to every due date (docs/clock.md "Provisional dates").
PROVISIONAL_HELP = (
    "预计：期限计算到尚未录入国务院节假日安排的年份，仅按法定节假日计算（未含调休），"
    f"{PROVISIONAL_NOTE}；录入后自动重新计算"
)


class CorrectionItemSerializer(serializers.Serializer):
    item = serializers.CharField(max_length=200, help_text="需补正的字段或材料")
    reason = serializers.CharField(max_length=1000, help_text="补正理由")


ACTIONS = serializers.ListField(
    child=serializers.ChoiceField(choices=ACTION_CHOICES),
    help_text="当前用户现在可以进行的操作（与界面的按钮、服务的校验是同一规则，见 docs/api.md“Allowed actions”）",
)


class TaskSerializer(serializers.Serializer):
    """A department task: the inbox's rows and every task answer."""

    # Renders selectors.TaskRow, as the inbox screen does.

    id = serializers.IntegerField()
    case_no = serializers.CharField()
    one_thing = serializers.CharField(help_text="一件事标识（key），与办件的 one_thing 相同")
    one_thing_name = serializers.CharField()
    name = serializers.CharField()
    element_id = serializers.CharField()
    lane = serializers.CharField()
    department = serializers.CharField(allow_null=True)
    department_name = serializers.CharField(allow_null=True)
    # Declared, not derived: the derived bounds depend on the database (smallint on PostgreSQL).
    review_round = serializers.IntegerField(min_value=0)
    state = serializers.ChoiceField(choices=HumanTaskState.choices)
    state_label = serializers.CharField()
    decision = serializers.ChoiceField(choices=Decision.choices, allow_blank=True)
    decision_label = serializers.CharField(allow_blank=True)
    opinion = serializers.CharField(allow_blank=True)
    corrections = CorrectionItemSerializer(many=True)
    result = serializers.DictField()
    assignee = serializers.CharField(allow_null=True, help_text="承办人用户名")
    assignee_name = serializers.CharField(allow_blank=True)
    claimed_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    completed_at = serializers.DateTimeField(allow_null=True)
    limit_days = serializers.IntegerField(allow_null=True, help_text="办理时限（工作日）")
    due_date = serializers.DateField(allow_null=True, help_text="办理期限（最后一个工作日）")
    due_date_provisional = serializers.BooleanField(help_text=PROVISIONAL_HELP)
    supervision = serializers.ChoiceField(
        choices=Supervision.choices,
        allow_null=True,
        help_text="督办状态：normal 正常、warning 临期预警、yellow 黄牌（任务超期）、red 红牌（办件超期）、"
        "paused 暂停计时",
    )
    supervision_label = serializers.CharField(allow_blank=True)
    auto_approved = serializers.BooleanField(help_text="秒批：由事项的决策表自动准予，无人办理")
    post_review_outcome = serializers.ChoiceField(
        choices=POST_REVIEW_OUTCOMES, allow_blank=True, help_text="秒批的事后复核结论；空表示尚未复核"
    )
    post_review_outcome_label = serializers.CharField(allow_blank=True)
    post_review_opinion = serializers.CharField(allow_blank=True)
    post_reviewed_by = serializers.CharField(allow_null=True, help_text="复核人用户名")
    post_reviewed_at = serializers.DateTimeField(allow_null=True)
    allowed_actions = ACTIONS


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
    """A task of the case; another department's decision, opinion and corrections are null for a reviewer."""

    id = serializers.IntegerField()
    name = serializers.CharField()
    element_id = serializers.CharField()
    lane = serializers.CharField()
    department_name = serializers.CharField(allow_null=True)
    review_round = serializers.IntegerField()
    state = serializers.ChoiceField(choices=HumanTaskState.choices)
    state_label = serializers.CharField()
    decision = serializers.ChoiceField(choices=Decision.choices, allow_blank=True, allow_null=True)
    decision_label = serializers.CharField(allow_null=True)
    opinion = serializers.CharField(allow_blank=True, allow_null=True)
    corrections = CorrectionItemSerializer(many=True, allow_null=True)
    completed_at = serializers.DateTimeField(allow_null=True)
    due_date = serializers.DateField(allow_null=True, help_text="办理期限（最后一个工作日）")
    due_date_provisional = serializers.BooleanField(help_text=PROVISIONAL_HELP)
    supervision = serializers.ChoiceField(choices=Supervision.choices, allow_null=True)
    supervision_label = serializers.CharField(allow_blank=True)


class EventSerializer(serializers.Serializer):
    """A timeline entry (the event registry: docs/api.md "Timeline events")."""

    at = serializers.DateTimeField()
    kind = serializers.CharField(
        help_text="事件类型（见 docs/api.md）；他部门的决定类事件对审查人员显示为 review_progress"
    )
    label = serializers.CharField()
    department = serializers.CharField(allow_blank=True, help_text="部门编码，或 window / applicant")
    department_name = serializers.CharField(allow_blank=True)
    actor = serializers.CharField(allow_blank=True, help_text="经办人；流程自动发生的事件和申请人看到的时间线为空")


class DepartmentProgressSerializer(serializers.Serializer):
    department = serializers.CharField()
    department_name = serializers.CharField()
    progress = serializers.ChoiceField(choices=list(PROGRESS_LABELS.items()))
    progress_label = serializers.CharField()
    review_round = serializers.IntegerField(allow_null=True)
    decision = serializers.ChoiceField(
        choices=Decision.choices, allow_null=True, help_text="决定（代码）；看不到该部门决定时为 null"
    )
    decision_label = serializers.CharField(allow_null=True)
    opinion = serializers.CharField(allow_null=True, allow_blank=True)


class ItemResultSerializer(serializers.Serializer):
    """统一反馈: one row per item; another department's decision and opinion are null for a reviewer."""

    item_code = serializers.CharField(allow_blank=True)
    item = serializers.CharField()
    department = serializers.CharField()
    department_name = serializers.CharField()
    decision = serializers.ChoiceField(choices=Decision.choices, allow_blank=True, allow_null=True)
    decision_label = serializers.CharField(allow_blank=True, allow_null=True)
    opinion = serializers.CharField(allow_blank=True, allow_null=True)
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

    accepted_at = serializers.DateTimeField(
        source="clock.accepted_at", allow_null=True, help_text="受理时间：期限起算点"
    )
    promised_due_date = serializers.DateField(
        source="clock.promised_due_date", allow_null=True, help_text="承诺办结期限（最后一个工作日）"
    )
    promised_due_date_provisional = serializers.BooleanField(
        source="clock.promised_due_date_provisional", help_text=PROVISIONAL_HELP
    )
    statutory_due_date = serializers.DateField(
        source="clock.statutory_due_date", allow_null=True, help_text="法定办结期限（最后一个工作日）"
    )
    statutory_due_date_provisional = serializers.BooleanField(
        source="clock.statutory_due_date_provisional", help_text=PROVISIONAL_HELP
    )
    working_days_used = serializers.IntegerField(
        source="clock.working_days_used", allow_null=True, help_text="已用工作日（不含暂停）"
    )
    paused = serializers.BooleanField(
        source="clock.paused", help_text="正在暂停计时（补正、听证、检验检测、专家评审等）"
    )
    supervision = serializers.ChoiceField(source="clock.supervision", choices=Supervision.choices, allow_null=True)
    supervision_label = serializers.CharField(source="clock.supervision_label", allow_blank=True)
    deemed_accepted = serializers.BooleanField(source="clock.deemed_accepted", help_text="逾期未告知补正，依法视为受理")
    pauses = ClockPauseSerializer(source="clock.pauses", many=True)


class ReusedMaterialSerializer(serializers.Serializer):
    material_code = serializers.CharField()
    material_name = serializers.CharField()
    licence_no = serializers.CharField()


class AddressSerializer(serializers.Serializer):
    recipient = serializers.CharField(max_length=100, help_text="收件人")
    phone = serializers.RegexField(r"^1[3-9][0-9]{9}$", help_text="收件人手机号码")
    address = serializers.CharField(max_length=200, help_text="详细邮寄地址")


class DeliverySerializer(serializers.Serializer):
    """Renders selectors.DeliveryView: where the result is (结果送达)."""

    method = serializers.ChoiceField(choices=DeliveryMethod.choices, help_text="送达方式")
    method_label = serializers.CharField()
    address = serializers.DictField(help_text="邮寄地址 {recipient, phone, address}（邮寄送达时）")
    status = serializers.ChoiceField(
        choices=DeliveryStatus.choices,
        allow_blank=True,
        help_text="送达状态：空（待送达）、sent 已寄出、returned 邮件退回、handed_over 已当面领取、delivered 已妥投、"
        "downloaded 申请人已下载",
    )
    status_label = serializers.CharField()
    proven = serializers.BooleanField(help_text="送达已得到证明（办结的前提）")
    delivered_at = serializers.DateTimeField(allow_null=True)
    carrier = serializers.CharField(allow_blank=True, help_text="寄递企业")
    waybill = serializers.CharField(allow_blank=True, help_text="运单号")
    where = serializers.CharField(help_text="办理结果现在在哪里（一句话）")
    handover_items = serializers.ListField(
        child=serializers.CharField(), help_text="窗口领取时须逐项核对交付的物品（一窗通取），形成结果后给出"
    )
    may_change = serializers.BooleanField(help_text="现在还可以变更送达方式")


class VisitSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    reason = serializers.ChoiceField(choices=list(VISIT_REASONS.items()))
    reason_label = serializers.CharField()
    by = serializers.ChoiceField(choices=[("applicant", "申请人"), ("agent", "经办人")])


class TripsSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="跑动次数：办件记录的到现场次数")
    visits = VisitSerializer(many=True)


class AgentSerializer(serializers.Serializer):
    name = serializers.CharField()
    id_type = serializers.CharField()
    id_number = serializers.CharField()
    phone = serializers.CharField(allow_blank=True)


class CommitmentCheckSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="核查标识：POST /api/commitment-checks/{id}/decide")
    case_no = serializers.CharField()
    item_code = serializers.CharField(help_text="据承诺准予的事项编码")
    item_name = serializers.CharField()
    material_name = serializers.CharField(help_text="以承诺代替的材料")
    department = serializers.CharField(help_text="核查部门编码")
    due_date = serializers.DateField(help_text="核查期限")
    overdue = serializers.BooleanField(help_text="已过核查期限仍未核查")
    outcome = serializers.CharField(allow_blank=True, help_text="空：待核查；passed 核查属实；failed 承诺不实")
    outcome_label = serializers.CharField()
    opinion = serializers.CharField(allow_blank=True)
    checked_at = serializers.DateTimeField(allow_null=True)


class CommitmentSerializer(serializers.Serializer):
    material_code = serializers.CharField()
    material_name = serializers.CharField()
    text = serializers.CharField(help_text="申请人签署的承诺内容（目录中该材料的告知承诺书文本）")
    signed_by = serializers.CharField()
    signed_at = serializers.DateTimeField()
    checks = CommitmentCheckSerializer(many=True, help_text="准予后开启的事中事后核查")


class BlockedActionSerializer(serializers.Serializer):
    action = serializers.CharField(help_text="操作，如 conclude")
    code = serializers.CharField(help_text="不能进行的原因代码，与该操作返回的 409 错误代码相同")
    message = serializers.CharField(help_text="原因（中文），如缺哪些容缺材料、承诺何日补交")


class IntakeRowSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="材料编码")
    name = serializers.CharField(help_text="材料名称")
    required = serializers.BooleanField(help_text="必交")
    status = serializers.ChoiceField(
        choices=list(INTAKE_STATUS_LABELS.items()),
        help_text=(
            "received 已收取；reused 电子证照免提交；promised 容缺承诺后补；committed 告知承诺；"
            "not_applicable 不适用；missing 未提交"
        ),
    )
    status_label = serializers.CharField()
    form = serializers.CharField(help_text="已收取时：original（原件）或 copy（复印件）；否则为空")
    count = serializers.IntegerField(help_text="已收取的份数（否则为 0）")
    due_date = serializers.DateField(allow_null=True, help_text="容缺：承诺补交日期")
    licence_no = serializers.CharField(help_text="免提交：替代它的既有电子证照编号（电子证照库调取的为空）")
    fulfilled = serializers.BooleanField(help_text="容缺：承诺的材料已补交")
    text = serializers.CharField(help_text="受理回执上印出的收取情况，如“复印件 2 份”")


class CaseSerializer(CaseHallsSerializer, ClockFieldsSerializer):
    """A case as staff see it: progress, tasks, timeline, unified result, clock and what the caller may do."""

    # Renders selectors.CaseView, as the case page does.

    case_no = serializers.CharField()
    one_thing = serializers.CharField(help_text="一件事标识（key）")
    one_thing_name = serializers.CharField()
    process_version = serializers.IntegerField()
    composition_version = serializers.IntegerField(
        help_text="办件所用的一件事组合版本号：开办时固定（一表、事项、时限、流程），只有迁移才会改变"
    )
    status = serializers.ChoiceField(choices=CaseStatus.choices)
    status_label = serializers.CharField()
    outcome = serializers.CharField(allow_blank=True)
    outcome_label = serializers.CharField(allow_blank=True)
    applicant_name = serializers.CharField()
    applicant_id_number = serializers.CharField()
    applicant_id_type = serializers.CharField(help_text="证件类型代码（resident_id 居民身份证 等）")
    applicant_phone = serializers.CharField(allow_blank=True)
    agent = AgentSerializer(allow_null=True, help_text="帮办代办：经办人（凭授权委托书代为办理），没有则为 null")
    on_the_spot_items = serializers.ListField(
        child=serializers.CharField(),
        help_text="即办件：部门已授权窗口当场决定的事项名称（受理时 decide_on_the_spot 可当场决定）",
    )
    delivery = DeliverySerializer()
    trips = TripsSerializer(help_text="跑动次数与每次到现场的原因")
    channel = serializers.ChoiceField(
        choices=Channel.choices, help_text="申办渠道：window 窗口 / online 网上 / kiosk 自助终端"
    )
    channel_label = serializers.CharField()
    form = serializers.DictField()
    opened_at = serializers.DateTimeField()
    concluded_at = serializers.DateTimeField(allow_null=True)
    departments = DepartmentProgressSerializer(many=True, help_text="各部门进度；审查人员只看到本部门的决定和意见")
    tasks = CaseTaskSerializer(many=True)
    events = EventSerializer(source="timeline", many=True)
    results = ItemResultSerializer(many=True, help_text="统一反馈：各事项的办理结果（形成结果后）")
    reused_materials = ReusedMaterialSerializer(
        many=True, help_text="免提交：以既有电子证照替代的材料（材料编码、名称、证照编号）"
    )
    intake = IntakeRowSerializer(
        many=True, help_text="收件登记：每项材料窗口登记的收取情况（受理回执按此印出）", read_only=True
    )
    extensions = ExtensionSerializer(source="clock.extensions", many=True, help_text="经批准的延期")
    allowed_actions = ACTIONS
    commitments = CommitmentSerializer(many=True, help_text="告知承诺：以承诺代替的材料及其事中事后核查")
    blocked_actions = BlockedActionSerializer(
        many=True,
        help_text="时机已到但现在不能进行的操作及原因：如容缺承诺的材料尚未补交时的办结（code promise_outstanding）",
    )


# --- documents and 好差评, shared by the staff and applicant views ---------------------------------------


class DocumentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=DocumentKind.choices)
    kind_label = serializers.CharField()
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
