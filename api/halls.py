"""Service halls (收受分离): where a case may be decided, for the window's case-opening form."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from workflow import selectors

from .errors import error_responses
from .presenters import HallSerializer


class HallListApi(APIView):
    """启用的政务服务大厅（收受分离：审批地可选的大厅）；本人所属大厅排在最前并标记 is_mine。"""

    pagination_class = None

    class OutputSerializer(HallSerializer):
        is_mine = serializers.BooleanField(help_text="本人所属大厅（未绑定大厅时为本系统的默认大厅）")

    @extend_schema(operation_id="hall_list", responses={200: OutputSerializer(many=True), **error_responses(401, 403)})
    def get(self, request):
        return Response(self.OutputSerializer(selectors.hall_list(user=request.user), many=True).data)
