"""Two facts about a case that its steps read to skip statements: whether a 容缺 promise is still outstanding
(the licences and the conclusion wait for it) and whether it has 告知承诺 commitments (an approval opens
post-approval checks). They are read as annotations of a statement the step sends anyway — the case's lock
(``services.engine.lock_case``), or the task rows an approval plans its licences from (``results.issue_licences``)
— and kept on the case object; code that finds them missing reads what it needs itself. The views' facts
(``VIEW_NAMES``) likewise let a case page skip the reads of what the case has none of."""

from __future__ import annotations

from django.db.models import Exists, OuterRef

from .models import (
    ClockPause,
    DeadlineExtension,
    ExtensionRequest,
    MaterialCommitment,
    MaterialPromise,
    MaterialReuse,
)

NAMES = ("has_outstanding_promises", "has_commitments")
# What a case's pages read only when the case has some (most have none): read as annotations of the page's case
# read (``selectors.case_get``), each an index probe, instead of one statement each for nothing.
# Named apart from ``NAMES``: a step's lock carries those as of the lock, and a page rendered from the step's case
# after its writes must not take them for these.
VIEW_NAMES = ("page_has_promises", "page_has_pauses", "page_has_extensions", "page_has_extension_requests")
VIEW_NAMES += ("page_has_reused_materials", "page_has_commitments")


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


def view_facts(case_ref: str = "pk") -> dict[str, Exists]:
    """``VIEW_NAMES`` as annotations, for a query of case rows (or rows that refer to the case by ``case_ref``)."""
    return {
        "page_has_promises": Exists(MaterialPromise.objects.filter(case=OuterRef(case_ref))),
        "page_has_pauses": Exists(ClockPause.objects.filter(case=OuterRef(case_ref))),
        "page_has_extensions": Exists(DeadlineExtension.objects.filter(case=OuterRef(case_ref))),
        "page_has_extension_requests": Exists(ExtensionRequest.objects.filter(case=OuterRef(case_ref))),
        "page_has_reused_materials": Exists(MaterialReuse.objects.filter(case=OuterRef(case_ref))),
        "page_has_commitments": case_facts(case_ref)["has_commitments"],
    }


def known_none(case, name: str) -> bool:
    """Whether the case was read with the fact ``name`` and it says there are none (no need to read them)."""
    return getattr(case, name, True) is False
