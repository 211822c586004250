"""One running process instance: start it, restore it, complete its human tasks, dump it."""

from __future__ import annotations

import copy
import datetime as dt
from dataclasses import dataclass
from uuid import UUID

from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    TimeDateEventDefinition,
    TimerEventDefinition,
)
from SpiffWorkflow.bpmn.util.diff import diff_workflow, migrate_workflow
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import SpiffWorkflowException, WorkflowException
from SpiffWorkflow.util.task import TaskState

from .errors import ProcessError, TaskNotReady
from .model import LoadedModel
from .sandbox import SAFE_ENGINE
from .serializer import SERIALIZER, STATE_FORMAT, dump_state, restore_state


@dataclass(frozen=True)
class ReadyTask:
    id: str  # the engine's task id (UUID text), stable for the task's lifetime
    element_id: str  # the BPMN element id, e.g. "review_tax"
    name: str
    lane: str  # department code or reserved lane


@dataclass(frozen=True)
class WaitingTimer:
    """A timer event the instance waits for: a boundary, intermediate or start timer."""

    id: str  # the engine's task id of the waiting timer event
    element_id: str  # the BPMN element id of the timer event, e.g. "review_overdue"
    name: str
    due_at: dt.datetime  # aware, UTC


class ProcessInstance:
    def __init__(self, model: LoadedModel, workflow: BpmnWorkflow):
        self.model = model
        self._workflow = workflow
        # The script engine is not serialized: a restored workflow comes back with SpiffWorkflow's
        # unrestricted default. Every instance we hand out runs under the sandbox.
        workflow.script_engine = SAFE_ENGINE

    @classmethod
    def start(cls, model: LoadedModel, data: dict) -> ProcessInstance:
        workflow = BpmnWorkflow(model.spec, dict(model.subprocess_specs), script_engine=SAFE_ENGINE)
        start_task = workflow.get_next_task(state=TaskState.READY)
        if start_task is not None:
            start_task.set_data(**copy.deepcopy(data))
        instance = cls(model, workflow)
        instance._run_engine()
        return instance

    @classmethod
    def restore(cls, model: LoadedModel, state: str, *, state_format: int = STATE_FORMAT) -> ProcessInstance:
        """``state_format``: the format the state was written in; older ones are upgraded on the way in
        (bpmn/serializer.py). StateFormatUnknown when the chain cannot bring it to the current format."""
        return cls(model, restore_state(state, model.spec, dict(model.subprocess_specs), state_format=state_format))

    def dump(self) -> str:
        """The state in the current format (``STATE_FORMAT``)."""
        return dump_state(self._workflow)

    @property
    def is_completed(self) -> bool:
        return self._workflow.is_completed()

    def cancel(self) -> None:
        """End the instance where it stands (the applicant withdrew): no task is ready afterwards."""
        self._workflow.cancel()

    @property
    def data(self) -> dict:
        """The process data: the workflow's final data once completed, else the latest task's."""
        if self._workflow.is_completed():
            return copy.deepcopy(self._workflow.data)
        last = self._workflow.last_task
        return copy.deepcopy(last.data) if last is not None else {}

    def ready_tasks(self) -> list[ReadyTask]:
        tasks = []
        for task in self._workflow.get_tasks(state=TaskState.READY, manual=True):
            element_id = task.task_spec.bpmn_id
            tasks.append(
                ReadyTask(
                    id=str(task.id),
                    element_id=element_id,
                    name=task.task_spec.bpmn_name or element_id,
                    lane=self.model.assignments.get(element_id, task.task_spec.lane or ""),
                )
            )
        return tasks

    def ready_task_ids(self) -> frozenset[str]:
        """The ids of ``ready_tasks()``, as a set: read off the task mappings (the top workflow's and its
        subprocesses') without walking the tree in order, which only the list needs."""
        workflows = [self._workflow, *self._workflow.subprocesses.values()]
        return frozenset(
            str(task.id)
            for workflow in workflows
            for task in workflow.tasks.values()
            if task.state == TaskState.READY and task.task_spec.manual
        )

    def task_data(self, task_id: str) -> dict:
        return copy.deepcopy(self._ready_task(task_id).data)

    def task_value(self, task_id: str, key: str, default=None):
        """``task_data(task_id).get(key, default)`` without copying the rest of the task's data (the form)."""
        data = self._ready_task(task_id).data
        return copy.deepcopy(data[key]) if key in data else default

    def complete(self, task_id: str, data: dict) -> None:
        """Complete a ready human task with data merged into its top-level keys, then run the engine."""
        task = self._ready_task(task_id)
        task.set_data(**copy.deepcopy(data))
        try:
            task.run()
        except SpiffWorkflowException as exc:
            raise ProcessError(_describe(exc), element_id=task.task_spec.bpmn_id) from exc
        self._run_engine()

    def migration_problems(self, target: LoadedModel) -> list[str]:
        """Why this instance cannot move onto the ``target`` model version (in Chinese); empty when it can.

        SpiffWorkflow aligns the two specs by element id. Moving is safe only when no task the instance has
        already run (or is running) changed or vanished in the target: a changed split it already passed
        would leave a join waiting for a branch that never comes. Tasks ahead of the instance may change."""
        if target.content_hash == self.model.content_hash:
            return []
        if self._workflow.subprocesses:
            return ["办件的流程含有正在运行的子流程，暂不支持迁移"]
        diff, _ = diff_workflow(SERIALIZER.registry, self._workflow, target.spec, dict(target.subprocess_specs))
        ran = TaskState.COMPLETED | TaskState.STARTED | TaskState.ERROR
        problems = []
        for task in diff.removed:
            if task.state & ran:
                problems.append(f"已执行的环节“{_label(task)}”在目标版本的流程中已不存在")
        for task in diff.changed:
            if task.state & ran and task not in diff.removed:
                problems.append(f"已执行的环节“{_label(task)}”在目标版本的流程中有变化")
        return sorted(set(problems))

    def migrate(self, target: LoadedModel) -> ProcessInstance:
        """This instance moved onto ``target`` (a new object; this one must not be used afterwards). Ready tasks
        keep their ids; tasks ahead are predicted again from the target. ProcessError when it cannot move."""
        problems = self.migration_problems(target)
        if problems:
            raise ProcessError("；".join(problems))
        if target.content_hash == self.model.content_hash:
            return self
        workflow = self._workflow
        diff, _ = diff_workflow(SERIALIZER.registry, workflow, target.spec, dict(target.subprocess_specs))
        migrate_workflow(diff, workflow, target.spec)
        workflow.subprocess_specs = dict(target.subprocess_specs)
        moved = ProcessInstance(target, workflow)
        moved._run_engine()
        return moved

    @property
    def has_timers(self) -> bool:
        """Whether the model has any timer event at all; callers skip timer bookkeeping when it has none."""
        return _model_has_timers(self.model)

    def waiting_timers(self) -> list[WaitingTimer]:
        """Timers the instance is waiting for, with the instant each becomes due.

        SpiffWorkflow has no scheduler: a waiting timer keeps its due time in the task's internal data
        (``event_value``, set when the event is reached) and fires only when someone refreshes the
        timers after that instant. The caller stores these due times and calls ``fire_timers`` then.
        """
        if not self.has_timers:
            return []
        timers = []
        for task in self._workflow.get_tasks(state=TaskState.WAITING):
            definition = getattr(task.task_spec, "event_definition", None)
            if not isinstance(definition, TimerEventDefinition):
                continue
            due_at = _due_at(definition, definition.details(task).value)
            if due_at is not None:
                element_id = task.task_spec.bpmn_id
                timers.append(WaitingTimer(str(task.id), element_id, task.task_spec.bpmn_name or element_id, due_at))
        return timers

    def fire_timers(self) -> None:
        """Fire every timer whose instant has passed and run the engine on from there (escalation paths)."""
        self._workflow.refresh_timers()
        self._run_engine()

    def _ready_task(self, task_id: str):
        try:
            task = self._workflow.get_task_from_id(UUID(task_id))
        except (ValueError, WorkflowException, KeyError):
            task = None
        if task is None or task.state != TaskState.READY or not task.task_spec.manual:
            raise TaskNotReady(task_id)
        return task

    def _run_engine(self) -> None:
        try:
            self._workflow.do_engine_steps()
        except SpiffWorkflowException as exc:
            task = getattr(exc, "task", None)
            raise ProcessError(_describe(exc), element_id=task.task_spec.bpmn_id if task else "") from exc
        except Exception as exc:  # e.g. an invalid timer value raises a bare Exception
            raise ProcessError(f"流程执行出错：{exc}") from exc


_HAS_TIMERS: dict[str, bool] = {}


def _model_has_timers(model: LoadedModel) -> bool:
    known = _HAS_TIMERS.get(model.content_hash)
    if known is None:
        specs = [model.spec, *model.subprocess_specs.values()]
        known = any(
            isinstance(getattr(task_spec, "event_definition", None), TimerEventDefinition)
            for spec in specs
            for task_spec in spec.task_specs.values()
        )
        _HAS_TIMERS[model.content_hash] = known
    return known


def _due_at(definition: TimerEventDefinition, value) -> dt.datetime | None:
    """The due instant (aware UTC) of a waiting timer's ``event_value``; None when it has none (yet)."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    try:
        if isinstance(definition, TimeDateEventDefinition):
            parsed = TimerEventDefinition.parse_time_or_duration(value)
        elif isinstance(definition, CycleTimerEventDefinition):
            parsed = dt.datetime.fromisoformat(value)
        else:
            parsed = TimerEventDefinition.get_datetime(value)
    except (TypeError, ValueError):
        return None
    if not isinstance(parsed, dt.datetime):
        return None
    return parsed.astimezone(dt.UTC) if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _label(task) -> str:
    spec = task.task_spec
    return f"{spec.bpmn_name}（{spec.bpmn_id}）" if getattr(spec, "bpmn_name", None) else (spec.bpmn_id or spec.name)


def _describe(exc: Exception) -> str:
    return f"流程执行出错：{str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__}"
