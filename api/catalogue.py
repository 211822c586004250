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
    lead_department = serializers.CharField(allow_null=True, help_text="牵头部门编码")
    lead_department_name = serializers.CharField(allow_null=True, help_text="牵头部门名称")
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
    items = serializers.ListField(
        child=serializers.DictField(),
        help_text="包含的事项（合并顺序）；只在部分情形下办理的事项带 condition（条件格式见 docs/forms.md）",
    )
    logic = serializers.DictField(
        help_text="表单逻辑：situation_fields（决定办理哪些事项的办理情形字段）、asked_when（字段何时询问）、"
        "required_when（字段何时必填）；未列出的字段总是询问，总是必填的在 form_schema.required 中",
    )
    materials = TaskDetailApi.MaterialSerializer(
        many=True,
        help_text="合并后的材料清单；needed_by 为需要该材料的事项，只有适用的事项的材料才需提交",
    )
    report = serializers.DictField(help_text="减材料、减填报：字段与材料合并前后的数量")
    statutory_limit_days = serializers.IntegerField(
        source="limits.statutory_limit_days",
        help_text="法定时限（工作日）：两个以上事项联合办理为 45 日，单一事项为该事项的法定时限",
    )
    extension_limit_days = serializers.IntegerField(
        source="limits.extension_limit_days", help_text="最多可延期的工作日"
    )
    reduction_rate = serializers.DecimalField(
        **_RATE,
        source="limits.reduction_rate",
        help_text="时限压减率：各事项（1 − 承诺时限 ÷ 该事项法定时限）的平均值（0.8556 即 85.56%），与统计接口相同",
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
