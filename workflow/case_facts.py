"""Two facts about a case that its steps read to skip statements: whether a 容缺 promise is still outstanding
(the licences and the conclusion wait for it) and whether it has 告知承诺 commitments (an approval opens
post-approval checks). They are read as annotations of a statement the step sends anyway — the case's lock
(``services.engine.lock_case``), or the task rows an approval plans its licences from (``results.issue_licences``)
— and kept on the case object; code that finds them missing reads what it needs itself."""

from __future__ import annotations

from django.db.models import Exists, OuterRef

from .models import MaterialCommitment, MaterialPromise

NAMES = ("has_outstanding_promises", "has_commitments")


def case_facts(case_ref: str) -> dict[str, Exists]:
    """The annotations, for a query whose rows refer to the case by ``case_ref`` ("pk" for the case's own row)."""
    return {
        "has_outstanding_promises": Exists(MaterialPromise.objects.filter(case=OuterRef(case_ref), fulfilled_at=None)),
        "has_commitments": Exists(MaterialCommitment.objects.filter(case=OuterRef(case_ref))),
    }


def remember(case, row) -> None:
    """Keep the facts ``row`` was annotated with on ``case``."""
    for name in NAMES:
        setattr(case, name, getattr(row, name))
