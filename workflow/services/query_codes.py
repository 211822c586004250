"""Re-issuing a lost query code (查询码) at the window."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from .. import query_codes
from ..access import require_role
from ..models import Case
from ..selectors.permissions import ROLES, Action, Viewer, require
from ..step import Step
from .engine import lock_case


@transaction.atomic
def case_query_code_reissue(*, user, case_no: str) -> str:
    """A new query code for the case, returned once; the old one stops working at commit.

    Window staff only (they check the applicant's identity document first). Allowed in every state, so an
    applicant can still download notices and rate a concluded case. Only the new code's digest is stored.
    """
    require_role(user, *ROLES[Action.REISSUE_QUERY_CODE])
    case = lock_case(case_no=case_no)
    require(Action.REISSUE_QUERY_CODE, Viewer.of(user), case)
    code = query_codes.new_query_code()
    Case.objects.filter(pk=case.pk).update(query_code_hash=query_codes.digest(code), updated_at=timezone.now())
    step = Step(case=case, instance=None, actor=user)
    step.event("query_code_reissued")
    step.events[0].save()
    return code
