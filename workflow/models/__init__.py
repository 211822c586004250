from .applicant import ApplicantBinding, ApplicantCode, ApplicantSession, ApplicationDraft, IdentityMethod
from .audit import AuditChainHead
from .calendar import CalendarDay, CalendarDayKind, CalendarYear
from .case import (
    CASE_NO_PATTERN,
    Case,
    CaseEvent,
    CaseNumberCounter,
    Channel,
    Decision,
    HumanTask,
    HumanTaskState,
    normalise_case_no,
)
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
from .clock import (
    SPECIAL_PROCEDURES,
    ClockPause,
    DeadlineExtension,
    DueTimer,
    ExtensionRequest,
    ExtensionRequestState,
    Notification,
    NotificationKind,
    PauseKind,
    TimerKind,
)
from .compositions import CatalogueChange, CatalogueChangeKind, CompositionVersion
from .documents import Document
from .halls import Hall
from .licences import ELicence, MaterialReuse
from .promises import MaterialPromise
from .ratings import BAD_LEVELS, DIMENSIONS, GOOD_LEVELS, Rating, RatingLevel, RectificationOrder, RectificationState
from .sms import SmsMessage, SmsState
from .uploads import MaterialFile

__all__ = [
    "BAD_LEVELS",
    "CASE_NO_PATTERN",
    "DIMENSIONS",
    "GOOD_LEVELS",
    "SPECIAL_PROCEDURES",
    "ApplicantBinding",
    "ApplicantCode",
    "ApplicantSession",
    "ApplicationDraft",
    "AuditChainHead",
    "CalendarDay",
    "CalendarDayKind",
    "CalendarYear",
    "Case",
    "CaseEvent",
    "CaseNumberCounter",
    "CatalogueChange",
    "CatalogueChangeKind",
    "Channel",
    "ClockPause",
    "CompositionVersion",
    "DeadlineExtension",
    "Decision",
    "Department",
    "Document",
    "DueTimer",
    "ELicence",
    "ExtensionRequest",
    "ExtensionRequestState",
    "Hall",
    "HandlingLevel",
    "HumanTask",
    "HumanTaskState",
    "IdentityMethod",
    "ItemType",
    "MaterialFile",
    "MaterialPromise",
    "MaterialReuse",
    "Notification",
    "NotificationKind",
    "OneThing",
    "OneThingItem",
    "PauseKind",
    "ProcessVersion",
    "Rating",
    "RatingLevel",
    "RectificationOrder",
    "RectificationState",
    "ServiceItem",
    "SmsMessage",
    "SmsState",
    "Staff",
    "StaffRole",
    "TimerKind",
    "normalise_case_no",
]
