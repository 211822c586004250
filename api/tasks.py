"""Department reviewers: the inbox of their department's tasks, and deciding a task."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from workflow import selectors, services
from workflow.models import HumanTaskState

from .errors import error_responses
from .presenters import CorrectionItemSerializer, TaskSerializer


class TaskListApi(APIView):
    """我的待办：部门人员看到本部门的任务，综合窗口看到窗口任务，监督人员看到全部。按生成时间排序。"""

    class FilterSerializer(serializers.Serializer):
        state = serializers.ChoiceField(
            choices=[*HumanTaskState.values, "all"], required=False, default=HumanTaskState.OPEN
        )

    @extend_schema(
        operation_id="task_list",
        parameters=[
            OpenApiParameter("state", str, enum=[*HumanTaskState.values, "all"], description="任务状态，默认 open"),
            OpenApiParameter("page", int, description="页码"),
        ],
        responses={200: TaskSerializer(many=True), **error_responses(400, 401, 403, 404)},
    )
    def get(self, request):
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        state = filters.validated_data["state"]
        tasks = selectors.task_list(user=request.user, state=None if state == "all" else state)
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(tasks, request, view=self)
        return paginator.get_paginated_response(TaskSerializer(page, many=True).data)

    def get_paginated_response_schema(self, schema):  # pragma: no cover - schema generation only
        return PageNumberPagination().get_paginated_response_schema(schema)


class TaskDetailApi(APIView):
    @extend_schema(operation_id="task_detail", responses={200: TaskSerializer, **error_responses(401, 403, 404)})
    def get(self, request, task_id: int):
        return Response(TaskSerializer(selectors.task_get(user=request.user, task_id=task_id)).data)


class TaskCompleteApi(APIView):
    """部门作出决定：approve（准予）、reject（不予许可，须写理由）、need_correction（补正，逐项列出）。"""

    class InputSerializer(serializers.Serializer):
        decision = serializers.ChoiceField(choices=["approve", "reject", "need_correction"])
        opinion = serializers.CharField(max_length=4000, required=False, allow_blank=True, default="")
        corrections = CorrectionItemSerializer(many=True, required=False, default=list, max_length=100)

    @extend_schema(
        operation_id="task_complete",
        request=InputSerializer,
        responses={200: TaskSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    def post(self, request, task_id: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        task = services.human_task_complete(user=request.user, task_id=task_id, **data.validated_data)
        return Response(TaskSerializer(selectors.task_get(user=request.user, task_id=task.pk)).data)
