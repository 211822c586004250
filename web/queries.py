"""Reads the screens need that ``workflow.selectors`` does not offer (yet): lists, the diagram. (The statistics are
``workflow.statistics``.)

Read-only, no writes. Who may see what is decided by the views (``web.access``) and, for single cases and tasks,
by the selectors themselves; the functions here take already-authorised objects or are for roles that see
everything (window, supervisor).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import F
from django.utils import timezone
from lxml import etree

from workflow import calendar, halls, selectors
from workflow.access import staff_of
from workflow.labels import EVENT_LABELS, OUTCOME_LABELS, PROGRESS_LABELS, event_kind_seen_by  # noqa: F401 (views/cases.py)
from workflow.lifecycle import CaseStatus
from workflow.models import (
    Case,
    Decision,
    Department,
    HumanTask,
    HumanTaskState,
    ProcessVersion,
    StaffRole,
)

RESERVED_LANE_NAMES = {"window": "综合窗口", "applicant": "申请人"}
BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"

# Events caused by a step rather than done by its actor: no name next to them.
NO_ACTOR_EVENTS = {"task_opened", "require_correction", "resubmit", "approve", "reject", "licence_issued"}


def department_names() -> dict[str, str]:
    return {**RESERVED_LANE_NAMES, **dict(Department.objects.values_list("code", "name"))}


# --------------------------------------------------------------------------- due dates and supervision colours


@dataclass(frozen=True)
class Due:
    """When a task is due and how urgent it is: level "" (in time), warning, yellow or red."""

    date: dt.date | None = None
    level: str = ""
    label: str = ""
    estimated: bool = False  # True: computed here from the promised limit, not the legal clock's own row
    provisional: bool = False  # 预计: counted through a year whose holiday arrangement is not entered (docs/clock.md)


LEVEL_LABELS = {"": "正常", "warning": "即将到期", "yellow": "黄牌（超期）", "red": "红牌（严重超期）"}
# Overdue by up to this many working days is yellow, more is red; from the warning date (or on the due date
# itself) it is a warning.
YELLOW_UP_TO_DAYS = 2


def _has_task_field(name: str) -> bool:
    return any(f.name == name for f in HumanTask._meta.get_fields())


def clock_fields() -> tuple[str | None, str | None]:
    """The legal clock's due-date and warning-date fields on HumanTask, if that work has landed."""
    due = next((n for n in ("due_date", "due_at") if _has_task_field(n)), None)
    warning = next((n for n in ("warning_date", "warning_at") if _has_task_field(n)), None)
    return due, warning


def inbox_order(tasks):
    """Earliest due first when tasks carry due dates (undated last), else oldest first (the selector's order)."""
    due, _ = clock_fields()
    if not due:
        return tasks
    return tasks.order_by(F(due).asc(nulls_last=True), "created_at", "id")


def due_of(tasks: Iterable[HumanTask], *, today: dt.date | None = None) -> dict[int, Due]:
    """Due date and colour per open task: the legal clock's own fields when present, else an estimate from the
    one-thing's promised limit (承诺时限, working days) counted from when the task was opened."""
    today = today or timezone.localdate()
    due_field, warning_field = clock_fields()
    cal = calendar.WorkingCalendar()
    out: dict[int, Due] = {}
    for task in tasks:
        if task.state != HumanTaskState.OPEN:
            out[task.pk] = Due()
            continue
        estimated = due_field is None
        warning = None
        try:
            if due_field:
                due = _as_date(getattr(task, due_field))
                warning = _as_date(getattr(task, warning_field)) if warning_field else None
            else:
                due = cal.add_working_days(task.created_at, selectors.composition_of(task.case).promised_limit_days)
            level = _level(due, warning, today, cal)
        except calendar.CalendarUnknown:
            out[task.pk] = Due(label="工作日历未录入，无法计算期限", estimated=estimated)
            continue
        provisional = bool(getattr(task, "due_date_provisional", False))
        out[task.pk] = Due(
            date=due, level=level, label=LEVEL_LABELS[level], estimated=estimated, provisional=provisional
        )
    return out


def _as_date(value) -> dt.date | None:
    if value is None:
        return None
    return calendar.local_date(value) if isinstance(value, dt.datetime) else value


def _level(due: dt.date | None, warning: dt.date | None, today: dt.date, cal: calendar.WorkingCalendar) -> str:
    if due is None:
        return ""
    if today > due:
        return "yellow" if cal.working_days_between(due, today) <= YELLOW_UP_TO_DAYS else "red"
    if today == due or (warning is not None and today >= warning):
        return "warning"
    return ""


# --------------------------------------------------------------------------- the window's lists


def window_worklist(limit: int = 50, *, hall_id: int | None = None) -> dict[str, Any]:
    """The window's lists. ``hall_id`` (a clerk bound to a hall, 收受分离): the lists the clerk acts on hold the
    hall's own cases, and ``decided_here`` the cases other halls received for this hall's region to decide."""
    cases = Case.objects.select_related("one_thing").defer("process_state", "form_data")
    decided_here = []
    if hall_id is not None:
        decided_here = list(
            cases.filter(deciding_hall_id=hall_id)
            .exclude(accepting_hall_id=hall_id)
            .exclude(status__in=[CaseStatus.CONCLUDED, CaseStatus.NOT_ACCEPTED, CaseStatus.WITHDRAWN])
            .order_by("-updated_at")[:limit]
        )
        cases = cases.filter(accepting_hall_id=hall_id)
    return {
        "decided_here": decided_here,
        "received": list(cases.filter(status=CaseStatus.RECEIVED).order_by("opened_at")[:limit]),
        "correction": list(cases.filter(status=CaseStatus.CORRECTION_REQUIRED).order_by("updated_at")[:limit]),
        "to_conclude": list(
            cases.filter(status__in=[CaseStatus.APPROVED, CaseStatus.REJECTED]).order_by("updated_at")[:limit]
        ),
        "in_review": cases.filter(status=CaseStatus.IN_REVIEW).count(),
    }


def reassign_candidates(task: HumanTask, *, exclude: Iterable[int | None] = ()) -> list[tuple[str, str]]:
    """(username, name) of the active reviewers of the task's department to whom it may be handed (转办)."""
    users = (
        get_user_model()
        .objects.filter(is_active=True, staff__role=StaffRole.REVIEWER, staff__department_id=task.department_id)
        .exclude(pk__in=[pk for pk in exclude if pk is not None])
        .order_by("username")
    )
    return [(user.get_username(), user.get_full_name() or user.get_username()) for user in users]


def recent_completed_tasks(*, user, limit: int = 20) -> list[HumanTask]:
    return list(selectors.task_list(user=user, state=HumanTaskState.COMPLETED).order_by("-completed_at")[:limit])


# --------------------------------------------------------------------------- one case


latest_by_lane = selectors.latest_by_lane
item_label = selectors.correction_item_label


def correction_notice(case: Case, tasks: list[HumanTask]) -> list[dict]:
    """What each department asked in the current correction round (the combined notice, 一次性告知)."""
    merged = selectors.composition_of(case).merged_form
    notice = []
    for task in latest_by_lane(tasks).values():
        if task.decision != Decision.NEED_CORRECTION:
            continue
        notice.append(
            {
                "department": task.lane,
                "department_name": task.department.name if task.department_id else task.lane,
                "opinion": task.opinion,
                "completed_at": task.completed_at,
                "items": [
                    {**row, "label": item_label(str(row.get("item", "")), merged)} for row in task.corrections or []
                ],
            }
        )
    return notice


def asked_fields(notice: list[dict], merged_form: Mapping) -> dict[str, str]:
    """Form fields named by the correction items → the reasons, for highlighting them."""
    props = (merged_form.get("schema") or {}).get("properties") or {}
    by_title = {definition.get("title"): name for name, definition in props.items()}
    asked: dict[str, str] = {}
    for row in notice:
        for item in row["items"]:
            name = item.get("item")
            name = name if name in props else by_title.get(name)
            if name:
                reason = f"{row['department_name']}：{item.get('reason', '')}"
                asked[name] = f"{asked[name]}；{reason}" if name in asked else reason
    return asked


def corrected_fields(case: Case) -> list[str]:
    """The fields the applicant changed in the latest correction."""
    event = case.events.filter(kind="corrected").order_by("-created_at", "-id").first()
    return list(event.data.get("fields", [])) if event else []


def event_rows(events: Iterable, names: Mapping[str, str], *, decisions_of: str | None = None) -> list[dict]:
    """The staff timeline (the applicant's is ``selectors.case_applicant_view``). ``decisions_of``: a reviewer's
    department; other departments' decisions are then left out (their progress is not)."""
    rows = []
    for event in events:
        kind = event_kind_seen_by(event, decisions_of)
        label = EVENT_LABELS.get(kind, "办件动态")
        if event.data.get("task"):
            label += f"：{event.data['task']}"
        decision = event.data.get("decision")
        shows_decision = decisions_of is None or event.department in (decisions_of, *RESERVED_LANE_NAMES)
        if event.kind == "task_completed" and decision in Decision.values and shows_decision:
            label += f"（{Decision(decision).label}）"
        rows.append(
            {
                "at": event.created_at,
                "kind": kind,
                "label": label,
                "department": names.get(event.department, event.department),
                "actor": "" if event.kind in NO_ACTOR_EVENTS else event.actor_label,
            }
        )
    return rows


def progress_rows(case: Case, tasks: list[HumanTask], names: Mapping[str, str], *, opinions_of=None) -> list[dict]:
    """Each department of the process with its current task. ``opinions_of``: None shows every decision and
    opinion (window, supervisor); a department code shows only that department's (a reviewer); False shows none."""
    latest = latest_by_lane(tasks)
    rows = []
    for code in [] if case.status == CaseStatus.NOT_ACCEPTED else case.process_version.departments:
        task = latest.get(code)
        progress = "pending" if task is None else "reviewing" if task.state == HumanTaskState.OPEN else "done"
        if task is not None and task.not_applicable_reason:
            progress = "not_applicable"  # a correction made its item(s) stop applying (不再适用)
        show = task is not None and opinions_of is not False and (opinions_of is None or opinions_of == code)
        rows.append(
            {
                "department": code,
                "department_name": names.get(code, code),
                "task": task,
                "progress": progress,
                "progress_label": PROGRESS_LABELS[progress],
                "round": task.review_round if task else None,
                "decision": task.get_decision_display() if show and task.decision else "",
                "decision_code": task.decision if show else "",
                "opinion": task.opinion if show else "",
                "completed_at": task.completed_at if task else None,
            }
        )
    return rows


# --------------------------------------------------------------------------- the diagram


def diagram(case: Case) -> dict:
    """The case's BPMN (lanes relabelled with department names), current and finished user tasks."""
    xml = ProcessVersion.objects.values_list("bpmn_xml", flat=True).get(pk=case.process_version_id)
    rows = list(case.tasks.values_list("element_id", "state"))
    current = sorted({element for element, state in rows if state == HumanTaskState.OPEN})
    finished = sorted({element for element, state in rows if state == HumanTaskState.COMPLETED} - set(current))
    return {"xml": _relabel_lanes(xml, department_names()), "current": current, "finished": finished}


def _relabel_lanes(xml: str, names: Mapping[str, str]) -> str:
    """Lane names are department codes (the engine contract); readers want the department names."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        root = etree.fromstring(xml.encode("utf-8"), parser=parser)
    except etree.XMLSyntaxError:
        return xml
    for lane in root.iter(f"{{{BPMN_NS}}}lane"):
        code = lane.get("name", "")
        if code in names:
            lane.set("name", names[code])
    return etree.tostring(root, encoding="unicode")


# --------------------------------------------------------------------------- the supervisor's dashboard
# The indicators are workflow.statistics; here only the list of overdue tasks.


def _scoped(queryset, user, prefix: str = ""):
    """收受分离: a supervisor bound to a hall sees the cases that hall accepted or decides; others see all."""
    if user is None:
        return queryset
    scope = halls.case_scope(staff_of(user), prefix)
    return queryset if scope is None else queryset.filter(scope)


def overdue_list(*, user=None) -> list[dict]:
    """The open department tasks past their due date (yellow and red), oldest first."""
    open_tasks = list(
        _scoped(HumanTask.objects.filter(state=HumanTaskState.OPEN), user, "case__")
        .select_related("case", "case__one_thing", "department")
        .order_by("created_at")
    )
    dues = due_of(open_tasks)
    return [{"task": task, "due": dues[task.pk]} for task in open_tasks if dues[task.pk].level in ("yellow", "red")]
