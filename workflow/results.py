"""The unified result (统一反馈): each item's outcome, and the e-licences issued with an approval.

A review task stands for one catalogue item: the one the case's composition version maps its BPMN element to
(``workflow/compositions.py``: computed when the version was published, so a later reorder of the catalogue's
items changes nothing for a running case). A review whose items stopped applying after a correction
(不再适用, ``HumanTask.not_applicable_reason``) shows so and issues no licence.
"""

from __future__ import annotations

import datetime as dt

from django.db import connection
from django.db.models import Q
from django.utils import timezone

from .compositions import composition_of, materials_checklist
from .licence_numbers import default_licence_number
from .models import Case, Decision, ELicence, HumanTask, MaterialPromise, MaterialReuse


def latest_reviews(tasks: list[HumanTask]) -> list[HumanTask]:
    """Each review element's latest round, in the order the reviews first opened."""
    latest: dict[str, HumanTask] = {}
    for task in sorted(tasks, key=lambda t: (t.created_at, t.pk)):
        if task.department_id:
            latest.pop(task.element_id, None)
            latest[task.element_id] = task
    return sorted(latest.values(), key=lambda t: min(x.pk for x in tasks if x.element_id == t.element_id))


def case_results(case: Case, tasks: list[HumanTask]) -> list[dict]:
    """One row per item: its department's latest decision and, when approved, its licence; an item that no
    longer applies says so, with the reason."""
    composition = composition_of(case)
    licences = {licence.task_id: licence for licence in ELicence.objects.filter(case=case)}
    rows = []
    for task in latest_reviews(tasks):
        item = composition.item_of_task(task)
        licence = licences.get(task.pk)
        rows.append(
            {
                "item_code": item.code if item else "",
                "item": item.name if item else task.name,
                "department": task.lane,
                "department_name": task.department.name,
                "decision": task.decision,
                "decision_label": task.get_decision_display() if task.decision else "",
                "opinion": task.opinion,
                "licence_no": licence.number if licence else "",
                "valid_from": licence.valid_from if licence else None,
                "valid_to": licence.valid_to if licence else None,
                # 秒批, and a licence revoked after its post-review (事后复核), shown to the applicant too.
                "auto_approved": task.auto_approved,
                "licence_revoked": bool(licence and licence.revoked_at),
                "licence_revoked_at": licence.revoked_at if licence else None,
                "licence_revoked_reason": licence.revoked_reason if licence else "",
                # 不再适用: a correction changed the answers its condition rests on; its decision issues nothing.
                "applicable": not task.not_applicable_reason,
                "not_applicable_reason": task.not_applicable_reason,
            }
        )
    return rows


def issue_licences(case: Case, *, withheld: list | None = None) -> list[ELicence]:
    """Called in the approving transaction: one e-licence per approved item that still applies, numbered by the
    department's result or, without one, from the case number and item code. The item is the one the case's
    composition maps the review to.

    容缺 at the end: an item one of whose materials is still promised (an outstanding ``MaterialPromise``) gets
    no licence yet; it is appended to ``withheld`` as ``(item, [material names])`` and issued when the last of
    those promises is kept (``services.promises``). A review that already has its licence is skipped, so the
    call may be repeated."""
    composition = composition_of(case)
    tasks = list(HumanTask.objects.filter(case=case).select_related("department"))
    promised = {}
    if getattr(case, "has_outstanding_promises", True):  # known from the case's lock (services.engine.lock_case)
        outstanding = MaterialPromise.objects.filter(case=case, fulfilled_at=None)
        promised = dict(outstanding.values_list("material_code", "material_name"))
    licensed = set(ELicence.objects.filter(case=case).values_list("task_id", flat=True)) if withheld is None else set()
    today = timezone.localdate()
    licences = []
    for task in latest_reviews(tasks):
        item = composition.item_of_task(task)
        if task.decision != Decision.APPROVE or item is None or task.not_applicable_reason or task.pk in licensed:
            continue
        waiting = [promised[m["code"]] for m in item.snapshot.get("materials") or [] if m.get("code") in promised]
        if waiting:
            if withheld is not None:
                withheld.append((item, waiting))
            continue
        result = task.result or {}
        licences.append(
            ELicence(
                number=result.get("licence_no") or default_licence_number(case.case_no, item.code),
                case=case,
                task=task,
                item_id=item.item_id,
                item_name=item.name,
                issuer_id=task.lane,
                holder_name=case.form_data.get("enterprise_name") or case.applicant_name,
                holder_id_number=case.form_data.get("credit_code") or case.applicant_id_number,
                valid_from=dt.date.fromisoformat(result["valid_from"]) if result.get("valid_from") else today,
                valid_to=dt.date.fromisoformat(result["valid_to"]) if result.get("valid_to") else None,
            )
        )
    return ELicence.objects.bulk_create(licences)


def reuse_licences(case: Case) -> list[MaterialReuse]:
    """免提交: attach, for each material on the case's checklist, the newest valid (unrevoked) e-licence an
    earlier case issued to the same holder (the enterprise's credit code or the applicant's ID) that stands for it."""
    wanted = {m["code"]: m["name"] for m in materials_checklist(case)}
    holders = {case.applicant_id_number, case.form_data.get("credit_code")} - {None, ""}
    today = timezone.localdate()
    licences = (
        ELicence.objects.filter(item__licence_material__in=wanted, holder_id_number__in=holders)
        .exclude(case=case)
        .filter(revoked_at__isnull=True)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=today))
        .select_related("item")
        .order_by("-issued_at")
    )
    if connection.vendor == "postgresql":
        # Only the newest licence per material, not every licence the holder ever got (DISTINCT ON).
        licences = licences.order_by("item__licence_material", "-issued_at").distinct("item__licence_material")
    chosen: dict[str, ELicence] = {}
    for licence in licences:
        chosen.setdefault(licence.item.licence_material, licence)
    return MaterialReuse.objects.bulk_create(
        MaterialReuse(case=case, material_code=code, material_name=wanted[code], licence=licence)
        for code, licence in chosen.items()
    )
