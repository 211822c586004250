"""The administrator's side of the working-day calendar (工作日历).

`CalendarDay` overrides one date; `CalendarYear` declares that a year's schedule has been entered in full.
The rules that combine them with the `chinese-calendar` library live in `workflow/calendar.py`.
"""

from __future__ import annotations

from django.db import models


class CalendarDayKind(models.TextChoices):
    WORKDAY = "workday", "工作日"
    HOLIDAY = "holiday", "休息日"


class CalendarYear(models.Model):
    """A year whose schedule an administrator has entered.

    With ``complete`` set, the database is the whole truth for that year: weekends off, weekdays on, and the
    year's `CalendarDay` rows on top; the library's data for the year (if any) are no longer consulted.
    Without it the row is a draft: it answers nothing on its own (see `workflow.calendar`).
    """

    year = models.PositiveSmallIntegerField("年度", primary_key=True)
    complete = models.BooleanField(
        "已完整录入",
        default=False,
        help_text="勾选后，该年度以本系统录入的安排为准（周末休息、工作日上班，另加逐日调整），"
        "并按此重新计算在办办件的预计期限。请先录入该年度全部放假和调休上班日期，再勾选",
    )
    source = models.CharField("来源", max_length=200, blank=True, help_text="如：国务院办公厅通知文号、导入文件名")
    note = models.TextField("备注", blank=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "工作日历年度"
        ordering = ["-year"]

    def __str__(self) -> str:
        return f"{self.year} 年（{'已完整录入' if self.complete else '录入中'}）"


class CalendarDay(models.Model):
    """One date set by an administrator: a holiday, a makeup workday (调休上班) or an ad-hoc closure.

    It beats the library for that date, in every year the calendar knows.
    """

    date = models.DateField("日期", primary_key=True)
    kind = models.CharField("类型", max_length=10, choices=CalendarDayKind.choices)
    name = models.CharField("名称", max_length=50, blank=True, help_text="如：春节、国庆节调休上班、台风停工")
    note = models.TextField("备注", blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "工作日历调整"
        ordering = ["date"]

    def __str__(self) -> str:
        label = self.name or self.get_kind_display()
        return f"{self.date.isoformat()} {label}"
