"""容缺受理: accepting a case with non-key materials promised for later, and what happens when a promise
lapses (the review stops: the case is suspended until the material arrives) or is kept."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from .. import clock, commitments
from ..access import require_role
from ..calendar import add_working_days
from ..errors import NotFound, ValidationFailed
from ..events import case_event
from ..lifecycle import CaseStatus
from ..models import Case, CaseEvent, MaterialPromise, PauseKind
from ..results import issue_licences
from ..selectors.cases import case_checklist
from ..selectors.permissions import ROLES, Action, Viewer, require
from .delivery import visit_event
from .engine import lock_case, save_status

# The longest promise a window may accept, in working days from acceptance.
MAX_PROMISE_WORKING_DAYS = 10


def check_promises(case: Case, promises: list[dict]) -> list[tuple[dict, dt.date]]:
    """The promised materials, each checked: it is on the one-thing's checklist, it may be deferred (容缺
    applies to non-key materials only), and its date is after today and within the limit."""
    checklist = {m["code"]: m for m in case_checklist(case)}
    today = timezone.localdate()
    latest = add_working_days(today, MAX_PROMISE_WORKING_DAYS)
    errors: dict[str, list[str]] = {}
    checked = []
    seen = set()
    for i, promise in enumerate(promises):
        code, due = promise.get("material"), promise.get("due_date")
        material = checklist.get(code)
        if material is None:
            errors[f"promises.{i}.material"] = [f"“{code}”不在本一件事的材料清单中"]
        elif not material.get("deferrable"):
            errors[f"promises.{i}.material"] = [f"“{material['name']}”是关键材料，不能容缺受理"]
        elif code in seen:
            errors[f"promises.{i}.material"] = ["同一材料只能承诺一次"]
        if isinstance(due, str):
            try:
                due = dt.date.fromisoformat(due)
            except ValueError:
                due = None
        if not isinstance(due, dt.date):
            errors[f"promises.{i}.due_date"] = ["请填写承诺补交日期"]
        elif not today < due <= latest:
            errors[f"promises.{i}.due_date"] = [
                f"承诺补交日期须在今天之后、{latest:%Y-%m-%d}（{MAX_PROMISE_WORKING_DAYS} 个工作日）之前"
            ]
        seen.add(code)
        if material is not None and isinstance(due, dt.date):
            checked.append((material, due))
    if errors:
        raise ValidationFailed("容缺承诺有误", field_errors=errors)
    return checked


def record_promises(case: Case, checked: list[tuple[dict, dt.date]]) -> list[MaterialPromise]:
    return MaterialPromise.objects.bulk_create(
        MaterialPromise(case=case, material_code=m["code"], material_name=m["name"], due_date=due) for m, due in checked
    )


@transaction.atomic
def case_promise_fulfil(*, user, case_no: str, material_code: str) -> Case:
    """The promised material arrived at the window. A case suspended for lapsed promises resumes once none
    is left outstanding."""
    require_role(user, *ROLES[Action.FULFIL_PROMISE])
    case = lock_case(case_no=case_no)
    require(Action.FULFIL_PROMISE, Viewer.of(user), case, material_code=material_code)
    promise = MaterialPromise.objects.filter(case=case, material_code=material_code, fulfilled_at=None).first()
    if promise is None:  # the rule read the outstanding promises a moment ago, under this lock
        raise NotFound("该办件没有这项待补交的容缺材料")
    now = timezone.now()
    promise.fulfilled_at, promise.fulfilled_by = now, user
    promise.save(update_fields=["fulfilled_at", "fulfilled_by"])
    # The applicant brought the material to the window: a trip (跑动), recorded with its reason.
    events = [
        _event(case, "promise_fulfilled", user, material=promise.material_name),
        visit_event(case, user, "material"),
    ]
    if case.status == CaseStatus.APPROVED:  # 容缺 at the end: the licences held for this material now issue
        issued = issue_licences(case)
        events += commitments.open_checks(case, issued, actor=user)
        for licence in issued:
            events.append(
                case_event(
                    case,
                    "licence_issued",
                    None,
                    department=licence.issuer_id,
                    nobody="系统",
                    number=licence.number,
                    item=licence.item_name,
                )
            )
    lapsed_left = MaterialPromise.objects.filter(case=case, fulfilled_at=None, lapsed_at__isnull=False).exists()
    if case.status == CaseStatus.SUSPENDED and not lapsed_left:
        case.resume()
        clock.resume_clock(case, kind=PauseKind.MATERIAL_PROMISE, at=now, actor=user)
        save_status(case, trips=case.trips, **clock.row_fields(case))
        events.append(_event(case, "resume", user, status=str(case.status)))
    else:
        save_status(case, trips=case.trips)
    CaseEvent.objects.bulk_create(events)
    return case


def promises_lapse(*, now: dt.datetime | None = None) -> int:
    """Suspend every case under review with a promise past its date; idempotent, safe to run from several
    workers at once (each case is locked and re-checked). Returns the number of cases suspended."""
    today = timezone.localdate(now or timezone.now())
    case_ids = set(
        MaterialPromise.objects.filter(fulfilled_at=None, due_date__lt=today, case__status=CaseStatus.IN_REVIEW)
        .values_list("case_id", flat=True)
        .distinct()
    )
    suspended = 0
    for case_id in sorted(case_ids):
        with transaction.atomic():
            case = lock_case(case_id=case_id)
            overdue = list(MaterialPromise.objects.filter(case=case, fulfilled_at=None, due_date__lt=today))
            if case.status != CaseStatus.IN_REVIEW or not overdue:
                continue
            MaterialPromise.objects.filter(pk__in=[p.pk for p in overdue], lapsed_at=None).update(
                lapsed_at=now or timezone.now()
            )
            case.suspend()
            clock.stop_clock(
                case, kind=PauseKind.MATERIAL_PROMISE, at=now or timezone.now(), reason="容缺承诺材料逾期未补交"
            )
            save_status(case, **clock.row_fields(case))
            CaseEvent.objects.bulk_create(
                [
                    _event(
                        case,
                        "suspend",
                        None,
                        reason="容缺承诺逾期未补交",
                        materials=[p.material_name for p in overdue],
                    )
                ]
            )
            suspended += 1
    return suspended


def _event(case: Case, kind: str, actor, **data) -> CaseEvent:
    return case_event(case, kind, actor, nobody="系统", **data)
