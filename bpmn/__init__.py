"""The engine boundary: the only package that imports SpiffWorkflow. No Django here.

Public API (everything else is internal):
- ``compile_model(filename, content, departments=...)`` → ``CompiledModel`` or ``ModelInvalid``
- ``load_model(content_hash, compiled)`` → ``LoadedModel`` (cached per process by content hash)
- ``ProcessInstance.start(model, data)`` / ``.restore(model, state)`` / ``.dump()`` / ``.ready_tasks()`` /
  ``.complete(task_id, data)`` / ``.is_completed`` / ``.data`` / ``.waiting_timers()`` / ``.fire_timers()``
- ``generate_process(process_id=..., name=..., reviews=[ReviewSpec(...), ...])`` → BPMN XML text of the
  standard parallel-review model for a composition (lanes, conditional departments, DI)
"""

from .errors import ModelInvalid, ModelProblem, ProcessError, TaskNotReady
from .generate import ReviewSpec, generate_process
from .instance import ProcessInstance, ReadyTask, WaitingTimer
from .model import RESERVED_LANES, CompiledModel, LoadedModel, UserTaskInfo, compile_model, load_model
from .sandbox import CONTRACT_VARIABLES

__all__ = [
    "CONTRACT_VARIABLES",
    "RESERVED_LANES",
    "CompiledModel",
    "LoadedModel",
    "ModelInvalid",
    "ModelProblem",
    "ProcessError",
    "ProcessInstance",
    "ReadyTask",
    "ReviewSpec",
    "TaskNotReady",
    "UserTaskInfo",
    "WaitingTimer",
    "compile_model",
    "generate_process",
    "load_model",
]
