"""The error body every endpoint returns, for the OpenAPI schema."""

from rest_framework import serializers


class ErrorSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="稳定的错误代码，如 invalid、not_found、task_already_completed")
    message = serializers.CharField(help_text="中文说明")
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="字段错误：字段路径 → 中文信息",
    )


def error_responses(*codes: int) -> dict:
    return {code: ErrorSerializer for code in codes}
