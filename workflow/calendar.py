"""The working-day calendar (工作日历) and the deadline arithmetic of the legal clock.

行政许可法 Art. 82: time limits are counted in **working days**, statutory holidays excluded. Every deadline in
OneThing goes through this module.

Where a date's answer comes from, first match wins
--------------------------------------------------
1. a `CalendarDay` row for that date (an administrator's override: a holiday, a 调休上班 makeup workday, a
   typhoon closure), in a year whose schedule is official (2. or 3.);
2. if the year is **declared** (a `CalendarYear(year, complete=True)` row, which ``manage.py import_calendar``
   creates): the weekend rule, Monday–Friday on, Saturday–Sunday off. The library is *not* consulted for a
   declared year, so an imported official schedule replaces the library's data for that year wholesale;
3. otherwise, if the `chinese-calendar` library knows the year (1.11.0 ships 2004–2026): its statutory
   holidays and makeup workdays, the weekend rule elsewhere;
4. otherwise the year is **provisional** (预计): Monday–Friday are working days except the statutory holidays
   the law itself fixes (`workflow.statutory_holidays`: 元旦, 春节 from 除夕, 清明, 劳动节, 端午, 中秋, 国庆),
   computed ahead; the State Council's bridging days, 补假 and 调休 makeup workdays are unknown until the year's
   arrangement is published and entered. Every `Day` of such a year says ``provisional=True``, and
   ``provisional_between`` tells whether a deadline walked through one;
5. a year before any kept version of the law (before 2008) that nobody declared is **unknown**: every date in
   it raises `CalendarUnknown`.

The "official year" rule, and partial entries
---------------------------------------------
A year's schedule is official iff the library ships it or an administrator declared it complete
(``knows_year``). An administrator who has entered only some days of a year that is not official
(`CalendarDay` rows with no `CalendarYear`, or with ``complete=False``, i.e. a draft) has not made it official:
the draft answers nothing, **every** date of that year follows the provisional rule, even the entered ones,
so that ``is_working_day`` and a deadline walking through the same year never disagree and nothing
half-entered becomes a deadline. In a year the library knows, single `CalendarDay` rows apply immediately
(that is how a closure day is entered).

`CalendarUnknown` is a `DomainError` with ``http_status = 503``: the request is fine and the client cannot
fix it; the service cannot compute legal deadlines until an administrator enters the year's schedule. With
the provisional rule it is raised only for years before 2008, which no case reaches.

Counting convention
-------------------
"期限开始之日不计算在期限内" (the day a period starts is not counted). A period that starts on day S
counts working days from S+1: ``add_working_days(S, n)`` is the n-th working day *after* S, and
``working_days_between(a, b)`` counts the working days in ``(a, b]``. ``n = 0`` (即办件) gives S itself if it
is a working day, else the next working day. A deadline date is the last day on which acting is in time.

Stopping the clock (补正, and Art. 45 hearing / testing / expert review)
-----------------------------------------------------------------------
A pause ``(stopped_at, resumed_at)`` removes the working days in ``(date(stopped_at), date(resumed_at)]``
from the clock, the same convention again: the day the clock stops still counts, and the day it resumes
starts a new period, so it does not. A pause that starts and ends on the same day costs nothing.
Overlapping pauses (a correction owed during an expert review) are merged, never counted twice. A pause
that starts after the deadline has been reached cannot move it. An open pause (``resumed_at=None``) runs
until ``now``: the deadline is then not final (暂定), moving one working day later for each working day the
clock stays stopped. (That is the stopped clock; a *provisional* date, above, is one computed without the
official holiday arrangement.)

Times
-----
Datetimes must be timezone-aware; they are converted to local dates in ``settings.TIME_ZONE``
(Asia/Shanghai), never with ``.date()`` on a UTC value. Plain `date` objects are taken as local dates.

Caching
-------
A `WorkingCalendar` is a snapshot: it loads a year on first use (two queries: the `CalendarYear` row and
the year's `CalendarDay` rows) and keeps it for its lifetime, so a deadline costs two queries per calendar
year it touches, never one per day. The module-level functions build a fresh calendar per call, so an
administrator's edit is visible on the next call with no invalidation to get wrong (a process-wide cache
cleared by a save signal would stay stale in the other gunicorn and Celery processes). For a batch, e.g. a
supervision sweep over many cases, build one ``WorkingCalendar()`` and pass it as ``calendar=``.

The write path is the exception: ``workflow.clock.working_calendar()`` (every engine step's deadlines, the
sweeps) reads a year from the *shared* cache (Redis in production, so every process sees the same entry) and
the database only on a miss. Saving or deleting a `CalendarDay` or `CalendarYear`, and ``import_calendar``,
drop the year's entry at once and again on commit; an edit that bypasses both (raw SQL, ``QuerySet.update``)
shows after ``clock.CALENDAR_CACHE_SECONDS``. Each entry carries a token drawn when the year was read from the
database, and a process keeps its last write-path calendar (with the days it has worked out) for as long as the
cache still holds, token for token, every year that calendar read: one round trip to the cache per call.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple, Protocol

from workflow.errors import DomainError, ValidationFailed
from workflow.statutory_holidays import PROVISIONAL_LABEL, PROVISIONAL_NOTE, statutory_holidays

__all__ = [
    "CORRECTION_NOTICE_DAYS",
    "JOINT_EXTENSION_DAYS",
    "JOINT_LIMIT_DAYS",
    "PROVISIONAL_LABEL",
    "PROVISIONAL_NOTE",
    "SINGLE_ITEM_EXTENSION_DAYS",
    "SINGLE_ITEM_LIMIT_DAYS",
    "CalendarUnknown",
    "ChineseCalendarLibrary",
    "DatabaseSource",
    "Day",
    "StaticSource",
    "WorkingCalendar",
    "YearSchedule",
    "add_working_days",
    "correction_notice_due",
    "day_info",
    "deadline",
    "is_deemed_accepted",
    "is_working_day",
    "local_date",
    "reduction_rate",
    "working_days_between",
    "working_days_used",
]

# 行政许可法, in working days.
SINGLE_ITEM_LIMIT_DAYS = 20  # Art. 42: decide within 20 days of acceptance …
SINGLE_ITEM_EXTENSION_DAYS = 10  # … +10 with the agency head's approval
JOINT_LIMIT_DAYS = 45  # Art. 26/42: joint or concentrated handling (一件事) ≤ 45 days …
JOINT_EXTENSION_DAYS = 15  # … +15 with the approval of the head of government
CORRECTION_NOTICE_DAYS = 5  # Art. 32: the 补正 notice within 5 days of receipt, else deemed accepted

Pause = tuple["dt.datetime | dt.date", "dt.datetime | dt.date | None"]


class CalendarUnknown(DomainError):
    code = "calendar_unknown"
    message = "工作日历尚未录入"
    http_status = 503

    def __init__(self, year: int):
        super().__init__(
            f"{year} 年的工作日历尚未录入，无法按工作日计算期限；请系统管理员导入该年度的节假日安排", year=year
        )
        self.year = year


@dataclass(frozen=True)
class Day:
    date: dt.date
    working: bool
    name: str = ""
    # "override" (CalendarDay) | "library" (chinese-calendar) | "statutory" (the law's holiday, provisional
    # year) | "rule" (weekend rule)
    origin: str = "rule"
    provisional: bool = False  # the year's official arrangement is not known: the day is the law's rule only


# --------------------------------------------------------------------------- sources


class YearSchedule(NamedTuple):
    declared: bool  # an administrator declared the year complete
    overrides: Mapping[dt.date, tuple[bool, str]]  # date → (working, name)


class OverrideSource(Protocol):
    def load_year(self, year: int) -> YearSchedule: ...


class HolidayLibrary(Protocol):
    def knows(self, year: int) -> bool: ...

    def lookup(self, day: dt.date) -> tuple[bool, str] | None:
        """(working, name) where the day departs from the weekend rule, else None."""


class StaticSource:
    """Overrides held in memory: for tests, and for arithmetic that must not touch the database."""

    def __init__(
        self,
        overrides: Mapping[dt.date, bool | tuple[bool, str]] | None = None,
        declared_years: Iterable[int] = (),
    ):
        self._overrides = {
            day: (value, "") if isinstance(value, bool) else value for day, value in (overrides or {}).items()
        }
        self._declared = frozenset(declared_years)

    def load_year(self, year: int) -> YearSchedule:
        return YearSchedule(
            declared=year in self._declared,
            overrides={day: value for day, value in self._overrides.items() if day.year == year},
        )


class DatabaseSource:
    """`CalendarYear` and `CalendarDay`, two queries per year."""

    def load_year(self, year: int) -> YearSchedule:
        from workflow.models import CalendarDay, CalendarDayKind, CalendarYear

        declared = CalendarYear.objects.filter(year=year, complete=True).exists()
        rows = CalendarDay.objects.filter(date__year=year).values_list("date", "kind", "name")
        return YearSchedule(
            declared=declared,
            overrides={day: (kind == CalendarDayKind.WORKDAY, name) for day, kind, name in rows},
        )


_LIBRARY_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "抗战胜利70周年纪念日",
}


class ChineseCalendarLibrary:
    """China's statutory holidays and 调休 makeup workdays from the `chinese-calendar` package."""

    def __init__(self):
        import chinese_calendar

        self._holidays = chinese_calendar.holidays
        self._workdays = chinese_calendar.workdays
        years = [day.year for day in self._holidays]
        # The package's own rule (chinese_calendar.utils._validate_date): the span of its holiday table.
        self.first_year, self.last_year = min(years), max(years)

    def knows(self, year: int) -> bool:
        return self.first_year <= year <= self.last_year

    def lookup(self, day: dt.date) -> tuple[bool, str] | None:
        if day in self._workdays:
            return True, f"{_LIBRARY_NAMES.get(self._workdays[day], self._workdays[day])}调休上班"
        if day in self._holidays:
            return False, _LIBRARY_NAMES.get(self._holidays[day], self._holidays[day])
        return None


CHINESE_CALENDAR = ChineseCalendarLibrary()
_DEFAULT = object()


# --------------------------------------------------------------------------- time


def local_date(value: dt.datetime | dt.date) -> dt.date:
    """The hall's calendar date of an aware datetime (settings.TIME_ZONE); a `date` is returned as is."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("工作日计算需要带时区的时间（aware datetime）")
        from django.utils import timezone

        return value.astimezone(timezone.get_default_timezone()).date()
    if isinstance(value, dt.date):
        return value
    raise TypeError(f"需要 date 或 datetime，得到 {type(value).__name__}")


def _now() -> dt.datetime:
    from django.utils import timezone

    return timezone.now()


_ONE_DAY = dt.timedelta(days=1)


class _Stops:
    """Merged pauses; a day is stopped if it lies in some (stopped_on, resumed_on]."""

    def __init__(self, pauses: Iterable[Pause], open_until: dt.date):
        spans = []
        for stopped_at, resumed_at in pauses:
            first = local_date(stopped_at)
            last = local_date(resumed_at) if resumed_at is not None else max(open_until, first)
            if last < first:
                raise ValueError(f"暂停区间的结束（{last}）早于开始（{first}）")
            if last > first:
                spans.append((first, last))
        spans.sort()
        merged: list[list[dt.date]] = []
        for first, last in spans:
            if merged and first <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], last)
            else:
                merged.append([first, last])
        self._spans = [(first, last) for first, last in merged]

    def __contains__(self, day: dt.date) -> bool:
        return any(first < day <= last for first, last in self._spans)


def _check_days(n: int, what: str) -> None:
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"{what}必须是整数")
    if n < 0:
        raise ValueError(f"{what}不能为负数")


# --------------------------------------------------------------------------- the calendar


class _Year(NamedTuple):
    known: bool  # the schedule is official (library or declared)
    use_library: bool
    overrides: Mapping[dt.date, tuple[bool, str]]
    statutory: Mapping[dt.date, str] | None  # a provisional year's statutory holidays; None when official


class WorkingCalendar:
    """Working-day arithmetic over an override source (default: the database) and a holiday library.

    A snapshot: each year is loaded once, on first use, and kept for the life of the instance.
    """

    def __init__(
        self,
        source: OverrideSource | None = None,
        library: HolidayLibrary | None = _DEFAULT,  # type: ignore[assignment]
        *,
        provisional: bool = True,
    ):
        """``provisional=False``: a year without an official schedule raises `CalendarUnknown` instead."""
        self.source = source if source is not None else DatabaseSource()
        self.library = CHINESE_CALENDAR if library is _DEFAULT else library
        self.provisional = provisional
        self._years: dict[int, _Year] = {}
        self._days: dict[dt.date, Day] = {}  # each date's answer, as its year's snapshot gives it

    # -- days

    def _year(self, year: int) -> _Year:
        loaded = self._years.get(year)
        if loaded is None:
            schedule = self.source.load_year(year)
            library_knows = self.library is not None and self.library.knows(year)
            known = schedule.declared or library_knows
            loaded = _Year(
                known=known,
                use_library=library_knows and not schedule.declared,
                overrides=schedule.overrides,
                statutory=statutory_holidays(year) if not known and self.provisional else None,
            )
            self._years[year] = loaded
        return loaded

    def knows_year(self, year: int) -> bool:
        """Whether ``year``'s official schedule is known (the library ships it, or an administrator declared it)."""
        return self._year(year).known

    def is_provisional(self, year: int) -> bool:
        """Whether ``year``'s dates follow the provisional rule (no official schedule yet; see the module doc)."""
        return self._year(year).statutory is not None

    def provisional_between(self, start: dt.date | dt.datetime, end: dt.date | dt.datetime) -> bool:
        """Whether the days a count from ``start`` to ``end`` reads — ``(start, end]``, or ``start`` itself when
        they are the same day — lie in a provisional year: is a deadline computed from ``start`` provisional?
        The walk that found ``end`` has loaded those years already, so this costs no query."""
        first, last = local_date(start), local_date(end)
        if last < first:
            raise ValueError(f"结束日期（{last}）早于开始日期（{first}）")
        if last > first:
            first += _ONE_DAY
        return any(self.is_provisional(year) for year in range(first.year, last.year + 1))

    def day(self, value: dt.date | dt.datetime) -> Day:
        day = local_date(value)
        known = self._days.get(day)
        if known is None:
            known = self._days[day] = self._day(day)
        return known

    def _day(self, day: dt.date) -> Day:
        year = self._year(day.year)
        if year.statutory is not None:
            # Provisional: entered days are a draft (ignored, see the module doc); the law's days are off.
            name = year.statutory.get(day)
            if name is not None:
                return Day(day, False, name, "statutory", provisional=True)
            return Day(day, day.weekday() < 5, provisional=True)
        if not year.known:
            raise CalendarUnknown(day.year)
        if day in year.overrides:
            working, name = year.overrides[day]
            return Day(day, working, name, "override")
        if year.use_library:
            hit = self.library.lookup(day)
            if hit is not None:
                return Day(day, hit[0], hit[1], "library")
        return Day(day, day.weekday() < 5)

    def is_working_day(self, value: dt.date | dt.datetime) -> bool:
        return self.day(value).working

    def _is_working(self, day: dt.date) -> bool:
        """``is_working_day`` of a date, for the walks' inner loops (their days are dates already)."""
        known = self._days.get(day)
        if known is None:
            known = self._days[day] = self._day(day)
        return known.working

    # -- arithmetic

    def _walk(self, start: dt.date, n: int, stops: _Stops | None = None) -> dt.date:
        def counts(day: dt.date) -> bool:
            return self._is_working(day) and (stops is None or day not in stops)

        day = start
        if n == 0:
            while not counts(day):
                day += _ONE_DAY
            return day
        counted = 0
        while counted < n:
            day += _ONE_DAY
            if counts(day):
                counted += 1
        return day

    def _count(self, start: dt.date, end: dt.date, stops: _Stops | None = None) -> int:
        if end < start:
            raise ValueError(f"结束日期（{end}）早于开始日期（{start}）")
        counted, day = 0, start + _ONE_DAY
        while day <= end:
            if self._is_working(day) and (stops is None or day not in stops):
                counted += 1
            day += _ONE_DAY
        return counted

    def add_working_days(self, start: dt.date | dt.datetime, n: int) -> dt.date:
        """The n-th working day after ``start`` (start itself not counted); n=0: start if working, else the next."""
        _check_days(n, "工作日数")
        return self._walk(local_date(start), n)

    def working_days_between(self, start: dt.date | dt.datetime, end: dt.date | dt.datetime) -> int:
        """Working days in (start, end]. ValueError if end is before start."""
        return self._count(local_date(start), local_date(end))

    def deadline(
        self,
        start: dt.datetime | dt.date,
        limit_days: int,
        pauses: Iterable[Pause] = (),
        *,
        now: dt.datetime | None = None,
    ) -> dt.date:
        """The last day of a ``limit_days`` working-day limit running from ``start``, extended by the pauses.

        Open pauses (``resumed_at is None``) run until ``now`` (default: the current time).
        """
        _check_days(limit_days, "时限")
        stops = _Stops(pauses, open_until=local_date(now or _now()))
        return self._walk(local_date(start), limit_days, stops)

    def limit_of(
        self,
        start: dt.datetime | dt.date,
        due: dt.date,
        pauses: Iterable[Pause] = (),
        *,
        now: dt.datetime | None = None,
    ) -> int:
        """The inverse of ``deadline``: the working days a due date counted from ``start`` stands for on this
        calendar, pauses excluded (open ones run until ``now``). ``deadline(start, limit_of(...))`` is ``due``."""
        first, last = local_date(start), local_date(due)
        return self._count(first, last, _Stops(pauses, open_until=local_date(now or _now())))

    def working_days_used(
        self,
        start: dt.datetime | dt.date,
        end: dt.datetime | dt.date | None = None,
        pauses: Iterable[Pause] = (),
    ) -> int:
        """Working days the clock ran in (start, end]: paused days excluded. ``end`` defaults to now;
        open pauses run until ``end``."""
        last = local_date(end if end is not None else _now())
        return self._count(local_date(start), last, _Stops(pauses, open_until=last))

    # -- Art. 32: deemed acceptance

    def correction_notice_due(self, received_at: dt.datetime | dt.date) -> dt.date:
        """The last day a 补正 notice may be issued: 5 working days after receipt."""
        return self.add_working_days(received_at, CORRECTION_NOTICE_DAYS)

    def is_deemed_accepted(
        self,
        received_at: dt.datetime | dt.date,
        notice_at: dt.datetime | dt.date | None,
        now: dt.datetime | dt.date | None = None,
    ) -> bool:
        """True when no 补正 (or refusal) notice was issued by the due day and that day is past: the case then
        counts as accepted from receipt. A notice issued late does not undo it.

        Never True while the due day is provisional: deemed acceptance is a legal record that cannot be taken
        back, so it waits for the official schedule (the clock sweep asks again after the import)."""
        due = self.correction_notice_due(received_at)
        if notice_at is not None and local_date(notice_at) <= due:
            return False
        if self.provisional_between(received_at, due):
            return False
        return local_date(now if now is not None else _now()) > due


# --------------------------------------------------------------------------- module-level API


def _calendar(calendar: WorkingCalendar | None) -> WorkingCalendar:
    return calendar if calendar is not None else WorkingCalendar()


def day_info(value: dt.date | dt.datetime, *, calendar: WorkingCalendar | None = None) -> Day:
    return _calendar(calendar).day(value)


def is_working_day(value: dt.date | dt.datetime, *, calendar: WorkingCalendar | None = None) -> bool:
    return _calendar(calendar).is_working_day(value)


def add_working_days(start: dt.date | dt.datetime, n: int, *, calendar: WorkingCalendar | None = None) -> dt.date:
    return _calendar(calendar).add_working_days(start, n)


def working_days_between(
    start: dt.date | dt.datetime, end: dt.date | dt.datetime, *, calendar: WorkingCalendar | None = None
) -> int:
    return _calendar(calendar).working_days_between(start, end)


def deadline(
    start: dt.datetime | dt.date,
    limit_days: int,
    pauses: Iterable[Pause] = (),
    *,
    now: dt.datetime | None = None,
    calendar: WorkingCalendar | None = None,
) -> dt.date:
    return _calendar(calendar).deadline(start, limit_days, pauses, now=now)


def working_days_used(
    start: dt.datetime | dt.date,
    end: dt.datetime | dt.date | None = None,
    pauses: Iterable[Pause] = (),
    *,
    calendar: WorkingCalendar | None = None,
) -> int:
    return _calendar(calendar).working_days_used(start, end, pauses)


def correction_notice_due(received_at: dt.datetime | dt.date, *, calendar: WorkingCalendar | None = None) -> dt.date:
    return _calendar(calendar).correction_notice_due(received_at)


def is_deemed_accepted(
    received_at: dt.datetime | dt.date,
    notice_at: dt.datetime | dt.date | None,
    now: dt.datetime | dt.date | None = None,
    *,
    calendar: WorkingCalendar | None = None,
) -> bool:
    return _calendar(calendar).is_deemed_accepted(received_at, notice_at, now)


# --------------------------------------------------------------------------- 时限压减率

_RATE_PLACES = Decimal("0.0001")


def reduction_rate(promised: int, statutory: int) -> Decimal:
    """时限压减率 = 1 − promised/statutory, rounded half-up to 4 places (0.7500 = 75.00 %), of one service item
    against its own statutory limit; a one-thing's and a hall's are aggregated from the items' as
    docs/statistics.md defines (``workflow.statistics``).
    """
    for value, what in ((promised, "承诺时限"), (statutory, "法定时限")):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValidationFailed(f"{what}必须是整数个工作日")
    if statutory <= 0:
        raise ValidationFailed("法定时限必须大于 0 个工作日，无法计算时限压减率")
    if promised < 0:
        raise ValidationFailed("承诺时限不能为负数")
    if promised > statutory:
        raise ValidationFailed(f"承诺时限（{promised} 个工作日）不能长于法定时限（{statutory} 个工作日）")
    return (Decimal(1) - Decimal(promised) / Decimal(statutory)).quantize(_RATE_PLACES, rounding=ROUND_HALF_UP)
