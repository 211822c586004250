"""The applicant's own door (``/api/applicant/…``): identity by SMS code or kiosk ID-card reader, my cases, and
(api/applicant_apply.py) applying online. Authentication: ``Authorization: Applicant <token>`` only
(api/applicant_auth.py), never a staff token. Docs: docs/api.md "Applicant"."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView

from workflow import selectors, services
from workflow.services import applicant_identity as identity

from .applicant_auth import ApplicantAuthentication, IsApplicant
from .cases import CORRECTION_DESCRIPTION, CorrectionInputSerializer, correction_files, correction_multipart_schema
from .delivery import DeliveryChoiceSerializer
from .errors import error_responses
from .files import UploadMixin
from .parsers import StrictJSONParser
from .status import StatusSerializer


def code_sent() -> str:
    from django.conf import settings

    minutes = max(1, settings.ONETHING_APPLICANT_CODE_SECONDS // 60)
    return f"如手机号码与该证件号码绑定，验证码已发送，{minutes} 分钟内有效"


def client_address(request) -> str | None:
    """The client's address as the throttles see it (NUM_PROXIES)."""
    return BaseThrottle().get_ident(request) or None


class ApplicantApi(APIView):
    """Endpoints for a signed-in applicant."""

    authentication_classes = [ApplicantAuthentication]
    permission_classes = [IsApplicant]


class PublicApplicantApi(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]


class SessionSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="申请人令牌，仅此一次返回：Authorization: Applicant <token>")
    method = serializers.CharField(
        source="session.method", help_text="身份核验方式：sms 短信验证码 / id_card_reader 自助终端读取身份证"
    )
    kiosk = serializers.CharField(source="session.kiosk", allow_blank=True, help_text="自助终端编号（自助终端登录时）")
    idle_seconds = serializers.IntegerField(source="session.idle_seconds", help_text="空闲多少秒后自动退出")
    expires_at = serializers.DateTimeField(source="session.expires_at")


class CodeRequestApi(PublicApplicantApi):
    """获取短信验证码：发送到与该证件号码绑定的手机号码。

    无论证件号码是否已有办件、手机号码是否与之绑定，回答都相同（不泄露任何人是否办过事）；按证件号码、手机号码
    和来源地址限流（1 分钟 1 次，1 小时 5 次，1 天 10 次；同一地址 1 小时 20 次），超出为 429。"""

    class InputSerializer(serializers.Serializer):
        id_number = serializers.CharField(max_length=32, help_text="居民身份证号码")
        phone = serializers.CharField(max_length=20, help_text="手机号码（11 位）")

    class OutputSerializer(serializers.Serializer):
        message = serializers.CharField()

    @extend_schema(
        operation_id="applicant_identity_code",
        request=InputSerializer,
        responses={202: OutputSerializer, **error_responses(400, 429, 503)},
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        identity.identity_code_request(**data.validated_data, address=client_address(request))
        return Response({"message": code_sent()}, status=202)


class CodeVerifyApi(PublicApplicantApi):
    """验证短信验证码，取得申请人令牌。验证码一次有效、5 分钟内有效、最多试 5 次；错误、过期、已用一律回答
    “验证码错误或已失效”。"""

    class InputSerializer(serializers.Serializer):
        id_number = serializers.CharField(max_length=32)
        phone = serializers.CharField(max_length=20)
        code = serializers.CharField(max_length=12, help_text="6 位短信验证码")

    @extend_schema(
        operation_id="applicant_identity_verify",
        request=InputSerializer,
        responses={200: SessionSerializer, **error_responses(400)},
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        signed_in = identity.identity_code_verify(**data.validated_data)
        return Response(SessionSerializer(signed_in).data)


class KioskIdentifyApi(PublicApplicantApi):
    """自助终端读取身份证登录：终端编号与密钥（ONETHING_KIOSKS）证明终端，身份核验方式记为 id_card_reader；
    空闲超过 ONETHING_KIOSK_IDLE_SECONDS 秒自动退出。"""

    class InputSerializer(serializers.Serializer):
        kiosk = serializers.CharField(max_length=64, help_text="自助终端编号")
        key = serializers.CharField(max_length=200, help_text="自助终端密钥")
        id_number = serializers.CharField(max_length=32, help_text="读卡器读出的身份证号码")
        name = serializers.CharField(max_length=100, help_text="读卡器读出的姓名")

    @extend_schema(
        operation_id="applicant_identity_kiosk",
        request=InputSerializer,
        responses={200: SessionSerializer, **error_responses(400, 403)},
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(SessionSerializer(identity.kiosk_identify(**data.validated_data)).data)


class SignOutApi(ApplicantApi):
    """退出：令牌立即失效。"""

    @extend_schema(operation_id="applicant_sign_out", request=None, responses={204: None, **error_responses(401)})
    def post(self, request):
        identity.applicant_sign_out(token=request.user.token)
        return Response(status=204)


class MeApi(ApplicantApi):
    """当前申请人（证件号码只显示首尾）。"""

    class OutputSerializer(serializers.Serializer):
        id_number_masked = serializers.CharField()
        name = serializers.CharField(allow_blank=True)
        phone_masked = serializers.CharField(allow_blank=True)
        method = serializers.CharField()
        method_label = serializers.CharField()
        kiosk = serializers.CharField(allow_blank=True)
        idle_seconds = serializers.IntegerField()

    @extend_schema(operation_id="applicant_me", responses={200: OutputSerializer, **error_responses(401)})
    def get(self, request):
        session = request.user.session
        return Response(
            self.OutputSerializer(
                {
                    "id_number_masked": mask(session.id_number, 3, 4),
                    "name": session.name,
                    "phone_masked": mask(session.phone, 3, 4) if session.phone else "",
                    "method": session.method,
                    "method_label": session.get_method_display(),
                    "kiosk": session.kiosk,
                    "idle_seconds": session.idle_seconds,
                }
            ).data
        )


def mask(value: str, head: int, tail: int) -> str:
    if len(value) <= head + tail:
        return "*" * len(value)
    return value[:head] + "*" * (len(value) - head - tail) + value[-tail:]


class OwnCaseSerializer(serializers.Serializer):
    case_no = serializers.CharField()
    one_thing = serializers.CharField()
    one_thing_name = serializers.CharField()
    status = serializers.CharField()
    status_label = serializers.CharField()
    outcome = serializers.CharField(allow_blank=True, help_text="办理结果：approved 准予 / rejected 不予；尚无结果为空")
    outcome_label = serializers.CharField(allow_blank=True)
    channel = serializers.CharField()
    channel_label = serializers.CharField()
    opened_at = serializers.DateTimeField()
    promised_due_date = serializers.DateField(allow_null=True)
    concluded_at = serializers.DateTimeField(allow_null=True)
    needs_correction = serializers.BooleanField(help_text="待补正")


class OwnCaseListApi(ApplicantApi):
    """我的办件：申请人证件号码名下的办件（窗口、网上、自助终端办理的都在内），无需办件编号和查询码。"""

    @extend_schema(
        operation_id="applicant_cases", responses={200: OwnCaseSerializer(many=True), **error_responses(401)}
    )
    def get(self, request):
        return Response(OwnCaseSerializer(selectors.own_cases(id_number=request.user.id_number), many=True).data)


class OwnCaseDetailApi(ApplicantApi):
    """我的一件办件：与办件查询（POST /api/status）相同的内容；他人的办件为 404。"""

    @extend_schema(operation_id="applicant_case", responses={200: StatusSerializer, **error_responses(401, 404)})
    def get(self, request, case_no: str):
        case = selectors.own_case(id_number=request.user.id_number, case_no=case_no)
        return Response(StatusSerializer(selectors.case_applicant_view(case)).data)


class OwnCaseDeliveryApi(ApplicantApi):
    """变更自己办件的结果送达方式：办理结果形成前可变更（与窗口相同的规则和校验；结果已寄出或已送达、办件已结束为
    409）。请求体与窗口收件的 delivery 相同：{method, address}。"""

    @extend_schema(
        operation_id="applicant_case_delivery",
        request=DeliveryChoiceSerializer,
        responses={200: StatusSerializer, **error_responses(400, 401, 404, 409)},
    )
    def post(self, request, case_no: str):
        data = DeliveryChoiceSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        case = services.applicant_delivery_change(
            id_number=request.user.id_number,
            case_no=case_no,
            method=data.validated_data["method"],
            address=data.validated_data.get("address"),
        )
        return Response(StatusSerializer(selectors.case_applicant_view(case)).data)


class OwnCaseCorrectionApi(UploadMixin, ApplicantApi):
    """对自己的办件提交一次性补正（与 POST /api/status/correction 相同：字段和材料文件一次提交）。"""

    parser_classes = [StrictJSONParser, MultiPartParser]
    max_files = services.CORRECTION_MAX_FILES
    unsupported_message = "请以 application/json 或 multipart/form-data 提交补正"

    @extend_schema(
        operation_id="applicant_case_correction",
        request={
            "application/json": CorrectionInputSerializer,
            "multipart/form-data": correction_multipart_schema(),
        },
        responses={200: StatusSerializer, **error_responses(400, 401, 404, 409, 413, 415)},
        description=CORRECTION_DESCRIPTION,
    )
    def post(self, request, case_no: str):
        data = CorrectionInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        selectors.own_case(id_number=request.user.id_number, case_no=case_no)
        case = services.case_correction_submit(
            case_no=case_no, changes=data.validated_data["form"], files=correction_files(request)
        )
        return Response(StatusSerializer(selectors.case_applicant_view(case)).data)
