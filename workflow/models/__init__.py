from .calendar import CalendarDay, CalendarDayKind, CalendarYear
from .case import Case, CaseEvent, CaseNumberCounter, Decision, HumanTask, HumanTaskState
from .catalogue import (
    Department,
    HandlingLevel,
    ItemType,
    OneThing,
    OneThingItem,
    ProcessVersion,
    ServiceItem,
    Staff,
    StaffRole,
)

__all__ = [
    "CalendarDay",
    "CalendarDayKind",
    "CalendarYear",
    "Case",
    "CaseEvent",
    "CaseNumberCounter",
    "Decision",
    "Department",
    "HandlingLevel",
    "HumanTask",
    "HumanTaskState",
    "ItemType",
    "OneThing",
    "OneThingItem",
    "ProcessVersion",
    "ServiceItem",
    "Staff",
    "StaffRole",
]
