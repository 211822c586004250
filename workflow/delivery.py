"""Result delivery (结果送达) and the trips ledger (跑动次数): the vocabulary and the pure rules.

A case's result reaches the applicant one of three ways, chosen at intake and changeable until the result leaves
the hall (``Case.delivery_method``):

- ``pickup`` 窗口领取 (一窗通取): the clerk checks the recipient's identity (the applicant, or an agent with an
  authorisation letter), ticks every thing handed over (the conclusion notice plus each approved item's catalogue
  ``handover`` list, from the case's pinned composition) and the recipient signs (signature pad or scanned paper);
  a signed 送达回证 is issued. Proof: ``handed_over``.
- ``post`` 邮寄送达: the clerk records carrier and waybill (``sent``); the carrier's status arrives by webhook or
  import; ``delivered`` is the proof, ``returned`` reopens the choice (pickup, or mail again).
- ``electronic`` 电子送达: the applicant's first download of a result document is the proof (``downloaded``).

A case is 办结 only once delivery is proven: the proof concludes it in the same transaction.

Trips: every physical visit of the applicant (or their agent) is a ``visit`` event with its reason; the case's
``trips`` column counts them in the same transaction, and the statistics read that column.
"""

from __future__ import annotations

import re

from .compositions import composition_of
from .models import PROVEN_DELIVERY, Case, Decision, DeliveryMethod, DeliveryStatus
from .results import latest_reviews

RESULT_NOTICE = "办结通知书"

# Why the applicant came to the hall (a ``visit`` event's ``reason``).
VISIT_REASONS = {
    "submission": "窗口提交申请",
    "material": "到窗口补交材料",
    "correction": "到窗口补正",
    "pickup": "到窗口领取结果",
}

# How the recipient signed for a handover.
SIGNATURE_METHODS = {"pad": "签名板电子签名", "scan": "纸质签收单扫描件"}
RECIPIENT_KINDS = {"applicant": "申请人本人", "agent": "经办人（凭授权委托书）"}
AUTHORISATION_LETTER = "authorisation_letter"
AUTHORISATION_LETTER_NAME = "授权委托书"

# The carrier's statuses a webhook or import may report.
POST_STATUSES = {"sent": "已寄出", "delivered": "已妥投", "returned": "邮件退回"}
WAYBILL_RE = re.compile(r"[A-Za-z0-9-]{6,40}")


def is_proven(case: Case) -> bool:
    return case.delivery_status in PROVEN_DELIVERY


def may_change_method(case: Case) -> bool:
    """The delivery choice is open until the result leaves the hall: not once mailed (unless it came back) or
    proven."""
    return case.delivery_status in (DeliveryStatus.PENDING, DeliveryStatus.RETURNED)


def handover_list(case: Case, tasks) -> list[str]:
    """What the window hands over (一窗通取): the conclusion notice, then each approved, still applicable item's
    ``handover`` from the composition the case is pinned to, in item order, without repeats."""
    composition = composition_of(case)
    things = [RESULT_NOTICE]
    for task in latest_reviews(tasks):
        if task.decision != Decision.APPROVE or task.not_applicable_reason:
            continue
        item = composition.item_of_task(task)
        for thing in item.handover if item else ():
            if thing not in things:
                things.append(thing)
    return things


def where_label(case: Case) -> str:
    """Where the result is, in one sentence for the screens and the status page."""
    method, status = case.delivery_method, case.delivery_status
    if status == DeliveryStatus.HANDED_OVER:
        return "办理结果已在窗口当面交付"
    if status == DeliveryStatus.DELIVERED:
        return f"办理结果已邮寄妥投（{case.delivery_carrier} {case.delivery_waybill}）"
    if status == DeliveryStatus.DOWNLOADED:
        return "办理结果已由申请人下载（电子送达）"
    if status == DeliveryStatus.SENT:
        return f"办理结果已寄出（{case.delivery_carrier} {case.delivery_waybill}），等待妥投"
    if status == DeliveryStatus.RETURNED:
        return "邮件被退回，结果在窗口待领取或重新邮寄"
    if case.status not in ("approved", "rejected"):
        return f"办理结果形成后将{DeliveryMethod(method).label}"
    if method == DeliveryMethod.PICKUP:
        return "办理结果在综合窗口，待申请人领取"
    if method == DeliveryMethod.POST:
        return "办理结果在综合窗口，待邮寄"
    return "办理结果已可在办件查询页下载（电子送达），待申请人下载"
