"""秒批: a department review decided by its items' decision tables, inside the step that opened it.

``persist_step`` calls ``run`` with the tasks the engine has just made ready. A review is completed
automatically when every item it decides has a decision table (``ServiceItem.auto_approval_dmn``) and every
table decides ``approve`` over the case's answers (``form``) and the applicant's valid e-licences
(``licences``: item codes and the material codes they stand for). The completion is an ordinary approval in
the engine (``reviews[<department>] = "approve"``), so it may open further tasks or give the case its
unified result; ``run`` then applies the lifecycle again and looks at the next newly ready tasks.

Anything short of that leaves the review to a person, recorded on the trail: a table that does not approve
(``auto_approval_declined``, with the rule), a table that fails to compile or to run, or an engine error on
the completion (``auto_approval_failed``; the instance is restored from a snapshot taken before it).

Cost: which items have a table comes with the item limits the clock loads anyway (``clock.step_limits``),
so a one-thing without tables pays no extra statement; with tables, one query for their text and one for
the applicant's e-licences.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db.models import Q
from django.utils import timezone

import bpmn

from .. import clock
from ..events import case_event
from ..models import Decision, ELicence, HumanTask, HumanTaskState, ServiceItem

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
        limits = clock.step_limits(step)
        if not any(has_table for _, _, has_table in limits.items):
            return rows, ready  # the usual case: nothing to decide, nothing loaded
        plans = [(task, _items_of(task, limits.items, step.instance.model.assignments)) for task in fresh]
        plans = [(task, items) for task, items in plans if items and all(has for _, has in items)]
        if not plans:
            return rows, ready
        tables = _tables({item_id for _, items in plans for item_id, _ in items})
        if inputs is None:
            inputs = {"form": dict(step.case.form_data or {}), "licences": _licences(step.case)}
        approved = [row for task, items in plans if (row := _decide(step, task, items, tables, inputs, new_row))]
        if not approved:
            return rows, ready
        rows += approved
        ready = step.instance.ready_tasks()
        apply_lifecycle(step, ready)


def _items_of(task: bpmn.ReadyTask, items: tuple, elements) -> list[tuple[int, bool]]:
    """The items a review decides, as ``workflow.results`` maps them: ``review_<dept>_item<k>`` the k-th item
    of its department, ``review_<dept>`` the first when the model has per-item reviews for the department;
    any other review decides every item of its department (then every one must have a table)."""
    mine = [(item_id, has_table) for item_id, department, has_table in items if department == task.lane]
    k = bpmn.item_number(task.element_id, task.lane)
    if k is not None and (k > 1 or bpmn.has_item_reviews(elements, task.lane)):
        return mine[k - 1 : k]
    return mine


def _tables(item_ids: set[int]) -> dict[int, ServiceItem]:
    return ServiceItem.objects.only("pk", "code", "name", "auto_approval_dmn").in_bulk(list(item_ids))


def _licences(case) -> list[str]:
    """Codes of the applicant's valid, unrevoked e-licences: item codes and the materials they stand for."""
    holders = {case.applicant_id_number, (case.form_data or {}).get("credit_code")} - {None, ""}
    today = timezone.localdate()
    held = (
        ELicence.objects.filter(holder_id_number__in=holders, revoked_at__isnull=True, valid_from__lte=today)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=today))
        .values_list("item__code", "item__licence_material")
    )
    return sorted({code for pair in held for code in pair if code})


def _decide(step, task: bpmn.ReadyTask, items, tables: dict, inputs: dict, new_row) -> HumanTask | None:
    """Evaluate every table of the review; complete it in the engine when all approve. None: a person decides."""
    names = [tables[item_id].name for item_id, _ in items if item_id in tables]
    rules = []
    for item_id, _ in items:
        item = tables.get(item_id)
        if item is None or not item.auto_approval_dmn.strip():
            return None  # the table was removed since the limits were read
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
    reviews = instance.task_data(task.id).get("reviews", {})
    review_round = instance.task_data(task.id).get("review_round", 0) or 0
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
