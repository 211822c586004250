"""Errors raised at the engine boundary. Messages are Simplified Chinese: they reach administrators and staff."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ModelProblem:
    """One thing wrong with a BPMN model, tied to the element that has it."""

    file: str
    element_id: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}#{self.element_id}" if self.element_id else self.file
        return f"{where}: {self.message}"


class ModelInvalid(Exception):
    """A model was refused; ``problems`` lists everything found, not just the first."""

    def __init__(self, problems: list[ModelProblem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class ProcessError(Exception):
    """The process could not go on (a script or condition failed at run time)."""

    def __init__(self, message: str, *, element_id: str = ""):
        self.element_id = element_id
        super().__init__(message)


class TaskNotReady(Exception):
    """The task named is not ready (completed already, cancelled, or never existed)."""
