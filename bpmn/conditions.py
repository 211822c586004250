"""Evaluating a participation condition (an item's ``condition``) outside a running process.

The application asks "does this item still apply to the corrected form?" before it hands the correction to
the engine, so it can record which items stop or start applying and why. The answer must be the engine's:
the expression runs in the same RestrictedPython environment, with the same budget, over the same process
data the model's gateway will see.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping

from .errors import ProcessError
from .sandbox import SAFE_ENGINE


def evaluate_condition(expression: str, data: Mapping) -> bool:
    """Whether ``expression`` holds over the process ``data`` (``form``, ``reviews``, …); a blank expression
    always holds. ProcessError (with the reason in Chinese) when it cannot be evaluated."""
    if not (expression or "").strip():
        return True
    try:
        return bool(SAFE_ENGINE.environment.evaluate(expression.strip(), copy.deepcopy(dict(data))))
    except Exception as exc:  # whatever the expression raised, as the engine would report it
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
        raise ProcessError(f"参与条件“{expression}”无法计算：{first}") from None
