"""The JSON parser every endpoint uses: refuses what PostgreSQL or Python cannot hold, as a 400."""

from __future__ import annotations

import codecs
import json

from django.conf import settings
from rest_framework.exceptions import ParseError, ValidationError
from rest_framework.parsers import JSONParser

MAX_DEPTH = 32


class StrictJSONParser(JSONParser):
    """Plain JSON, but: no nesting deeper than MAX_DEPTH (a deep body would overflow the parser's stack), and
    no NUL characters or lone surrogates in any string or key (PostgreSQL text and UTF-8 cannot hold them)."""

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = codecs.getreader(encoding)(stream).read()
        except UnicodeDecodeError:
            raise ParseError("请求体不是有效的 UTF-8 文本") from None
        if _nesting_depth(text) > MAX_DEPTH:
            raise ParseError(f"请求体嵌套层级超过 {MAX_DEPTH} 层")
        try:
            data = json.loads(text, parse_constant=_refuse_constant)
        except (ValueError, RecursionError):
            raise ParseError("请求体不是有效的 JSON") from None
        _check_strings(data)
        return data


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not JSON")  # NaN and Infinity: Python accepts them, JSON does not


def _nesting_depth(text: str) -> int:
    """Bracket depth outside strings: cheap, and computed before json.loads can recurse."""
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


def _check_strings(data) -> None:
    """Field errors (as for any invalid field) naming where a NUL or a lone surrogate sits."""
    errors: dict[str, list[str]] = {}
    stack: list[tuple[object, str]] = [(data, "")]
    while stack:
        value, path = stack.pop()
        if isinstance(value, dict):
            for key, item in value.items():
                key_path = f"{path}.{key}" if path else str(key)
                problem = _string_problem(key)
                if problem:
                    errors.setdefault(path or "non_field_errors", []).append(f"字段名{problem}")
                stack.append((item, key_path))
        elif isinstance(value, list):
            stack.extend((item, f"{path}.{i}" if path else str(i)) for i, item in enumerate(value))
        elif isinstance(value, str):
            problem = _string_problem(value)
            if problem:
                errors.setdefault(path or "non_field_errors", []).append(problem)
    if errors:
        raise ValidationError({key: sorted(set(messages)) for key, messages in errors.items()})


def _string_problem(text: str) -> str:
    if "\x00" in text:
        return "含有不允许的空字符（NUL）"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "含有无效的 Unicode 字符"
    return ""
