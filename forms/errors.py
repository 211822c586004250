"""Errors of form composition: a malformed fragment, or fragments that cannot be merged."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class FragmentError(ValueError):
    """One or more item fragments are malformed; ``.problems`` lists every problem in Chinese."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("表单片段有误：\n" + "\n".join(f"- {problem}" for problem in self.problems))


@dataclass(frozen=True)
class Conflict:
    """Two items define one field (or a cross-field rule) in ways no answer can satisfy.

    ``items`` holds both items (``item_code``, ``item_name``, ``department``) and ``values`` what each one
    asks, in the same order; ``message`` says it in Chinese.
    """

    field: str
    keyword: str
    items: tuple[dict[str, str], dict[str, str]]
    values: tuple[Any, Any]
    message: str = field(compare=False)

    def as_dict(self) -> dict[str, Any]:
        return {
            "field": self.field,
            "keyword": self.keyword,
            "items": [dict(item) for item in self.items],
            "values": list(self.values),
            "message": self.message,
        }


class FragmentConflict(FragmentError):
    """The fragments define some fields incompatibly; ``.conflicts`` lists all of them, not only the first."""

    def __init__(self, conflicts: list[Conflict]):
        self.conflicts = list(conflicts)
        super().__init__([conflict.message for conflict in self.conflicts])
        self.args = (f"表单片段不能合并（{len(self.conflicts)} 处冲突）：\n" + "\n".join(self.problems),)

    def __str__(self) -> str:
        return self.args[0]
