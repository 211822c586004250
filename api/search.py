"""办件查询 for staff: ``GET /api/cases`` (filters in the query string) and ``POST /api/cases/search`` (the same
filters and the applicant's ID number in the body — an ID number never travels in a URL)."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from workflow import selectors
from workflow.errors import ValidationFailed
from workflow.labels import CaseStatus, Channel

from .errors import error_responses
from .presenters import CaseHallsSerializer


class SearchFiltersSerializer(serializers.Serializer):
    applicant_name = serializers.CharField(
        max_length=100, required=False, default="", help_text="申请人姓名或单位名称（从开头匹配）"
    )
    phone = serializers.RegexField(r"^[0-9]{5,20}$", required=False, default="", help_text="申请人联系电话（完整）")
    credit_code = serializers.CharField(
        max_length=18, required=False, default="", help_text="统一社会信用代码（单位申请人，完整）"
    )
    one_thing = serializers.SlugField(max_length=64, required=False, default="", help_text="一件事标识")
    status = serializers.ChoiceField(choices=CaseStatus.choices, required=False, default="", allow_blank=True)
    channel = serializers.ChoiceField(choices=Channel.choices, required=False, default="", allow_blank=True)
    since = serializers.DateField(required=False, default=None, allow_null=True, help_text="收件日期自（含）")
    until = serializers.DateField(required=False, default=None, allow_null=True, help_text="收件日期至（含）")
    hall = serializers.RegexField(
        r"^[0-9]{6}$", required=False, default="", help_text="大厅编码：该大厅收件或审批的办件"
    )
    page = serializers.IntegerField(min_value=1, max_value=1000, required=False, default=1)

    def query(self, **extra) -> selectors.CaseQuery:
        return selectors.CaseQuery(**self.validated_data, **extra)


class SearchBodySerializer(SearchFiltersSerializer):
    id_number = serializers.CharField(
        max_length=32, required=False, default="", help_text="申请人证件号码（完整；只能在请求体中提交）"
    )


class CaseRowSerializer(CaseHallsSerializer):
    """A case in a search result (renders selectors.CaseSummary)."""

    case_no = serializers.CharField()
    one_thing = serializers.CharField()
    one_thing_name = serializers.CharField()
    status = serializers.ChoiceField(choices=CaseStatus.choices)
    status_label = serializers.CharField()
    outcome = serializers.CharField(allow_blank=True)
    outcome_label = serializers.CharField(allow_blank=True)
    applicant_name = serializers.CharField()
    opened_at = serializers.DateTimeField()
    concluded_at = serializers.DateTimeField(allow_null=True)
    promised_due_date = serializers.DateField(allow_null=True, help_text="承诺办结期限")
    promised_due_date_provisional = serializers.BooleanField(help_text="承诺办结期限为预计")


class SearchPageSerializer(serializers.Serializer):
    results = CaseRowSerializer(source="rows", many=True)
    page = serializers.IntegerField()
    page_size = serializers.IntegerField()
    has_next = serializers.BooleanField(help_text="还有下一页")


FILTER_PARAMETERS = [
    OpenApiParameter("applicant_name", str, description="申请人姓名或单位名称（从开头匹配）"),
    OpenApiParameter("phone", str, description="申请人联系电话（完整）"),
    OpenApiParameter("credit_code", str, description="统一社会信用代码（完整）"),
    OpenApiParameter("one_thing", str, description="一件事标识"),
    OpenApiParameter("status", str, enum=CaseStatus.values, description="办件状态"),
    OpenApiParameter("channel", str, enum=Channel.values, description="申办渠道"),
    OpenApiParameter("since", OpenApiTypes.DATE, description="收件日期自（含）"),
    OpenApiParameter("until", OpenApiTypes.DATE, description="收件日期至（含）"),
    OpenApiParameter("hall", str, description="大厅编码：该大厅收件或审批的办件"),
    OpenApiParameter("page", int, description="页码，从 1 开始，每页 50 件"),
]


def search_get(request) -> Response:
    if "id_number" in request.query_params:
        raise ValidationFailed(
            field_errors={"id_number": ["证件号码不能放在网址中：请用 POST /api/cases/search 在请求体中提交"]}
        )
    data = SearchFiltersSerializer(data={k: v for k, v in request.query_params.items() if v != ""})
    data.is_valid(raise_exception=True)
    page = selectors.case_search(user=request.user, query=data.query())
    return Response(SearchPageSerializer(page).data)


class CaseSearchApi(APIView):
    """办件查询（工作人员）：按申请人证件号码等条件查询，条件放在请求体中（证件号码不进入网址和访问日志）。
    范围与打开办件相同：部门人员只查到本部门有任务的办件，绑定大厅的人员只查到本大厅收件或审批的办件。"""

    @extend_schema(
        operation_id="case_search",
        request=SearchBodySerializer,
        responses={200: SearchPageSerializer, **error_responses(400, 401, 403)},
    )
    def post(self, request):
        data = SearchBodySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        page = selectors.case_search(user=request.user, query=data.query())
        return Response(SearchPageSerializer(page).data)
