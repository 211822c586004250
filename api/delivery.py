"""结果送达: the delivery choice, the handover at the window (一窗通取), mailing, and the carriers' status webhook."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json

from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.parsers import BaseParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from workflow import labels, selectors, services
from workflow.errors import PermissionDenied, ValidationFailed
from workflow.labels import IDENTITY_METHODS, DeliveryMethod

from .errors import error_responses
from .presenters import AddressSerializer, CaseSerializer


def _case_response(user, case) -> Response:
    return Response(CaseSerializer(selectors.case_view(user=user, case=case)).data)


class DeliveryChoiceSerializer(serializers.Serializer):
    method = serializers.ChoiceField(
        choices=DeliveryMethod.choices, help_text="送达方式：pickup 窗口领取、post 邮寄送达、electronic 电子送达"
    )
    address = AddressSerializer(required=False, help_text="邮寄地址（post 必填）")

    def validate(self, data):
        if data["method"] == DeliveryMethod.POST and not data.get("address"):
            raise serializers.ValidationError({"address": ["邮寄送达须填写邮寄地址"]})
        return data


class CaseDeliveryApi(APIView):
    """变更送达方式：结果寄出或交付之前都可以变更；邮件退回后可重新选择（窗口领取或重新邮寄）。"""

    @extend_schema(
        operation_id="case_delivery_change",
        request=DeliveryChoiceSerializer,
        responses={200: CaseSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    def post(self, request, case_no: str):
        data = DeliveryChoiceSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        case = services.case_delivery_change(
            user=request.user,
            case_no=case_no,
            method=data.validated_data["method"],
            address=data.validated_data.get("address"),
        )
        return _case_response(request.user, case)


class RecipientSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=list(labels.RECIPIENT_KINDS.items()), help_text="applicant 申请人本人；agent 经办人（凭授权委托书）"
    )
    name = serializers.CharField(max_length=100, required=False, allow_blank=True, help_text="经办人姓名（agent）")
    id_type = serializers.ChoiceField(
        choices=list(labels.ID_TYPE_LABELS.items()), required=False, help_text="证件类型，默认居民身份证"
    )
    id_number = serializers.CharField(max_length=32, help_text="领取人证件号码（申请人本人须与办件一致）")


class SignatureSerializer(serializers.Serializer):
    method = serializers.ChoiceField(
        choices=labels.SIGNATURE_METHOD_CHOICES, help_text="pad 签名板（PNG）；scan 纸质签收单扫描件"
    )
    content_base64 = serializers.CharField(
        max_length=2_100_000, help_text="签名文件的 Base64：签名板为 PNG；扫描件为 PDF、JPG 或 PNG；不超过 1.5 MB"
    )

    def validate_content_base64(self, value):
        text = value.split(",", 1)[1] if value.startswith("data:") else value
        try:
            return base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raise serializers.ValidationError("不是有效的 Base64 内容") from None


class HandoverSerializer(serializers.Serializer):
    recipient = RecipientSerializer()
    identity_method = serializers.ChoiceField(choices=list(IDENTITY_METHODS.items()), help_text="身份核验方式")
    items = serializers.ListField(
        child=serializers.CharField(max_length=200),
        max_length=100,
        help_text="逐项勾选交付的物品：须与办件的 delivery.handover_items 一致",
    )
    signature = SignatureSerializer()
    authorisation_letter = serializers.BooleanField(
        required=False, default=False, help_text="经办人代为领取：已收取授权委托书（记为交付时收取的材料）"
    )
    same_visit = serializers.BooleanField(
        required=False,
        default=False,
        help_text="当场领取：与提交申请是同一次到场（即办件当场办结），不再计一次跑动；只适用于当天有到场记录的办件",
    )


class CaseHandoverApi(APIView):
    """一窗通取：核验领取人身份、逐项核对交付物品、领取人签名，送达得到证明并办结；出具一份加盖电子印章的送达回证。"""

    @extend_schema(
        operation_id="case_handover",
        request=HandoverSerializer,
        responses={200: CaseSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    def post(self, request, case_no: str):
        data = HandoverSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        signature = values["signature"]
        case = services.case_handover(
            user=request.user,
            case_no=case_no,
            recipient=dict(values["recipient"]),
            identity_method=values["identity_method"],
            items=values["items"],
            signature=services.Signature(method=signature["method"], content=signature["content_base64"]),
            authorisation_letter=values["authorisation_letter"],
            same_visit=values["same_visit"],
        )
        return _case_response(request.user, case)


class MailSerializer(serializers.Serializer):
    carrier = serializers.CharField(max_length=50, help_text="寄递企业，如 中国邮政EMS")
    waybill = serializers.CharField(max_length=40, help_text="运单号（6–40 位字母、数字或连字符）")


class CaseMailApi(APIView):
    """邮寄送达：登记寄递企业和运单号（已寄出）；妥投由寄递状态回传（webhook 或导入）证明并办结。"""

    @extend_schema(
        operation_id="case_mail",
        request=MailSerializer,
        responses={200: CaseSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    def post(self, request, case_no: str):
        data = MailSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        case = services.case_mail(user=request.user, case_no=case_no, **data.validated_data)
        return _case_response(request.user, case)


# --- the carriers' webhook -----------------------------------------------------------------------------------

SIGNATURE_HEADER = "X-OneThing-Signature"
MAX_WEBHOOK_BYTES = 64 * 1024


class RawJSONParser(BaseParser):
    """The body as bytes: the signature is over the exact bytes sent."""

    media_type = "application/json"

    def parse(self, stream, media_type=None, parser_context=None) -> bytes:
        data = stream.read(MAX_WEBHOOK_BYTES + 1) if stream is not None else b""
        if len(data) > MAX_WEBHOOK_BYTES:
            raise ValidationFailed(field_errors={"body": ["请求体过大"]})
        return data


def signature_of(body: bytes, secret: str) -> str:
    """``sha256=<hex>``: what a carrier puts in X-OneThing-Signature."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class PostStatusSerializer(serializers.Serializer):
    waybill = serializers.CharField(max_length=40, help_text="运单号")
    status = serializers.ChoiceField(
        choices=list(labels.POST_STATUSES.items()), help_text="sent 已寄出、delivered 已妥投、returned 邮件退回"
    )
    occurred_at = serializers.DateTimeField(help_text="发生时间（带时区，ISO 8601）")


class PostStatusResultSerializer(serializers.Serializer):
    case_no = serializers.CharField()
    applied = serializers.BooleanField(help_text="false：重复推送（同一运单、状态和时间），未作任何改变")
    delivery_status = serializers.CharField(help_text="办件现在的送达状态")


class DeliveryWebhookApi(APIView):
    """寄递状态回传（寄递企业调用，无需登录）。

    请求头 X-OneThing-Signature 为 ``sha256=`` 加请求体的 HMAC-SHA256（共享密钥 ONETHING_DELIVERY_WEBHOOK_SECRET）；
    签名不符或未配置密钥为 403。同一运单、状态和时间的重复推送只生效一次。"""

    authentication_classes = []
    permission_classes = [AllowAny]
    parser_classes = [RawJSONParser]

    @extend_schema(
        operation_id="delivery_webhook",
        request=PostStatusSerializer,
        parameters=[OpenApiParameter(SIGNATURE_HEADER, str, OpenApiParameter.HEADER, required=True)],
        responses={200: PostStatusResultSerializer, **error_responses(400, 403, 404)},
    )
    def post(self, request):
        body = request.data if isinstance(request.data, bytes) else b""
        secret = settings.ONETHING_DELIVERY_WEBHOOK_SECRET
        sent = request.headers.get(SIGNATURE_HEADER, "")
        if not secret or not hmac.compare_digest(sent.encode(), signature_of(body, secret).encode()):
            raise PermissionDenied("签名无效")
        try:
            payload = json.loads(body)
        except ValueError:
            raise ValidationFailed(field_errors={"body": ["请求体不是有效的 JSON"]}) from None
        data = PostStatusSerializer(data=payload if isinstance(payload, dict) else {})
        data.is_valid(raise_exception=True)
        result = services.delivery_status_update(**data.validated_data, source="webhook")
        return Response(PostStatusResultSerializer(result).data)
