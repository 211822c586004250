"""`manage.py import_calendar FILE`: load one year's holiday schedule (节假日安排) into the working-day calendar."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from workflow.calendar import CHINESE_CALENDAR
from workflow.clock import forget_calendar_year
from workflow.models import CalendarDay, CalendarDayKind, CalendarYear
from workflow.tasks.calendar import recompute_due_dates

HELP = """\
导入某一年度的节假日安排（工作日历）。文件为 UTF-8 编码的 JSON 或 CSV。

JSON（.json）：
  {"year": 2027,
   "source": "国办发明电〔2026〕X号",                     （可选）
   "note": "备注",                                         （可选）
   "holidays": [["2027-02-06", "2027-02-12", "春节"],      放假区间：开始、结束（含）、名称
                ["2027-04-05", "清明节"]],                 或单日：日期、名称
   "workdays": [["2027-02-14", "春节调休上班"]]}           调休上班：日期（须为周六或周日）、名称

CSV（.csv）：表头 date,kind,name（或 日期,类型,名称），每行一天；kind 为 holiday/休息日 或 workday/工作日；
所有日期须属同一年度。

导入即声明该年度"已完整录入"：该年度以导入内容为准（周末休息、周一至周五上班，另加文件所列日期），
不再使用 chinese-calendar 库中该年度的数据。重复导入同一文件不产生变化；
导入会替换该年度原有的全部逐日调整（包括手工录入的）。文件有误时不写入任何内容，列出全部问题并以非零状态退出。

导入后，按新日历重新计算在办办件和待办任务的期限：期限计算经过该年度的，以及所有"预计"期限（此前按法定节假日
预计、未含调休）。期限有变化的办件在办理记录中留痕（原期限、新期限）；期限提前的，通知承办人员。
重新计算逐件提交，中途中断时再次执行同一导入即可补完。
"""

MIN_YEAR, MAX_YEAR = 2000, 2100
MAX_RANGE_DAYS = 31
WEEKDAYS = "一二三四五六日"
KIND_ALIASES = {
    "holiday": CalendarDayKind.HOLIDAY,
    "休息日": CalendarDayKind.HOLIDAY,
    "workday": CalendarDayKind.WORKDAY,
    "工作日": CalendarDayKind.WORKDAY,
}


@dataclass
class Schedule:
    year: int | None = None
    source: str = ""
    note: str = ""
    days: dict[dt.date, tuple[str, str]] = field(default_factory=dict)  # date → (kind, name)
    problems: list[str] = field(default_factory=list)

    def add(self, where: str, day: dt.date, kind: str, name: str) -> None:
        if self.year is not None and day.year != self.year:
            self.problems.append(f"{where}：{day} 不属于 {self.year} 年")
        elif day in self.days:
            self.problems.append(f"{where}：{day} 重复出现")
        elif kind == CalendarDayKind.WORKDAY and day.weekday() < 5:
            self.problems.append(f"{where}：{day} 是星期{WEEKDAYS[day.weekday()]}，本来就是工作日，不能列为调休上班")
        else:
            self.days[day] = (kind, name)


def _date(text, where: str, problems: list[str]) -> dt.date | None:
    if not isinstance(text, str):
        problems.append(f"{where}：日期应为 YYYY-MM-DD 格式的字符串")
        return None
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        problems.append(f"{where}：{text!r} 不是有效日期（应为 YYYY-MM-DD）")
        return None


def _name(value, where: str, problems: list[str]) -> str:
    if not isinstance(value, str):
        problems.append(f"{where}：名称应为字符串")
        return ""
    name = value.strip()
    if len(name) > CalendarDay._meta.get_field("name").max_length:
        problems.append(f"{where}：名称过长")
    return name


def parse_json(text: str) -> Schedule:
    schedule = Schedule()
    problems = schedule.problems
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        problems.append(f"不是有效的 JSON：第 {exc.lineno} 行第 {exc.colno} 列，{exc.msg}")
        return schedule
    if not isinstance(data, dict):
        problems.append('JSON 顶层应为对象，如 {"year": 2027, "holidays": [...], "workdays": [...]}')
        return schedule
    unknown = sorted(set(data) - {"year", "source", "note", "holidays", "workdays"})
    if unknown:
        problems.append(f"未知字段：{'、'.join(unknown)}")
    year = data.get("year")
    if isinstance(year, bool) or not isinstance(year, int) or not MIN_YEAR <= year <= MAX_YEAR:
        problems.append(f"year 必须是 {MIN_YEAR}–{MAX_YEAR} 之间的整数")
        return schedule
    schedule.year = year
    for key in ("source", "note"):
        value = data.get(key, "")
        if not isinstance(value, str):
            problems.append(f"{key} 应为字符串")
        else:
            setattr(schedule, key, value.strip())
    if len(schedule.source) > CalendarYear._meta.get_field("source").max_length:
        problems.append("source 过长")

    holidays = data.get("holidays")
    if not isinstance(holidays, list) or not holidays:
        problems.append("holidays 必须是非空列表：一年中总有法定节假日")
        holidays = []
    for index, entry in enumerate(holidays, start=1):
        where = f"holidays 第 {index} 项"
        if not isinstance(entry, list) or len(entry) not in (2, 3):
            problems.append(f"{where}：应为 [开始日期, 结束日期, 名称] 或 [日期, 名称]")
            continue
        first = _date(entry[0], where, problems)
        last = _date(entry[1], where, problems) if len(entry) == 3 else first
        name = _name(entry[-1], where, problems)
        if first is None or last is None:
            continue
        if last < first:
            problems.append(f"{where}：结束日期 {last} 早于开始日期 {first}")
            continue
        if (last - first).days + 1 > MAX_RANGE_DAYS:
            problems.append(f"{where}：放假区间超过 {MAX_RANGE_DAYS} 天，请检查日期")
            continue
        day = first
        while day <= last:
            schedule.add(where, day, CalendarDayKind.HOLIDAY, name)
            day += dt.timedelta(days=1)

    workdays = data.get("workdays", [])
    if not isinstance(workdays, list):
        problems.append("workdays 必须是列表")
        workdays = []
    for index, entry in enumerate(workdays, start=1):
        where = f"workdays 第 {index} 项"
        if not isinstance(entry, list) or len(entry) not in (1, 2):
            problems.append(f"{where}：应为 [日期, 名称]")
            continue
        day = _date(entry[0], where, problems)
        name = _name(entry[1], where, problems) if len(entry) == 2 else ""
        if day is not None:
            schedule.add(where, day, CalendarDayKind.WORKDAY, name)
    return schedule


def parse_csv(text: str) -> Schedule:
    schedule = Schedule()
    problems = schedule.problems
    rows = list(csv.reader(io.StringIO(text)))
    rows = [row for row in rows if any(cell.strip() for cell in row)]
    if not rows:
        problems.append("文件为空")
        return schedule
    header = [cell.strip().lower() for cell in rows[0]]
    if header[:3] not in (["date", "kind", "name"], ["日期", "类型", "名称"]):
        problems.append("第 1 行应为表头 date,kind,name（或 日期,类型,名称）")
        return schedule
    if len(rows) == 1:
        problems.append("文件中没有任何日期")
        return schedule
    parsed = []
    for number, row in enumerate(rows[1:], start=2):
        where = f"第 {number} 行"
        if len(row) < 2 or len(row) > 3:
            problems.append(f"{where}：应有 2–3 列（日期,类型,名称）")
            continue
        day = _date(row[0], where, problems)
        kind = KIND_ALIASES.get(row[1].strip().lower())
        if kind is None:
            problems.append(f"{where}：类型 {row[1]!r} 无效，应为 holiday/休息日 或 workday/工作日")
        name = _name(row[2], where, problems) if len(row) == 3 else ""
        if day is not None and kind is not None:
            parsed.append((where, day, kind, name))
    years = sorted({day.year for _, day, _, _ in parsed})
    if len(years) > 1:
        problems.append(f"所有日期须属同一年度，文件中有：{'、'.join(map(str, years))}")
        return schedule
    if years:
        if not MIN_YEAR <= years[0] <= MAX_YEAR:
            problems.append(f"年度必须在 {MIN_YEAR}–{MAX_YEAR} 之间")
            return schedule
        schedule.year = years[0]
    for where, day, kind, name in parsed:
        schedule.add(where, day, kind, name)
    if schedule.year is not None and not any(kind == CalendarDayKind.HOLIDAY for kind, _ in schedule.days.values()):
        problems.append("未列出任何休息日：一年中总有法定节假日")
    return schedule


def read_schedule(path: Path) -> Schedule:
    if not path.is_file():
        raise CommandError(f"{path}：文件不存在")
    suffix = path.suffix.lower()
    if suffix not in (".json", ".csv"):
        raise CommandError(f"{path.name}：仅支持 .json 或 .csv 文件")
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CommandError(f"{path.name}：文件不是 UTF-8 编码") from None
    return parse_json(text) if suffix == ".json" else parse_csv(text)


@transaction.atomic
def save_schedule(schedule: Schedule, *, default_source: str) -> tuple[int, int, int, bool]:
    """Replace the year's CalendarDay rows and declare the year complete. → (added, changed, removed, year_changed)."""
    year = schedule.year
    existing = {
        row.date: (row.kind, row.name)
        for row in CalendarDay.objects.select_for_update().filter(date__year=year).only("date", "kind", "name")
    }
    wanted = schedule.days
    removed = [day for day in existing if day not in wanted]
    added = [day for day in wanted if day not in existing]
    changed = [day for day in wanted if day in existing and existing[day] != wanted[day]]
    if removed:
        CalendarDay.objects.filter(date__in=removed).delete()
    CalendarDay.objects.bulk_create(
        [CalendarDay(date=day, kind=wanted[day][0], name=wanted[day][1]) for day in added + changed],
        update_conflicts=True,
        unique_fields=["date"],
        update_fields=["kind", "name"],
    )
    source = schedule.source or default_source
    previous = CalendarYear.objects.filter(year=year).first()
    year_changed = previous is None or (previous.complete, previous.source, previous.note) != (
        True,
        source,
        schedule.note,
    )
    if year_changed:
        CalendarYear.objects.update_or_create(
            year=year, defaults={"complete": True, "source": source, "note": schedule.note}
        )
    forget_calendar_year(year)  # bulk_create sends no signals: drop the cached schedule here
    return len(added), len(changed), len(removed), year_changed


class Command(BaseCommand):
    help = HELP

    def create_parser(self, prog_name, subcommand, **kwargs):
        from argparse import RawDescriptionHelpFormatter

        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.formatter_class = RawDescriptionHelpFormatter
        return parser

    def add_arguments(self, parser):
        parser.add_argument("file", help="节假日安排文件（.json 或 .csv）")
        parser.add_argument("--dry-run", action="store_true", help="只校验，不写入")

    def handle(self, *args, file, dry_run, **options):
        path = Path(file)
        schedule = read_schedule(path)
        if schedule.problems:
            for problem in schedule.problems:
                self.stderr.write(f"{path.name}：{problem}")
            raise CommandError(f"未导入：{path.name} 有 {len(schedule.problems)} 个问题")

        year = schedule.year
        holidays = [day for day, (kind, _) in schedule.days.items() if kind == CalendarDayKind.HOLIDAY]
        workdays = len(schedule.days) - len(holidays)
        weekday_holidays = sum(1 for day in holidays if day.weekday() < 5)
        summary = (
            f"{year} 年：休息日 {len(holidays)} 天（其中周一至周五放假 {weekday_holidays} 天），调休上班 {workdays} 天"
        )
        if CHINESE_CALENDAR.knows(year):
            self.stdout.write(f"提示：chinese-calendar 库已含 {year} 年数据；导入后该年度以导入内容为准。")
        if dry_run:
            self.stdout.write(f"校验通过，未写入。{summary}")
            return
        source = schedule.source or f"导入文件 {path.name}"
        added, changed, removed, year_changed = save_schedule(schedule, default_source=source)
        if not (added or changed or removed or year_changed):
            self.stdout.write(f"内容未变。{summary}")
        else:
            self.stdout.write(
                f"已导入 {summary}；逐日调整新增 {added} 条、修改 {changed} 条、删除 {removed} 条。"
                "该年度已标记为完整录入。"
            )
        # Also when nothing changed: it finishes a recompute an earlier run left unfinished (idempotent).
        report = recompute_due_dates(years=[year], reason=f"{year} 年节假日安排已导入（{source}）")
        self.stdout.write(
            f"重新计算期限：涉及在办办件 {report.cases} 件，期限有变化 {report.changed} 件"
            f"（提前 {report.earlier} 件，已通知承办人员；推后 {report.later} 件），"
            f"仍为预计 {report.still_provisional} 件。"
        )
