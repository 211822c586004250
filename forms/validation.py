"""Validate submitted form data against a one-thing's JSON Schema, with field errors in Chinese."""

from __future__ import annotations

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from .formats import FORMAT_CHECKER, FORMAT_NAMES, InvalidFormat


def validate_form(schema: dict, data: object) -> dict[str, list[str]]:
    """Field path → Chinese messages; an empty dict means the data is valid."""
    if not isinstance(data, dict):
        return {"form": ["申请表应为对象（JSON object）"]}
    validator = Draft202012Validator(schema or {"type": "object"}, format_checker=FORMAT_CHECKER)
    errors: dict[str, list[str]] = {}
    for error in sorted(validator.iter_errors(data), key=lambda e: list(e.path)):
        field, message = _describe(error, schema)
        errors.setdefault(field, [])
        if message not in errors[field]:
            errors[field].append(message)
    return errors


def _title(schema: dict, path: list) -> str:
    node = schema
    for part in path:
        if isinstance(part, str):
            node = (node.get("properties") or {}).get(part, {})
        else:
            node = node.get("items", {})
    return node.get("title", "")


def _describe(error: ValidationError, schema: dict) -> tuple[str, str]:
    path = [str(p) for p in error.absolute_path]
    validator, value = error.validator, error.validator_value
    if validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else ""
        field_path = [*path, missing]
        title = _title(schema, [*error.absolute_path, missing]) or missing
        return ".".join(field_path), f"请填写{title}"
    if validator == "dependentRequired":
        quoted = error.message.split("'")
        missing, because = (quoted[1], quoted[3]) if len(quoted) > 3 else ("", "")
        title = _title(schema, [*error.absolute_path, missing]) or missing
        reason = _title(schema, [*error.absolute_path, because]) or because
        return ".".join([*path, missing]), f"填写了{reason}时，请填写{title}"
    title = _title(schema, list(error.absolute_path)) or (path[-1] if path else "表单")
    field = ".".join(path) or "form"
    messages = {
        "type": f"{title}的类型不正确（应为{_TYPE_NAMES.get(str(value), value)}）",
        "enum": f"{title}的取值不在允许范围内",
        "const": f"{title}的取值不正确",
        "pattern": f"{title}的格式不正确",
        "format": _format_message(title, str(value), error),
        "multipleOf": f"{title}应为 {value} 的倍数",
        "uniqueItems": f"{title}不能有重复项",
        "minLength": f"{title}至少 {value} 个字符",
        "maxLength": f"{title}最多 {value} 个字符",
        "minimum": f"{title}不能小于 {value}",
        "maximum": f"{title}不能大于 {value}",
        "exclusiveMinimum": f"{title}必须大于 {value}",
        "exclusiveMaximum": f"{title}必须小于 {value}",
        "minItems": f"{title}至少 {value} 项",
        "maxItems": f"{title}最多 {value} 项",
        "additionalProperties": "含有表单未定义的字段：" + "、".join(_extra_fields(error)),
    }
    return field, messages.get(validator, f"{title}不符合要求")


def _format_message(title: str, fmt: str, error: ValidationError) -> str:
    name = FORMAT_NAMES.get(fmt, fmt)
    if isinstance(error.cause, InvalidFormat):
        return f"{title}不是有效的{name}（{error.cause}）"
    return f"{title}不是有效的{name}"


def _extra_fields(error: ValidationError) -> list[str]:
    allowed = set((error.schema or {}).get("properties", {}))
    instance = error.instance if isinstance(error.instance, dict) else {}
    return sorted(str(key) for key in instance if key not in allowed)


_TYPE_NAMES = {
    "string": "文本",
    "integer": "整数",
    "number": "数字",
    "boolean": "是/否",
    "object": "对象",
    "array": "列表",
}
