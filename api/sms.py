"""The SMS outbox for supervisors: what is pending after an outage, what failed or is 待核实, and a resend."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from workflow import selectors, services

from .errors import error_responses


class SmsSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    case_no = serializers.CharField()
    template = serializers.CharField(help_text="accepted 受理 / correction 补正 / pickup 领取 / concluded 办结")
    template_label = serializers.CharField()
    recipient = serializers.CharField(help_text="接收号码（中间四位隐去）")
    body = serializers.CharField()
    state = serializers.CharField(
        help_text="pending 待发送 / sending 发送中 / sent 已发送 / uncertain 待核实 / failed 发送失败"
    )
    state_label = serializers.CharField()
    attempts = serializers.IntegerField()
    last_error = serializers.CharField(allow_blank=True)
    next_attempt_at = serializers.DateTimeField(
        allow_null=True, help_text="待发送：下次重试时间（服务商故障时按退避递增）"
    )
    created_at = serializers.DateTimeField()
    sent_at = serializers.DateTimeField(allow_null=True)


class SmsListSerializer(serializers.Serializer):
    counts = serializers.DictField(child=serializers.IntegerField(), help_text="各状态的短信数")
    results = SmsSerializer(many=True, help_text="最新的 200 条")


class SmsListApi(APIView):
    """短信发件箱（监督人员、系统管理员）：服务商故障时待发送的短信不会丢失，在此可见；发送失败和待核实的可重发。"""

    @extend_schema(
        operation_id="sms_list",
        parameters=[
            OpenApiParameter(
                "state",
                OpenApiTypes.STR,
                description="pending / sending / sent / uncertain / failed，或 attention（全部未发送的）；不填为全部",
            )
        ],
        responses={200: SmsListSerializer, **error_responses(400, 401, 403)},
    )
    def get(self, request):
        state = request.query_params.get("state") or None
        rows = selectors.sms_outbox(user=request.user, state=state)
        counts = selectors.sms_counts(user=request.user)
        return Response(SmsListSerializer({"counts": counts, "results": rows}).data)


class SmsResendApi(APIView):
    """重发一条发送失败、待核实或待发送的短信（核实申请人确未收到后）。已发送的为 409。"""

    @extend_schema(
        operation_id="sms_resend", request=None, responses={200: SmsSerializer, **error_responses(401, 403, 404, 409)}
    )
    def post(self, request, message_id: int):
        row = services.sms_resend(user=request.user, message_id=message_id)
        return Response(SmsSerializer(selectors.sms_row(row)).data)
