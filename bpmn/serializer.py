"""SpiffWorkflow serialization with the spec kept apart from the instance, in versioned state formats.

The spec is stored once per deployed version; a case's state holds only its task tree and data. The
workflow converter below writes no spec and restores onto the shared, already-loaded spec objects, so
loading a case costs the task tree only. State is JSON text: a key-reordering store (PostgreSQL jsonb)
breaks SpiffWorkflow's parent-before-child data deltas.

State formats. Every stored state carries the number of the format it was written in (``STATE_FORMAT`` when
written by this code; the application stores it beside the state, ``Case.state_format``). Loading an older
state runs the chain of upgrades ``STATE_UPGRADES[n]`` (n → n + 1) up to the current format, then
SpiffWorkflow's own serializer migration (``BpmnWorkflowSerializer.migrate``, keyed by the
``serializer_version`` inside the state) when the library's version differs. A state newer than this code
is refused. The formats:

- **1** — SpiffWorkflow 3.2's workflow dict (serializer version 1.5, task data as deltas on the parent
  task) without ``spec`` and ``subprocess_specs``, with ``serializer_version``. Every state written before
  the format was recorded is format 1.

A library upgrade that changes what ``dump_state`` writes bumps ``STATE_FORMAT`` and adds the step from the
previous format (which may be just SpiffWorkflow's migration); ``tests/bpmn/fixtures/state_format_1`` holds a
real mid-review state of format 1 that CI loads and runs to the end, so an upgrade that breaks stored cases
fails there.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from uuid import UUID, SafeUUID

from SpiffWorkflow.bpmn.serializer.default.task_spec import ParallelGatewayConverter
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, TaskConverter, WorkflowConverter
from SpiffWorkflow.bpmn.serializer.workflow import VERSION, BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.deep_merge import DeepMerge
from SpiffWorkflow.util.task import TaskState

from .gateways import LoopSafeParallelGateway

SERIALIZER_VERSION = VERSION
STATE_FORMAT = 1


class StateFormatUnknown(ValueError):
    """A state written in a format this code does not know (newer, or missing from the upgrade chain)."""


# A spec-dicts provider: the model's serialized spec and subprocess specs, built only when an upgrade needs them.
SpecDicts = Callable[[], tuple[dict, dict]]
# State format n → n + 1: mutate the state dict (as loaded from JSON, without the spec) in place.
STATE_UPGRADES: dict[int, Callable[[dict, SpecDicts], None]] = {}


class SpecFreeWorkflowConverter(BpmnWorkflowConverter):
    def to_dict(self, workflow):
        dct = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct):
        spec = dct.pop("spec")
        subprocess_specs = dct.pop("subprocess_specs", {})
        if isinstance(spec, dict):  # a full serialization (migration path): restore the spec too
            spec = self.registry.restore(spec)
            subprocess_specs = self.mapping_from_dict(subprocess_specs)
        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        ids = TaskIds()
        workflow.tasks = {
            ids[key]: self.registry.restore(task, workflow=workflow, ids=ids) for key, task in dct["tasks"].items()
        }
        workflow.task_tree = workflow.tasks.get(ids[dct["root"]])
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


class TaskId(UUID):
    """A task id read from a stored state: a UUID (equal to, and hashing as, ``UUID(text)``) that keeps the text it
    was read from, so that writing the state again does not format it anew (``str`` of a UUID, four times a task
    per dump, was a third of a dump)."""

    __slots__ = ("_text",)

    def __str__(self) -> str:
        try:
            return self._text
        except AttributeError:  # a copy or an unpickled id carries only the number
            return UUID.__str__(self)


class TaskIds(dict):
    """One restore's task ids, each made once from the text ``str(UUID)`` wrote: a task's id is read again as its
    parent's child and as its children's parent, and ``UUID(text)``'s parsing of every spelling it accepts was a
    quarter of a restore."""

    def __missing__(self, text: str) -> UUID:
        if len(text) != 36 or text.count("-") != 4 or text[8] + text[13] + text[18] + text[23] != "----":
            raise ValueError(f"not a task id: {text!r}")
        value = _new_id(TaskId)
        _set_int(value, int(text.replace("-", ""), 16))
        _set_safe(value, SafeUUID.unknown)
        _set_text(value, text.lower())
        self[text] = value
        return value


# A UUID's slots, set as UUID's own constructor leaves them (it refuses attribute assignment: immutable).
_new_id, _set_int, _set_safe, _set_text = UUID.__new__, UUID.int.__set__, UUID.is_safe.__set__, TaskId._text.__set__


class TaskIdsConverter(TaskConverter):
    """SpiffWorkflow's task converter, writing its dict and restoring with the restore's ``TaskIds``: the same
    task, parent and children, state, internal data, and data (a child's as its parent's with the delta
    applied; the parent comes first in the tasks' mapping, as SpiffWorkflow writes it)."""

    def to_dict(self, task):
        """SpiffWorkflow's own task dict, key for key, its parent looked up once instead of four times."""
        parent = task.parent
        if parent is None:
            data, delta = task.data, {}
        else:
            data = {}
            delta = {
                "updates": DeepMerge.get_updated_keys(parent.data, task.data),
                "deletions": DeepMerge.get_deleted_keys(parent.data, task.data),
            }
        return {
            "id": str(task.id),
            "parent": None if parent is None else str(task._parent),
            "children": [str(child) for child in task._children],
            "last_state_change": task.last_state_change,
            "state": task.state,
            "task_spec": task.task_spec.name,
            "triggered": task.triggered,
            "internal_data": self.registry.convert(task.internal_data),
            "data": data,
            "delta": delta,
        }

    def from_dict(self, dct, workflow, ids: TaskIds | None = None):
        ids = TaskIds() if ids is None else ids  # a subprocess's tasks come without the restore's ids
        spec = workflow.spec.task_specs.get(dct["task_spec"])
        task = self.target_class(workflow, spec, state=dct["state"], id=ids[dct["id"]])
        task._parent = None if dct["parent"] is None else ids[dct["parent"]]
        task._children = [ids[child] for child in dct["children"]]
        task.last_state_change = dct["last_state_change"]
        task.triggered = dct["triggered"]
        task.internal_data = self.registry.restore(dct["internal_data"])
        if isinstance(spec, CatchingEvent) and task.has_state(TaskState.WAITING):
            task.workflow.top_workflow.event_manager.add_task(task)
        delta, parent = dct.get("delta"), task.parent
        if delta and parent is not None:
            data = DeepMerge.merge({}, parent.data)
            data.update(self.registry.restore(delta.get("updates", {})))
            for key in delta.get("deletions", {}):
                data.pop(key, None)
        else:
            data = self.registry.restore(dct["data"])
        task.data = data
        return task


_CONFIG = {
    **SPIFF_CONFIG,
    Task: TaskIdsConverter,
    BpmnWorkflow: SpecFreeWorkflowConverter,
    LoopSafeParallelGateway: ParallelGatewayConverter,
}
SERIALIZER = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(_CONFIG))


def dump_state(workflow: BpmnWorkflow) -> str:
    dct = SERIALIZER.to_dict(workflow)
    dct[SERIALIZER.VERSION_KEY] = SERIALIZER_VERSION
    return json.dumps(dct, ensure_ascii=False, separators=(",", ":"))


def spec_dicts_of(spec, subprocess_specs) -> tuple[dict, dict]:
    """The serialized spec and subprocess specs, as a full (migratable) serialization holds them."""
    return SERIALIZER.to_dict(spec), {name: SERIALIZER.to_dict(sub) for name, sub in subprocess_specs.items()}


def upgrade_state(dct: dict, state_format: int, spec_dicts: SpecDicts) -> None:
    """Run the chain of upgrades from ``state_format`` to ``STATE_FORMAT`` on a loaded state dict."""
    if not isinstance(state_format, int) or state_format < 1 or state_format > STATE_FORMAT:
        raise StateFormatUnknown(f"流程状态格式 {state_format!r} 未知（本程序支持 1–{STATE_FORMAT}）")
    for current in range(state_format, STATE_FORMAT):
        upgrade = STATE_UPGRADES.get(current)
        if upgrade is None:
            raise StateFormatUnknown(f"缺少流程状态格式 {current} → {current + 1} 的升级步骤")
        upgrade(dct, spec_dicts)


def restore_state(state: str, spec, subprocess_specs, *, state_format: int = STATE_FORMAT) -> BpmnWorkflow:
    dct = json.loads(state)
    upgrade_state(dct, state_format, lambda: spec_dicts_of(spec, subprocess_specs))
    version = dct.get(SERIALIZER.VERSION_KEY)
    if version != SERIALIZER_VERSION:
        # SpiffWorkflow's own migration hook: it runs on the full serialization, spec included, and leaves the
        # dict in the library's current version (the restored spec objects are then the shared ones again).
        dct["spec"], dct["subprocess_specs"] = spec_dicts_of(spec, subprocess_specs)
        SERIALIZER.migrate(dct)
    else:
        dct.pop(SERIALIZER.VERSION_KEY)
    dct["spec"], dct["subprocess_specs"] = spec, subprocess_specs
    return SERIALIZER.from_dict(dct)
