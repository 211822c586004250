"""效能监督 statistics: every indicator a supervisor sees, computed here once (definitions: docs/statistics.md).

The dashboard screen, its CSV export, the statistics API and the year benchmark all call this module and render
its view objects; nothing else computes an indicator.

- **The population.** The cases *received* (``Case.opened_at``) in the period ``[since, until)``, scoped to the
  caller: a supervisor bound to a hall sees the cases that hall accepted or decides (``halls.case_scope``), an
  unbound supervisor or an administrator sees all. Department tasks, ratings and rectification orders are
  those of the same cases.
- **Working days used** of a case is the legal clock's own figure (``clock.working_days_used``, shown on the
  case page): working days from acceptance (``accepted_at``) to the decision (``decided_at``), pauses
  (补正, Art. 45 procedures, 容缺 suspension) excluded. Here it is computed in bulk — the cases grouped by
  (acceptance date, decision date), working days counted from per-year prefix sums, the few cases with pauses
  corrected one by one — and a test holds it equal to the per-case function.
- **Item limits** are read through :func:`item_limits` only, so that pinned compositions can re-point it.

Aggregation happens in SQL (grouped counts); Python touches groups, not cases, except the cases with pauses.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from itertools import islice
from typing import NamedTuple

from django.db import connections, transaction
from django.db.models import (
    BooleanField,
    CharField,
    Count,
    DateField,
    DateTimeField,
    ExpressionWrapper,
    F,
    Func,
    IntegerField,
    Min,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models import Case as Choose
from django.db.models.functions import Cast, Coalesce, Least, NullIf, Substr, TruncDate, TruncMinute
from django.db.models.lookups import GreaterThan
from django.utils import timezone

from .. import clock, halls
from ..access import require_role
from ..calendar import JOINT_EXTENSION_DAYS, JOINT_LIMIT_DAYS, CalendarUnknown, WorkingCalendar, local_date
from ..compositions import Composition, composition_by_id
from ..errors import ValidationFailed
from ..labels import OUTCOME_LABELS
from ..lifecycle import CaseStatus
from ..models import (
    GOOD_LEVELS,
    Case,
    Channel,
    ClockPause,
    CompositionVersion,
    Decision,
    Department,
    Hall,
    HumanTask,
    HumanTaskState,
    OneThing,
    OneThingItem,
    Rating,
    RatingLevel,
    RectificationOrder,
    RectificationState,
    Staff,
    StaffRole,
)

__all__ = [
    "CSV_HEADER",
    "CaseCounts",
    "CaseRow",
    "ChannelStatistics",
    "DepartmentStatistics",
    "Indicators",
    "ItemLimit",
    "OneThingStatistics",
    "Period",
    "RatingStatistics",
    "Statistics",
    "WorkingDayCounter",
    "case_csv",
    "case_rows",
    "department_statistics",
    "item_limits",
    "one_thing_limits",
    "one_thing_statistics",
    "rating_statistics",
    "statistics",
]

RATE_PLACES = 4  # rates: 0.9856 = 98.56 %
_QUANTUM = Decimal(1).scaleb(-RATE_PLACES)
DAYS_PLACES = 2  # average working days
# The legal clock runs until now for these; for the other states without a decision it stopped at the last change
# (clock.working_days_used).
CLOCK_RUNNING = frozenset({CaseStatus.RECEIVED, CaseStatus.IN_REVIEW, CaseStatus.CORRECTION_REQUIRED})
FINAL = frozenset({CaseStatus.CONCLUDED, CaseStatus.NOT_ACCEPTED, CaseStatus.WITHDRAWN})


def _rate(part: int | Fraction, whole: int) -> float | None:
    """part ÷ whole rounded half up to RATE_PLACES, as ``calendar.reduction_rate`` rounds; None when whole is 0."""
    if not whole:
        return None
    exact = Fraction(part) / whole
    rounded = (Decimal(exact.numerator) / Decimal(exact.denominator)).quantize(_QUANTUM, rounding=ROUND_HALF_UP)
    return float(rounded)


# --------------------------------------------------------------------------- view objects


@dataclass(frozen=True)
class Period:
    """Cases received from ``since`` (inclusive) until ``until`` (exclusive); None: unbounded."""

    since: dt.datetime | None = None
    until: dt.datetime | None = None

    def __post_init__(self):
        if self.since is not None and self.until is not None and self.until <= self.since:
            raise ValidationFailed("统计区间的结束应晚于开始", field_errors={"until": ["结束日期不能早于开始日期"]})

    @classmethod
    def of_days(cls, since: dt.date | None = None, until: dt.date | None = None) -> Period:
        """Whole local days, both inclusive: ``of_days(date(2025, 1, 1), date(2025, 12, 31))`` is the year 2025."""
        if since is not None and until is not None and until < since:
            raise ValidationFailed("统计区间的结束应晚于开始", field_errors={"until": ["结束日期不能早于开始日期"]})
        return cls(
            since=_midnight(since) if since is not None else None,
            until=_midnight(until + dt.timedelta(days=1)) if until is not None else None,
        )

    @property
    def first_day(self) -> dt.date | None:
        return local_date(self.since) if self.since is not None else None

    @property
    def last_day(self) -> dt.date | None:
        return local_date(self.until - dt.timedelta(microseconds=1)) if self.until is not None else None


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=timezone.get_default_timezone())


@dataclass(frozen=True)
class ItemLimit:
    """A service item of a one-thing with its limits in working days; 时限压减率 = 1 − promised ÷ statutory."""

    code: str
    name: str
    department: str
    statutory_limit_days: int
    promised_limit_days: int

    @property
    def reduction(self) -> Fraction | None:
        """Exact; None when undefined (a statutory limit of 0 days, or a promise longer than the law's)."""
        if self.statutory_limit_days <= 0 or not 0 <= self.promised_limit_days <= self.statutory_limit_days:
            return None
        return 1 - Fraction(self.promised_limit_days, self.statutory_limit_days)

    @property
    def reduction_rate(self) -> float | None:
        return _rate(self.reduction, 1) if self.reduction is not None else None


@dataclass(frozen=True)
class CaseCounts:
    """The counts every case indicator is a ratio of (docs/statistics.md)."""

    received: int = 0  # 收件: every case of the period
    accepted: int = 0  # 受理件: accepted, or deemed accepted by law (the legal clock runs: accepted_at)
    in_progress: int = 0  # 在办: accepted, no final state yet
    concluded: int = 0  # 办结件: accepted and now 已办结
    not_accepted: int = 0  # 不予受理
    withdrawn: int = 0  # 撤回 (before or after acceptance)
    timed: int = 0  # 办结件 whose working days used the calendar could count
    working_days: int = 0  # their working days used, summed
    immediate: int = 0  # of them, those with 0 working days used (即办件)
    with_due_date: int = 0  # 办结件 with a promised due date
    on_time: int = 0  # of them, decided on or before it
    rated: int = 0  # cases with a rating (the current one counts)
    rated_good: int = 0  # … at 非常满意, 满意 or 基本满意
    reduction_sum: Fraction = Fraction(0)  # Σ over the accepted cases of their one-thing's 时限压减率
    reduction_cases: int = 0  # accepted cases whose one-thing has a 时限压减率
    # 跑动 (the trips ledger: each case's visit events, counted in Case.trips), of the 办结件:
    zero_trips: int = 0  # those with no visit (零跑动)
    at_most_one_trip: int = 0  # those with at most one (最多跑一次)
    trips: int = 0  # their visits, summed


@dataclass(frozen=True)
class Indicators:
    """The seed's indicators, each a ratio of :class:`CaseCounts` (None: nothing to divide by)."""

    completion_rate: float | None  # 办结率 = concluded ÷ accepted
    immediate_share: float | None  # 即办件占比 = immediate ÷ timed
    reduction_rate: float | None  # 时限压减率 (of a one-thing: mean over its items; of a hall: case-weighted)
    average_working_days: float | None  # 平均办理用时 = working_days ÷ timed
    on_time_rate: float | None  # 按时办结率 = on_time ÷ with_due_date
    good_rate: float | None  # 好评率 = rated_good ÷ rated
    zero_trip_rate: float | None = None  # 零跑动率 = zero_trips ÷ concluded
    at_most_one_trip_rate: float | None = None  # 最多跑一次率 = at_most_one_trip ÷ concluded
    average_trips: float | None = None  # 平均跑动次数 = trips ÷ concluded

    @classmethod
    def of(cls, counts: CaseCounts, *, reduction: Fraction | None = None) -> Indicators:
        if reduction is None and counts.reduction_cases:
            reduction = counts.reduction_sum / counts.reduction_cases
        return cls(
            completion_rate=_rate(counts.concluded, counts.accepted),
            immediate_share=_rate(counts.immediate, counts.timed),
            reduction_rate=_rate(reduction, 1) if reduction is not None else None,
            average_working_days=round(counts.working_days / counts.timed, DAYS_PLACES) if counts.timed else None,
            on_time_rate=_rate(counts.on_time, counts.with_due_date),
            good_rate=_rate(counts.rated_good, counts.rated),
            zero_trip_rate=_rate(counts.zero_trips, counts.concluded),
            at_most_one_trip_rate=_rate(counts.at_most_one_trip, counts.concluded),
            average_trips=round(counts.trips / counts.concluded, DAYS_PLACES) if counts.concluded else None,
        )


@dataclass(frozen=True)
class OneThingStatistics:
    key: str
    name: str
    promised_limit_days: int  # the one-thing's own promise for a whole case (承诺时限)
    items: tuple[ItemLimit, ...]
    counts: CaseCounts
    indicators: Indicators


@dataclass(frozen=True)
class DepartmentStatistics:
    """A department's review tasks on the period's cases (every round counts)."""

    code: str
    name: str
    open: int
    completed: int
    approve: int
    need_correction: int
    reject: int

    @property
    def total(self) -> int:
        return self.open + self.completed


@dataclass(frozen=True)
class LevelCount:
    level: int
    label: str
    count: int


@dataclass(frozen=True)
class RectificationStatistics:
    total: int
    open: int
    overdue: int  # open past the due date
    done: int
    on_time: int  # resolved on or before the due date

    @property
    def on_time_rate(self) -> float | None:
        """整改按时率 = on time ÷ the orders that are due (done, or open past the due date)."""
        return _rate(self.on_time, self.done + self.overdue)


@dataclass(frozen=True)
class RatingStatistics:
    ratings: int
    good: int
    by_level: tuple[LevelCount, ...]
    rectifications: RectificationStatistics

    @property
    def good_rate(self) -> float | None:
        return _rate(self.good, self.ratings)


@dataclass(frozen=True)
class StatusCount:
    status: str
    label: str
    count: int


@dataclass(frozen=True)
class ChannelStatistics:
    """The period's cases that came in through one channel (申办渠道: 窗口 / 网上 / 自助终端)."""

    channel: str
    label: str
    received: int  # 收件
    share: float | None  # of every case received (收件占比)
    accepted: int
    concluded: int
    timed: int  # 办结件 whose working days used the calendar could count
    immediate: int  # of them, 即办件 (0 working days used)
    immediate_share: float | None  # 即办件占比 = immediate ÷ timed
    zero_trips: int = 0  # of the 办结件, those with no visit (零跑动)
    at_most_one_trip: int = 0  # … with at most one (最多跑一次)
    zero_trip_rate: float | None = None  # 零跑动率 = zero_trips ÷ concluded
    at_most_one_trip_rate: float | None = None  # 最多跑一次率 = at_most_one_trip ÷ concluded


@dataclass(frozen=True)
class HallStatistics:
    """The period's cases a hall received (收件大厅), with its trips (零跑动, 最多跑一次)."""

    code: str
    name: str
    received: int
    concluded: int
    zero_trips: int
    at_most_one_trip: int
    trips: int
    zero_trip_rate: float | None  # 零跑动率 = zero_trips ÷ concluded
    at_most_one_trip_rate: float | None  # 最多跑一次率 = at_most_one_trip ÷ concluded
    average_trips: float | None  # 平均跑动次数 = trips ÷ concluded


def _hall_rows(tallies: Mapping[int | None, _Tally]) -> tuple[HallStatistics, ...]:
    rows = []
    for pk, tally in tallies.items():
        hall = halls.hall_by_id(pk)  # the halls' cache: no statement when warm
        rows.append(
            HallStatistics(
                code=hall.code if hall else "",
                name=hall.name if hall else "（未登记大厅）",
                received=tally.received,
                concluded=tally.concluded,
                zero_trips=tally.zero_trips,
                at_most_one_trip=tally.at_most_one_trip,
                trips=tally.trips,
                zero_trip_rate=_rate(tally.zero_trips, tally.concluded),
                at_most_one_trip_rate=_rate(tally.at_most_one_trip, tally.concluded),
                average_trips=round(tally.trips / tally.concluded, DAYS_PLACES) if tally.concluded else None,
            )
        )
    return tuple(sorted(rows, key=lambda row: row.code))


def _channel_rows(tallies: Mapping[str, _Tally]) -> tuple[ChannelStatistics, ...]:
    total = sum(tally.received for tally in tallies.values())
    rows = []
    for channel in Channel:
        tally = tallies.get(channel.value) or _Tally()
        rows.append(
            ChannelStatistics(
                channel=channel.value,
                label=channel.label,
                received=tally.received,
                share=_rate(tally.received, total),
                accepted=tally.accepted,
                concluded=tally.concluded,
                timed=tally.timed,
                immediate=tally.immediate,
                immediate_share=_rate(tally.immediate, tally.timed),
                zero_trips=tally.zero_trips,
                at_most_one_trip=tally.at_most_one_trip,
                zero_trip_rate=_rate(tally.zero_trips, tally.concluded),
                at_most_one_trip_rate=_rate(tally.at_most_one_trip, tally.concluded),
            )
        )
    return tuple(rows)


# 网上申办率: the cases applied for without a clerk — online and at a self-service kiosk — of every case received.
ONLINE_CHANNELS = frozenset({Channel.ONLINE, Channel.KIOSK})


@dataclass(frozen=True)
class Statistics:
    period: Period
    hall: Hall | None  # the hall the caller's view is limited to (收受分离), None: every case
    by_status: tuple[StatusCount, ...]
    counts: CaseCounts
    indicators: Indicators
    one_things: tuple[OneThingStatistics, ...]
    departments: tuple[DepartmentStatistics, ...]
    ratings: RatingStatistics
    calendar_gaps: tuple[int, ...] = ()  # years the calendar does not know: their cases are not timed
    channels: tuple[ChannelStatistics, ...] = ()  # one row per channel, in Channel's order
    halls: tuple[HallStatistics, ...] = ()  # one row per receiving hall with cases in the period

    @property
    def online_application_rate(self) -> float | None:
        """网上申办率 = cases received online or at a kiosk ÷ every case received."""
        online = sum(row.received for row in self.channels if row.channel in ONLINE_CHANNELS)
        return _rate(online, self.counts.received)

    @property
    def total(self) -> int:
        return self.counts.received


class CaseRow(NamedTuple):
    """One case as the CSV export states it; the figures are those the indicators count. (A tuple: a year's export
    makes 160,000 of them.)"""

    case_no: str
    one_thing: str
    one_thing_name: str
    status: str
    status_label: str
    outcome: str
    outcome_label: str
    # the times in the hall's time zone to the minute, "YYYY-MM-DD HH:MM" ("" when none)
    opened_at: str
    accepted_at: str
    decided_at: str
    concluded_at: str
    working_days_used: int | None  # the legal clock's (None: not accepted, or the calendar lacks a year)
    promised_limit_days: int
    promised_due_date: dt.date | None
    overdue: bool | None  # decided after the promised due date; None: no decision or no due date yet
    correction_rounds: int
    channel: str = Channel.WINDOW
    channel_label: str = Channel.WINDOW.label
    trips: int = 0  # 跑动次数: the case's visits (its trips ledger)


# --------------------------------------------------------------------------- working days in bulk


class WorkingDayCounter:
    """``WorkingCalendar.working_days_between`` / ``working_days_used`` for many cases: each year's working days
    as prefix sums (one pass over the year's days, once), so a count costs a subtraction per year it spans."""

    def __init__(self, calendar: WorkingCalendar | None = None):
        self.calendar = calendar if calendar is not None else WorkingCalendar()
        self._prefix: dict[int, list[int] | None] = {}
        self._between: dict[tuple[dt.date, dt.date], int] = {}  # a year of cases has a few thousand distinct spans

    def _year(self, year: int) -> list[int]:
        if year not in self._prefix:
            if not self.calendar.knows_year(year):
                self._prefix[year] = None
            else:
                prefix, running, day = [], 0, dt.date(year, 1, 1)
                while day.year == year:
                    running += self.calendar.is_working_day(day)
                    prefix.append(running)
                    day += dt.timedelta(days=1)
                self._prefix[year] = prefix
        prefix = self._prefix[year]
        if prefix is None:
            raise CalendarUnknown(year)
        return prefix

    def between(self, start: dt.date, end: dt.date) -> int:
        """Working days in (start, end]; 0 when end is not after start."""
        if end <= start:
            return 0
        known = self._between.get((start, end))
        if known is not None:
            return known
        total, first = 0, start + dt.timedelta(days=1)
        for year in range(first.year, end.year + 1):
            prefix = self._year(year)
            lo, hi = max(first, dt.date(year, 1, 1)), min(end, dt.date(year, 12, 31))
            lo_index, hi_index = lo.timetuple().tm_yday - 1, hi.timetuple().tm_yday - 1
            total += prefix[hi_index] - (prefix[lo_index - 1] if lo_index else 0)
        self._between[start, end] = total
        return total

    def running(self, first_year: int, last_year: int) -> tuple[dt.date, list[int], int]:
        """The counts ``between`` reads, as one running total over the days of ``first_year`` to ``last_year``:
        ``(base, totals, lacking)``; for the day ``base + i`` (``base``: the eve of ``first_year``), ``totals[i]``
        is the working days in (base, day] plus ``lacking`` for each day in (base, day] of a year the calendar
        lacks, ``lacking`` being more than the range's days. So for two days ``start <= end`` of the range,
        ``between(start, end)`` is ``totals[end] - totals[start]`` when that is less than ``lacking``, and
        raises CalendarUnknown otherwise (tests/workflow/test_statistics_csv.py holds the two equal): what lets
        the database count a row's working days with one subtraction (``_csv_query``)."""
        base = dt.date(first_year, 1, 1) - dt.timedelta(days=1)
        lacking = (dt.date(last_year, 12, 31) - base).days + 1
        totals = [0]
        for year in range(first_year, last_year + 1):
            try:
                prefix = self._year(year)
            except CalendarUnknown:
                prefix = None
            days = (dt.date(year, 12, 31) - dt.date(year, 1, 1)).days + 1
            before = totals[-1]
            totals.extend(
                before + (prefix[index] if prefix is not None else lacking * (index + 1)) for index in range(days)
            )
        return base, totals, lacking

    def used(self, start: dt.date, end: dt.date, pauses: Sequence[tuple[dt.date, dt.date | None]] = ()) -> int:
        """Working days in (start, end] outside the pauses, each pause ``(stopped on, resumed on or None)``
        stopping the days in (stopped, resumed] (open: until ``end``), overlapping pauses merged — the
        convention of ``workflow.calendar``."""
        if end < start:
            raise ValueError(f"结束日期（{end}）早于开始日期（{start}）")
        used = self.between(start, end)
        if not pauses:
            return used
        for first, last in _merged(pauses, end):
            lo, hi = max(first, start), min(last, end)
            if lo < hi:
                used -= self.between(lo, hi)
        return used


def _merged(pauses: Iterable[tuple[dt.date, dt.date | None]], open_until: dt.date) -> list[tuple[dt.date, dt.date]]:
    spans = sorted(
        (first, last)
        for first, last in ((first, last if last is not None else max(open_until, first)) for first, last in pauses)
        if last > first
    )
    merged: list[list[dt.date]] = []
    for first, last in spans:
        if merged and first <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], last)
        else:
            merged.append([first, last])
    return [(first, last) for first, last in merged]


# --------------------------------------------------------------------------- reading


def _local_date(expression) -> TruncDate:
    return TruncDate(expression, tzinfo=timezone.get_default_timezone())


def _local_day(expression) -> Cast:
    """``_local_date`` without TruncDate's converter, a Python call per value: for the per-case rows."""
    return Cast(_local_date(expression), DateField())


def _local_minute(expression) -> Coalesce:
    """A timestamp as "YYYY-MM-DD HH:MM" in the hall's time zone, "" for none, as text from the database."""
    return Coalesce(_minute_text(expression), Value(""))


def _minute_text(expression) -> _LocalMinute:
    """``_local_minute`` with NULL for none."""
    return _LocalMinute(expression)


class _LocalMinute(Func):
    """A timestamp's first 16 characters in the hall's time zone, "YYYY-MM-DD HH:MM": the minute truncated and
    cast to text; on PostgreSQL the local time's text cut to 16 characters (the same characters, without the
    truncation's work: the CSV computes 650,000 of them). ``offset``: the zone's UTC offset where it is known to
    be constant (``_fixed_offset``)."""

    output_field = CharField()

    def __init__(self, expression, offset: dt.timedelta | None = None):
        super().__init__(expression)
        self.offset = offset

    def as_sql(self, compiler, connection, **extra):
        minute = TruncMinute(self.source_expressions[0], tzinfo=timezone.get_default_timezone())
        return compiler.compile(Substr(Cast(minute, CharField()), 1, 16))

    def as_postgresql(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.source_expressions[0])
        zone, zone_params = _zone_sql(self.offset)
        return f"LEFT(({sql} AT TIME ZONE {zone})::text, 16)", [*params, *zone_params]


class _LocalDay(Func):
    """``_local_day`` on PostgreSQL with the zone's constant ``offset`` (``_fixed_offset``), or its name."""

    output_field = DateField()

    def __init__(self, expression, offset: dt.timedelta | None = None):
        super().__init__(expression)
        self.offset = offset

    def as_sql(self, compiler, connection, **extra):
        return compiler.compile(_local_day(self.source_expressions[0]))

    def as_postgresql(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.source_expressions[0])
        zone, zone_params = _zone_sql(self.offset)
        return f"(({sql} AT TIME ZONE {zone})::date)", [*params, *zone_params]


def _zone_sql(offset: dt.timedelta | None) -> tuple[str, list]:
    if offset is None:
        return "%s", [timezone.get_default_timezone_name()]
    return "%s::interval", [offset]


def _fixed_offset(first: dt.datetime, last: dt.datetime) -> dt.timedelta | None:
    """The hall's time zone's UTC offset if it is the same from ``first`` to ``last`` (looked at every 12 hours:
    no zone keeps an offset for less), else None. PostgreSQL converts a timestamp by a fixed offset several times
    faster than by a zone's name, which looks the zone's rules up for each value (Asia/Shanghai: +08:00 since
    1991)."""
    zone = timezone.get_default_timezone()
    offset = first.astimezone(zone).utcoffset()
    instant = first
    while instant <= last:
        if instant.astimezone(zone).utcoffset() != offset:
            return None
        instant += dt.timedelta(hours=12)
    return offset if last.astimezone(zone).utcoffset() == offset else None


@dataclass(frozen=True)
class _Population:
    """The cases a statistic counts — received in the period, in the caller's hall (收受分离: a supervisor bound
    to a hall sees the cases it accepted or decides) — and the rows of other tables that belong to them."""

    staff: Staff
    period: Period

    def of(self, queryset: QuerySet, prefix: str = "") -> QuerySet:
        """``queryset`` (of Case, or with ``prefix`` "case__" of a table pointing at cases) limited to the
        population; a join, and none at all when every case counts."""
        scope = halls.case_scope(self.staff, prefix)
        if scope is not None:
            queryset = queryset.filter(scope)
        if self.period.since is not None:
            queryset = queryset.filter(**{f"{prefix}opened_at__gte": self.period.since})
        if self.period.until is not None:
            queryset = queryset.filter(**{f"{prefix}opened_at__lt": self.period.until})
        return queryset

    def cases(self) -> QuerySet[Case]:
        return self.of(Case.objects.all())


def _population(user, period: Period) -> _Population:
    return _Population(require_role(user, StaffRole.SUPERVISOR, StaffRole.ADMINISTRATOR), period)


def item_limits(current: Mapping[int, int | None]) -> dict[int, tuple[ItemLimit, ...]]:
    """Each one-thing's items with their limits as new cases get them: ``current`` maps a one-thing's id to its
    current composition version's (its items in the composition's order, from the per-process cache), or to None
    for a one-thing never composed on a BPMN version (its catalogue rows, one query). The one place the statistics
    read item limits."""
    out: dict[int, tuple[ItemLimit, ...]] = {
        one_thing_id: item_limits_of(composition_by_id(version))
        for one_thing_id, version in current.items()
        if version is not None
    }
    uncomposed = [one_thing_id for one_thing_id, version in current.items() if version is None]
    if not uncomposed:
        return out
    rows = (
        OneThingItem.objects.filter(one_thing_id__in=uncomposed)
        .order_by("one_thing_id", "position", "id")
        .values_list(
            "one_thing_id",
            "item__code",
            "item__name",
            "item__department_id",
            "item__statutory_limit_days",
            "item__promised_limit_days",
        )
    )
    catalogue: dict[int, list[ItemLimit]] = defaultdict(list)
    for one_thing_id, *values in rows:
        catalogue[one_thing_id].append(ItemLimit(*values))
    out.update((one_thing_id, tuple(items)) for one_thing_id, items in catalogue.items())
    return out


def item_limits_of(composition: Composition) -> tuple[ItemLimit, ...]:
    """A composition version's items with the limits it was published with."""
    return tuple(
        ItemLimit(item.code, item.name, item.department, item.statutory_limit_days, item.promised_limit_days)
        for item in composition.items
    )


def one_thing_reduction(items: Iterable[ItemLimit]) -> Fraction | None:
    """时限压减率 of a one-thing: the mean of its items' rates, each item once (conditional items too)."""
    rates = [item.reduction for item in items if item.reduction is not None]
    return sum(rates, Fraction(0)) / len(rates) if rates else None


def one_thing_reduction_rate(items: Iterable[ItemLimit]) -> float | None:
    """The same, rounded as every rate is: what the catalogue's ``GET /api/one-things/{key}`` states."""
    reduction = one_thing_reduction(items)
    return _rate(reduction, 1) if reduction is not None else None


def one_thing_limits(one_thing: OneThing) -> dict:
    """The one-thing's statutory and promised limits, its 时限压减率 and each item's, as new cases get them (its
    current composition version; ``GET /api/one-things/{key}``)."""
    if one_thing.current_composition_id is None:  # not openable yet: nothing composed on a BPMN version
        return {
            "statutory_limit_days": JOINT_LIMIT_DAYS,
            "promised_limit_days": one_thing.promised_limit_days,
            "extension_limit_days": JOINT_EXTENSION_DAYS,
            "reduction_rate": one_thing_reduction_rate(item_limits({one_thing.pk: None}).get(one_thing.pk, ())),
            "items": [],
        }
    composition = composition_by_id(one_thing.current_composition_id)
    limits = clock.limits_of(composition)
    items = item_limits_of(composition)
    return {
        "statutory_limit_days": limits.statutory,
        "promised_limit_days": limits.promised,
        "extension_limit_days": limits.extension_cap,
        # 时限压减率 of a one-thing: the mean of its items' (docs/statistics.md), not its promise against the 45 days
        "reduction_rate": one_thing_reduction_rate(items),
        "items": sorted(items, key=lambda item: item.code),
    }


@dataclass
class _Tally:
    """CaseCounts under construction."""

    received: int = 0
    accepted: int = 0
    in_progress: int = 0
    concluded: int = 0
    not_accepted: int = 0
    withdrawn: int = 0
    timed: int = 0
    working_days: int = 0
    immediate: int = 0
    with_due_date: int = 0
    on_time: int = 0
    rated: int = 0
    rated_good: int = 0
    reduction_sum: Fraction = field(default_factory=Fraction)
    reduction_cases: int = 0
    zero_trips: int = 0
    at_most_one_trip: int = 0
    trips: int = 0

    def add(self, other: _Tally) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def frozen(self) -> CaseCounts:
        return CaseCounts(**{name: getattr(self, name) for name in self.__dataclass_fields__})


def _count(
    tally: _Tally, status, accepted, start, end, due, n: int, counter: WorkingDayCounter, gaps: set[int], trips=None
) -> None:
    """Adds a group of ``n`` cases to a tally; a year the calendar lacks goes into ``gaps``. ``trips``: the
    visits each case of the group recorded (办结件 only)."""
    tally.received += n
    tally.not_accepted += n if status == CaseStatus.NOT_ACCEPTED else 0
    tally.withdrawn += n if status == CaseStatus.WITHDRAWN else 0
    if not accepted:
        return
    tally.accepted += n
    if status not in FINAL:
        tally.in_progress += n
    if status != CaseStatus.CONCLUDED:
        return
    tally.concluded += n
    visits = trips or 0
    tally.trips += n * visits
    tally.zero_trips += n if visits == 0 else 0
    tally.at_most_one_trip += n if visits <= 1 else 0
    if due is not None:
        tally.with_due_date += n
        tally.on_time += n if end <= due else 0
    try:
        days = counter.between(start, end)
    except CalendarUnknown as exc:
        gaps.add(exc.year)
        return
    tally.timed += n
    tally.working_days += n * days
    tally.immediate += n if days == 0 else 0


def _case_tallies(
    population: _Population, counter: WorkingDayCounter
) -> tuple[dict[int, _Tally], dict[str, int], set[int], dict[str, _Tally], dict[int | None, _Tally]]:
    """Per one-thing tallies, counts per status, the years the calendar lacked, per channel and per receiving hall
    tallies (with each 办结件's trips: ``Case.trips``, the count of its visit events). Two
    queries: the cases grouped by (one-thing, channel, status, accepted?, acceptance date, decision date, promised
    due date) — the dates for 办结件 only, so other cases collapse into a few groups — and the pauses of the
    办结件."""
    timed = Q(status=CaseStatus.CONCLUDED, accepted_at__isnull=False)
    groups = (
        population.cases()
        .order_by()
        .annotate(
            accepted=ExpressionWrapper(Q(accepted_at__isnull=False), output_field=BooleanField()),
            start=Choose(When(timed, then=_local_date("accepted_at")), output_field=DateField()),
            end=Choose(When(timed, then=_local_date(Coalesce("decided_at", "concluded_at"))), output_field=DateField()),
            due=Choose(When(timed, then=F("promised_due_date")), output_field=DateField()),
            visits=Choose(When(timed, then=F("trips")), output_field=IntegerField()),
        )
        .values_list(
            "one_thing_id", "channel", "accepting_hall_id", "status", "accepted", "start", "end", "due", "visits"
        )
        .annotate(n=Count("*"))
    )
    tallies: dict[int, _Tally] = defaultdict(_Tally)
    channels: dict[str, _Tally] = defaultdict(_Tally)
    hall_tallies: dict[int | None, _Tally] = defaultdict(_Tally)
    by_status: dict[str, int] = defaultdict(int)
    gaps: set[int] = set()
    for one_thing_id, channel, hall_id, status, accepted, start, end, due, visits, n in groups:
        by_status[status] += n
        for tally in (tallies[one_thing_id], channels[channel], hall_tallies[hall_id]):
            _count(tally, status, accepted, start, end, due, n, counter, gaps, visits)

    # The 办结件 with pauses: their paused working days come off (a pause may turn a case into a 即办件).
    pauses = (
        population.of(
            ClockPause.objects.filter(case__status=CaseStatus.CONCLUDED, case__accepted_at__isnull=False), "case__"
        )
        .annotate(
            one_thing_id=F("case__one_thing_id"),
            channel=F("case__channel"),
            hall_id=F("case__accepting_hall_id"),
            start=_local_date("case__accepted_at"),
            end=_local_date(Coalesce("case__decided_at", "case__concluded_at")),
            stopped=_local_date("started_at"),
            resumed=_local_date("ended_at"),
        )
        .order_by()
        .values_list("case_id", "one_thing_id", "channel", "hall_id", "start", "end", "stopped", "resumed")
    )
    by_case: dict[int, list] = defaultdict(list)
    for case_id, one_thing_id, channel, hall_id, start, end, stopped, resumed in pauses:
        by_case[case_id].append((one_thing_id, channel, hall_id, start, end, stopped, resumed))
    for spans in by_case.values():
        one_thing_id, channel, hall_id, start, end = spans[0][:5]
        try:
            before = counter.between(start, end)
            after = (
                counter.used(start, end, [(stopped, resumed) for *_, stopped, resumed in spans]) if end >= start else 0
            )
        except CalendarUnknown:
            continue  # not timed above either
        for tally in (tallies[one_thing_id], channels[channel], hall_tallies[hall_id]):
            tally.working_days -= before - after
            tally.immediate += 1 if before > 0 and after == 0 else 0
    return tallies, by_status, gaps, channels, hall_tallies


def _rating_tallies(population: _Population) -> dict[int, tuple[int, int]]:
    """(ratings, good ratings) per one-thing: each case's current rating."""
    rows = (
        population.of(Rating.objects.filter(superseded_by__isnull=True), "case__")
        .order_by()
        .values_list("case__one_thing_id", "level")
        .annotate(n=Count("*"))
    )
    out: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for one_thing_id, level, n in rows:
        out[one_thing_id][0] += n
        out[one_thing_id][1] += n if level in GOOD_LEVELS else 0
    return {key: (total, good) for key, (total, good) in out.items()}


def _one_things(
    population: _Population, counter: WorkingDayCounter
) -> tuple[
    tuple[OneThingStatistics, ...],
    CaseCounts,
    dict[str, int],
    set[int],
    tuple[ChannelStatistics, ...],
    tuple[HallStatistics, ...],
]:
    tallies, by_status, gaps, channels, hall_tallies = _case_tallies(population, counter)
    for one_thing_id, (rated, good) in _rating_tallies(population).items():
        tallies[one_thing_id].rated += rated
        tallies[one_thing_id].rated_good += good
    one_things = list(
        OneThing.objects.filter(Q(is_active=True) | Q(pk__in=list(tallies)))
        .order_by("key")
        .values_list("pk", "key", "name", "promised_limit_days", "current_composition")
    )
    limits = item_limits({pk: version for pk, *_, version in one_things})
    hall, rows = _Tally(), []
    for pk, key, name, promised, _version in one_things:
        tally = tallies.get(pk, _Tally())
        items = limits.get(pk, ())
        reduction = one_thing_reduction(items)
        if reduction is not None and tally.accepted:
            tally.reduction_sum += reduction * tally.accepted
            tally.reduction_cases += tally.accepted
        hall.add(tally)
        counts = tally.frozen()
        rows.append(
            OneThingStatistics(
                key=key,
                name=name,
                promised_limit_days=promised,
                items=items,
                counts=counts,
                indicators=Indicators.of(counts, reduction=reduction),
            )
        )
    return tuple(rows), hall.frozen(), by_status, gaps, _channel_rows(channels), _hall_rows(hall_tallies)


def _departments(population: _Population) -> tuple[DepartmentStatistics, ...]:
    # Grouped on the task's own columns (the index-only scan of task_case_state); the names come separately.
    rows = (
        population.of(HumanTask.objects.filter(department__isnull=False), "case__")
        .order_by()
        .values_list("department_id", "state", "decision")
        .annotate(n=Count("*"))
    )
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for code, state, decision, n in rows:
        counts[code][state] += n
        if decision:
            counts[code][decision] += n
    names = dict(Department.objects.filter(code__in=list(counts)).values_list("code", "name"))
    return tuple(
        DepartmentStatistics(
            code=code,
            name=names.get(code, code),
            open=c[HumanTaskState.OPEN],
            completed=c[HumanTaskState.COMPLETED],
            approve=c[Decision.APPROVE],
            need_correction=c[Decision.NEED_CORRECTION],
            reject=c[Decision.REJECT],
        )
        for code, c in sorted(counts.items(), key=lambda pair: (names.get(pair[0], pair[0]), pair[0]))
    )


def _ratings(population: _Population, today: dt.date) -> RatingStatistics:
    levels = dict(
        population.of(Rating.objects.filter(superseded_by__isnull=True), "case__")
        .order_by()
        .values_list("level")
        .annotate(n=Count("*"))
        .values_list("level", "n")
    )
    done, is_open = Q(state=RectificationState.DONE), Q(state=RectificationState.OPEN)
    orders = population.of(RectificationOrder.objects, "case__").aggregate(
        done=Count("pk", filter=done),
        on_time=Count("pk", filter=done & Q(resolved_at__date__lte=F("due_date"))),
        open=Count("pk", filter=is_open),
        overdue=Count("pk", filter=is_open & Q(due_date__lt=today)),
    )
    return RatingStatistics(
        ratings=sum(levels.values()),
        good=sum(n for level, n in levels.items() if level in GOOD_LEVELS),
        by_level=tuple(LevelCount(level.value, level.label, levels.get(level.value, 0)) for level in RatingLevel),
        rectifications=RectificationStatistics(total=orders["done"] + orders["open"], **orders),
    )


# --------------------------------------------------------------------------- the public reads


def statistics(
    *, user, period: Period = Period(), today: dt.date | None = None, calendar: WorkingCalendar | None = None
) -> Statistics:
    """Everything the supervisor's dashboard and ``GET /api/statistics`` show."""
    population = _population(user, period)
    one_things, counts, by_status, gaps, channels, hall_rows = _one_things(population, WorkingDayCounter(calendar))
    hall_id = population.staff.hall_id
    return Statistics(
        period=period,
        hall=halls.hall_by_id(hall_id) if hall_id else None,
        by_status=tuple(StatusCount(s.value, s.label, by_status.get(s.value, 0)) for s in CaseStatus),
        counts=counts,
        indicators=Indicators.of(counts),
        one_things=one_things,
        departments=_departments(population),
        ratings=_ratings(population, today or timezone.localdate()),
        calendar_gaps=tuple(sorted(gaps)),
        channels=channels,
        halls=hall_rows,
    )


def one_thing_statistics(
    *, user, period: Period = Period(), calendar: WorkingCalendar | None = None
) -> tuple[OneThingStatistics, ...]:
    return _one_things(_population(user, period), WorkingDayCounter(calendar))[0]


def department_statistics(*, user, period: Period = Period()) -> tuple[DepartmentStatistics, ...]:
    return _departments(_population(user, period))


def rating_statistics(*, user, period: Period = Period(), today: dt.date | None = None) -> RatingStatistics:
    """好评率 and 整改按时率 of the period's cases (``GET /api/statistics/ratings``)."""
    return _ratings(_population(user, period), today or timezone.localdate())


def case_rows(
    *, user, period: Period = Period(), now: dt.datetime | None = None, calendar: WorkingCalendar | None = None
) -> Iterator[CaseRow]:
    """The period's cases one by one, oldest first, for the CSV export (streamed; no personal data). Who may
    read them is checked at the call, not at the first row."""
    return _case_rows(_population(user, period), now or timezone.now(), WorkingDayCounter(calendar))


def _case_rows(population: _Population, now: dt.datetime, counter: WorkingDayCounter) -> Iterator[CaseRow]:
    # PostgreSQL does the per-row work (local times as text, local dates, 超期); Python counts working days from
    # dates, each distinct (acceptance, end) pair once (WorkingDayCounter.between), and reads no timestamp: a
    # year's export has 650,000 of them, and making each a Python datetime was most of the export's time.
    rounds = _rounds(population)
    pauses: dict[int, list[tuple[dt.date, dt.date | None]]] = defaultdict(list)
    for case_id, stopped, resumed in (
        population.of(ClockPause.objects.filter(case__accepted_at__isnull=False), "case__")
        .order_by()
        .values_list("case_id", _local_date("started_at"), _local_date("ended_at"))
    ):
        pauses[case_id].append((stopped, resumed))
    decided_or_concluded = Coalesce("decided_at", "concluded_at")
    clock_end = _clock_end(now)
    rows = (
        population.cases()
        .order_by("opened_at", "pk")
        .values_list(
            "pk",
            "case_no",
            "one_thing_id",
            "composition_id",
            "status",
            "outcome",
            _local_minute("opened_at"),
            _local_minute("accepted_at"),
            _local_minute("decided_at"),
            _local_minute("concluded_at"),
            _local_day("accepted_at"),
            _local_day(clock_end),
            "promised_due_date",
            # decided after the promised due date; NULL (None) without a decision or a due date
            GreaterThan(_local_day(decided_or_concluded), F("promised_due_date")),
            "channel",
            "trips",
        )
        .iterator(chunk_size=5000)
    )
    # Joined in Python (a few rows each), so that PostgreSQL computes the rows' expressions in its parallel scan.
    one_things = {pk: (key, name) for pk, key, name in OneThing.objects.values_list("pk", "key", "name")}
    # the promise a case was opened with: its pinned composition version's
    promises = dict(CompositionVersion.objects.values_list("pk", "promised_limit_days"))
    status_labels = {status.value: status.label for status in CaseStatus}
    channel_labels = {channel.value: channel.label for channel in Channel}
    for row in rows:
        pk, case_no, one_thing_id, composition_id, status, outcome, opened, accepted, decided, concluded = row[:10]
        start, end, due, overdue, channel, trips = row[10:]
        key, name = one_things[one_thing_id]
        used = None
        if start is not None:
            try:
                used = counter.used(start, end, pauses.get(pk, ()))
            except CalendarUnknown:
                used = None
        yield CaseRow(
            case_no=case_no,
            one_thing=key,
            one_thing_name=name,
            status=status,
            status_label=status_labels[status],
            outcome=outcome,
            outcome_label=OUTCOME_LABELS.get(outcome, ""),
            opened_at=opened,
            accepted_at=accepted,
            decided_at=decided,
            concluded_at=concluded,
            working_days_used=used,
            promised_limit_days=promises[composition_id],
            promised_due_date=due,
            overdue=overdue,
            correction_rounds=rounds.get(pk, 0),
            channel=channel,
            channel_label=channel_labels[channel],
            trips=trips,
        )


def _rounds(population: _Population) -> dict[int, int]:
    """Case id → its correction rounds (the applicant's tasks: one per 补正), for the cases that had any."""
    return dict(
        population.of(HumanTask.objects.filter(lane="applicant"), "case__")
        .order_by()
        .values_list("case_id")
        .annotate(n=Count("*"))
        .values_list("case_id", "n")
    )


def _clock_end(now: dt.datetime, prefix: str = ""):
    """The legal clock's end (clock.working_days_used): the decision; else now while it runs; else the last change."""
    return Coalesce(
        f"{prefix}decided_at",
        f"{prefix}concluded_at",
        Choose(
            When(**{f"{prefix}status__in": list(CLOCK_RUNNING)}, then=Value(now, output_field=DateTimeField())),
            default=F(f"{prefix}updated_at"),
        ),
    )


# --------------------------------------------------------------------------- the CSV export

CSV_HEADER = [
    "办件编号",
    "一件事",
    "状态",
    "办理结果",
    "收件时间",
    "受理时间",
    "作出决定时间",
    "办结时间",
    "用时（工作日）",
    "承诺时限（工作日）",
    "承诺办结期限",
    "是否超期",
    "补正次数",
    "申办渠道",
    "跑动次数",
]


def case_csv(
    *,
    user,
    period: Period = Period(),
    now: dt.datetime | None = None,
    calendar: WorkingCalendar | None = None,
    copy: bool | None = None,
) -> Iterator[bytes]:
    """The period's cases as the dashboard's CSV file (UTF-8 with a BOM so that Excel reads the Chinese), in
    chunks to stream. On PostgreSQL the database formats the rows and streams them (``COPY … TO STDOUT``): a year
    is 160,000 rows, and making each a Python tuple and a csv line was most of the export's time; elsewhere (the
    SQLite demo), or with ``copy=False``, Python's csv module writes ``case_rows``. The two write the same bytes
    (tests/workflow/test_statistics_csv.py). Who may read them is checked at the call."""
    population = _population(user, period)
    now = now or timezone.now()
    counter = WorkingDayCounter(calendar)
    if copy is None:
        copy = connections[population.cases().db].vendor == "postgresql"
    if copy:
        return _csv_copied(population, now, counter)
    return _csv_written(_case_rows(population, now, counter))


def _csv_cells(row: CaseRow) -> list:
    return [
        row.case_no,
        row.one_thing_name,
        row.status_label,
        row.outcome_label,
        row.opened_at,
        row.accepted_at,
        row.decided_at,
        row.concluded_at,
        "" if row.working_days_used is None else row.working_days_used,
        row.promised_limit_days,
        row.promised_due_date.isoformat() if row.promised_due_date else "",
        "" if row.overdue is None else ("是" if row.overdue else "否"),
        row.correction_rounds,
        row.channel_label,
        row.trips,
    ]


def _csv_head() -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerow(CSV_HEADER)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _csv_written(rows: Iterator[CaseRow]) -> Iterator[bytes]:
    yield _csv_head()
    cells = map(_csv_cells, rows)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    while chunk := list(islice(cells, 1000)):  # 1,000 rows a chunk, written by the csv module at once
        writer.writerows(chunk)
        yield buffer.getvalue().encode("utf-8")
        buffer.seek(0)
        buffer.truncate()


CSV_SORT_MEMORY = "64MB"  # per process of the COPY's parallel plan (three on two cores)


def _csv_copied(population: _Population, now: dt.datetime, counter: WorkingDayCounter) -> Iterator[bytes]:
    from psycopg import ClientCursor  # PostgreSQL only; the parameters are bound in the COPY statement's text

    yield _csv_head()
    query = _csv_query(population, now, counter)
    sql, params = query.query.sql_with_params()
    connection = connections[query.db]
    with transaction.atomic(using=query.db):
        with connection.cursor() as cursor:
            # The rows are sorted in the parallel workers before they are merged; a year's sort spills to disk
            # at the default work_mem (4 MB), this statement only may hold it in memory.
            cursor.execute(f"SET LOCAL work_mem = '{CSV_SORT_MEMORY}'")
        with (
            ClientCursor(connection.connection) as cursor,
            cursor.copy(f"COPY ({sql}) TO STDOUT (FORMAT csv)", params) as out,
        ):
            yield from _crlf(_joined(out))


def _joined(blocks: Iterable, size: int = 1 << 18) -> Iterator[bytes]:
    """COPY's messages (a row each) as chunks of about ``size`` bytes: a year's rows one by one would cost the
    response a write each."""
    pending, length = [], 0
    for block in blocks:
        pending.append(block)
        length += len(block)
        if length >= size:
            yield b"".join(pending)
            pending, length = [], 0
    if pending:
        yield b"".join(pending)


def _crlf(blocks: Iterable[bytes]) -> Iterator[bytes]:
    """PostgreSQL's CSV ends its lines with LF, Python's csv module with CRLF: each LF outside a quoted value
    becomes CRLF (a quote toggles in and out of a value; a doubled quote toggles twice)."""
    quoted = False
    for block in blocks:
        parts = block.split(b'"')
        for index in range(1 if quoted else 0, len(parts), 2):
            parts[index] = parts[index].replace(b"\n", b"\r\n")
        quoted ^= len(parts) % 2 == 0
        yield b'"'.join(parts)


def _csv_query(population: _Population, now: dt.datetime, counter: WorkingDayCounter) -> QuerySet:
    """The CSV's cells as ``_csv_cells`` states them, computed by PostgreSQL in its parallel scan: the same
    expressions and small reads as ``_case_rows``, the labels as CASE expressions over the same enums, "" as NULL
    (PostgreSQL's CSV quotes an empty string, Python's writes nothing). The counts that are not a function of the
    row come in as literals: the working days' running totals (``WorkingDayCounter.running``), the correction
    rounds and the working days of the cases with pauses (``WorkingDayCounter.used``, as ``_case_rows``)."""
    cases = population.cases()
    # Every day a row can name: from the first case's opening (accepted on or after it) to now (no clock runs
    # later); a day outside would count as one of a year the calendar lacks (NULL).
    opened = cases.aggregate(first=Min("opened_at"))["first"]
    first_year = local_date(opened).year if opened else local_date(now).year
    last_year = max(local_date(now), timezone.localdate()).year
    base, totals, lacking = counter.running(first_year, last_year)
    # Every time a row states lies in these years too.
    offset = _fixed_offset(
        _midnight(dt.date(first_year, 1, 1)) - dt.timedelta(days=1), _midnight(dt.date(last_year + 1, 1, 2))
    )
    start, end = _LocalDay(F("accepted_at"), offset), _LocalDay(_clock_end(now), offset)
    decided = _LocalDay(Coalesce("decided_at", "concluded_at"), offset)
    paused: dict[int, int | None] = {}
    spans: dict[int, list] = defaultdict(list)
    for case_id, first, last, stopped, resumed in (
        population.of(ClockPause.objects.filter(case__accepted_at__isnull=False), "case__")
        .order_by()
        .values_list(
            "case_id",
            _local_date("case__accepted_at"),
            _local_date(_clock_end(now, "case__")),
            _local_date("started_at"),
            _local_date("ended_at"),
        )
    ):
        spans[case_id].append((first, last, stopped, resumed))
    for case_id, rows in spans.items():
        try:
            paused[case_id] = counter.used(
                rows[0][0], rows[0][1], [(stopped, resumed) for *_, stopped, resumed in rows]
            )
        except CalendarUnknown:
            paused[case_id] = None
    # totals[end] - totals[start], NULL when it reaches ``lacking`` (LEAST and NULLIF: each day computed once); a
    # case never accepted has no start, hence NULL; one with pauses has its own count.
    totals = _Literal(totals)
    spent = _Minus(_Element(totals, _DaysSince(end, base)), _Element(totals, _DaysSince(start, base)))
    working_days = Coalesce(
        _Keyed(_Literal(paused), F("pk")),
        NullIf(Least(spent, Value(lacking)), Value(lacking)),
        output_field=IntegerField(),
    )
    one_things = dict(OneThing.objects.values_list("pk", "name"))
    promises = dict(CompositionVersion.objects.values_list("pk", "promised_limit_days"))
    return (
        cases.order_by("opened_at", "pk")
        .annotate(
            csv_one_thing=_choose("one_thing_id", one_things),
            csv_status=_choose("status", {status.value: status.label for status in CaseStatus}),
            csv_outcome=_choose("outcome", OUTCOME_LABELS),
            csv_opened=_LocalMinute(F("opened_at"), offset),
            csv_accepted=_LocalMinute(F("accepted_at"), offset),
            csv_decided=_LocalMinute(F("decided_at"), offset),
            csv_concluded=_LocalMinute(F("concluded_at"), offset),
            csv_working_days=working_days,
            csv_promise=_choose("composition_id", promises, IntegerField()),
            # decided after the promised due date: 是, else 否; NULL without a decision or a due date
            csv_overdue=_Element(
                _Literal(["否", "是"]), Cast(GreaterThan(decided, F("promised_due_date")), IntegerField())
            ),
            csv_rounds=Coalesce(_Keyed(_Literal(_rounds(population)), F("pk")), Value(0)),
            csv_channel=_choose("channel", {channel.value: channel.label for channel in Channel}),
        )
        .values_list(
            NullIf("case_no", Value("")),
            "csv_one_thing",
            "csv_status",
            "csv_outcome",
            "csv_opened",
            "csv_accepted",
            "csv_decided",
            "csv_concluded",
            "csv_working_days",
            "csv_promise",
            "promised_due_date",
            "csv_overdue",
            "csv_rounds",
            "csv_channel",
            "trips",
        )
    )


def _choose(column: str, labels: Mapping, output_field=None) -> Choose:
    """``labels[column]`` in SQL; NULL for a value without one, and for an empty label."""
    return Choose(
        *[When(**{column: value}, then=Value(label)) for value, label in labels.items() if label != ""],
        default=Value(None),
        output_field=output_field or CharField(),
    )


class _Literal:
    """A list or mapping sent to the database as one parameter. Compared by identity: Django hashes an expression's
    arguments, and hashing a year's correction rounds item by item cost more than the statement's compilation."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value


class _Element(Func):
    """``values[index]`` of a literal list of integers or of texts, ``index`` from 0 (PostgreSQL; NULL outside
    the list)."""

    def __init__(self, values: _Literal, index):
        text = any(isinstance(value, str) for value in values.value)
        super().__init__(index, output_field=CharField() if text else IntegerField())
        self.values, self.type = values, "text[]" if text else "bigint[]"

    def as_sql(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.source_expressions[0])
        return f"(%s::{self.type})[({sql}) + 1]", [self.values.value, *params]


class _DaysSince(Func):
    """Whole days from ``base`` to the date ``day`` (PostgreSQL's date subtraction)."""

    output_field = IntegerField()

    def __init__(self, day, base: dt.date):
        super().__init__(day)
        self.base = base

    def as_sql(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.source_expressions[0])
        return f"(({sql}) - %s::date)", [*params, self.base]


class _Minus(Func):
    arg_joiner = " - "
    template = "(%(expressions)s)"
    output_field = IntegerField()


class _Keyed(Func):
    """``mapping[key]`` of a literal mapping of integer keys to integers (PostgreSQL's jsonb; NULL when absent)."""

    output_field = IntegerField()

    def __init__(self, mapping: _Literal, key):
        super().__init__(key)
        self.mapping = mapping

    def as_sql(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.source_expressions[0])
        return f"((%s::jsonb ->> ({sql})::text)::integer)", [json.dumps(self.mapping.value), *params]
