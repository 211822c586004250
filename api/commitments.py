"""告知承诺的事中事后核查：部门审查人员列出并记录核查；核查不实撤销该事项的电子证照。"""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from workflow import selectors, services

from .errors import error_responses
from .presenters import CommitmentCheckSerializer


class CommitmentCheckListApi(APIView):
    """本部门的事中事后核查（审查人员；监督、管理人员看全部），按核查期限排序。"""

    class FilterSerializer(serializers.Serializer):
        state = serializers.ChoiceField(choices=["pending", "done", "all"], required=False, default="pending")

    @extend_schema(
        operation_id="commitment_checks",
        parameters=[OpenApiParameter("state", str, description="pending（待核查，默认）、done（已核查）或 all")],
        responses={200: CommitmentCheckSerializer(many=True), **error_responses(400, 401, 403)},
    )
    def get(self, request):
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        rows = selectors.commitment_checks(user=request.user, state=filters.validated_data["state"])
        return Response(CommitmentCheckSerializer(rows, many=True).data)


class CommitmentCheckDecideApi(APIView):
    """记录事中事后核查（本部门审查人员，一次）：passed（核查属实）；failed（承诺不实，须写明核查发现）撤销该事项的
    电子证照，办件时间线和申请人查询页显示撤销及理由。"""

    class InputSerializer(serializers.Serializer):
        outcome = serializers.ChoiceField(choices=["passed", "failed"], help_text="passed 或 failed")
        opinion = serializers.CharField(
            max_length=4000, required=False, allow_blank=True, default="", help_text="核查意见；承诺不实时必填"
        )

    @extend_schema(
        operation_id="commitment_check_decide",
        request=InputSerializer,
        responses={200: CommitmentCheckSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    def post(self, request, check_id: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        check = services.commitment_check_decide(user=request.user, check_id=check_id, **data.validated_data)
        [row] = [r for r in selectors.commitment_checks(user=request.user, state="all") if r.id == check.pk]
        return Response(CommitmentCheckSerializer(row).data)
