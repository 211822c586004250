"""好差评: the applicant rates; departments rectify bad ratings (the statistics: api/statistics.py)."""

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from workflow import selectors, services
from workflow.labels import DIMENSIONS, RatingLevel, RectificationState

from .errors import error_responses
from .presenters import RatingStateSerializer
from .status import LookupSerializer, LookupThrottledApi

LEVEL_HELP = "评价等级：" + "，".join(f"{level.value} {level.label}" for level in RatingLevel)


class ApplicantRatingApi(LookupThrottledApi):
    """好差评（申请人，凭办件编号 + 查询码）：办结后评价一次。

    不满意、非常不满意生成整改工单，整改完成后可再评价一次。"""

    class InputSerializer(LookupSerializer):
        level = serializers.ChoiceField(choices=RatingLevel.choices, help_text=LEVEL_HELP)
        dimensions = serializers.DictField(
            child=serializers.IntegerField(min_value=1, max_value=5),
            required=False,
            default=dict,
            help_text="分项评价（可选）：" + "，".join(f"{code} {label}" for code, label in DIMENSIONS.items()),
        )
        comment = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")

    @extend_schema(
        operation_id="case_status_rating",
        request=InputSerializer,
        responses={201: RatingStateSerializer, **error_responses(400, 404, 409, 429)},
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        case = self.lookup(case_no=values["case_no"], query_code=values["query_code"])
        services.case_rate(
            case_no=case.case_no, level=values["level"], dimensions=values["dimensions"], comment=values["comment"]
        )
        return Response(RatingStateSerializer(selectors.rating_state(case)).data, status=status.HTTP_201_CREATED)


class RectificationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    case_no = serializers.CharField(source="case.case_no")
    one_thing_name = serializers.CharField(source="case.one_thing.name")
    department = serializers.CharField(source="department_id")
    department_name = serializers.CharField(source="department.name")
    level = serializers.IntegerField(source="rating.level")
    level_label = serializers.CharField(source="rating.get_level_display")
    dimensions = serializers.DictField(source="rating.dimensions", child=serializers.IntegerField())
    comment = serializers.CharField(source="rating.comment", allow_blank=True)
    rated_at = serializers.DateTimeField(source="rating.created_at")
    due_date = serializers.DateField(help_text="整改期限（按工作日计算）")
    overdue = serializers.SerializerMethodField(help_text="未完成且已过期限")
    state = serializers.ChoiceField(choices=RectificationState.choices)
    state_label = serializers.CharField(source="get_state_display")
    resolution = serializers.CharField(allow_blank=True)
    resolved_at = serializers.DateTimeField(allow_null=True)
    on_time = serializers.SerializerMethodField(help_text="已在期限内完成；未完成时为 null")

    def get_overdue(self, order) -> bool:
        return order.state == RectificationState.OPEN and order.due_date < timezone.localdate()

    def get_on_time(self, order) -> bool | None:
        if order.resolved_at is None:
            return None
        return timezone.localdate(order.resolved_at) <= order.due_date


class RectificationListApi(APIView):
    """差评整改工单：部门人员看到本部门的，监督人员看到全部。按整改期限排序。"""

    class FilterSerializer(serializers.Serializer):
        state = serializers.ChoiceField(
            choices=[*RectificationState.values, "all"], required=False, default=RectificationState.OPEN
        )

    class OutputSerializer(serializers.Serializer):
        count = serializers.IntegerField()
        next = serializers.URLField(allow_null=True)
        previous = serializers.URLField(allow_null=True)
        results = RectificationSerializer(many=True)

    @extend_schema(
        operation_id="rectification_list",
        parameters=[
            OpenApiParameter("state", str, enum=[*RectificationState.values, "all"], description="默认 open"),
            OpenApiParameter("page", int, description="页码"),
        ],
        responses={200: OutputSerializer, **error_responses(400, 401, 403, 404)},
    )
    def get(self, request):
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        state = filters.validated_data["state"]
        orders = selectors.rectification_list(user=request.user, state=None if state == "all" else state)
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(orders, request, view=self)
        return paginator.get_paginated_response(RectificationSerializer(page, many=True).data)


class RectificationResolveApi(APIView):
    """整改完成：责任部门人员或监督人员填写整改情况。其他部门的工单回答 404。"""

    class InputSerializer(serializers.Serializer):
        resolution = serializers.CharField(max_length=2000, help_text="整改情况")

    @extend_schema(
        operation_id="rectification_resolve",
        request=InputSerializer,
        responses={200: RectificationSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    def post(self, request, order_id: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        order = services.rectification_resolve(
            user=request.user, order_id=order_id, resolution=data.validated_data["resolution"]
        )
        return Response(RectificationSerializer(selectors.rectification_get(user=request.user, order_id=order.pk)).data)
