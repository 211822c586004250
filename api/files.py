"""Material files (申请材料文件): the window uploads and removes them; staff who see the case list, preview and
download them. Type and size are decided by ``workflow.uploads`` / ``workflow.upload_limits``, not here."""

from __future__ import annotations

from django.http import HttpResponse
from django.utils.http import content_disposition_header
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from workflow import selectors, services
from workflow.services import uploads as upload_rules

from .errors import error_responses

INLINE_TYPES = {"application/pdf", "image/jpeg", "image/png"}


class MaterialFileSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="public_id", help_text="文件标识（用于下载、预览、删除）")
    material_code = serializers.CharField(help_text="材料编码")
    name = serializers.CharField(source="original_name", help_text="文件名（扩展名按识别出的类型规范化）")
    content_type = serializers.CharField(
        help_text="按文件内容识别的类型：application/pdf、image/jpeg、image/png、application/ofd"
    )
    size = serializers.IntegerField(help_text="字节数")
    sha256 = serializers.CharField(help_text="内容的 SHA-256")
    review_round = serializers.IntegerField(min_value=0, help_text="上传时已开始的部门审查轮次：0 为受理前")
    uploaded_by = serializers.CharField(source="uploaded_by.username", allow_null=True, default=None)
    uploaded_at = serializers.DateTimeField()


class MaterialGroupSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="材料编码")
    name = serializers.CharField(help_text="材料名称")
    required = serializers.BooleanField(default=False, help_text="必交")
    source = serializers.CharField(default="applicant", help_text="applicant：申请人提交；e_licence：电子证照库调取")
    deferrable = serializers.BooleanField(default=False, help_text="可容缺受理")
    files = MaterialFileSerializer(many=True)


class UploadMixin:
    """The size limit goes first among the upload handlers, before authentication: the session check for CSRF
    would otherwise parse the body with the default handlers. A declared Content-Length over the limit is
    refused before a byte of the body is read. ``max_files``: how many files one request may carry."""

    max_files = 1
    unsupported_message = "请以 multipart/form-data 上传文件"

    def initialize_request(self, request, *args, **kwargs):
        if request.method == "POST":
            upload_rules.install_size_limit(request, self.max_files)
        return super().initialize_request(request, *args, **kwargs)

    def initial(self, request, *args, **kwargs):
        if request.method == "POST" and upload_rules.declared_too_large(request.META, self.max_files):
            raise upload_rules.too_large()
        super().initial(request, *args, **kwargs)

    def handle_exception(self, exc):
        if isinstance(exc, exceptions.UnsupportedMediaType):
            body = {"code": "unsupported_media_type", "message": self.unsupported_message}
            return Response(body, status=status.HTTP_415_UNSUPPORTED_MEDIA_TYPE)
        if isinstance(exc, exceptions.ParseError):
            body = {"code": "malformed_request", "message": "请求体不是有效的 multipart/form-data"}
            return Response(body, status=status.HTTP_400_BAD_REQUEST)
        return super().handle_exception(exc)


class CaseFileListApi(UploadMixin, APIView):
    """办件的材料文件：按材料清单分组列出（可见范围与办件详情相同）；综合窗口上传文件。"""

    parser_classes = [MultiPartParser]

    class InputSerializer(serializers.Serializer):
        material_code = serializers.CharField(max_length=64, help_text="材料编码（须在一件事的材料清单中）")
        file = serializers.FileField(
            allow_empty_file=True,  # refused by the upload service, with the message naming the allowed types
            help_text=f"文件：{upload_rules.ALLOWED_LABEL}，按内容识别类型；单个文件默认不超过 10 MB",
        )

    @extend_schema(
        operation_id="case_files",
        responses={200: MaterialGroupSerializer(many=True), **error_responses(401, 403, 404)},
    )
    def get(self, request, case_no: str):
        _, groups = selectors.case_material_files(user=request.user, case_no=case_no)
        return Response(MaterialGroupSerializer(groups, many=True).data)

    @extend_schema(
        operation_id="case_file_upload",
        request={"multipart/form-data": InputSerializer},
        responses={
            201: MaterialFileSerializer,
            200: MaterialFileSerializer,
            **error_responses(400, 401, 403, 404, 409, 413, 415),
        },
        description=(
            "上传一份材料文件（综合窗口）：收件后受理前、待补正时可上传；已容缺受理的材料在审查中或中止时上传即为补交"
            "（同时登记容缺材料已补交）。只接受 PDF、JPG/JPEG、PNG、OFD，类型按文件内容识别（与文件名、Content-Type"
            " 无关）；过大为 413 file_too_large，类型不允许为 400 file_type_not_allowed。同一材料再次上传相同内容返回"
            "已有文件（200）。"
        ),
    )
    def post(self, request, case_no: str):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        row = services.material_file_upload(
            user=request.user,
            case_no=case_no,
            material_code=data.validated_data["material_code"],
            file=data.validated_data["file"],
        )
        return Response(
            MaterialFileSerializer(row).data, status=status.HTTP_201_CREATED if row.is_new else status.HTTP_200_OK
        )


def file_response(row, content: bytes, *, inline: bool) -> HttpResponse:
    """The stored bytes with the sniffed type, never sniffed again by the browser, in a sandbox (no scripts, no
    same-origin access, even if a viewer were fooled); an attachment unless a preview of an image or PDF is asked."""
    inline = inline and row.content_type in INLINE_TYPES
    response = HttpResponse(content, content_type=row.content_type)
    response["Content-Disposition"] = content_disposition_header(not inline, row.original_name)
    response["Content-Length"] = str(len(content))
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'"
    response["Cache-Control"] = "private, no-store"
    return response


FILE_RESPONSES = {
    (200, "application/pdf"): OpenApiTypes.BINARY,
    (200, "image/jpeg"): OpenApiTypes.BINARY,
    (200, "image/png"): OpenApiTypes.BINARY,
    (200, "application/ofd"): OpenApiTypes.BINARY,
}


class FileDetailApi(APIView):
    """下载或预览一份材料文件（可见范围与办件相同）；综合窗口在受理前删除。"""

    def perform_content_negotiation(self, request, force=False):
        # A download answers any Accept header: the file on success, the JSON error body otherwise.
        return super().perform_content_negotiation(request, force=True)

    @extend_schema(
        operation_id="file_download",
        parameters=[
            OpenApiParameter(
                "inline",
                OpenApiTypes.BOOL,
                required=False,
                description="1：在浏览器中预览（仅图片和 PDF）；默认作为附件下载",
            )
        ],
        responses={**FILE_RESPONSES, **error_responses(401, 403, 404, 500)},
    )
    def get(self, request, public_id):
        row = selectors.material_file_get(user=request.user, public_id=public_id)
        content = selectors.material_file_content(row)
        inline = request.query_params.get("inline", "").lower() in {"1", "true", "yes"}
        return file_response(row, content, inline=inline)

    @extend_schema(operation_id="file_remove", responses={204: None, **error_responses(401, 403, 404, 409)})
    def delete(self, request, public_id):
        services.material_file_remove(user=request.user, public_id=public_id)
        return Response(status=status.HTTP_204_NO_CONTENT)
