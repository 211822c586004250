"""The correction's materials on the screens (the status page and the window's correction page): which materials
the notice asks for, the files posted for them (parts named ``materials.<code>``, as in the API), and the service's
errors per material. The size limit for a correction's several files is installed before the body is read."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from workflow import selectors, services
from workflow.services import uploads as upload_rules


@dataclass
class AskedMaterial:
    code: str
    name: str
    reason: str
    input_name: str
    errors: list[str] = field(default_factory=list)


def asked_materials(notice: Iterable, merged: Mapping, errors: Mapping[str, list[str]] | None = None) -> list:
    asked = selectors.asked_materials(notice, merged)
    names = {m.get("code"): m.get("name", m.get("code")) for m in merged.get("materials") or []}
    errors = errors or {}
    return [
        AskedMaterial(
            code=code,
            name=names.get(code, code),
            reason=reason,
            input_name=f"materials.{code}",
            errors=list(errors.get(f"materials.{code}", [])),
        )
        for code, reason in asked.items()
    ]


def posted_files(request) -> dict[str, list]:
    """The uploaded files by material code; parts with another name are ignored (the page never sends them)."""
    return {
        key.removeprefix("materials."): request.FILES.getlist(key)
        for key in request.FILES
        if key.startswith("materials.") and key != "materials."
    }


def install_limit(request) -> str:
    """Install the size limit for a correction's files; the refusal message if the declared body is too large."""
    upload_rules.install_size_limit(request, services.CORRECTION_MAX_FILES)
    if upload_rules.declared_too_large(request.META, services.CORRECTION_MAX_FILES):
        return upload_rules.too_large().message
    return ""


def material_errors(service_errors: Mapping[str, list[str]]) -> dict[str, list[str]]:
    return {key: list(value) for key, value in service_errors.items() if key.startswith("materials.")}


def accept_attributes() -> dict[str, str]:
    return {"accept": upload_rules.ACCEPT_ATTRIBUTE, "accept_label": upload_rules.ALLOWED_LABEL}
