"""Material files on the screens: the window uploads (a plain multipart form per material) and removes before
受理; whoever may see the case previews or downloads. The same services and selectors as the API."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_POST

from workflow import selectors, services
from workflow.errors import Conflict, DomainError, FileTooLarge, ValidationFailed
from workflow.services import uploads as upload_rules

from ..access import WINDOW, staff_view

INLINE_TYPES = {"application/pdf", "image/jpeg", "image/png"}


def _back(case_no: str):
    return redirect(reverse("web:case", kwargs={"case_no": case_no}) + "#materials")


@csrf_exempt  # checked inside, once the size limit is the first upload handler (the check reads the body)
@require_POST
def file_upload(request, case_no: str):
    """上传材料文件. A body declared too large is refused before it is read; one larger than declared is
    stopped while it streams in (workflow/upload_limits.py)."""
    upload_rules.install_size_limit(request)
    if upload_rules.declared_too_large(request.META):
        messages.error(request, upload_rules.too_large().message)
        return _back(case_no)
    try:
        return _file_upload(request, case_no=case_no)
    except (FileTooLarge, ValidationFailed) as exc:  # raised while the body was parsed
        messages.error(request, exc.message)
        return _back(case_no)


@staff_view(*WINDOW)  # the role first: only then is the body read (by the CSRF check)
@csrf_protect
def _file_upload(request, case_no: str):
    material_code = request.POST.get("material_code", "")
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, "请选择要上传的文件")
        return _back(case_no)
    try:
        row = services.material_file_upload(
            user=request.user, case_no=case_no, material_code=material_code, file=upload
        )
    except (ValidationFailed, Conflict, FileTooLarge) as exc:
        messages.error(request, exc.message)
    else:
        if row.is_new:
            messages.success(request, f"已上传：{row.original_name}")
        else:
            messages.info(request, f"该材料已有相同内容的文件：{row.original_name}")
    return _back(case_no)


@require_POST
@staff_view(*WINDOW)
def file_remove(request, case_no: str, public_id):
    try:
        services.material_file_remove(user=request.user, public_id=public_id)
    except Conflict as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "已删除该文件")
    return _back(case_no)


@require_GET
@xframe_options_sameorigin  # the task page previews PDFs in an <iframe>
@staff_view()
def file_view(request, public_id):
    """A material file for whoever may see its case (else 404): an attachment, or with ``?inline=1`` an image or
    PDF to preview. The sniffed type, nosniff, and a CSP sandbox: nothing in the file runs as this site."""
    row = selectors.material_file_get(user=request.user, public_id=public_id)
    try:
        content = selectors.material_file_content(row)
    except DomainError as exc:
        return HttpResponse(exc.message, status=exc.http_status, content_type="text/plain; charset=utf-8")
    inline = request.GET.get("inline") == "1" and row.content_type in INLINE_TYPES
    response = HttpResponse(content, content_type=row.content_type)
    response["Content-Disposition"] = content_disposition_header(not inline, row.original_name)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'"
    response["Cache-Control"] = "private, no-store"
    return response


def upload_limits() -> dict:
    """What the upload rows state: the allowed types and the size limit."""
    return {
        "allowed": upload_rules.ALLOWED_LABEL,
        "accept": upload_rules.ACCEPT_ATTRIBUTE,
        "max_label": upload_rules.human_size(upload_rules.max_bytes()),
    }
