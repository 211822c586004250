"""China's statutory public holidays as the law fixes them, computed for any year (pure Python, no Django).

《全国年节及纪念日放假办法》 Art. 2 names the holidays of all citizens (全体公民放假的节日) and their days. Each
year the General Office of the State Council (国务院办公厅) then publishes that year's arrangement: it keeps
these days, adds a 补假 working day for a holiday that falls on a Saturday or Sunday (Art. 6: "应当在工作日补假",
without saying which day), bridges holidays into longer breaks and moves working days onto weekends (调休,
Art. 7). Only the days below can be known before the arrangement is published; the calendar uses them for a
year whose arrangement is not known yet (``workflow.calendar``: a *provisional* year).

Solar days are fixed dates; 春节, 端午 and 中秋 are lunar dates and 清明 is the day of the 清明 solar term,
computed by ``tyme4py`` (6tail's successor to lunar-python; solar terms by the 寿星天文历 algorithm, Beijing
time). ``tests/workflow/test_provisional_calendar.py`` checks these days against every official schedule
chinese-calendar ships (2008–2026): each computed day is a holiday there.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType

# Said next to every date counted on these days alone — a provisional (预计) due date on the screens, in the API's
# descriptions and on the notices: "预计 2027年2月10日（以国务院公布的节假日安排为准）". See docs/clock.md
# "Provisional dates"; ``workflow.calendar`` and ``workflow.labels`` re-export them.
PROVISIONAL_LABEL = "预计"
PROVISIONAL_NOTE = "以国务院公布的节假日安排为准"

__all__ = ["HOLIDAY_LAWS", "PROVISIONAL_LABEL", "PROVISIONAL_NOTE", "HolidayLaw", "law_in_force", "statutory_holidays"]


@dataclass(frozen=True)
class HolidayLaw:
    """One version of Art. 2, in force for the years from ``since``."""

    since: int
    citation: str
    spring_festival: tuple[int, ...]  # days counted from 正月初一 (0); -1 is 除夕, the last day of the old year
    labour_day: tuple[int, ...]  # days of May

    def holidays(self, year: int) -> dict[dt.date, str]:
        from tyme4py.lunar import LunarDay
        from tyme4py.solar import SolarTerm

        def solar(day) -> dt.date:
            return dt.date(day.get_year(), day.get_month(), day.get_day())

        new_year = solar(LunarDay.from_ymd(year, 1, 1).get_solar_day())
        days = {dt.date(year, 1, 1): "元旦"}
        days.update({new_year + dt.timedelta(days=offset): "春节" for offset in self.spring_festival})
        days[solar(SolarTerm.from_name(year, "清明").get_solar_day())] = "清明节"
        days.update({dt.date(year, 5, day): "劳动节" for day in self.labour_day})
        days[solar(LunarDay.from_ymd(year, 5, 5).get_solar_day())] = "端午节"
        # 中秋 may fall on 1–3 October: the day is a holiday either way, named after the festival.
        days.update({dt.date(year, 10, day): "国庆节" for day in (1, 2, 3)})
        days[solar(LunarDay.from_ymd(year, 8, 15).get_solar_day())] = "中秋节"
        return days


# The versions of Art. 2 since 清明, 端午 and 中秋 became holidays; the last one is the law in force.
HOLIDAY_LAWS = (
    # 元旦 1, 春节 3 (除夕、初一、初二), 清明 1, 劳动节 1, 端午 1, 中秋 1, 国庆 3: 11 days.
    HolidayLaw(2008, "国务院令第513号（2007年12月14日修订，2008年1月1日起施行）", (-1, 0, 1), (1,)),
    # 春节 becomes 初一、初二、初三: 11 days.
    HolidayLaw(2014, "国务院令第644号（2013年12月11日修订，2014年1月1日起施行）", (0, 1, 2), (1,)),
    # 春节 4 days (除夕、正月初一至初三), 劳动节 2 days (5月1日、2日): 13 days.
    HolidayLaw(2025, "国务院令第795号（2024年11月10日修订，2025年1月1日起施行）", (-1, 0, 1, 2), (1, 2)),
)


def law_in_force(year: int) -> HolidayLaw | None:
    """The version of the law for ``year``; None before 2008 (no rule is kept for earlier years)."""
    found = None
    for law in HOLIDAY_LAWS:
        if law.since <= year:
            found = law
    return found


@lru_cache(maxsize=64)
def statutory_holidays(year: int) -> Mapping[dt.date, str] | None:
    """date → holiday name for the statutory days of ``year``, or None when no rule is kept for it.

    The days themselves only: no 补假 for a holiday on a weekend, no bridging, no 调休 (the State Council's
    annual arrangement decides those). Cached (read-only): the law does not change while a process runs.
    """
    law = law_in_force(year)
    if law is None or year > 9999:
        return None
    return MappingProxyType(law.holidays(year))
