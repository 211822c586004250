"""One-things the window can open cases for, with their one form."""

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from workflow import clock, selectors
from workflow.errors import NotFound

from .errors import error_responses


class OneThingSerializer(serializers.Serializer):
    key = serializers.CharField()
    name = serializers.CharField()
    lead_department = serializers.CharField(source="lead_department.name", allow_null=True, default=None)
    promised_limit_days = serializers.IntegerField()
    version = serializers.IntegerField(source="current_version.number")
    departments = serializers.ListField(child=serializers.CharField(), source="current_version.departments")


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
    ui_hints = serializers.DictField(
        source="merged_form.ui_hints", default=dict, help_text="字段顺序、分组、各部门所需字段"
    )
    provenance = serializers.DictField(
        source="merged_form.provenance", default=dict, help_text="每个字段由哪些事项、哪些部门需要"
    )
    items = serializers.ListField(
        child=serializers.DictField(),
        source="merged_form.items",
        default=list,
        help_text="包含的事项（合并顺序）；只在部分情形下办理的事项带 condition（条件格式见 docs/forms.md）",
    )
    logic = serializers.DictField(
        source="merged_form.logic",
        default=dict,
        help_text="表单逻辑：situation_fields（决定办理哪些事项的办理情形字段）、asked_when（字段何时询问）、"
        "required_when（字段何时必填）；未列出的字段总是询问，总是必填的在 form_schema.required 中",
    )
    materials = serializers.ListField(
        child=serializers.DictField(),
        source="merged_form.materials",
        default=list,
        help_text="合并后的材料清单；needed_by 为需要该材料的事项，只有适用的事项的材料才需提交",
    )
    report = serializers.DictField(
        source="merged_form.report", default=dict, help_text="减材料、减填报：字段与材料合并前后的数量"
    )
    statutory_limit_days = serializers.SerializerMethodField(
        help_text="法定时限（工作日）：两个以上事项联合办理为 45 日，单一事项为该事项的法定时限"
    )
    extension_limit_days = serializers.SerializerMethodField(help_text="最多可延期的工作日")
    reduction_rate = serializers.SerializerMethodField(
        help_text="时限压减率：各事项（1 − 承诺时限 ÷ 该事项法定时限）的平均值（0.8556 即 85.56%），与统计接口相同"
    )
    item_limits = serializers.SerializerMethodField(help_text="各事项的法定时限、承诺时限和时限压减率")

    def _limits(self, one_thing) -> dict:
        memo = self.context.setdefault("time_limits", {})
        if one_thing.pk not in memo:
            memo[one_thing.pk] = clock.one_thing_limits(one_thing)
        return memo[one_thing.pk]

    @extend_schema_field(serializers.IntegerField())
    def get_statutory_limit_days(self, one_thing) -> int:
        return self._limits(one_thing)["statutory_limit_days"]

    @extend_schema_field(serializers.IntegerField())
    def get_extension_limit_days(self, one_thing) -> int:
        return self._limits(one_thing)["extension_limit_days"]

    @extend_schema_field(serializers.DecimalField(**_RATE))
    def get_reduction_rate(self, one_thing):
        return self._limits(one_thing)["reduction_rate"]

    @extend_schema_field(ItemLimitSerializer(many=True))
    def get_item_limits(self, one_thing) -> list:
        return ItemLimitSerializer(self._limits(one_thing)["items"], many=True).data


class OneThingListApi(APIView):
    @extend_schema(
        operation_id="one_thing_list", responses={200: OneThingSerializer(many=True), **error_responses(401, 403)}
    )
    def get(self, request):
        return Response(
            OneThingSerializer(selectors.one_thing_list().select_related("current_version"), many=True).data
        )


class OneThingDetailApi(APIView):
    @extend_schema(
        operation_id="one_thing_detail", responses={200: OneThingDetailSerializer, **error_responses(401, 403, 404)}
    )
    def get(self, request, key: str):
        one_thing = selectors.one_thing_list().select_related("current_version").filter(key=key).first()
        if one_thing is None:
            raise NotFound("未找到该一件事")
        return Response(OneThingDetailSerializer(one_thing).data)
