"""Every error, domain or framework, becomes ``{"code", "message", "errors"?}`` with the right status."""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

from workflow.errors import DomainError

logger = logging.getLogger(__name__)

_DRF_CODES: list[tuple[type, str, str]] = [
    (exceptions.NotAuthenticated, "not_authenticated", "请先登录"),
    (exceptions.AuthenticationFailed, "authentication_failed", "登录信息无效"),
    (exceptions.PermissionDenied, "permission_denied", "无权执行此操作"),
    (exceptions.NotFound, "not_found", "未找到"),
    (exceptions.MethodNotAllowed, "method_not_allowed", "不支持该请求方法"),
    (exceptions.NotAcceptable, "not_acceptable", "无法提供所请求的格式"),
    (exceptions.UnsupportedMediaType, "unsupported_media_type", "请求体须为 JSON（Content-Type: application/json）"),
    (exceptions.ParseError, "malformed_request", "请求体不是有效的 JSON"),
    (exceptions.Throttled, "throttled", "请求过于频繁，请稍后再试"),
]


def _body(code: str, message: str, errors: dict | None = None) -> dict:
    body = {"code": code, "message": message}
    if errors:
        body["errors"] = errors
    return body


def _flatten(detail, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error detail → {"field.sub": ["message", ...]}."""
    if isinstance(detail, dict):
        out: dict[str, list[str]] = {}
        for key, value in detail.items():
            name = str(key)
            out.update(_flatten(value, f"{prefix}.{name}" if prefix else name))
        return out
    if isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            return {prefix or "non_field_errors": [str(item) for item in detail]}
        out = {}
        for index, item in enumerate(detail):
            out.update(_flatten(item, f"{prefix}.{index}" if prefix else str(index)))
        return out
    return {prefix or "non_field_errors": [str(detail)]}


def exception_handler(exc, context):
    if isinstance(exc, DomainError):
        set_rollback()
        headers = {"Retry-After": str(exc.extra["retry_after"])} if "retry_after" in exc.extra else None
        return Response(_body(exc.code, exc.message, exc.field_errors), status=exc.http_status, headers=headers)
    if isinstance(exc, Http404):
        return Response(_body("not_found", "未找到"), status=status.HTTP_404_NOT_FOUND)
    if isinstance(exc, DjangoPermissionDenied):
        return Response(_body("permission_denied", "无权执行此操作"), status=status.HTTP_403_FORBIDDEN)
    if isinstance(exc, OperationalError | InterfaceError):
        # PostgreSQL restarting, unreachable or out of connections: nothing was committed (the step's
        # transaction is rolled back with the connection), so the client may simply retry. Django drops
        # the broken connection at the end of the request (CONN_HEALTH_CHECKS) and reconnects on the next.
        logger.warning("database unavailable: %s", exc)
        return Response(
            _body("database_unavailable", "数据库暂时不可用，请稍后重试"),
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": "5"},
        )
    if isinstance(exc, RequestDataTooBig):
        return Response(_body("too_large", "请求体过大"), status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    if isinstance(exc, exceptions.ValidationError):
        return Response(_body("invalid", "提交的数据有误", _flatten(exc.detail)), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, exceptions.APIException):
        for cls, code, message in _DRF_CODES:
            if isinstance(exc, cls):
                headers = {}
                if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
                    headers["Retry-After"] = str(int(exc.wait) + 1)
                if getattr(exc, "auth_header", None):
                    headers["WWW-Authenticate"] = exc.auth_header
                return Response(_body(code, message), status=exc.status_code, headers=headers)
        return Response(_body("error", str(exc.detail)), status=exc.status_code)
    return None
