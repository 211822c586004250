"""Documents (文书): staff and the applicant list and download a case's signed PDFs; anyone verifies one."""

from __future__ import annotations

from django.core.exceptions import RequestDataTooBig
from django.http import HttpResponse
from django.utils.http import content_disposition_header
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.parsers import BaseParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from workflow import selectors, services

from .errors import error_responses
from .presenters import DocumentSerializer
from .status import LookupSerializer, LookupThrottledApi

MAX_PDF_BYTES = 10 * 1024 * 1024
PDF_RESPONSE = {(200, "application/pdf"): OpenApiTypes.BINARY}


def pdf_response(document) -> HttpResponse:
    """The stored PDF as a download; its bytes are checked against the recorded sha256 first."""
    content = selectors.document_content(document)
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(True, document.filename)
    response["Content-Length"] = str(len(content))
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


class PdfDownloadMixin:
    """A download answers any Accept header: the PDF on success, the JSON error body otherwise."""

    def perform_content_negotiation(self, request, force=False):
        return super().perform_content_negotiation(request, force=True)


# --- staff -------------------------------------------------------------------------------------------------


class CaseDocumentListApi(APIView):
    """办件的文书（工作人员）：与办件详情的可见范围相同。"""

    @extend_schema(
        operation_id="case_documents",
        responses={200: DocumentSerializer(many=True), **error_responses(401, 403, 404)},
    )
    def get(self, request, case_no: str):
        case = selectors.case_get(user=request.user, case_no=case_no)
        return Response(DocumentSerializer(selectors.case_documents(case), many=True).data)


class CaseDocumentDownloadApi(PdfDownloadMixin, APIView):
    """下载一份文书（PDF，已电子签章）。"""

    @extend_schema(operation_id="case_document_download", responses={**PDF_RESPONSE, **error_responses(401, 403, 404)})
    def get(self, request, case_no: str, document_id: int):
        case = selectors.case_get(user=request.user, case_no=case_no)
        return pdf_response(selectors.case_document(case, document_id))


# --- the applicant -----------------------------------------------------------------------------------------


class ApplicantDocumentListApi(LookupThrottledApi):
    """申请人的文书列表（无需登录，凭办件编号 + 查询码；限流与办件查询相同）。"""

    @extend_schema(
        operation_id="case_status_documents",
        request=LookupSerializer,
        responses={200: DocumentSerializer(many=True), **error_responses(400, 404, 429)},
    )
    def post(self, request):
        data = LookupSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        case = self.lookup(**data.validated_data)
        return Response(DocumentSerializer(selectors.case_documents(case), many=True).data)


class ApplicantDocumentDownloadApi(PdfDownloadMixin, LookupThrottledApi):
    """申请人下载一份文书（PDF）。请求体与文书列表相同：办件编号 + 查询码。"""

    @extend_schema(
        operation_id="case_status_document_download",
        request=LookupSerializer,
        responses={**PDF_RESPONSE, **error_responses(400, 404, 429)},
    )
    def post(self, request, document_id: int):
        data = LookupSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        case = self.lookup(**data.validated_data)
        document = selectors.case_document(case, document_id)
        response = pdf_response(document)
        # 电子送达: the applicant's first download of a result document proves delivery (and concludes the case).
        services.result_download_record(case_id=case.pk, document=document)
        return response


# --- verification ------------------------------------------------------------------------------------------


class PdfParser(BaseParser):
    """The raw request body of ``Content-Type: application/pdf``, as bytes, up to MAX_PDF_BYTES."""

    media_type = "application/pdf"

    def parse(self, stream, media_type=None, parser_context=None) -> bytes:
        request = (parser_context or {}).get("request")
        declared = request.META.get("CONTENT_LENGTH") if request is not None else None
        if declared and declared.isdigit() and int(declared) > MAX_PDF_BYTES:
            raise RequestDataTooBig()
        data = stream.read(MAX_PDF_BYTES + 1) if stream is not None else b""
        if len(data) > MAX_PDF_BYTES:
            raise RequestDataTooBig()
        return data


class DocumentVerifyThrottle(AnonRateThrottle):
    scope = "document_verify"


class DocumentVerifyApi(APIView):
    """核验文书（任何人，无需登录）：请求体为 PDF 文件本身（Content-Type: application/pdf，最大 10 MB）。

    valid：由本大厅的电子印章签署且签署后未改动一个字节；known：与本系统出具时记录的 SHA-256 完全一致。
    对象或引用过多、或核验超出 CPU/内存/时间限制的文件答 413 document_too_complex；同时进行的核验已满时答
    503 busy（带 Retry-After），稍后重试即可（docs/security.md）。"""

    authentication_classes = []
    permission_classes = [AllowAny]
    parser_classes = [PdfParser]
    throttle_classes = [DocumentVerifyThrottle]

    class OutputSerializer(serializers.Serializer):
        valid = serializers.BooleanField(help_text="签名有效且文件未被改动")
        intact = serializers.BooleanField(help_text="签名后未改动任何字节")
        signer = serializers.CharField(allow_blank=True, help_text="签名证书的名称")
        signed_at = serializers.DateTimeField(allow_null=True, help_text="签名时间（签名人自报）")
        reason = serializers.CharField(help_text="有效，未被篡改 / 无效：原因")
        sha256 = serializers.CharField()
        known = serializers.BooleanField(help_text="本系统出具过这份文件（SHA-256 一致）")
        case_no = serializers.CharField(allow_null=True)
        kind = serializers.CharField(allow_null=True, help_text="文书类型编码")
        kind_label = serializers.CharField(allow_null=True, help_text="文书类型名称")
        title = serializers.CharField(allow_null=True)

    def handle_exception(self, exc):
        if isinstance(exc, exceptions.UnsupportedMediaType):
            body = {"code": "unsupported_media_type", "message": "请求体须为 PDF 文件（Content-Type: application/pdf）"}
            return Response(body, status=status.HTTP_415_UNSUPPORTED_MEDIA_TYPE)
        return super().handle_exception(exc)

    @extend_schema(
        operation_id="document_verify",
        request={"application/pdf": OpenApiTypes.BINARY},
        responses={200: OutputSerializer, **error_responses(400, 413, 415, 429, 503)},
        examples=[
            OpenApiExample(
                "有效",
                response_only=True,
                value={
                    "valid": True,
                    "intact": True,
                    "signer": "示范区政务服务中心电子印章",
                    "signed_at": "2026-11-26T10:30:00+08:00",
                    "reason": "有效，未被篡改",
                    "sha256": "…",
                    "known": True,
                    "case_no": "11010520261126000001",
                    "kind": "acceptance_receipt",
                    "kind_label": "受理回执",
                    "title": "受理回执",
                },
            )
        ],
    )
    def post(self, request):
        content = request.data
        if not isinstance(content, bytes) or not content:
            raise serializers.ValidationError({"file": ["请以请求体上传 PDF 文件（Content-Type: application/pdf）"]})
        return Response(self.OutputSerializer(selectors.document_verification(content)).data)
