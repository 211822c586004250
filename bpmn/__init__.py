"""The engine boundary: the only package that imports SpiffWorkflow. No Django here.

Public API (everything else is internal):
- ``compile_model(filename, content, departments=...)`` → ``CompiledModel`` or ``ModelInvalid``
- ``load_model(content_hash, compiled)`` → ``LoadedModel`` (cached per process by content hash)
- ``ProcessInstance.start(model, data)`` / ``.restore(model, state)`` / ``.dump()`` / ``.ready_tasks()`` /
  ``.complete(task_id, data)`` / ``.is_completed`` / ``.data`` / ``.waiting_timers()`` / ``.fire_timers()``
- ``compile_decision(text)`` → ``Decision`` (秒批 DMN decision table, cached by content hash) or ``ModelInvalid``;
  ``Decision.evaluate({"form": …, "licences": […]})`` → ``DecisionOutcome`` or ``DecisionFailed``
- ``initial_data(case_no=..., one_thing=..., form=...)`` → the process data a case starts with; the review
  element-id pattern: ``review_element_id``, ``item_review_element_id``, ``item_review_suffix``, ``item_number``,
  ``has_item_reviews``, ``department_of_review_key`` (``bpmn/contract.py``)
- ``generate_process(process_id=..., name=..., reviews=[ReviewSpec(...), ...])`` → BPMN XML text of the
  standard parallel-review model for a composition (lanes, conditional departments, DI)
"""

from .contract import (
    department_of_review_key,
    has_item_reviews,
    initial_data,
    item_number,
    item_review_element_id,
    item_review_suffix,
    review_element_id,
)
from .decisions import DECISION_VARIABLES, Decision, DecisionFailed, DecisionOutcome, check_decision, compile_decision
from .errors import ModelInvalid, ModelProblem, ProcessError, TaskNotReady
from .generate import ReviewSpec, generate_process
from .instance import ProcessInstance, ReadyTask, WaitingTimer
from .model import RESERVED_LANES, CompiledModel, LoadedModel, UserTaskInfo, compile_model, load_model
from .sandbox import CONTRACT_VARIABLES

__all__ = [
    "CONTRACT_VARIABLES",
    "DECISION_VARIABLES",
    "RESERVED_LANES",
    "CompiledModel",
    "Decision",
    "DecisionFailed",
    "DecisionOutcome",
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
    "check_decision",
    "compile_decision",
    "compile_model",
    "department_of_review_key",
    "generate_process",
    "has_item_reviews",
    "initial_data",
    "item_number",
    "item_review_element_id",
    "item_review_suffix",
    "load_model",
    "review_element_id",
]
