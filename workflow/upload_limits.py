"""The upload size limit, enforced before and while the request body is read.

``ONETHING_UPLOAD_MAX_BYTES`` bounds the file; a multipart body may carry that plus a little for the other
fields and the boundaries (``MULTIPART_OVERHEAD``). :class:`LimitedUploadHandler` goes first in the request's
upload handlers and

1. refuses a declared ``Content-Length`` above the bound before a byte of the body is read;
2. counts the file bytes as they stream in and stops at the limit, so a body whose parts are larger than
   its headers say cannot get past either (Django never reads beyond ``Content-Length``, and a body without
   one — chunked — reads as empty);
3. allows one file per request (``max_files`` more where a form carries several, such as a correction's
   materials: each file within the limit, the body within that many files).

It raises :class:`~workflow.errors.FileTooLarge` (HTTP 413, ``file_too_large``). Views must install it before
anything reads ``request.POST`` / ``request.FILES`` (for the screens that means before the CSRF check:
``csrf_exempt`` outside, ``csrf_protect`` inside — see web/views/files.py).
"""

from __future__ import annotations

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler

from .errors import FileTooLarge, ValidationFailed

MULTIPART_OVERHEAD = 64 * 1024


def max_bytes() -> int:
    return int(settings.ONETHING_UPLOAD_MAX_BYTES)


def human_size(size: int) -> str:
    """1536 → "1.5 KB", 10485760 → "10 MB" (binary units, as halls' scanners report them)."""
    value = float(size)
    for unit in ("B", "KB", "MB"):
        if value < 1024 or unit == "MB":
            text = f"{value:.1f}".rstrip("0").rstrip(".") if unit != "B" else str(int(value))
            return f"{text} {unit}"
        value /= 1024
    return f"{size} B"  # pragma: no cover


def too_large() -> FileTooLarge:
    return FileTooLarge(f"文件过大：单个文件不能超过 {human_size(max_bytes())}")


def declared_too_large(meta, max_files: int = 1) -> bool:
    """The request's Content-Length is above what ``max_files`` files and the form fields may take."""
    try:
        declared = int(meta.get("CONTENT_LENGTH") or 0)
    except (TypeError, ValueError):
        return False
    return declared > max_files * max_bytes() + MULTIPART_OVERHEAD


class LimitedUploadHandler(FileUploadHandler):
    def __init__(self, request=None, max_files: int = 1):
        super().__init__(request)
        self.received = 0
        self.files = 0
        self.max_files = max_files

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        if content_length > self.max_files * max_bytes() + MULTIPART_OVERHEAD:
            raise too_large()
        return None  # let the usual handlers parse

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.files += 1
        self.received = 0  # the limit is per file
        if self.files > self.max_files:
            self._interrupt_others()
            message = "一次只能上传一个文件" if self.max_files == 1 else f"一次最多上传 {self.max_files} 个文件"
            raise ValidationFailed(message, field_errors={"file": [message]})

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > max_bytes():
            self._interrupt_others()
            raise too_large()
        return raw_data

    def file_complete(self, file_size):
        return None  # the next handler (memory or temporary file) builds the UploadedFile

    def _interrupt_others(self) -> None:
        """Remove the temporary file the next handler has been writing, now rather than at garbage collection."""
        for handler in getattr(self.request, "upload_handlers", []) or []:
            if handler is not self:
                handler.upload_interrupted()


def install(request, max_files: int = 1) -> None:
    """Put the limit first in ``request``'s upload handlers (before the body is parsed)."""
    handlers = [h for h in request.upload_handlers if not isinstance(h, LimitedUploadHandler)]
    request.upload_handlers = [LimitedUploadHandler(request, max_files), *handlers]
