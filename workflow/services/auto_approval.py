"""秒批: a department review decided by its items' decision tables, inside the step that opened it.

``persist_step`` calls ``run`` with the tasks the engine has just made ready. A review is completed
automatically when every item it decides has a decision table (``ServiceItem.auto_approval_dmn``) and every
table decides ``approve`` over the case's answers (``form``), the applicant's valid e-licences (``licences``: item
codes and the material codes they stand for) and the results this case already has (``results``: the item codes
whose reviews approved before this review opened, and the materials their licences stand for — also added to
``licences``). An item that depends on another (``depends_on``) opens only after that one approved, so its table
sees that result: the newborn's enrolment sees ``birth_medical_certificate`` once the certificate is approved,
never before. The completion is an ordinary approval in
the engine (``reviews[<department>] = "approve"``), so it may open further tasks or give the case its
unified result; ``run`` then applies the lifecycle again and looks at the next newly ready tasks.

Anything short of that leaves the review to a person, recorded on the trail: a table that does not approve
(``auto_approval_declined``, with the rule), a table that fails to compile or to run, or an engine error on
the completion (``auto_approval_failed``; the instance is restored from a snapshot taken before it).

Which items a review decides, and their tables, come from the case's composition version (the tables as
they were when the version was published; ``workflow/compositions.py``), so a one-thing without tables pays
no statement; with tables, one query for the applicant's e-licences.
"""

from __future__ import annotations

from collections.abc import Callable

from django.utils import timezone

import bpmn

from ..compositions import ComposedItem, composition_of
from ..events import case_event
from ..models import Decision, HumanTask, HumanTaskState
from ..results import held_licences

AUTO_OPINION = "秒批：符合规则"
RULES_ACTOR = "秒批规则（系统）"


def run(
    step,
    ready: list[bpmn.ReadyTask],
    known: set[str],
    *,
    new_row: Callable[[bpmn.ReadyTask, int], HumanTask],
    apply_lifecycle: Callable[[object, list[bpmn.ReadyTask]], None],
) -> tuple[list[HumanTask], list[bpmn.ReadyTask]]:
    """Auto-approve what the decision tables approve among the newly ready reviews, repeatedly.

    Returns the completed task rows (to insert with the step's new rows; their events are recorded here)
    and the ready tasks afterwards. ``step.instance`` may be replaced (restored from a snapshot)."""
    considered = set(known)
    rows: list[HumanTask] = []
    inputs: dict | None = None
    while True:
        fresh = [t for t in ready if t.id not in considered and t.lane not in bpmn.RESERVED_LANES]
        if not fresh:
            return rows, ready
        considered.update(t.id for t in fresh)
        composition = composition_of(step.case)
        if not any(item.auto_approval_dmn.strip() for item in composition.items):
            return rows, ready  # the usual case: nothing to decide, nothing loaded
        plans = [(task, composition.items_of_element(task.element_id, task.lane)) for task in fresh]
        plans = [(task, items) for task, items in plans if items and all(i.auto_approval_dmn.strip() for i in items)]
        if not plans:
            return rows, ready
        if inputs is None:
            inputs = {"form": dict(step.case.form_data or {}), "licences": _licences(step.case)}
        approved = [
            row
            for task, items in plans
            if (row := _decide(step, task, items, _with_results(inputs, step, composition, task), new_row))
        ]
        if not approved:
            return rows, ready
        rows += approved
        ready = step.instance.ready_tasks()
        apply_lifecycle(step, ready)


def _with_results(inputs: dict, step, composition, task: bpmn.ReadyTask) -> dict:
    """``inputs`` plus the case's own results as the review sees them: the items of the reviews approved in the
    process data at this task, with the materials their licences stand for."""
    reviews = step.instance.task_value(task.id, "reviews", {}) or {}
    keys = composition.review_keys()
    results = set()
    for key, decision in reviews.items():
        if decision == Decision.APPROVE:
            for item in keys.get(key, []):
                results |= {item.code, item.snapshot.get("licence_material") or ""}
    results.discard("")
    return {**inputs, "results": sorted(results), "licences": sorted(set(inputs["licences"]) | results)}


def _licences(case) -> list[str]:
    """Codes of the applicant's valid e-licences (``workflow.results.held_licences``): item codes and the materials they
    stand for."""
    held = held_licences(
        id_number=case.applicant_id_number, credit_code=str((case.form_data or {}).get("credit_code") or "")
    ).values_list("item__code", "item__licence_material")
    return sorted({code for pair in held for code in pair if code})


def _decide(step, task: bpmn.ReadyTask, items: list[ComposedItem], inputs: dict, new_row) -> HumanTask | None:
    """Evaluate every table of the review; complete it in the engine when all approve. None: a person decides."""
    names = [item.name for item in items]
    rules = []
    for item in items:
        try:
            outcome = bpmn.compile_decision(item.auto_approval_dmn, filename=item.code).evaluate(inputs)
        except (bpmn.ModelInvalid, bpmn.DecisionFailed) as exc:
            _event(
                step,
                "auto_approval_failed",
                department=task.lane,
                task=task.name,
                item=item.name,
                error=_first_line(exc),
            )
            return None
        if not outcome.approve:
            _event(
                step,
                "auto_approval_declined",
                department=task.lane,
                task=task.name,
                item=item.name,
                rule=outcome.rule or "无规则命中",
                outputs=outcome.outputs,
            )
            return None
        rules.append({"item": item.name, "rule": outcome.rule})

    instance = step.instance
    reviews = instance.task_value(task.id, "reviews", {})
    review_round = instance.task_value(task.id, "review_round", 0) or 0
    snapshot = instance.dump()
    try:
        # The data a person's approval writes (services/tasks.py): the department's own key only.
        instance.complete(task.id, {"reviews": {**reviews, task.lane: str(Decision.APPROVE)}})
    except (bpmn.ProcessError, bpmn.TaskNotReady) as exc:
        step.instance = bpmn.ProcessInstance.restore(instance.model, snapshot)
        _event(
            step, "auto_approval_failed", department=task.lane, task=task.name, item="、".join(names), error=str(exc)
        )
        return None

    row = new_row(task, review_round)
    row.state = HumanTaskState.COMPLETED
    row.decision = Decision.APPROVE
    row.auto_approved = True
    row.opinion = f"{AUTO_OPINION} " + "；".join(f"{r['item']}（{r['rule']}）" for r in rules)
    row.completed_at = timezone.now()
    step.event("task_opened", department=task.lane, task=task.name, element_id=task.element_id)
    _event(
        step,
        "auto_approved",
        department=task.lane,
        task=task.name,
        decision=str(Decision.APPROVE),
        review_round=review_round,
        rules=rules,
    )
    return row


def _event(step, kind: str, *, department: str, **data) -> None:
    """Recorded as the rules' doing, not the person whose step opened the review."""
    step.events.append(case_event(step.case, kind, RULES_ACTOR, department=department, **data))


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return (text.splitlines()[0] if text else exc.__class__.__name__)[:500]
