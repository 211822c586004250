"""Window staff: open a case, accept or refuse it, key in a correction, conclude it; staff read a case."""

import json

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from workflow import labels, selectors, services
from workflow.errors import ValidationFailed
from workflow.labels import IDENTITY_METHODS

from .delivery import DeliveryChoiceSerializer
from .errors import error_responses
from .files import UploadMixin
from .parsers import StrictJSONParser
from .presenters import CaseSerializer
from .search import FILTER_PARAMETERS, SearchPageSerializer, search_get


def _case_response(user, case, *, http_status=status.HTTP_200_OK) -> Response:
    return Response(CaseSerializer(selectors.case_view(user=user, case=case)).data, status=http_status)


class IntakeEntrySerializer(serializers.Serializer):
    code = serializers.CharField(max_length=64, help_text="材料编码（GET /api/one-things/{key} 的 materials）")
    status = serializers.ChoiceField(
        choices=[("received", "已收取"), ("not_applicable", "不适用")],
        required=False,
        help_text="收取情况，默认 received；容缺承诺用 promises，电子证照免提交由系统登记",
    )
    form = serializers.ChoiceField(
        choices=[("original", "原件"), ("copy", "复印件")], required=False, help_text="已收取时：原件或复印件，默认原件"
    )
    count = serializers.IntegerField(min_value=1, max_value=99, required=False, help_text="已收取的份数，默认 1")


@extend_schema_field(
    {
        "oneOf": [
            {"type": "string", "maxLength": 64, "description": "材料编码：已收取，原件 1 份"},
            {
                "type": "object",
                "required": ["code"],
                "properties": {
                    "code": {"type": "string", "maxLength": 64, "description": "材料编码"},
                    "status": {
                        "type": "string",
                        "enum": ["received", "not_applicable"],
                        "description": "收取情况：received 已收取（默认），not_applicable 不适用",
                    },
                    "form": {"type": "string", "enum": ["original", "copy"], "description": "原件（默认）或复印件"},
                    "count": {"type": "integer", "minimum": 1, "maximum": 99, "description": "份数，默认 1"},
                },
            },
        ]
    }
)
class IntakeEntryField(serializers.Field):
    """One material of the intake record: a plain code (received, the original, one copy) or an object."""

    default_error_messages = {"invalid": "应为材料编码，或含 code、status、form、count 的对象"}

    def to_internal_value(self, data):
        if isinstance(data, str):
            return serializers.CharField(max_length=64).run_validation(data)
        if not isinstance(data, dict):
            self.fail("invalid")
        entry = IntakeEntrySerializer(data=data)
        entry.is_valid(raise_exception=True)
        return dict(entry.validated_data)

    def to_representation(self, value):
        return value


MATERIALS = serializers.ListField(
    child=IntakeEntryField(),
    required=False,
    default=list,
    max_length=100,
    help_text="收件登记：每项材料一条，材料编码（= 已收取、原件 1 份）或 {code, status, form, count}",
)


class ApplicantSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100, help_text="申请人姓名或名称")
    id_type = serializers.ChoiceField(
        choices=list(labels.ID_TYPE_LABELS.items()),
        required=False,
        default=labels.DEFAULT_ID_TYPE,
        help_text="证件类型，默认 resident_id（居民身份证）；证件号码按其类型校验",
    )
    id_number = serializers.CharField(max_length=32, help_text="证件号码（居民身份证校验出生日期和校验位）")
    phone = serializers.RegexField(r"^1[3-9][0-9]{9}$", required=False, allow_blank=True, help_text="手机号码")


class AgentInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100, help_text="经办人姓名")
    id_type = serializers.ChoiceField(
        choices=list(labels.ID_TYPE_LABELS.items()), required=False, default=labels.DEFAULT_ID_TYPE
    )
    id_number = serializers.CharField(max_length=32, help_text="经办人证件号码")
    phone = serializers.RegexField(r"^1[3-9][0-9]{9}$", required=False, allow_blank=True)


class HallCodeField(serializers.CharField):
    """A hall code as a JSON string: a number is refused, not turned into text."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class CaseOpenApi(APIView):
    """综合窗口收件：为申请人创建一件事办件，表单按一件事的一表申请校验。查询码只在此返回一次。"""

    class InputSerializer(serializers.Serializer):
        one_thing = serializers.SlugField(max_length=64, help_text="一件事标识，如 enterprise_start")
        applicant = ApplicantSerializer()
        form = serializers.DictField(help_text="一表申请数据，字段见 GET /api/one-things/{key}")
        deciding_hall = HallCodeField(
            max_length=16,
            required=False,
            allow_blank=True,
            default="",
            help_text="审批地大厅编码（GET /api/halls）；与本大厅不同即为收受分离办件，默认本大厅",
        )
        materials = MATERIALS
        delivery = DeliveryChoiceSerializer(
            required=False,
            help_text="结果送达方式（默认 pickup 窗口领取）；邮寄送达须填写地址。受理后、结果寄出或交付前可变更",
        )
        agent = AgentInputSerializer(
            required=False,
            help_text="帮办代办：经办人代申请人办理；须在 materials 中登记授权委托书（authorisation_letter）",
        )

    class OutputSerializer(CaseSerializer):
        query_code = serializers.CharField(help_text="查询码：打印在受理回执上，系统只保存其摘要")

    @extend_schema(
        operation_id="case_list",
        description="办件查询（工作人员）：按申请人姓名、联系电话、统一社会信用代码、一件事、状态、申办渠道、收件日期、"
        "大厅查询，最新收件在前，每页 50 件；范围与打开办件相同。按证件号码查询请用 POST /api/cases/search"
        "（证件号码不能放在网址中：带 id_number 参数为 400）。",
        parameters=FILTER_PARAMETERS,
        responses={200: SearchPageSerializer, **error_responses(400, 401, 403)},
    )
    def get(self, request):
        return search_get(request)

    @extend_schema(
        operation_id="case_open",
        request=InputSerializer,
        responses={201: OutputSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        opened = services.case_open(
            user=request.user,
            one_thing_key=data.validated_data["one_thing"],
            applicant=data.validated_data["applicant"],
            form=data.validated_data["form"],
            deciding_hall=data.validated_data["deciding_hall"] or None,
            materials=data.validated_data["materials"],
            delivery=data.validated_data.get("delivery"),
            agent=data.validated_data.get("agent"),
        )
        body = CaseSerializer(selectors.case_view(user=request.user, case=opened.case)).data
        return Response({**body, "query_code": opened.query_code}, status=status.HTTP_201_CREATED)


class CaseDetailApi(APIView):
    """办件详情（工作人员）：部门人员只能看到本部门有任务的办件，且只看到其他部门的进度。"""

    @extend_schema(operation_id="case_detail", responses={200: CaseSerializer, **error_responses(401, 403, 404)})
    def get(self, request, case_no: str):
        return _case_response(request.user, selectors.case_get(user=request.user, case_no=case_no))


class PromiseSerializer(serializers.Serializer):
    material = serializers.CharField(max_length=64, help_text="材料编码（须为可容缺的非关键材料）")
    due_date = serializers.DateField(help_text="承诺补交日期")


class CommitmentInputSerializer(serializers.Serializer):
    material = serializers.CharField(max_length=64, help_text="材料编码")


class CaseAcceptApi(APIView):
    """受理：形式审查通过，各部门开始并联审查。必交材料须齐全：收件时或受理时登记收到的材料（materials）、电子证照免提交的材料，
    或容缺受理承诺补交的非关键材料（promises）；缺少的材料以 400 errors.materials 列出。

    收受分离（审批地在外地）的办件须由收件大厅的窗口核验申请人身份后受理。"""

    class InputSerializer(serializers.Serializer):
        opinion = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
        promises = PromiseSerializer(many=True, required=False, default=list, max_length=50)
        commitments = CommitmentInputSerializer(
            many=True,
            required=False,
            default=list,
            max_length=50,
            help_text="告知承诺：申请人签署目录中的承诺书代替该材料（仅材料清单中带 commitment 文本的材料）",
        )
        identity_verified = serializers.BooleanField(
            required=False, default=False, help_text="已核验申请人身份（审批地在外地的收受分离办件必填 true）"
        )
        identity_method = serializers.ChoiceField(
            choices=list(IDENTITY_METHODS.items()),
            required=False,
            allow_blank=True,
            default="",
            help_text="身份核验方式",
        )
        materials = MATERIALS
        decide_on_the_spot = serializers.BooleanField(
            required=False,
            default=False,
            help_text="即办件当场办结：同时由窗口当场决定部门已授权窗口决定的即办件事项（其余事项照常并联审查）；"
            "没有这样的事项为 409",
        )

    @extend_schema(
        operation_id="case_accept",
        request=InputSerializer,
        responses={200: CaseSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    def post(self, request, case_no: str):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        case = services.case_accept(
            user=request.user,
            case_no=case_no,
            opinion=data.validated_data["opinion"],
            promises=data.validated_data["promises"],
            identity_verified=data.validated_data["identity_verified"],
            identity_method=data.validated_data["identity_method"],
            materials=data.validated_data["materials"],
            decide_on_the_spot=data.validated_data["decide_on_the_spot"],
            commitments=data.validated_data["commitments"],
        )
        return _case_response(request.user, case)


class CaseRefuseApi(APIView):
    """不予受理：须写明理由。"""

    class InputSerializer(serializers.Serializer):
        reasons = serializers.CharField(max_length=2000, help_text="不予受理的理由（每行一条）")
        legal_basis = serializers.CharField(
            max_length=500,
            required=False,
            allow_blank=True,
            default="",
            help_text="法律依据；不填时通知书写明《中华人民共和国行政许可法》第三十二条第一款",
        )

    @extend_schema(
        operation_id="case_refuse",
        request=InputSerializer,
        responses={200: CaseSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    def post(self, request, case_no: str):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        case = services.case_refuse(user=request.user, case_no=case_no, **data.validated_data)
        return _case_response(request.user, case)


class FormObjectField(serializers.DictField):
    """The corrected fields: a JSON object, or in a multipart body the JSON text of one."""

    def get_value(self, dictionary):
        return dictionary.get(self.field_name, serializers.empty)

    def to_internal_value(self, data):
        if isinstance(data, str):
            try:
                data = json.loads(data)
            except ValueError:
                raise serializers.ValidationError("form 应为 JSON 对象（字段名到值）") from None
        return super().to_internal_value(data)


class CorrectionInputSerializer(serializers.Serializer):
    form = FormObjectField(
        required=False,
        default=dict,
        help_text="补正的字段：字段名到值；须包含补正告知点名的每个字段。只补交材料时可省略。"
        "multipart/form-data 提交时为该对象的 JSON 文本",
    )


def correction_multipart_schema(**extra: dict) -> dict:
    """The multipart body of a correction: ``form`` (JSON text) and file parts named ``materials.<code>``."""
    return {
        "type": "object",
        "properties": {
            **extra,
            "form": {"type": "string", "description": '补正字段对象的 JSON 文本，如 {"address": "……"}'},
        },
        "additionalProperties": {
            "type": "string",
            "format": "binary",
            "description": "补交的材料文件：部分名为 materials.<材料编码>（如 materials.residence_proof），同一材料可有"
            f"多个文件；一次最多 {services.CORRECTION_MAX_FILES} 个文件，类型和大小规则与上传材料文件相同",
        },
    }


CORRECTION_DESCRIPTION = (
    "一次提交补正的字段和材料文件：application/json（只有字段）或 multipart/form-data（字段 form 为 JSON 文本，"
    "文件部分名为 materials.<材料编码>）。补正告知点名的字段必须出现在 form 中，点名的材料必须随本次提交上传文件"
    "（或自补正告知以来已由窗口上传），否则 400，errors 中 form.<字段> / materials.<材料编码> 逐项列出缺少的内容。"
    "可以只补交材料（不带 form）。"
)


def correction_files(request) -> dict[str, list]:
    """The files of a correction, by material code (parts named ``materials.<code>``); another part name is
    refused (400)."""
    files: dict[str, list] = {}
    for key in request.FILES:
        code = key.removeprefix("materials.")
        if code == key or not code:
            raise ValidationFailed(
                "文件部分名应为 materials.<材料编码>", field_errors={key: ["文件部分名应为 materials.<材料编码>"]}
            )
        files[code] = request.FILES.getlist(key)
    return files


class CaseCorrectionApi(UploadMixin, APIView):
    """窗口代申请人提交一次性补正（字段和材料文件一次提交）。"""

    parser_classes = [StrictJSONParser, MultiPartParser]
    max_files = services.CORRECTION_MAX_FILES
    unsupported_message = "请以 application/json 或 multipart/form-data 提交补正"

    @extend_schema(
        operation_id="case_correction",
        request={
            "application/json": CorrectionInputSerializer,
            "multipart/form-data": correction_multipart_schema(),
        },
        responses={200: CaseSerializer, **error_responses(400, 401, 403, 404, 409, 413, 415)},
        description=CORRECTION_DESCRIPTION,
    )
    def post(self, request, case_no: str):
        data = CorrectionInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        case = services.case_correction_submit(
            case_no=case_no, changes=data.validated_data["form"], files=correction_files(request), actor=request.user
        )
        return _case_response(request.user, case)


class CaseConcludeApi(APIView):
    """办结：统一办理结果已送达申请人。送达未得到证明（窗口签收、邮件妥投、申请人下载）时为 409 delivery_not_proven；
    送达得到证明时办件已自动办结，此接口只用于当时未能办结的办件。"""

    @extend_schema(
        operation_id="case_conclude",
        request=None,
        responses={200: CaseSerializer, **error_responses(401, 403, 404, 409)},
    )
    def post(self, request, case_no: str):
        return _case_response(request.user, services.case_conclude(user=request.user, case_no=case_no))


class WithdrawInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=1000, help_text="撤回原因")


class CaseWithdrawApi(APIView):
    """窗口代申请人撤回（形成办理结果之前）。"""

    @extend_schema(
        operation_id="case_withdraw",
        request=WithdrawInputSerializer,
        responses={200: CaseSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    def post(self, request, case_no: str):
        data = WithdrawInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        case = services.case_withdraw(case_no=case_no, reason=data.validated_data["reason"], actor=request.user)
        return _case_response(request.user, case)


class CasePromiseFulfilApi(APIView):
    """容缺材料已补交：承诺逾期而中止的办件在没有其他逾期承诺时恢复审查。"""

    @extend_schema(
        operation_id="case_promise_fulfil",
        request=None,
        responses={200: CaseSerializer, **error_responses(401, 403, 404, 409)},
    )
    def post(self, request, case_no: str, material: str):
        case = services.case_promise_fulfil(user=request.user, case_no=case_no, material_code=material)
        return _case_response(request.user, case)
