"""The vocabulary the API and the hall's screens share: every code a client sees, with its Chinese label.

Codes go in code fields, labels in ``*_label`` fields (docs/api.md "Vocabulary"). The event kinds are the event
registry's (``workflow.events``); the actions a staff member may take are ``workflow.selectors.Action``.
"""

from __future__ import annotations

import forms

from .calendar import PROVISIONAL_LABEL, PROVISIONAL_NOTE
from .clock import Supervision
from .delivery import POST_STATUSES, RECIPIENT_KINDS, SIGNATURE_METHODS, VISIT_REASONS
from .documents import DocumentKind
from .events import Audience, EventKind
from .halls import IDENTITY_METHODS
from .lifecycle import CaseStatus
from .models import (
    CASE_NO_PATTERN,
    DIMENSIONS,
    SPECIAL_PROCEDURES,
    Channel,
    Decision,
    DeliveryMethod,
    DeliveryStatus,
    ExtensionRequestState,
    HumanTaskState,
    NotificationKind,
    PauseKind,
    RatingLevel,
    RectificationState,
    StaffRole,
    normalise_case_no,
)

OUTCOME_LABELS = {"approved": "准予许可", "rejected": "不予许可", "not_accepted": "不予受理"}
PROGRESS_LABELS = {"pending": "待审查", "reviewing": "审查中", "done": "已完成", "not_applicable": "不再适用"}
POST_REVIEW_OUTCOMES = [("confirmed", "复核无误"), ("revoked", "复核撤销")]
# The applicant's identity document types (forms.ID_TYPES): code → Chinese name; the default is 居民身份证.
ID_TYPE_LABELS = {code: name for code, (name, _) in forms.ID_TYPES.items()}
DEFAULT_ID_TYPE = forms.DEFAULT_ID_TYPE
SIGNATURE_METHOD_CHOICES = list(SIGNATURE_METHODS.items())  # 一窗通取: pad 签名板 / scan 签收单扫描件

__all__ = [
    "CASE_NO_PATTERN",
    "DEFAULT_ID_TYPE",
    "DIMENSIONS",
    "IDENTITY_METHODS",
    "ID_TYPE_LABELS",
    "OUTCOME_LABELS",
    "POST_REVIEW_OUTCOMES",
    "POST_STATUSES",
    "PROGRESS_LABELS",
    "PROVISIONAL_LABEL",
    "PROVISIONAL_NOTE",
    "RECIPIENT_KINDS",
    "SIGNATURE_METHODS",
    "SIGNATURE_METHOD_CHOICES",
    "SPECIAL_PROCEDURES",
    "VISIT_REASONS",
    "Audience",
    "CaseStatus",
    "Channel",
    "Decision",
    "DeliveryMethod",
    "DeliveryStatus",
    "DocumentKind",
    "EventKind",
    "ExtensionRequestState",
    "HumanTaskState",
    "NotificationKind",
    "PauseKind",
    "RatingLevel",
    "RectificationState",
    "StaffRole",
    "Supervision",
    "normalise_case_no",
]
