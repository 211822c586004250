"""Where a case's result is (结果送达) and how often the applicant came (跑动次数): one view for the case page,
``GET /api/cases/{no}``, the applicant's status page and ``POST /api/status``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.utils import timezone

from .. import delivery
from ..models import Case, CaseEvent, DeliveryMethod, DeliveryStatus, HumanTask

LABEL_OF_STATUS = dict(DeliveryStatus.choices)


@dataclass(frozen=True)
class Visit:
    at: dt.datetime
    reason: str
    reason_label: str
    by: str  # applicant | agent


@dataclass(frozen=True)
class DeliveryView:
    method: str
    method_label: str
    address: dict  # {recipient, phone, address} for post; {} otherwise
    status: str  # "" (pending), sent, returned, handed_over, delivered, downloaded
    status_label: str
    proven: bool
    delivered_at: dt.datetime | None
    carrier: str
    waybill: str
    where: str  # one sentence: where the result is now
    handover_items: list[str]  # what the window hands over (一窗通取), once the case has its result
    may_change: bool  # the choice is still open


@dataclass(frozen=True)
class TripsView:
    count: int  # 跑动次数: the visits the trail records
    visits: list[Visit]
    visited_today: bool  # the latest visit was today: a handover now may be "in the same visit" (即办件)


def delivery_view(case: Case, tasks: list[HumanTask] | None = None) -> DeliveryView:
    has_result = case.status in ("approved", "rejected", "concluded")
    items = []
    if has_result and case.delivery_method == DeliveryMethod.PICKUP:
        items = delivery.handover_list(case, tasks if tasks is not None else list(case.tasks.all()))
    return DeliveryView(
        method=case.delivery_method,
        method_label=DeliveryMethod(case.delivery_method).label,
        address=dict(case.delivery_address or {}),
        status=case.delivery_status,
        status_label=LABEL_OF_STATUS.get(case.delivery_status, case.delivery_status),
        proven=delivery.is_proven(case),
        delivered_at=case.delivered_at,
        carrier=case.delivery_carrier,
        waybill=case.delivery_waybill,
        where=delivery.where_label(case),
        handover_items=items,
        may_change=case.status not in ("concluded", "not_accepted", "withdrawn") and delivery.may_change_method(case),
    )


def case_trips(events: Iterable[CaseEvent]) -> TripsView:
    """The trips ledger of a case: its ``visit`` events (the same facts ``Case.trips`` counts)."""
    visits = [
        Visit(
            at=event.created_at,
            reason=(event.data or {}).get("reason", ""),
            reason_label=(event.data or {}).get("reason_label", ""),
            by=(event.data or {}).get("by", "applicant"),
        )
        for event in events
        if event.kind == "visit"
    ]
    today = timezone.localdate()
    return TripsView(
        count=len(visits), visits=visits, visited_today=bool(visits) and timezone.localdate(visits[-1].at) == today
    )
