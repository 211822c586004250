"""The working calendar for the write path: a year's schedule in one query, kept in the shared cache (Redis in
production) and dropped when an administrator edits the calendar."""

from __future__ import annotations

import datetime as dt
import uuid

from django.core.cache import cache
from django.db import connection, transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from .. import calendar as cal
from ..calendar import WorkingCalendar
from ..models import CalendarDay, CalendarDayKind, CalendarYear


class OneQuerySource:
    """The calendar's override source in one query per year (the default source takes two)."""

    def load_year(self, year: int) -> cal.YearSchedule:
        days, years = CalendarDay._meta.db_table, CalendarYear._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT date, kind, name FROM {days} WHERE date >= %s AND date < %s "
                f"UNION ALL SELECT NULL, '*declared*', '' FROM {years} WHERE year = %s AND complete",
                [dt.date(year, 1, 1), dt.date(year + 1, 1, 1), year],
            )
            rows = cursor.fetchall()
        declared, overrides = False, {}
        for day, kind, name in rows:
            if kind == "*declared*":
                declared = True
                continue
            day = day if isinstance(day, dt.date) else dt.date.fromisoformat(str(day))
            overrides[day] = (kind == CalendarDayKind.WORKDAY, name)
        return cal.YearSchedule(declared=declared, overrides=overrides)


# A year's schedule in the shared cache (Redis in production) for the write path: no query per step. Dropped
# when a CalendarDay or CalendarYear is saved or deleted (admin) and by import_calendar; the timeout bounds
# how long an edit that bypasses both (raw SQL, QuerySet.update) stays unseen.
CALENDAR_CACHE_SECONDS = 300


def _calendar_key(year: int) -> str:
    return f"onething:calendar:{year}"


class CachedSource:
    """OneQuerySource behind the shared cache. Each entry carries a token, drawn when the year was read from the
    database; ``current()`` tells whether every year this source read is still the cache's entry."""

    def __init__(self, source=None):
        self.source = source or OneQuerySource()
        self.tokens: dict[int, str] = {}  # year → the token of the entry it was read from

    def load_year(self, year: int) -> cal.YearSchedule:
        key = _calendar_key(year)
        cached = cache.get(key)
        if cached is not None and len(cached) == 3:
            declared, overrides, self.tokens[year] = cached
            return cal.YearSchedule(
                declared, {dt.date.fromisoformat(day): (working, name) for day, working, name in overrides}
            )
        schedule = self.source.load_year(year)
        # Set at once, not on commit: what this transaction read is committed data (an edit drops the key
        # again when it commits), and waiting for our commit would widen the window for an edit to slip by.
        # Plain data (the cache holds JSON, never pickles): [declared, [[iso day, working, name], …], token].
        rows = [[day.isoformat(), working, name] for day, (working, name) in schedule.overrides.items()]
        self.tokens[year] = token = uuid.uuid4().hex
        cache.set(key, [schedule.declared, rows, token], CALENDAR_CACHE_SECONDS)
        return schedule

    def current(self) -> bool:
        """Whether each year read is still the cache's entry: an edit drops it, an expiry replaces it (one
        round trip to the cache for all of them)."""
        if not self.tokens:
            return True
        keys = {_calendar_key(year): token for year, token in self.tokens.items()}
        found = cache.get_many(list(keys))
        return all(len(found.get(key) or ()) == 3 and found[key][2] == token for key, token in keys.items())


def forget_calendar_year(year: int) -> None:
    """Drop a year's cached schedule now and again once the editing transaction commits (a reader in between
    may have cached the old rows)."""
    key = _calendar_key(year)
    cache.delete(key)
    transaction.on_commit(lambda: cache.delete(key))


@receiver(post_save, sender=CalendarDay, dispatch_uid="calendar_day_saved")
@receiver(post_delete, sender=CalendarDay, dispatch_uid="calendar_day_deleted")
def _calendar_day_changed(sender, instance, **kwargs) -> None:
    day = instance.date if isinstance(instance.date, dt.date) else dt.date.fromisoformat(str(instance.date))
    forget_calendar_year(day.year)


@receiver(post_save, sender=CalendarYear, dispatch_uid="calendar_year_saved")
@receiver(post_delete, sender=CalendarYear, dispatch_uid="calendar_year_deleted")
def _calendar_year_changed(sender, instance, **kwargs) -> None:
    forget_calendar_year(int(instance.year))


# The process's write-path calendar, shared by the steps while the cache still holds every year it read: its
# days are worked out once per process, not once per step (a deadline walks a day at a time).
_SHARED: list[WorkingCalendar] = []


def working_calendar() -> WorkingCalendar:
    """A calendar snapshot for one operation, its years from the shared cache (see CachedSource): the process's
    last one when every year it read is still the cache's entry, else a new one. The module-level functions of
    workflow.calendar read the database directly."""
    shared = _SHARED[0] if _SHARED else None
    if shared is not None and shared.source.current():
        return shared
    calendar = WorkingCalendar(source=CachedSource())
    _SHARED[:] = [calendar]
    return calendar
