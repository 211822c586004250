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
  ``has_item_reviews``, ``department_of_review_key``, ``review_key_of_element`` (``bpmn/contract.py``)
- ``evaluate_condition(expression, data)`` → bool: an item's participation condition over process data, in the
  same sandbox the engine uses (ProcessError when it cannot be evaluated)
- ``STATE_FORMAT``: the format ``dump()`` writes; ``ProcessInstance.restore(..., state_format=n)`` upgrades older
  ones through the chain in ``serializer.py`` (``StateFormatUnknown`` otherwise)
- ``ProcessInstance.migration_problems(target)`` / ``.migrate(target)``: move a running instance onto another
  model version when no task it already ran changed
- ``generate_process(process_id=..., name=..., reviews=[ReviewSpec(...), ...])`` → BPMN XML text of the
  standard parallel-review model for a composition (lanes, conditional departments, DI)
"""

from .conditions import evaluate_condition
from .contract import (
    department_of_review_key,
    has_item_reviews,
    initial_data,
    item_number,
    item_review_element_id,
    item_review_suffix,
    review_element_id,
    review_key_of_element,
)
from .decisions import DECISION_VARIABLES, Decision, DecisionFailed, DecisionOutcome, check_decision, compile_decision
from .errors import ModelInvalid, ModelProblem, ProcessError, TaskNotReady
from .generate import ReviewSpec, generate_process
from .instance import ProcessInstance, ReadyTask, WaitingTimer
from .model import RESERVED_LANES, CompiledModel, LoadedModel, UserTaskInfo, compile_model, load_model
from .sandbox import CONTRACT_VARIABLES
from .serializer import STATE_FORMAT, StateFormatUnknown

__all__ = [
    "CONTRACT_VARIABLES",
    "DECISION_VARIABLES",
    "RESERVED_LANES",
    "STATE_FORMAT",
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
    "StateFormatUnknown",
    "TaskNotReady",
    "UserTaskInfo",
    "WaitingTimer",
    "check_decision",
    "compile_decision",
    "compile_model",
    "department_of_review_key",
    "evaluate_condition",
    "generate_process",
    "has_item_reviews",
    "initial_data",
    "item_number",
    "item_review_element_id",
    "item_review_suffix",
    "load_model",
    "review_element_id",
    "review_key_of_element",
]
