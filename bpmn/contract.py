"""What a process model and the Django side agree on besides lanes (docs/engine-contract.md): the process data a
case starts with, and how review elements are named.

Review elements. A review's key is its department code, or ``<department>_<suffix>`` when one department has
several reviews; its user task is ``review_<key>``. The standard (generated) models name a department's first
item review ``review_<department>`` and its k-th ``review_<department>_item<k>``, in the one-thing's item order:
that is how a review task maps back to the catalogue item it decides (the unified result, 秒批).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from .sandbox import CONTRACT_VARIABLES

__all__ = [
    "department_of_review_key",
    "has_item_reviews",
    "initial_data",
    "item_number",
    "item_review_element_id",
    "item_review_suffix",
    "review_element_id",
    "review_key_of_element",
]

_ITEM_SUFFIX = re.compile(r"_item[0-9]+$")


def initial_data(*, case_no: str, one_thing: str, form: dict) -> dict:
    """The process data a case starts with: exactly the contract's variables (``CONTRACT_VARIABLES``)."""
    data = {
        "case_no": case_no,
        "one_thing": one_thing,
        "form": form,
        "intake": {},
        "reviews": {},
        "review_round": 0,
        "correction": {},
        "outcome": None,
    }
    assert set(data) == CONTRACT_VARIABLES  # the sandbox's names and the start data are one list
    return data


def review_element_id(key: str) -> str:
    """The user task of review ``key``."""
    return f"review_{key}"


def review_key_of_element(element_id: str) -> str | None:
    """The review key a review user task stands for (``review_<key>`` → ``<key>``); None for another element."""
    prefix = review_element_id("")
    return element_id[len(prefix) :] if element_id.startswith(prefix) and len(element_id) > len(prefix) else None


def item_review_suffix(k: int) -> str | None:
    """The key suffix of a department's k-th item review (1-based): none for the first, ``item<k>`` after."""
    return None if k == 1 else f"item{k}"


def item_review_element_id(department: str, k: int) -> str:
    """``review_<department>`` for the department's first item, ``review_<department>_item<k>`` for its k-th."""
    suffix = item_review_suffix(k)
    return review_element_id(f"{department}_{suffix}" if suffix else department)


def item_number(element_id: str, department: str) -> int | None:
    """k when ``element_id`` is the department's k-th item review, 1 for ``review_<department>``; else None."""
    if element_id == review_element_id(department):
        return 1
    match = re.fullmatch(rf"{re.escape(review_element_id(department))}_item([0-9]+)", element_id)
    return int(match.group(1)) if match else None


def has_item_reviews(element_ids: Iterable[str], department: str) -> bool:
    """Whether a model has per-item reviews (``review_<department>_item<k>``) for the department."""
    prefix = f"{review_element_id(department)}_item"
    return any(element.startswith(prefix) for element in element_ids)


def department_of_review_key(key: str) -> str:
    """The department of a review key in the process data: ``market_regulation_item2`` → ``market_regulation``."""
    return _ITEM_SUFFIX.sub("", key)
