"""Window staff re-issue a lost query code (查询码); the old one stops working."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from workflow import services

from .errors import error_responses


class QueryCodeReissueApi(APIView):
    """补发查询码（综合窗口，核验申请人身份后）：生成新查询码并只在此返回一次，原查询码立即失效。"""

    class OutputSerializer(serializers.Serializer):
        case_no = serializers.CharField()
        query_code = serializers.CharField(help_text="新查询码：当面告知申请人，系统只保存其摘要")

    @extend_schema(
        operation_id="case_query_code_reissue",
        request=None,
        responses={200: OutputSerializer, **error_responses(401, 403, 404)},
    )
    def post(self, request, case_no: str):
        code = services.case_query_code_reissue(user=request.user, case_no=case_no)
        body = self.OutputSerializer({"case_no": case_no, "query_code": code}).data
        return Response(body, headers={"Cache-Control": "no-store"})
