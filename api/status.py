"""The applicant, with no account: case number + query code → status; and the one correction."""

from django.core.validators import RegexValidator
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from workflow import selectors, services
from workflow.labels import CaseStatus, normalise_case_no
from workflow.selectors import APPLICANT_ACTION_CHOICES

from .cases import CORRECTION_DESCRIPTION, CorrectionInputSerializer, correction_files, correction_multipart_schema
from .errors import error_responses
from .files import UploadMixin
from .parsers import StrictJSONParser
from .presenters import (
    CaseHallsSerializer,
    ClockFieldsSerializer,
    CommitmentSerializer,
    CorrectionItemSerializer,
    DeliverySerializer,
    DepartmentProgressSerializer,
    DocumentSerializer,
    EventSerializer,
    ItemNotApplicableSerializer,
    ItemResultSerializer,
    RatingStateSerializer,
)
from .throttles import CASE_NO_RE, StatusLookupIpThrottle


class StrictStringField(serializers.CharField):
    """A JSON string as sent: no number coerced to text, no whitespace trimmed (the throttle keys on it)."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class CaseNoField(StrictStringField):
    """A case number as typed, normalised (``normalise_case_no``: full-width digits, spaces, hyphens) then checked."""

    def to_internal_value(self, data):
        return normalise_case_no(super().to_internal_value(data))


class LookupSerializer(serializers.Serializer):
    case_no = CaseNoField(
        max_length=64,
        trim_whitespace=False,
        validators=[RegexValidator(f"^{CASE_NO_RE.pattern}\\Z", "办件编号应为 20 位数字")],
        help_text="办件编号（20 位数字；全角数字、空格和连字符会被忽略）",
    )
    query_code = StrictStringField(max_length=32, help_text="受理回执上的查询码")


class CorrectionNoticeSerializer(serializers.Serializer):
    department_name = serializers.CharField()
    opinion = serializers.CharField(allow_blank=True)
    items = CorrectionItemSerializer(many=True)


class ApplicantFileSerializer(serializers.Serializer):
    material_code = serializers.CharField()
    material_name = serializers.CharField()
    name = serializers.CharField(help_text="文件名")
    content_type = serializers.CharField(help_text="按内容识别的文件类型")
    size = serializers.IntegerField(help_text="字节数")
    uploaded_at = serializers.DateTimeField()


class StatusSerializer(CaseHallsSerializer, ClockFieldsSerializer):
    case_no = serializers.CharField()
    one_thing = serializers.CharField(help_text="一件事标识")
    one_thing_name = serializers.CharField()
    channel = serializers.CharField(help_text="申办渠道：window 窗口 / online 网上 / kiosk 自助终端")
    channel_label = serializers.CharField()
    status = serializers.ChoiceField(choices=CaseStatus.choices)
    status_label = serializers.CharField()
    outcome = serializers.CharField(allow_blank=True)
    outcome_label = serializers.CharField(allow_blank=True)
    opened_at = serializers.DateTimeField()
    concluded_at = serializers.DateTimeField(allow_null=True)
    departments = DepartmentProgressSerializer(
        many=True, help_text="各部门进度；决定（decision 代码、decision_label）和意见随统一反馈或补正告知一并告知"
    )
    refusal_reasons = serializers.CharField(allow_blank=True, help_text="不予受理时：理由")
    corrections = CorrectionNoticeSerializer(many=True, help_text="待补正时：各部门要求的一次性告知清单")
    results = ItemResultSerializer(many=True, help_text="统一反馈：各事项的办理结果与证照编号")
    items_not_applicable = ItemNotApplicableSerializer(
        many=True, help_text="补正后不再适用的事项及原因（其此前的决定不产生证照）"
    )
    timeline = EventSerializer(many=True)
    promised_date = serializers.DateField(allow_null=True, help_text="承诺办结日期（受理后）")
    delivery = DeliverySerializer(help_text="办理结果在哪里：送达方式与送达状态")
    trips = serializers.IntegerField(help_text="跑动次数")
    documents = DocumentSerializer(many=True, help_text="可下载的文书：POST /api/status/documents/{id}/download")
    files = ApplicantFileSerializer(many=True, help_text="已提交的材料文件（仅名称、类型与大小）")
    rating = RatingStateSerializer(help_text="好差评")
    commitments = CommitmentSerializer(many=True, help_text="告知承诺及其事中事后核查（核查不实时证照撤销）")
    allowed_actions = serializers.ListField(
        child=serializers.ChoiceField(choices=APPLICANT_ACTION_CHOICES),
        help_text=(
            "申请人现在可以进行的操作：correct（一次性补正）、withdraw（撤回）、change_delivery（变更送达方式："
            "办理结果形成前，登录后 POST /api/applicant/cases/{case_no}/delivery）"
        ),
    )


def _status_body(case) -> dict:
    return StatusSerializer(selectors.case_applicant_view(case)).data


class LookupThrottledApi(APIView):
    """Public lookups: every lookup counts per address (the throttle); wrong codes count per address and case and
    per case (``services.applicant_lookup``, docs/security.md)."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [StatusLookupIpThrottle]

    def lookup(self, *, case_no: str, query_code: str):
        address = StatusLookupIpThrottle().get_ident(self.request)
        return services.applicant_lookup(case_no=case_no, query_code=query_code, address=address)

    def act(self, data: dict, action) -> Response:
        """Check the code (a miss counts for the throttle), then ``action(case_no)``; answer with the status."""
        lookup = {"case_no": data["case_no"], "query_code": data["query_code"]}
        self.lookup(**lookup)
        action(lookup["case_no"])
        return Response(_status_body(selectors.case_for_applicant(**lookup)))


class CaseStatusApi(LookupThrottledApi):
    """办件查询（无需登录）：办件编号 + 查询码。

    办件不存在与查询码错误的回答相同；按 IP 限流，并限制同一办件的错误查询次数。"""

    @extend_schema(
        operation_id="case_status",
        request=LookupSerializer,
        responses={200: StatusSerializer, **error_responses(400, 404, 429)},
    )
    def post(self, request):
        data = LookupSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        case = self.lookup(**data.validated_data)
        return Response(_status_body(case))


class ApplicantCorrectionApi(UploadMixin, LookupThrottledApi):
    """申请人提交一次性补正（无需登录，凭办件编号 + 查询码；字段和材料文件一次提交）。"""

    parser_classes = [StrictJSONParser, MultiPartParser]
    max_files = services.CORRECTION_MAX_FILES
    unsupported_message = "请以 application/json 或 multipart/form-data 提交补正"

    class InputSerializer(LookupSerializer, CorrectionInputSerializer):
        pass

    @extend_schema(
        operation_id="case_status_correction",
        request={
            "application/json": InputSerializer,
            "multipart/form-data": correction_multipart_schema(
                case_no={"type": "string", "description": "办件编号（20 位数字）"},
                query_code={"type": "string", "description": "受理回执上的查询码"},
            ),
        },
        responses={200: StatusSerializer, **error_responses(400, 404, 409, 413, 415, 429)},
        description=CORRECTION_DESCRIPTION,
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        form = data.validated_data["form"]
        files = correction_files(request)
        return self.act(
            data.validated_data,
            lambda case_no: services.case_correction_submit(case_no=case_no, changes=form, files=files),
        )


class ApplicantWithdrawApi(LookupThrottledApi):
    """申请人撤回申请（无需登录，凭办件编号 + 查询码；形成办理结果之前）。"""

    class InputSerializer(LookupSerializer):
        reason = serializers.CharField(max_length=1000, help_text="撤回原因")

    @extend_schema(
        operation_id="case_status_withdraw",
        request=InputSerializer,
        responses={200: StatusSerializer, **error_responses(400, 404, 409, 429)},
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        reason = data.validated_data["reason"]
        return self.act(data.validated_data, lambda case_no: services.case_withdraw(case_no=case_no, reason=reason))


class LicenceCheckApi(APIView):
    """证照核验（无需登录）：证照编号 + 证照上印的核验码 → 有效 / 已撤销 / 已过期，持证者名称部分隐去，不含查询码。

    编号不存在与核验码错误的回答相同（404）；与办件查询共用按 IP 的限流和错误次数限制（按证照编号计）。"""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [StatusLookupIpThrottle]

    class InputSerializer(serializers.Serializer):
        number = StrictStringField(max_length=64, help_text="证照编号")
        code = StrictStringField(max_length=12, help_text="核验码（证照上印的 6 位字母数字）")

    class OutputSerializer(serializers.Serializer):
        number = serializers.CharField(help_text="证照编号")
        title = serializers.CharField(help_text="证照名称")
        holder = serializers.CharField(help_text="持证者（部分隐去）")
        issuer = serializers.CharField(help_text="发证机关")
        valid_from = serializers.DateField()
        valid_to = serializers.DateField(allow_null=True, help_text="null：长期")
        state = serializers.ChoiceField(choices=["valid", "revoked", "expired"], help_text="有效 / 已撤销 / 已过期")
        state_label = serializers.CharField()

    @extend_schema(
        operation_id="licence_check",
        request=InputSerializer,
        responses={200: OutputSerializer, **error_responses(400, 404, 429)},
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        address = StatusLookupIpThrottle().get_ident(request)
        result = services.licence_lookup(**data.validated_data, address=address)
        return Response(self.OutputSerializer(result).data)
