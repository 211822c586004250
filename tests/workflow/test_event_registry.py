"""One event registry: every kind of trail entry is an EventKind with its label, audiences and data; the one
writer refuses anything else; docs/api.md lists them all."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from workflow.events import REGISTRY, Audience, EventKind, case_event

ROOT = Path(__file__).parents[2]


def test_docs_list_every_kind_with_its_label_and_audience():
    doc = (ROOT / "docs" / "api.md").read_text()
    rows = {m[1]: m[2] for m in re.finditer(r"^\| `([a-z_]+)` \| ([^|]+) \| ([^|]+) \|", doc, re.M)}
    for kind, entry in REGISTRY.items():
        assert kind.value in rows, f"docs/api.md does not list the event kind {kind.value}"
        assert rows[kind.value].strip() == entry.label, kind
    audiences = {m[1]: m[2] for m in re.finditer(r"^\| `([a-z_]+)` \| [^|]+ \| ([^|]+) \|", doc, re.M)}
    for kind, entry in REGISTRY.items():
        listed = audiences[kind.value]
        assert ("applicant" in listed) == (Audience.APPLICANT in entry.audiences), kind
        assert ("department" in listed) == (Audience.DEPARTMENT in entry.audiences), kind


def test_the_writer_refuses_kinds_the_registry_does_not_know():
    with pytest.raises(ValueError):
        case_event(None, "noted", None)
    with pytest.raises(ValueError):
        case_event(None, EventKind.REVIEW_PROGRESS, None)  # how an entry reads to another department only


def test_no_trail_entry_is_built_by_hand():
    """Every CaseEvent is built by events.case_event (the rows' own module and the writer aside)."""
    offenders = []
    for path in (ROOT / "workflow").rglob("*.py"):
        if "migrations" in path.parts or path.name in ("events.py",) or path.parent.name == "models":
            continue
        source = path.read_text()
        if re.search(r"CaseEvent\(|CaseEvent\.objects\.create\(", source):
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []
