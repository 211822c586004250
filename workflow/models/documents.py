"""Issued documents (文书): signed PDFs kept in private storage, one per case and idempotency key."""

from __future__ import annotations

import os
from pathlib import Path

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.db import models

from ..documents.kinds import DocumentKind
from .case import Case


class PrivateStorage(FileSystemStorage):
    """Files under ``settings.ONETHING_PRIVATE_MEDIA_ROOT``, never under a served URL.

    The location is read on every use (not frozen at import), so tests and deployments can point it
    anywhere; files are readable by the service user only. There is no URL: documents are served by
    views that check who is asking.
    """

    def __init__(self):
        super().__init__(file_permissions_mode=0o600, directory_permissions_mode=0o700)

    @property
    def base_location(self):
        return str(settings.ONETHING_PRIVATE_MEDIA_ROOT)

    @property
    def location(self):
        return str(Path(self.base_location).resolve())

    def url(self, name):
        raise ValueError("私有存储中的文件没有公开网址，请通过文书下载接口获取")


_private_storage = PrivateStorage()


def make_private_dirs(folder: Path) -> None:
    """``folder`` and every missing parent, each 0700 (``Path.mkdir(parents=True)`` gives the parents the default
    mode, 0755 under the usual umask: a world-readable ``materials/`` listing every case number and digest)."""
    missing = []
    for candidate in (folder, *folder.parents):
        if candidate.exists():
            break
        missing.append(candidate)
    for path in reversed(missing):
        path.mkdir(mode=0o700, exist_ok=True)
        os.chmod(path, 0o700)  # the umask may have taken bits off


def private_storage() -> PrivateStorage:
    """The storage callable the field references (keeps the migration free of paths)."""
    return _private_storage


def document_path(document: Document, filename: str) -> str:
    return f"documents/{document.case.case_no}/{filename}"


class Document(models.Model):
    """A notice or e-licence as issued: immutable once written.

    ``key`` makes issuance idempotent: ``acceptance_receipt``, ``refusal_notice``,
    ``correction_notice:round-<n>``, ``conclusion_notice``, ``e_licence:<item code>``; a second run of the
    issuing task finds the row and writes nothing.
    """

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="documents", verbose_name="办件")
    kind = models.CharField("文书类型", max_length=32, choices=DocumentKind.choices)
    key = models.CharField("文书标识", max_length=100, help_text="同一办件内唯一，保证重复执行不会再出一份")
    title = models.CharField("标题", max_length=200)
    file = models.FileField("文件", storage=private_storage, upload_to=document_path, max_length=255)
    sha256 = models.CharField("SHA-256", max_length=64, db_index=True)
    size = models.PositiveIntegerField("字节数")
    signed = models.BooleanField("已电子签章", default=False)
    created_at = models.DateTimeField("出具时间", auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "文书"
        ordering = ["created_at", "id"]
        constraints = [models.UniqueConstraint(fields=["case", "key"], name="document_key_unique_per_case")]

    def __str__(self) -> str:
        return f"{self.case_id}:{self.key}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("文书出具后不可修改")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("文书出具后不可删除")

    @property
    def filename(self) -> str:
        """The download name, e.g. 受理回执-11010520261126000001.pdf."""
        return f"{self.title}-{self.case.case_no}.pdf"
