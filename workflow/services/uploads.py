"""Material files (申请材料文件): the window uploads a file for a material on the one-thing's checklist, or
removes one before acceptance.

A file is sniffed from its bytes (``workflow.uploads``) before any lock is taken; then, in one transaction with
the case row locked, the state and the checklist are checked, the bytes are written to private storage under
their digest (``materials/<case_no>/<sha256><ext>``, written to a temporary name and renamed, so a reader never
sees half a file), and only then the row and its audit event are inserted. A transaction that rolls back
after the write leaves at most a file nobody refers to, which the next upload of the same bytes reuses; it
never leaves a row without its file.

When may files be handed in: after 收件 and before 受理 (``received``), while the case waits for a correction
(``correction_required``), and — for a material accepted under a 容缺 promise — while the review runs or is
suspended for that promise: that upload is the promised material arriving, so it also fulfils the promise
(``case_promise_fulfil``, in the same transaction; a suspended case resumes).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Max, Sum

from .. import upload_limits, uploads
from ..access import require_role
from ..compositions import composition_of
from ..errors import CaseFilesLimit, FileTypeNotAllowed, NotFound, ValidationFailed
from ..events import case_event
from ..models import Case, CaseEvent, HumanTask, MaterialFile, MaterialPromise
from ..models.documents import make_private_dirs, private_storage
from ..selectors.cases import case_checklist
from ..selectors.permissions import PROMISE_STATES, ROLES, Action, Viewer, require
from .engine import lock_case
from .promises import case_promise_fulfil

_COPY_CHUNK = 1024 * 1024

# The HTTP boundary's part of the same rules: api/ and web/ put the size limit first among the upload handlers,
# so a body over the limit is refused before (declared) or while (streamed) it is read.
install_size_limit = upload_limits.install
declared_too_large = upload_limits.declared_too_large
too_large = upload_limits.too_large
max_bytes = upload_limits.max_bytes
human_size = upload_limits.human_size
ALLOWED_LABEL = uploads.ALLOWED_LABEL
ACCEPT_ATTRIBUTE = uploads.ACCEPT_ATTRIBUTE


@dataclass(frozen=True)
class PreparedFile:
    """A file checked before any lock: its size, type (sniffed from the bytes), digest and normalised name."""

    file: BinaryIO
    size: int
    sniffed: uploads.Sniffed
    sha256: str
    name: str


def prepare_file(file: BinaryIO, *, field: str = "file") -> PreparedFile:
    """Size, type and digest of ``file``, before any lock is taken. FileTooLarge (413), FileTypeNotAllowed (400,
    the message under ``field``)."""
    size = _size_of(file)
    if size > upload_limits.max_bytes():
        raise upload_limits.too_large()
    try:
        sniffed = uploads.sniff(file)
    except uploads.Rejected as exc:
        raise FileTypeNotAllowed(exc.message, field_errors={field: [exc.message]}) from None
    digest = _sha256(file)
    name = uploads.normalised_name(str(getattr(file, "name", "") or ""), sniffed)
    return PreparedFile(file=file, size=size, sniffed=sniffed, sha256=digest, name=name)


def material_file_upload(*, user, case_no: str, material_code: str, file: BinaryIO) -> MaterialFile:
    """Store ``file`` (a binary file object; its ``name`` is the client's file name) for ``material_code``.

    The same bytes uploaded again for the same material of the same case give back the existing row
    (``is_new`` False) and write nothing. Errors: FileTooLarge (413), FileTypeNotAllowed (400),
    ValidationFailed for a material not on the checklist (400), InvalidTransition (409), CaseFilesLimit (409).
    """
    require_role(user, *ROLES[Action.UPLOAD_FILE])
    prepared = prepare_file(file)

    with transaction.atomic():
        case = lock_case(case_no=case_no)
        require(Action.UPLOAD_FILE, Viewer.of(user), case)  # 收受分离: the accepting hall's window hands them in
        material = material_of(case, material_code)
        # before 受理 and while a correction is awaited, any material; during the review, a promised (容缺) one
        require(Action.UPLOAD_FILE, Viewer.of(user), case, material_code=material_code)
        promise = _outstanding_promise(case, material_code)
        row, event = store_file(case, material, prepared, user=user)
        if event is None:
            return row
        CaseEvent.objects.bulk_create([event])
        if promise is not None:
            case_promise_fulfil(user=user, case_no=case.case_no, material_code=material_code)
    return row


def store_file(
    case: Case, material: dict, prepared: PreparedFile, *, user, department: str = "window"
) -> tuple[MaterialFile, CaseEvent | None]:
    """With ``case`` locked and the upload allowed: the row for ``prepared`` (the existing one, ``is_new``
    False, for the same bytes of the same material) and its unsaved ``material_uploaded`` entry (None when
    nothing new was stored). ``user`` None: the applicant (on the status page)."""
    code = material["code"]
    existing = MaterialFile.objects.filter(case=case, material_code=code, sha256=prepared.sha256).first()
    if existing is not None:
        existing.is_new = False
        return existing, None
    _check_case_limits(case, prepared.size)
    storage_name = f"materials/{case.case_no}/{prepared.sha256}{prepared.sniffed.extension}"
    _write_blob(storage_name, prepared.file, prepared.sha256)
    row = MaterialFile.objects.create(
        case=case,
        material_code=code,
        original_name=prepared.name,
        content_type=prepared.sniffed.content_type,
        size=prepared.size,
        sha256=prepared.sha256,
        storage_name=storage_name,
        review_round=current_round(case),
        uploaded_by=user,
    )
    row.is_new = True
    event = case_event(
        case,
        "material_uploaded",
        user,
        department=department,
        nobody="申请人" if department == "applicant" else "系统",
        material=material["name"],
        material_code=code,
        file=str(row.public_id),
        name=prepared.name,
        content_type=prepared.sniffed.content_type,
        size=prepared.size,
        sha256=prepared.sha256,
    )
    return row, event


def material_file_remove(*, user, public_id: uuid.UUID | str) -> None:
    """Remove a file handed in by mistake: only before 受理 (the departments have seen nothing yet); after that
    the file is part of what was reviewed. The stored bytes are deleted after commit unless another row of the
    case still refers to them."""
    require_role(user, *ROLES[Action.REMOVE_FILE])
    found = MaterialFile.objects.filter(public_id=_uuid(public_id)).values_list("case_id", flat=True).first()
    if found is None:
        raise NotFound("未找到该文件")
    with transaction.atomic():
        case = lock_case(case_id=found)
        require(Action.REMOVE_FILE, Viewer.of(user), case)  # the accepting hall's window, before 受理 only
        row = MaterialFile.objects.filter(public_id=_uuid(public_id), case=case).first()
        if row is None:  # removed meanwhile
            raise NotFound("未找到该文件")
        material_name = _material_names(case).get(row.material_code, row.material_code)
        row.delete()
        CaseEvent.objects.bulk_create(
            [
                _event(
                    case,
                    "material_removed",
                    user,
                    material=material_name,
                    material_code=row.material_code,
                    file=str(row.public_id),
                    name=row.original_name,
                    sha256=row.sha256,
                )
            ]
        )
        case_id, storage_name = case.pk, row.storage_name
        transaction.on_commit(lambda: _collect_blob(case_id, storage_name))


def current_round(case: Case) -> int:
    """The number of department review rounds started so far: 0 before 受理."""
    return HumanTask.objects.filter(case=case, department__isnull=False).aggregate(n=Max("review_round"))["n"] or 0


def material_file_path(row: MaterialFile) -> Path:
    return Path(private_storage().path(row.storage_name))


# --- checks -----------------------------------------------------------------------------------------------


def _material_names(case: Case) -> dict[str, str]:
    return {m["code"]: m["name"] for m in composition_of(case).materials}


def material_of(case: Case, material_code: str, *, field: str = "material_code") -> dict:
    """The checklist's entry for ``material_code`` (the items that apply to the case), else ValidationFailed."""
    for material in case_checklist(case):
        if material["code"] == material_code:
            return material
    message = f"“{material_code}”不在本一件事的材料清单中"
    raise ValidationFailed(message, field_errors={field: [message]})


def _outstanding_promise(case: Case, material_code: str) -> MaterialPromise | None:
    """The outstanding 容缺 promise this upload fulfils (while the review runs), or None."""
    if case.status not in PROMISE_STATES:
        return None
    return MaterialPromise.objects.filter(case=case, material_code=material_code, fulfilled_at=None).first()


def _check_case_limits(case: Case, size: int) -> None:
    held = MaterialFile.objects.filter(case=case).aggregate(n=Count("id"), total=Sum("size"))
    count, total = held["n"], held["total"] or 0
    max_files = int(settings.ONETHING_UPLOAD_MAX_FILES_PER_CASE)
    max_total = int(settings.ONETHING_UPLOAD_MAX_BYTES_PER_CASE)
    if count + 1 > max_files or total + size > max_total:
        raise CaseFilesLimit(
            f"本办件的材料文件已达上限（最多 {max_files} 个、共 {upload_limits.human_size(max_total)}），"
            "请删除不需要的文件后再上传"
        )


# --- storage ----------------------------------------------------------------------------------------------


def _size_of(file: BinaryIO) -> int:
    file.seek(0, os.SEEK_END)
    size = file.tell()
    file.seek(0)
    return size


def _sha256(file: BinaryIO) -> str:
    digest = hashlib.sha256()
    file.seek(0)
    while chunk := file.read(_COPY_CHUNK):
        digest.update(chunk)
    file.seek(0)
    return digest.hexdigest()


def _write_blob(storage_name: str, file: BinaryIO, digest: str) -> None:
    """The bytes under their digest's name, unless a whole copy is already there. Written to a temporary file
    in the same folder and renamed: readers see the whole file or none."""
    target = Path(private_storage().path(storage_name))
    if target.exists() and _file_digest(target) == digest:
        return
    make_private_dirs(target.parent)
    fd, temp = tempfile.mkstemp(prefix=".upload-", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            file.seek(0)
            while chunk := file.read(_COPY_CHUNK):
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temp, 0o600)
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    finally:
        file.seek(0)


def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_COPY_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _collect_blob(case_id: int, storage_name: str) -> None:
    """After a removal commits: delete the bytes if no row of the case refers to them any more. Under the case
    lock, so an upload of the same bytes (which writes under the same lock) cannot lose its file."""
    with transaction.atomic():
        case = Case.objects.select_for_update().filter(pk=case_id).first()
        if case is None or MaterialFile.objects.filter(case=case, storage_name=storage_name).exists():
            return
        Path(private_storage().path(storage_name)).unlink(missing_ok=True)


def _event(case: Case, kind: str, actor, **data) -> CaseEvent:
    return case_event(case, kind, actor, department="window", nobody="系统", **data)


def _uuid(value) -> uuid.UUID | None:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except ValueError:
        return None


def draft_file_upload(*, draft, materials: list[dict], material_code: str, file: BinaryIO) -> MaterialFile:
    """A material file for an applicant's draft (网上申报): the same size limit, content sniffing, digest storage and
    per-case limits as the window's; the row joins the case when the draft is submitted. ``draft`` is the
    applicant's own (checked by ``services.applicant_apply``), ``materials`` its one-thing's checklist."""
    if material_code not in {m.get("code") for m in materials}:
        raise ValidationFailed(field_errors={"material_code": [f"“{material_code}”不在本一件事的材料清单中"]})
    size = _size_of(file)
    if size > upload_limits.max_bytes():
        raise upload_limits.too_large()
    try:
        sniffed = uploads.sniff(file)
    except uploads.Rejected as exc:
        raise FileTypeNotAllowed(exc.message, field_errors={"file": [exc.message]}) from None
    digest = _sha256(file)
    name = uploads.normalised_name(str(getattr(file, "name", "") or ""), sniffed)
    with transaction.atomic():
        type(draft).objects.select_for_update().filter(pk=draft.pk).first()
        existing = MaterialFile.objects.filter(draft=draft, material_code=material_code, sha256=digest).first()
        if existing is not None:
            existing.is_new = False
            return existing
        held = MaterialFile.objects.filter(draft=draft).aggregate(n=Count("id"), total=Sum("size"))
        max_files = int(settings.ONETHING_UPLOAD_MAX_FILES_PER_CASE)
        max_total = int(settings.ONETHING_UPLOAD_MAX_BYTES_PER_CASE)
        if held["n"] + 1 > max_files or (held["total"] or 0) + size > max_total:
            raise CaseFilesLimit(
                f"材料文件已达上限（最多 {max_files} 个、共 {upload_limits.human_size(max_total)}），"
                "请删除不需要的文件后再上传"
            )
        storage_name = f"materials/draft-{draft.pk}/{digest}{sniffed.extension}"
        _write_blob(storage_name, file, digest)
        row = MaterialFile.objects.create(
            draft=draft,
            material_code=material_code,
            original_name=name,
            content_type=sniffed.content_type,
            size=size,
            sha256=digest,
            storage_name=storage_name,
        )
    row.is_new = True
    return row
