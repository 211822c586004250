"""Deliberate migration: moving a running case onto another composition version of its one-thing.

A case stays on the version it was opened with. An administrator may move it on purpose
(``manage.py migrate_cases``), one case per transaction: the case is checked first, and a case that cannot
move is left exactly as it was, with the reasons in Chinese. A moved case records a ``migrated`` event with
both versions, so its trail says what it runs on and since when.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction

import forms

from ..compositions import composition_by_id, composition_of
from ..errors import NotFound
from ..lifecycle import TERMINAL_STATES, CaseStatus
from ..models import Case, CompositionVersion, HumanTaskState
from .engine import begin_step, lock_case, model_for, persist_step

# A case with its unified result formed is decided: moving it would change nothing the applicant is owed.
DECIDED = frozenset(TERMINAL_STATES | {CaseStatus.APPROVED, CaseStatus.REJECTED})


@dataclass(frozen=True)
class CaseMigration:
    """What migrating one case did, or would do (``dry_run``)."""

    case_no: str
    from_version: int
    to_version: int
    reasons: list[str] = field(default_factory=list)  # why it cannot move; empty when it can
    moved: bool = False

    @property
    def can_move(self) -> bool:
        return not self.reasons


def migration_candidates(*, one_thing_key: str, to_version: int, case_nos: list[str] | None = None) -> list[str]:
    """The case numbers a migration considers: the given ones, else the one-thing's running cases not yet on
    the target version, oldest first."""
    if case_nos:
        return list(case_nos)
    target = _target(one_thing_key, to_version)
    return list(
        Case.objects.filter(one_thing_id=target.one_thing_id)
        .exclude(status__in=DECIDED)
        .exclude(composition=target)
        .order_by("opened_at", "id")
        .values_list("case_no", flat=True)
    )


@transaction.atomic
def case_migrate(
    *, case_no: str, one_thing_key: str, to_version: int, actor=None, reason: str = "", dry_run: bool = False
) -> CaseMigration:
    """Move the case onto composition version ``to_version`` of its one-thing, or say why it cannot.

    It cannot when its result is already formed; when an open task's BPMN element is not in the target's
    process; when its answers do not satisfy the target's one form (a newly required field without an answer);
    or when its process has already run a part of the model the target changed. Nothing changes then (nor
    with ``dry_run``). Otherwise the case's composition (and process version, its instance moved onto the
    target model) change in this transaction, with a ``migrated`` event."""
    target = _target(one_thing_key, to_version)
    case = lock_case(case_no=case_no)
    current = composition_of(case)
    result = CaseMigration(case_no=case.case_no, from_version=current.number, to_version=target.number)
    reasons = _reasons(case, target)
    if reasons:
        return CaseMigration(**{**result.__dict__, "reasons": reasons})
    step = begin_step(case, actor)
    process_changed = target.process_version_id != case.process_version_id
    target_model = model_for(target.process_version) if process_changed else None
    if target_model is not None:
        problems = step.instance.migration_problems(target_model)
        if problems:
            return CaseMigration(**{**result.__dict__, "reasons": problems})
    if dry_run:
        return result
    if target_model is not None:
        step.instance = step.instance.migrate(target_model)
    old_process = case.process_version
    Case.objects.filter(pk=case.pk).update(composition=target, process_version=target.process_version)
    case.composition, case.process_version = target, target.process_version
    step.event(
        "migrated",
        from_version=current.number,
        to_version=target.number,
        from_process=old_process.number,
        to_process=target.process_version.number,
        reason=reason or "管理员迁移",
    )
    persist_step(step)
    return CaseMigration(**{**result.__dict__, "moved": True})


def _target(one_thing_key: str, number: int) -> CompositionVersion:
    target = (
        CompositionVersion.objects.select_related("process_version")
        .defer("process_version__compiled", "process_version__bpmn_xml")
        .filter(one_thing__key=one_thing_key, number=number)
        .first()
    )
    if target is None:
        raise NotFound(f"一件事“{one_thing_key}”没有组合第 {number} 版")
    return target


def _reasons(case: Case, target: CompositionVersion) -> list[str]:
    if case.one_thing_id != target.one_thing_id:
        return ["目标版本不属于本办件的一件事"]
    if case.composition_id == target.pk:
        return [f"办件已在组合第 {target.number} 版"]
    if case.status in DECIDED:
        return [f"办件状态为“{case.get_status_display()}”，已有办理结果或已结束，不再迁移"]
    reasons = []
    elements = {task["element_id"] for task in target.process_version.user_tasks}
    for task in case.tasks.filter(state=HumanTaskState.OPEN).order_by("id"):
        if task.element_id not in elements:
            reasons.append(f"待办任务“{task.name}”（{task.element_id}）在目标版本的流程中已不存在")
    composition = composition_by_id(target.pk)
    for name, messages in sorted(forms.validate_form(composition.form_schema, case.form_data or {}).items()):
        title = composition.field_title(name) if name != "form" else "申请表"
        reasons += [f"按目标版本的一表，“{title}”：{message}" for message in messages]
    return reasons
