"""Case search for staff (办件查询): filters over the cases the caller may open, newest first, a page at a time.

Scoped exactly like opening a case (``cases.case_get``): a reviewer finds only cases their department has a task
on, staff bound to a hall only the cases it accepted or decides (``halls.case_scope``) — another hall's or
department's case is never listed. The applicant's ID number is a filter the API takes only in a request body
(``POST /api/cases/search``), never in a URL, so it is not in access logs.

One statement per page (no COUNT): ``page_size + 1`` rows tell whether a next page exists. Indexes (migration
0022): the applicant's name (prefix), document number, phone; (accepting hall, opened_at), (deciding hall,
opened_at), (one-thing, opened_at), and the year's statistics index on opened_at.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from .. import halls
from ..access import staff_of
from ..errors import PermissionDenied, ValidationFailed
from ..lifecycle import CaseStatus
from ..models import Case, Channel, HumanTask
from ..models import StaffRole as Role
from .cases import CaseSummary, case_summary

PAGE_SIZE = 50
CREDIT_CODE_TYPE = "uscc"  # 统一社会信用代码: an organisation applicant's document type
# What a result row shows (``case_summary``): only these columns are read — a one-thing's merged form and a model
# version's texts are large, and decoding them for 50 rows would cost more than the query.
_SUMMARY = (
    "case_no",
    "status",
    "outcome",
    "applicant_name",
    "channel",
    "opened_at",
    "concluded_at",
    "promised_due_date",
    "promised_due_date_provisional",
    "accepting_hall_id",
    "deciding_hall_id",
    "one_thing__key",
    "one_thing__name",
    "process_version__number",
)


@dataclass(frozen=True)
class CaseQuery:
    """What staff search by; empty fields do not filter. ``applicant_name`` matches from its start."""

    applicant_name: str = ""
    id_number: str = ""  # the applicant's document number (body only)
    phone: str = ""
    credit_code: str = ""  # 统一社会信用代码 of an organisation applicant
    one_thing: str = ""  # key
    status: str = ""
    channel: str = ""
    since: dt.date | None = None  # received on or after (local date)
    until: dt.date | None = None  # received on or before
    hall: str = ""  # a hall code: cases it received or decides
    page: int = 1

    def problems(self) -> dict[str, list[str]]:
        errors: dict[str, list[str]] = {}
        if self.status and self.status not in CaseStatus.values:
            errors["status"] = ["办件状态只能是：" + "、".join(CaseStatus.values)]
        if self.channel and self.channel not in Channel.values:
            errors["channel"] = ["申办渠道只能是：" + "、".join(Channel.values)]
        if self.since and self.until and self.until < self.since:
            errors["until"] = ["结束日期不能早于开始日期"]
        if self.page < 1 or self.page > 1000:
            errors["page"] = ["页码应在 1 至 1000 之间"]
        return errors


@dataclass(frozen=True)
class SearchPage:
    rows: list[CaseSummary]
    page: int
    page_size: int
    has_next: bool


def case_search(*, user, query: CaseQuery) -> SearchPage:
    """The caller's cases matching ``query``, newest first (``opened_at``, then id), ``PAGE_SIZE`` per page."""
    staff = staff_of(user)
    if staff is None:
        raise PermissionDenied()
    errors = query.problems()
    if errors:
        raise ValidationFailed(field_errors=errors)
    cases = Case.objects.select_related("one_thing", "process_version").only(*_SUMMARY)
    if staff.role == Role.REVIEWER:  # as case_get: only cases their department has a task on
        cases = cases.filter(
            Exists(HumanTask.objects.filter(case_id=OuterRef("pk"), department_id=staff.department_id))
        )
    scope = halls.case_scope(staff)
    if scope is not None:  # 收受分离: staff bound to a hall see the cases it accepted or decides
        cases = cases.filter(scope)
    cases = cases.filter(_filters(query))
    offset = (query.page - 1) * PAGE_SIZE
    found = list(cases.order_by("-opened_at", "-pk")[offset : offset + PAGE_SIZE + 1])
    return SearchPage(
        rows=[case_summary(case) for case in found[:PAGE_SIZE]],
        page=query.page,
        page_size=PAGE_SIZE,
        has_next=len(found) > PAGE_SIZE,
    )


def local_midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=timezone.get_default_timezone())


def _filters(query: CaseQuery) -> Q:
    q = Q()
    if query.applicant_name.strip():
        q &= Q(applicant_name__startswith=query.applicant_name.strip())
    if query.id_number.strip():
        q &= Q(applicant_id_number=query.id_number.strip().upper())
    if query.credit_code.strip():
        q &= Q(applicant_id_number=query.credit_code.strip().upper(), applicant_id_type=CREDIT_CODE_TYPE)
    if query.phone.strip():
        q &= Q(applicant_phone=query.phone.strip())
    if query.one_thing:
        q &= Q(one_thing__key=query.one_thing)
    if query.status:
        q &= Q(status=query.status)
    if query.channel:
        q &= Q(channel=query.channel)
    if query.since:
        q &= Q(opened_at__gte=local_midnight(query.since))
    if query.until:
        q &= Q(opened_at__lt=local_midnight(query.until + dt.timedelta(days=1)))
    if query.hall:
        hall = halls.hall_by_code(query.hall)
        pk = hall.pk if hall is not None else -1
        q &= Q(accepting_hall_id=pk) | Q(deciding_hall_id=pk)
    return q
