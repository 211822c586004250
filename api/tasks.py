"""Department reviewers: the inbox of their department's tasks, and deciding a task."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from workflow import selectors, services
from workflow.labels import HumanTaskState

from .errors import error_responses
from .files import MaterialFileSerializer
from .pagination import CappedPageNumberPagination
from .presenters import (
    CorrectionItemSerializer,
    DepartmentProgressSerializer,
    EventSerializer,
    TaskSerializer,
)


class TaskListApi(APIView):
    """我的待办：部门人员看到本部门的任务，综合窗口看到窗口任务，监督人员看到全部。

    排序（唯一的待办顺序）：到期日最早的在前，没有到期日的在后；到期日相同的按生成时间、再按 id。"""

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
        count = serializers.IntegerField(
            help_text=f"任务数：最多计到 {selectors.COUNT_CAP}（为 {selectors.COUNT_CAP} 时表示不少于此数）"
        )
        next = serializers.URLField(allow_null=True)
        previous = serializers.URLField(allow_null=True)
        counts = serializers.DictField(
            child=serializers.IntegerField(), help_text=f"各状态的任务数，每项最多计到 {selectors.COUNT_CAP}"
        )
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
        rows = selectors.inbox(user=request.user, state=None if state == "all" else state, **filters.validated_data)
        paginator = CappedPageNumberPagination()
        page = paginator.paginate_queryset(rows, request, view=self)
        response = paginator.get_paginated_response(TaskSerializer(page, many=True).data)
        response.data["counts"] = selectors.task_counts(
            user=request.user, one_thing=filters.validated_data.get("one_thing")
        )
        return response


class TaskDetailApi(APIView):
    """一个任务的办理页面数据：本部门需要的字段在前，本部门需要的材料，其他部门的进度（不含决定和意见），办件时间线，
    以及当前用户可以进行的操作（allowed_actions）。"""

    class FieldSerializer(serializers.Serializer):
        name = serializers.CharField()
        title = serializers.CharField()
        value = serializers.JSONField(allow_null=True, help_text="申请人填写的值；未填写为 null")
        needed_by_me = serializers.BooleanField()
        needed_by = serializers.ListField(child=serializers.CharField())

    class MaterialUseSerializer(serializers.Serializer):
        item_code = serializers.CharField()
        item_name = serializers.CharField()
        department = serializers.CharField()
        name = serializers.CharField()
        required = serializers.BooleanField()
        original = serializers.BooleanField()
        source = serializers.CharField()

    class MaterialSerializer(serializers.Serializer):
        code = serializers.CharField()
        name = serializers.CharField()
        description = serializers.CharField(allow_blank=True)
        required = serializers.BooleanField()
        original = serializers.BooleanField()
        source = serializers.CharField(help_text="applicant：申请人提交；e_licence：电子证照库调取（免提交）")
        deferrable = serializers.BooleanField(help_text="可容缺受理")
        needed_by = serializers.SerializerMethodField()
        produced_by = serializers.ListField(
            child=serializers.CharField(),
            help_text="本一件事中其结果即可替代该材料的（有条件）事项编码：这些事项适用时无需提交",
        )
        files = MaterialFileSerializer(many=True, help_text="该材料已上传的文件（含补正时提交的）")

        @extend_schema_field(serializers.ListField(child=serializers.DictField()))
        def get_needed_by(self, material):
            return TaskDetailApi.MaterialUseSerializer(material.needed_by, many=True).data

    class ResubmittedMaterialSerializer(serializers.Serializer):
        code = serializers.CharField(help_text="材料编码")
        name = serializers.CharField(help_text="材料名称")
        files = serializers.ListField(
            child=serializers.CharField(), help_text="随补正提交的文件标识（GET /api/files/{id}）"
        )

    class ResubmissionSerializer(serializers.Serializer):
        form_fields = serializers.ListField(
            source="fields", child=serializers.CharField(), help_text="补正提交的字段名"
        )
        field_titles = serializers.ListField(child=serializers.CharField(), help_text="字段名称")
        materials = serializers.SerializerMethodField()
        at = serializers.DateTimeField(allow_null=True, help_text="补正提交时间")

        @extend_schema_field(serializers.ListField(child=serializers.DictField()))
        def get_materials(self, resubmission):
            return TaskDetailApi.ResubmittedMaterialSerializer(resubmission.materials, many=True).data

    class OutputSerializer(TaskSerializer):
        fields_for_review = serializers.SerializerMethodField()
        resubmitted = serializers.SerializerMethodField(
            help_text="第二轮起：最近一次补正提交的内容（字段和随补正上传的材料文件）；首轮为 null"
        )
        materials = serializers.SerializerMethodField()
        other_departments = DepartmentProgressSerializer(many=True, help_text="其他部门的进度（不含决定和意见）")
        timeline = EventSerializer(many=True)

        @extend_schema_field(serializers.ListField(child=serializers.DictField()))
        def get_fields_for_review(self, page):
            return TaskDetailApi.FieldSerializer(page["fields"], many=True).data

        @extend_schema_field(serializers.ListField(child=serializers.DictField()))
        def get_materials(self, page):
            return TaskDetailApi.MaterialSerializer(page["materials"], many=True).data

        @extend_schema_field(serializers.DictField(allow_null=True))
        def get_resubmitted(self, page):
            resubmitted = page.get("resubmitted")
            return TaskDetailApi.ResubmissionSerializer(resubmitted).data if resubmitted is not None else None

    @extend_schema(operation_id="task_detail", responses={200: OutputSerializer, **error_responses(401, 403, 404)})
    def get(self, request, task_id: int):
        page = selectors.task_page(user=request.user, task_id=task_id)
        body = {
            **page.task.__dict__,
            "fields": page.fields,
            "materials": page.materials,
            "other_departments": page.other_departments,
            "timeline": page.timeline,
            "resubmitted": page.resubmitted,
            "allowed_actions": page.allowed_actions,
        }
        return Response(self.OutputSerializer(body).data)


class TaskClaimApi(APIView):
    """认领任务。两人同时认领时，一人成功，另一人得到 409 task_claimed。"""

    @extend_schema(
        operation_id="task_claim", request=None, responses={200: TaskSerializer, **error_responses(401, 403, 404, 409)}
    )
    def post(self, request, task_id: int):
        task = services.human_task_claim(user=request.user, task_id=task_id)
        return Response(TaskSerializer(selectors.task_row_get(user=request.user, task_id=task.pk)).data)


class TaskUnclaimApi(APIView):
    """退回认领：本人或监督人员。"""

    @extend_schema(
        operation_id="task_unclaim",
        request=None,
        responses={200: TaskSerializer, **error_responses(401, 403, 404, 409)},
    )
    def post(self, request, task_id: int):
        task = services.human_task_unclaim(user=request.user, task_id=task_id)
        return Response(TaskSerializer(selectors.task_row_get(user=request.user, task_id=task.pk)).data)


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
        return Response(TaskSerializer(selectors.task_row_get(user=request.user, task_id=task.pk)).data)


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
        legal_basis = serializers.CharField(
            max_length=500,
            required=False,
            allow_blank=True,
            default="",
            help_text="不予许可的法律依据（办结通知书写明；不填时写事项的设定依据）",
        )

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
        return Response(TaskSerializer(selectors.task_row_get(user=request.user, task_id=task.pk)).data)


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
        return Response(TaskSerializer(selectors.task_row_get(user=request.user, task_id=task.pk)).data)
