"""One-things the window can open cases for, with their one form."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from workflow import selectors
from workflow.errors import NotFound

from .errors import error_responses


class OneThingSerializer(serializers.Serializer):
    key = serializers.CharField()
    name = serializers.CharField()
    lead_department = serializers.CharField(source="lead_department.name", allow_null=True, default=None)
    promised_limit_days = serializers.IntegerField()
    version = serializers.IntegerField(source="current_version.number")
    departments = serializers.ListField(child=serializers.CharField(), source="current_version.departments")


class OneThingDetailSerializer(OneThingSerializer):
    form_schema = serializers.DictField(help_text="一表申请的 JSON Schema（各事项表单合并而成，共同字段只问一次）")
    ui_hints = serializers.DictField(
        source="merged_form.ui_hints", default=dict, help_text="字段顺序、分组、各部门所需字段"
    )
    provenance = serializers.DictField(
        source="merged_form.provenance", default=dict, help_text="每个字段由哪些事项、哪些部门需要"
    )
    materials = serializers.ListField(
        child=serializers.DictField(), source="merged_form.materials", default=list, help_text="合并后的材料清单"
    )
    report = serializers.DictField(
        source="merged_form.report", default=dict, help_text="减材料、减填报：字段与材料合并前后的数量"
    )


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
