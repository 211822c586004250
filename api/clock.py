"""The legal clock: special procedures (clock stops), extensions (延期), and the supervision notifications."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.views import APIView

from workflow import clock, services
from workflow.models import SPECIAL_PROCEDURES, NotificationKind, PauseKind

from .cases import _case_response
from .errors import error_responses
from .presenters import CaseSerializer


class ProcedureStartApi(APIView):
    """启动特别程序（听证、检验检测检疫、鉴定、专家评审、招标拍卖）：所需时间不计入办理时限（行政许可法第四十五条）。

    综合窗口，或在该办件上有在办任务的部门审查人员。"""

    class InputSerializer(serializers.Serializer):
        kind = serializers.ChoiceField(choices=[(k, PauseKind(k).label) for k in SPECIAL_PROCEDURES])
        reason = serializers.CharField(max_length=2000, help_text="事由（将告知申请人）")

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
    """延期：经效能监督人员（负责人）批准，延长办件的法定和承诺期限；理由将告知申请人。

    联合办理合计不超过 15 个工作日，单一事项不超过 10 个工作日；法定期限届满后不能延期。"""

    class InputSerializer(serializers.Serializer):
        days = serializers.IntegerField(min_value=1, max_value=15, help_text="延长的工作日数")
        reason = serializers.CharField(max_length=2000, help_text="延期理由")
        approver = serializers.CharField(max_length=150, help_text="批准人的用户名（效能监督人员或系统管理员）")

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
    kind_label = serializers.CharField(source="get_kind_display")
    case_no = serializers.CharField(source="case.case_no")
    task_id = serializers.IntegerField(allow_null=True)
    department = serializers.CharField(source="department_id", allow_null=True)
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
        page = paginator.paginate_queryset(clock.notifications_for(user=request.user), request, view=self)
        return paginator.get_paginated_response(NotificationSerializer(page, many=True).data)
