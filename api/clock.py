"""The legal clock: special procedures (clock stops), extensions (延期), and the supervision notifications."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from workflow import selectors, services
from workflow.labels import SPECIAL_PROCEDURES, ExtensionRequestState, NotificationKind, PauseKind

from .cases import _case_response
from .errors import error_responses
from .presenters import CaseSerializer


class ProcedureStartApi(APIView):
    """启动特别程序（听证、检验检测检疫、鉴定、专家评审、招标拍卖）：所需时间不计入办理时限（行政许可法第四十五条）。

    综合窗口，或在该办件上有在办任务的部门审查人员。"""

    class InputSerializer(serializers.Serializer):
        kind = serializers.ChoiceField(choices=[(k, PauseKind(k).label) for k in SPECIAL_PROCEDURES])
        reason = serializers.CharField(max_length=2000, help_text="事由（将告知申请人）")
        expected_days = serializers.IntegerField(
            min_value=1,
            max_value=250,
            required=False,
            allow_null=True,
            default=None,
            help_text="预计所需工作日（写入特别程序告知书；不填时告知书写明确定后另行告知）",
        )

    @extend_schema(
        operation_id="case_procedure_start",
        request=InputSerializer,
        responses={201: CaseSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    def post(self, request, case_no: str):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        pause = services.case_procedure_start(user=request.user, case_no=case_no, **data.validated_data)
        return _case_response(request.user, pause.case, http_status=status.HTTP_201_CREATED)


class ProcedureEndApi(APIView):
    """结束特别程序：恢复计时，各期限顺延暂停的工作日数。"""

    @extend_schema(
        operation_id="case_procedure_end",
        request=None,
        responses={200: CaseSerializer, **error_responses(401, 403, 404, 409)},
    )
    def post(self, request, case_no: str, pause_id: int):
        pause = services.case_procedure_end(user=request.user, case_no=case_no, pause_id=pause_id)
        return _case_response(request.user, pause.case)


class DeadlineExtendApi(APIView):
    """直接延期：效能监督人员或系统管理员本人批准并记录，延长办件的法定和承诺期限；理由将告知申请人。

    综合窗口和审查人员不能代为记录批准（403），须提交延期申请（POST cases/{case_no}/extension-requests）由负责人批准。
    联合办理合计不超过 15 个工作日，单一事项不超过 10 个工作日；法定期限届满后不能延期。"""

    class InputSerializer(serializers.Serializer):
        days = serializers.IntegerField(min_value=1, max_value=15, help_text="延长的工作日数")
        reason = serializers.CharField(max_length=2000, help_text="延期理由")
        approver = serializers.CharField(
            max_length=150, required=False, default="", help_text="可省略；若填写，须为本人的用户名（批准人即本人）"
        )

    @extend_schema(
        operation_id="case_deadline_extend",
        request=InputSerializer,
        responses={201: CaseSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    def post(self, request, case_no: str):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        extension = services.case_deadline_extend(user=request.user, case_no=case_no, **data.validated_data)
        return _case_response(request.user, extension.case, http_status=status.HTTP_201_CREATED)


class NotificationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=NotificationKind.choices)
    kind_label = serializers.CharField()
    case_no = serializers.CharField()
    task_id = serializers.IntegerField(allow_null=True)
    department = serializers.CharField(allow_null=True)
    text = serializers.CharField()
    created_at = serializers.DateTimeField()
    sent_at = serializers.DateTimeField(allow_null=True)


class NotificationListApi(APIView):
    """督办通知：临期预警、黄牌（部门任务超期）、红牌（办件超期）、视为受理。部门人员看到本部门的，窗口和监督人员看到本角色的。"""

    class OutputSerializer(serializers.Serializer):
        count = serializers.IntegerField()
        next = serializers.URLField(allow_null=True)
        previous = serializers.URLField(allow_null=True)
        results = NotificationSerializer(many=True)

    @extend_schema(
        operation_id="notification_list",
        parameters=[OpenApiParameter("page", int, description="页码")],
        responses={200: OutputSerializer, **error_responses(401, 403, 404)},
    )
    def get(self, request):
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(selectors.notification_list(user=request.user), request, view=self)
        return paginator.get_paginated_response(NotificationSerializer(page, many=True).data)


class ExtensionRequestSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    case_no = serializers.CharField()
    days = serializers.IntegerField(help_text="申请延长的工作日数")
    reason = serializers.CharField()
    department = serializers.CharField(allow_null=True, help_text="申请部门；窗口申请时为空")
    requested_by = serializers.CharField(help_text="申请人用户名")
    requested_at = serializers.DateTimeField()
    state = serializers.ChoiceField(choices=ExtensionRequestState.choices)
    state_label = serializers.CharField()
    decided_by = serializers.CharField(allow_null=True)
    decided_at = serializers.DateTimeField(allow_null=True)
    decision_note = serializers.CharField(allow_blank=True)


class ExtensionRequestCreateApi(APIView):
    """申请延期（两步）：窗口或在该办件上有在办任务的部门提出，效能监督负责人在系统内批准后期限才顺延。

    每个办件同时只能有一个待批准的申请。"""

    class InputSerializer(serializers.Serializer):
        days = serializers.IntegerField(min_value=1, max_value=15, help_text="申请延长的工作日数")
        reason = serializers.CharField(max_length=2000, help_text="延期理由（将告知申请人）")

    @extend_schema(
        operation_id="case_extension_request",
        request=InputSerializer,
        responses={201: ExtensionRequestSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    def post(self, request, case_no: str):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        asked = services.case_extension_request(user=request.user, case_no=case_no, **data.validated_data)
        return Response(
            ExtensionRequestSerializer(selectors.extension_request_view(asked)).data, status=status.HTTP_201_CREATED
        )


class ExtensionRequestListApi(APIView):
    """延期申请列表（效能监督人员、系统管理员）：默认为待批准的申请，最早的在前；state=approved/rejected 为已处理的。"""

    class OutputSerializer(serializers.Serializer):
        count = serializers.IntegerField()
        next = serializers.URLField(allow_null=True)
        previous = serializers.URLField(allow_null=True)
        results = ExtensionRequestSerializer(many=True)

    class FilterSerializer(serializers.Serializer):
        state = serializers.ChoiceField(choices=ExtensionRequestState.choices, default=ExtensionRequestState.PENDING)

    @extend_schema(
        operation_id="extension_request_list",
        parameters=[
            OpenApiParameter("state", str, enum=list(ExtensionRequestState.values), description="状态，默认 pending"),
            OpenApiParameter("page", int, description="页码"),
        ],
        responses={200: OutputSerializer, **error_responses(400, 401, 403, 404)},
    )
    def get(self, request):
        filters = self.FilterSerializer(data={k: v for k, v in request.query_params.items() if k == "state"})
        filters.is_valid(raise_exception=True)
        requests = selectors.extension_request_list(user=request.user, state=filters.validated_data["state"])
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(requests, request, view=self)
        return paginator.get_paginated_response(ExtensionRequestSerializer(page, many=True).data)


class ExtensionRequestDecideApi(APIView):
    """批准或不予批准延期申请（效能监督人员、系统管理员；不能批准本人的申请）。批准即顺延法定和承诺期限；不予批准须说明理由。"""

    class InputSerializer(serializers.Serializer):
        approve = serializers.BooleanField(help_text="true 批准，false 不予批准")
        note = serializers.CharField(
            max_length=2000, required=False, allow_blank=True, default="", help_text="审批意见"
        )

    @extend_schema(
        operation_id="extension_request_decide",
        request=InputSerializer,
        responses={200: ExtensionRequestSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    def post(self, request, request_id: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        decided = services.extension_request_decide(user=request.user, request_id=request_id, **data.validated_data)
        return Response(ExtensionRequestSerializer(selectors.extension_request_view(decided)).data)
