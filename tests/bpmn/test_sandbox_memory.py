"""The sandbox's memory cap per evaluation is real (issue 18): measured with tracemalloc around hostile
expressions that the old size guards let through (one allocated ~2 GB before the time limit stopped it)."""

from __future__ import annotations

import time
import tracemalloc

import pytest

from bpmn import sandbox
from bpmn.sandbox import SAFE_ENGINE, SandboxLimitExceeded

SLACK = 16 * 2**20  # what one step may allocate past the check, and the interpreter's own bookkeeping

# RestrictedPython's range() stops at 1,000 items; a long string is the model's cheap iterable.
HOSTILE = [
    pytest.param('[list("x" * 10**5) for c in "y" * 10**6]', id="lists-built-in-a-comprehension"),
    pytest.param('[tuple("x" * 10**5) for c in "y" * 10**6]', id="tuples-built-in-a-comprehension"),
    pytest.param('[sorted("x" * 10**5) for c in "y" * 10**6]', id="sorted-in-a-comprehension"),
    pytest.param('{i: c * 50 for i, c in enumerate("y" * 10**6)}', id="dict-comprehension"),
    pytest.param('[list(str(i) + "x" * 10**5) for i in range(999)]', id="lists-of-long-strings"),
    pytest.param('list("x" * 10**6)', id="one-call-over-the-item-limit"),
]


@pytest.mark.parametrize("expression", HOSTILE)
def test_a_hostile_expression_is_stopped_within_the_memory_cap(expression):
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        started = time.monotonic()
        with pytest.raises(SandboxLimitExceeded):
            SAFE_ENGINE.environment.evaluate(expression, {"form": {}})
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    assert peak < sandbox.MAX_ALLOCATION + SLACK, f"{peak / 2**20:.0f} MB"
    assert time.monotonic() - started < sandbox.TIME_LIMIT_SECONDS * 3


def test_ordinary_work_is_untouched_and_tracing_is_left_as_found():
    context = {"form": {}}
    SAFE_ENGINE.environment.execute(
        "rows = [list(range(30)) for i in range(30)]\nn = len(set(x for row in rows for x in row))\n"
        "keys = sorted(dict.fromkeys(['b', 'a']))\nok = isinstance(rows, list) and isinstance(keys, list)",
        context,
    )
    assert (context["n"], context["keys"], context["ok"]) == (30, ["a", "b"], True)
    assert not tracemalloc.is_tracing()
