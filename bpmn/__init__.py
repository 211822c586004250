"""The engine boundary: the only package that imports SpiffWorkflow. No Django here.

Public API (everything else is internal):
- ``compile_model(filename, content, departments=...)`` → ``CompiledModel`` or ``ModelInvalid``
- ``load_model(content_hash, compiled)`` → ``LoadedModel`` (cached per process by content hash)
- ``ProcessInstance.start(model, data)`` / ``.restore(model, state)`` / ``.dump()`` / ``.ready_tasks()`` /
  ``.complete(task_id, data)`` / ``.is_completed`` / ``.data``
"""

from .errors import ModelInvalid, ModelProblem, ProcessError, TaskNotReady
from .instance import ProcessInstance, ReadyTask
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
    "TaskNotReady",
    "UserTaskInfo",
    "compile_model",
    "load_model",
]
