"""Department reviewers: the inbox of their department's tasks, and deciding a task."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from workflow import clock, selectors, services
from workflow.access import staff_of
from workflow.models import HumanTaskState, StaffRole

from .errors import error_responses
from .presenters import CorrectionItemSerializer, EventSerializer, TaskSerializer, event_rows


class TaskListApi(APIView):
    """我的待办：部门人员看到本部门的任务，综合窗口看到窗口任务，监督人员看到全部。按生成时间排序。"""

    class FilterSerializer(serializers.Serializer):
        state = serializers.ChoiceField(
            choices=[*HumanTaskState.values, "all"], required=False, default=HumanTaskState.OPEN
        )
        one_thing = serializers.SlugField(max_length=64, required=False)
        assignee = serializers.CharField(max_length=150, required=False)
        overdue = serializers.BooleanField(required=False, default=False)
        due_before = serializers.DateField(required=False, help_text="到期日不晚于")
        due_after = serializers.DateField(required=False, help_text="到期日不早于")
        post_review = serializers.ChoiceField(choices=selectors.POST_REVIEW_FILTERS, required=False)

    class OutputSerializer(serializers.Serializer):
        count = serializers.IntegerField()
        next = serializers.URLField(allow_null=True)
        previous = serializers.URLField(allow_null=True)
        counts = serializers.DictField(child=serializers.IntegerField(), help_text="各状态的任务数")
        results = TaskSerializer(many=True)

    @extend_schema(
        operation_id="task_list",
        parameters=[
            OpenApiParameter("state", str, enum=[*HumanTaskState.values, "all"], description="任务状态，默认 open"),
            OpenApiParameter("one_thing", str, description="只看某个一件事"),
            OpenApiParameter("assignee", str, description="me（我认领的）、none（未认领）或用户名"),
            OpenApiParameter("due_before", OpenApiTypes.DATE, description="到期日不晚于（含）"),
            OpenApiParameter("due_after", OpenApiTypes.DATE, description="到期日不早于（含）"),
            OpenApiParameter("overdue", bool, description="true：只看超期的待办（黄牌：任务超期；红牌：办件超期）"),
            OpenApiParameter(
                "post_review",
                str,
                enum=list(selectors.POST_REVIEW_FILTERS),
                description="只看秒批任务：pending（待复核）、done（已复核）、all；未给出 state 时不按状态筛选",
            ),
            OpenApiParameter("page", int, description="页码"),
        ],
        responses={200: OutputSerializer, **error_responses(400, 401, 403, 404)},
    )
    def get(self, request):
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        state = filters.validated_data.pop("state")
        if filters.validated_data.get("post_review") and "state" not in request.query_params:
            state = "all"  # 秒批 tasks are completed ones: the open-only default would hide them all
        overdue = filters.validated_data.pop("overdue")
        tasks = selectors.task_list(
            user=request.user, state=None if state == "all" else state, **filters.validated_data
        )
        if overdue:
            tasks = clock.tasks_overdue(tasks)
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(tasks, request, view=self)
        response = paginator.get_paginated_response(TaskSerializer(page, many=True).data)
        response.data["counts"] = selectors.task_counts(
            user=request.user, one_thing=filters.validated_data.get("one_thing")
        )
        return response


class TaskDetailApi(APIView):
    """一个任务的办理页面数据：本部门需要的字段在前，本部门需要的材料，其他部门的进度（不含意见），办件时间线。"""

    class FieldSerializer(serializers.Serializer):
        name = serializers.CharField()
        title = serializers.CharField()
        value = serializers.JSONField(allow_null=True)
        needed_by_me = serializers.BooleanField()
        needed_by = serializers.ListField(child=serializers.CharField())

    class OtherSerializer(serializers.Serializer):
        department = serializers.CharField()
        department_name = serializers.CharField()
        task = serializers.CharField()
        state = serializers.CharField()

    class OutputSerializer(TaskSerializer):
        fields_for_review = serializers.SerializerMethodField()
        materials = serializers.SerializerMethodField()
        other_departments = serializers.SerializerMethodField()
        timeline = serializers.SerializerMethodField()

        class Meta(TaskSerializer.Meta):
            fields = [*TaskSerializer.Meta.fields, "fields_for_review", "materials", "other_departments", "timeline"]

        @extend_schema_field(serializers.ListField(child=serializers.DictField()))
        def get_fields_for_review(self, task):
            return TaskDetailApi.FieldSerializer(self.context["task_view"]["fields"], many=True).data

        @extend_schema_field(serializers.ListField(child=serializers.DictField()))
        def get_materials(self, task):
            return self.context["task_view"]["materials"]

        @extend_schema_field(serializers.ListField(child=serializers.DictField()))
        def get_other_departments(self, task):
            return TaskDetailApi.OtherSerializer(self.context["task_view"]["others"], many=True).data

        @extend_schema_field(EventSerializer(many=True))
        def get_timeline(self, task):
            events = selectors.case_events(self.context["task_view"]["case"])
            return EventSerializer(event_rows(events, decisions_of=self.context["decisions_of"]), many=True).data

    @extend_schema(operation_id="task_detail", responses={200: OutputSerializer, **error_responses(401, 403, 404)})
    def get(self, request, task_id: int):
        view = selectors.task_view(user=request.user, task_id=task_id)
        # A reviewer sees only their own department's decisions in the timeline; other staff see them all.
        staff = staff_of(request.user)
        decisions_of = staff.department_id if staff and staff.role == StaffRole.REVIEWER else None
        return Response(
            self.OutputSerializer(view["task"], context={"task_view": view, "decisions_of": decisions_of}).data
        )


class TaskClaimApi(APIView):
    """认领任务。两人同时认领时，一人成功，另一人得到 409 task_claimed。"""

    @extend_schema(
        operation_id="task_claim", request=None, responses={200: TaskSerializer, **error_responses(401, 403, 404, 409)}
    )
    def post(self, request, task_id: int):
        task = services.human_task_claim(user=request.user, task_id=task_id)
        return Response(TaskSerializer(selectors.task_get(user=request.user, task_id=task.pk)).data)


class TaskUnclaimApi(APIView):
    """退回认领：本人或监督人员。"""

    @extend_schema(
        operation_id="task_unclaim",
        request=None,
        responses={200: TaskSerializer, **error_responses(401, 403, 404, 409)},
    )
    def post(self, request, task_id: int):
        task = services.human_task_unclaim(user=request.user, task_id=task_id)
        return Response(TaskSerializer(selectors.task_get(user=request.user, task_id=task.pk)).data)


class TaskReassignApi(APIView):
    """转办给本部门的另一位审查人员，须说明理由。"""

    class InputSerializer(serializers.Serializer):
        to = serializers.CharField(max_length=150, help_text="接收人的用户名（本部门审查人员）")
        reason = serializers.CharField(max_length=1000, help_text="转办理由")

    @extend_schema(
        operation_id="task_reassign",
        request=InputSerializer,
        responses={200: TaskSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    def post(self, request, task_id: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        task = services.human_task_reassign(
            user=request.user,
            task_id=task_id,
            to_username=data.validated_data["to"],
            reason=data.validated_data["reason"],
        )
        return Response(TaskSerializer(selectors.task_get(user=request.user, task_id=task.pk)).data)


class TaskCompleteApi(APIView):
    """部门作出决定：approve（准予）、reject（不予许可，须写理由）、need_correction（补正，逐项列出）。"""

    class ResultSerializer(serializers.Serializer):
        licence_no = serializers.CharField(max_length=64, required=False, help_text="证照或批准文书编号")
        valid_from = serializers.DateField(required=False, help_text="有效期起")
        valid_to = serializers.DateField(required=False, help_text="有效期止")

        def to_internal_value(self, data):
            value = super().to_internal_value(data)
            return {key: (item.isoformat() if hasattr(item, "isoformat") else item) for key, item in value.items()}

    class InputSerializer(serializers.Serializer):
        decision = serializers.ChoiceField(choices=["approve", "reject", "need_correction"])
        opinion = serializers.CharField(max_length=4000, required=False, allow_blank=True, default="")
        corrections = CorrectionItemSerializer(many=True, required=False, default=list, max_length=100)
        result = serializers.DictField(required=False, default=dict, help_text="准予时的办理结果")

        def validate_result(self, value):
            serializer = TaskCompleteApi.ResultSerializer(data=value)
            serializer.is_valid(raise_exception=True)
            return serializer.validated_data

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


class TaskPostReviewApi(APIView):
    """秒批事后复核：本部门审查人员对自动准予的任务复核一次。confirmed（复核无误）；revoked（复核撤销，须写理由）
    撤销本任务签发的电子证照，申请人查询时显示“已撤销”及理由。撤销须在办件形成统一办理结果之后。"""

    class InputSerializer(serializers.Serializer):
        outcome = serializers.ChoiceField(choices=["confirmed", "revoked"], help_text="confirmed 或 revoked")
        opinion = serializers.CharField(
            max_length=4000, required=False, allow_blank=True, default="", help_text="复核意见；撤销时必填"
        )

    @extend_schema(
        operation_id="task_post_review",
        request=InputSerializer,
        responses={200: TaskSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    def post(self, request, task_id: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        task = services.auto_approval_review(user=request.user, task_id=task_id, **data.validated_data)
        return Response(TaskSerializer(selectors.task_get(user=request.user, task_id=task.pk)).data)
