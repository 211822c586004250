"""One-things the window can open cases for, with their one form."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from workflow import selectors

from .errors import error_responses
from .tasks import TaskDetailApi


class OneThingSerializer(serializers.Serializer):
    key = serializers.CharField()
    name = serializers.CharField()
    lead_department = serializers.CharField(allow_null=True, help_text="牵头部门名称")
    promised_limit_days = serializers.IntegerField()
    version = serializers.IntegerField()
    departments = serializers.ListField(child=serializers.CharField())


_RATE = {"max_digits": 5, "decimal_places": 4, "coerce_to_string": False, "allow_null": True}


class ItemLimitSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    department = serializers.CharField()
    statutory_limit_days = serializers.IntegerField(help_text="法定时限（工作日）")
    promised_limit_days = serializers.IntegerField(help_text="承诺时限（工作日）")
    reduction_rate = serializers.DecimalField(**_RATE, help_text="时限压减率 = 1 − 承诺/法定")


class OneThingDetailSerializer(OneThingSerializer):
    form_schema = serializers.DictField(help_text="一表申请的 JSON Schema（各事项表单合并而成，共同字段只问一次）")
    ui_hints = serializers.DictField(help_text="字段顺序、分组、各部门所需字段")
    provenance = serializers.DictField(help_text="每个字段由哪些事项、哪些部门需要")
    materials = TaskDetailApi.MaterialSerializer(many=True, help_text="合并后的材料清单")
    report = serializers.DictField(help_text="减材料、减填报：字段与材料合并前后的数量")
    statutory_limit_days = serializers.IntegerField(
        source="limits.statutory_limit_days",
        help_text="法定时限（工作日）：两个以上事项联合办理为 45 日，单一事项为该事项的法定时限",
    )
    extension_limit_days = serializers.IntegerField(
        source="limits.extension_limit_days", help_text="最多可延期的工作日"
    )
    reduction_rate = serializers.DecimalField(
        **_RATE, source="limits.reduction_rate", help_text="时限压减率 = 1 − 承诺时限/法定时限（0.8889 即 88.89%）"
    )
    item_limits = ItemLimitSerializer(
        source="limits.items", many=True, help_text="各事项的法定时限、承诺时限和时限压减率"
    )


class OneThingListApi(APIView):
    @extend_schema(
        operation_id="one_thing_list", responses={200: OneThingSerializer(many=True), **error_responses(401, 403)}
    )
    def get(self, request):
        return Response(OneThingSerializer(selectors.one_things(), many=True).data)


class OneThingDetailApi(APIView):
    @extend_schema(
        operation_id="one_thing_detail", responses={200: OneThingDetailSerializer, **error_responses(401, 403, 404)}
    )
    def get(self, request, key: str):
        return Response(OneThingDetailSerializer(selectors.one_thing_get(key=key)).data)
