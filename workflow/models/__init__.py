from .case import Case, CaseEvent, CaseNumberCounter, Decision, HumanTask, HumanTaskState
from .catalogue import Department, OneThing, ProcessVersion, ServiceItem, Staff, StaffRole

__all__ = [
    "Case",
    "CaseEvent",
    "CaseNumberCounter",
    "Decision",
    "Department",
    "HumanTask",
    "HumanTaskState",
    "OneThing",
    "ProcessVersion",
    "ServiceItem",
    "Staff",
    "StaffRole",
]
