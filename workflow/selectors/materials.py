"""Materials (申请材料): the one-thing's checklist as the views show it, the required-materials rule, and the
files handed in (申请材料文件) for whoever may see the case."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from ..access import staff_of
from ..errors import FileDamaged, NotFound, PermissionDenied
from ..intake import (  # noqa: F401  the intake record, read here like every other fact of the materials
    ENTERED_STATUSES,
    FORM_LABELS,
    INTAKE_STATUS_LABELS,
    MAX_COPIES,
    MISSING,
    NOT_APPLICABLE,
    PROMISED,
    RECEIVED,
    REUSED,
    IntakeRow,
    intake_entry,
    intake_record,
    recorded_intake,
)
from ..models import Case, MaterialFile
from ..models.documents import private_storage
from .permissions import Action, Facts, Viewer, allowed

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class MaterialUse:
    item_code: str
    item_name: str
    department: str
    name: str
    required: bool
    original: bool
    source: str


@dataclass(frozen=True)
class Material:
    """One entry of the merged checklist (一次告知): asked once, with every item that needs it."""

    code: str
    name: str
    description: str
    required: bool
    original: bool  # the original (原件) must be shown
    source: str  # "applicant", or "e_licence" (fetched from the e-licence library: 免提交)
    deferrable: bool  # 容缺: may follow later under a written promise
    needed_by: list[MaterialUse]
    departments: list[str]  # department names
    # Codes of the conditional items whose result stands for it: not asked when one of them applies (forms)
    produced_by: list[str] = field(default_factory=list)
    files: list[MaterialFile] = field(default_factory=list)
    commitment: str = ""  # 告知承诺: the text the applicant may sign in place of it ("" when not allowed)


def material_view(entry: Mapping, names: Mapping[str, str], files: Iterable[MaterialFile] = ()) -> Material:
    uses = [MaterialUse(**{k: use.get(k) for k in MaterialUse.__dataclass_fields__}) for use in entry["needed_by"]]
    return Material(
        code=entry["code"],
        name=entry["name"],
        description=entry.get("description", ""),
        required=bool(entry.get("required")),
        original=bool(entry.get("original")),
        source=entry.get("source", "applicant"),
        deferrable=bool(entry.get("deferrable")),
        commitment=entry.get("commitment", ""),
        needed_by=uses,
        departments=sorted({names.get(use.department, use.department) for use in uses}),
        produced_by=list(entry.get("produced_by") or []),
        files=list(files),
    )


def checklist(materials: Iterable[Mapping], names: Mapping[str, str]) -> list[Material]:
    """Material entries (a merged form's ``materials``, or a case's checklist for its answers) as view objects."""
    return [material_view(entry, names) for entry in materials or []]


def missing_required_materials(materials: Iterable[Mapping], received: Iterable[str]) -> list[str]:
    """The required rule of acceptance (形式审查: 材料齐全) over a case's checklist (the materials its answers
    need, ``compositions.materials_checklist``): names of the required materials that were neither received
    (handed in, attached from an earlier e-licence, or promised under 容缺) nor fetched from the e-licence
    library. Empty: complete."""
    received = set(received)
    return [
        entry["name"]
        for entry in materials or []
        if entry.get("required") and entry.get("source") != "e_licence" and entry["code"] not in received
    ]


def unknown_materials(materials: Iterable[Mapping], codes: Iterable[str]) -> list[str]:
    known = {entry["code"] for entry in materials or []}
    return sorted(set(codes) - known)


# --- material files (申请材料文件) --------------------------------------------------------------------------


@dataclass(frozen=True)
class MaterialGroup:
    """The case's files for one material, in checklist order; a file whose code left the checklist (a newer
    composition) is listed at the end under its code."""

    code: str
    name: str
    required: bool
    source: str
    deferrable: bool
    files: list[MaterialFile]
    may_upload: bool = False  # the viewer may upload a file for it now


@dataclass(frozen=True)
class MaterialsBlock:
    groups: list[MaterialGroup]
    may_remove: bool  # the viewer may remove files (the window, before 受理)

    @property
    def may_upload(self) -> bool:
        return any(group.may_upload for group in self.groups)

    @property
    def show(self) -> bool:
        return self.may_upload or any(group.files for group in self.groups)


def material_groups(case: Case, materials: Iterable[Mapping]) -> list[MaterialGroup]:
    """The case's files by the entries of its checklist (``materials``), then those of codes it does not list."""
    files: dict[str, list] = {}
    for row in MaterialFile.objects.filter(case=case).select_related("uploaded_by").order_by("uploaded_at", "id"):
        files.setdefault(row.material_code, []).append(row)
    groups = [
        MaterialGroup(
            code=entry["code"],
            name=entry["name"],
            required=bool(entry.get("required")),
            source=entry.get("source", "applicant"),
            deferrable=bool(entry.get("deferrable")),
            files=files.pop(entry["code"], []),
        )
        for entry in materials or []
    ]
    groups += [
        MaterialGroup(code=code, name=code, required=False, source="applicant", deferrable=False, files=rows)
        for code, rows in files.items()
    ]
    return groups


def materials_block(
    case: Case, materials: Iterable[Mapping], viewer: Viewer, facts: Facts | None = None
) -> MaterialsBlock:
    """The case page's materials: files per checklist material, which the viewer may upload to now (every one
    before 受理 and while a correction is awaited; a promised 容缺 material while the review runs) and whether
    files may still be removed (before 受理) — by the permission rules the upload services apply."""
    facts = facts or Facts()
    groups = material_groups(case, materials)
    if allowed(Action.UPLOAD_FILE, viewer, case, facts=facts):
        groups = [
            MaterialGroup(**{**group.__dict__, "may_upload": True})
            if allowed(Action.UPLOAD_FILE, viewer, case, facts=facts, material_code=group.code)
            else group
            for group in groups
        ]
    return MaterialsBlock(groups=groups, may_remove=allowed(Action.REMOVE_FILE, viewer, case, facts=facts))


def material_file_get(*, user, public_id, case_get) -> MaterialFile:
    """One file, for whoever may see its case; anyone else gets the same 404 as for an unknown id."""
    try:
        key = public_id if isinstance(public_id, uuid.UUID) else uuid.UUID(str(public_id))
    except ValueError:
        raise NotFound("未找到该文件") from None
    if staff_of(user) is None:
        raise PermissionDenied()
    row = MaterialFile.objects.select_related("case").filter(public_id=key, case__isnull=False).first()
    if row is None:
        raise NotFound("未找到该文件")
    try:
        case = case_get(user=user, case_no=row.case.case_no)
    except NotFound:
        raise NotFound("未找到该文件") from None
    row.case = case
    return row


def material_file_content(row) -> bytes:
    """The stored bytes, checked against the digest recorded at upload."""
    try:
        with private_storage().open(row.storage_name, "rb") as handle:
            content = handle.read()
    except FileNotFoundError:
        content = None
    if content is None or hashlib.sha256(content).hexdigest() != row.sha256:
        logger.error("material file %s of case %s is missing or altered", row.public_id, row.case_id)
        raise FileDamaged()
    return content


@dataclass(frozen=True)
class ApplicantFile:
    material_code: str
    material_name: str
    name: str
    content_type: str
    size: int
    uploaded_at: dt.datetime


def applicant_files(case: Case, materials: Iterable[Mapping]) -> list[ApplicantFile]:
    """What the applicant's status lookup shows of the files: material, file name, type and size — no content,
    no digest, no uploader. ``materials``: every material of the case's version, to name them."""
    names = {m["code"]: m["name"] for m in materials or []}
    return [
        ApplicantFile(code, names.get(code, code), name, content_type, size, at)
        for code, name, content_type, size, at in MaterialFile.objects.filter(case=case)
        .order_by("uploaded_at", "id")
        .values_list("material_code", "original_name", "content_type", "size", "uploaded_at")
    ]
