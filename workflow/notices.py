"""What each document of a case says, read from the database, and the reads of issued documents.

A document is named within its case by a key (see ``reactions.py`` for when each is issued):
``acceptance_receipt``, ``refusal_notice``, ``correction_notice:round-<n>``, ``conclusion_notice`` and
``e_licence:<item code>``. ``notice_for(case, key)`` builds the plain context ``workflow.documents`` renders
(the keys of each kind are listed in ``workflow/documents/kinds.py``); it raises ``NotIssuable`` when the
case does not call for that document (a receipt for a case that was never accepted).

The query code is never printed on a stored document: only its digest is kept, and a stored PDF with the
code in it would be the code kept in clear. The receipt says where the code is (docs/documents.md).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import logging
import re
from dataclasses import dataclass
from urllib.parse import urlencode

from django.conf import settings
from django.utils import timezone

from . import calendar, halls, licence_kinds
from .compositions import composition_of
from .documents import REVIEW_RIGHTS, DocumentKind
from .errors import DocumentDamaged, NotFound, NotIssuable
from .intake import intake_record
from .models import Case, CaseEvent, ClockPause, DeadlineExtension, Decision, Document, ELicence, HumanTask, PauseKind
from .models.documents import private_storage
from .results import case_results

logger = logging.getLogger(__name__)

RECEIPT = "acceptance_receipt"
REFUSAL = "refusal_notice"
CONCLUSION = "conclusion_notice"
DELIVERY_RECEIPT = "delivery_receipt"
_CORRECTION = re.compile(r"correction_notice:round-(\d{1,4})")
_EXTENSION = re.compile(r"extension_notice:(\d{1,12})")
_PROCEDURE = re.compile(r"procedure_notice:(\d{1,12})")
_LICENCE = re.compile(r"e_licence:([A-Za-z0-9_-]{1,64})")

WINDOW_NAME = "综合窗口"
# Printed where the receipt would show the query code: the code was printed on the 收件回执 handed over when the
# case was opened (or told when it was re-issued) and is not kept, so a stored, signed copy cannot carry it. The
# status page asks for it with the same words (web/templates/web/status.html).
QUERY_CODE_ON_RECEIPT = "见收件回执"
# 行政许可法第三十二条: the decision to accept, in writing, sealed and dated.
ACCEPTANCE_BASIS = "《中华人民共和国行政许可法》第三十二条"
# 不予受理 without a basis entered: the article that allows it.
REFUSAL_BASIS = "《中华人民共和国行政许可法》第三十二条第一款"
EXTENSION_BASIS = {
    "single": "《中华人民共和国行政许可法》第四十二条",
    "joint": "《中华人民共和国行政许可法》第二十六条、第四十二条",
}
DECISION_TEXT = {
    Decision.APPROVE: "准予",
    Decision.REJECT: "不予许可",
    Decision.NEED_CORRECTION: "未予办理（统一结果为不予许可）",
}


@dataclass(frozen=True)
class Notice:
    kind: str
    title: str
    context: dict


SPECIAL_PROCEDURE_KINDS = frozenset(PauseKind.values) - {PauseKind.CORRECTION, PauseKind.MATERIAL_PROMISE}


def correction_key(review_round: int) -> str:
    return f"correction_notice:round-{review_round}"


def licence_key(item_code: str) -> str:
    return f"e_licence:{item_code}"


def extension_key(extension_id: int) -> str:
    return f"extension_notice:{extension_id}"


def procedure_key(pause_id: int) -> str:
    return f"procedure_notice:{pause_id}"


HOLDER_LABELS = {"enterprise": "持证主体（企业）", "newborn": "新生儿", "applicant": "持证人"}


def licence_check_url(number: str, code: str) -> str:
    """The public check of a licence (/licences/): printed on it and encoded in its QR code, with the short
    verification code printed next to its number."""
    query = urlencode({"no": number, "code": code} if code else {"no": number})
    return f"{settings.ONETHING_PUBLIC_BASE_URL.rstrip('/')}/licences/?{query}"


def status_url(case_no: str) -> str:
    """The public status page of a case: printed on every notice and encoded in its QR code."""
    return f"{settings.ONETHING_PUBLIC_BASE_URL.rstrip('/')}/status/?case_no={case_no}"


# --- contexts ------------------------------------------------------------------------------------------


def notice_for(case: Case, key: str) -> Notice:
    """The kind, title and context of the document ``key`` of ``case``; NotIssuable if it has none."""
    if key == RECEIPT:
        return _receipt(case)
    if key == REFUSAL:
        return _refusal(case)
    if key == CONCLUSION:
        return _conclusion(case)
    if key == DELIVERY_RECEIPT:
        return _delivery_receipt(case)
    if match := _CORRECTION.fullmatch(key):
        return _correction(case, int(match[1]))
    if match := _LICENCE.fullmatch(key):
        return _licence(case, match[1])
    if match := _EXTENSION.fullmatch(key):
        return _extension(case, int(match[1]))
    if match := _PROCEDURE.fullmatch(key):
        return _procedure(case, int(match[1]))
    raise NotIssuable(f"未知的文书标识：{key}")


def licence_keys(case_id: int) -> list[str]:
    """One key per e-licence the case's approval issued."""
    codes = ELicence.objects.filter(case_id=case_id).order_by("issued_at", "id").values_list("item__code", flat=True)
    return [licence_key(code) for code in codes]


def expected_keys(case: Case) -> list[str]:
    """Every document the case's history calls for so far (e-licences excluded: the conclusion notice's task
    issues those). For recovery: what ``manage.py issue_documents`` issues when a queued task was lost."""
    return expected_keys_of(CaseEvent.objects.filter(case=case).order_by("id").values_list("kind", "data"))


def expected_keys_of(events) -> list[str]:
    """``expected_keys`` over one case's (kind, data) events in order."""
    keys: list[str] = []
    review_round = 0
    for kind, data in events:
        if kind == "task_completed" and data.get("review_round"):
            review_round = data["review_round"]  # the department decisions of the round being decided
        for key in keys_for_event(kind, review_round):
            if key not in keys:
                keys.append(key)
        if kind == "deadline_extended" and data.get("extension_id"):
            keys.append(extension_key(data["extension_id"]))
        if kind == "procedure_started" and data.get("pause_id"):
            keys.append(procedure_key(data["pause_id"]))
    return keys


def keys_for_event(kind: str, review_round: int = 0) -> list[str]:
    """The documents one event calls for (``review_round``: the round a require_correction ends)."""
    if kind == "accept":
        return [RECEIPT]
    if kind == "refuse":
        return [REFUSAL]
    if kind == "require_correction":
        return [correction_key(review_round)]
    if kind in ("approve", "reject", "conclude"):
        return [CONCLUSION]
    if kind == "handed_over":
        return [DELIVERY_RECEIPT]
    return []


def _event_time(case: Case, *kinds: str, last: bool = True) -> dt.datetime:
    events = CaseEvent.objects.filter(case=case, kind__in=kinds).order_by("created_at", "id")
    event = events.last() if last else events.first()
    return event.created_at if event else timezone.now()


def _actor_of(case: Case, kind: str) -> str:
    event = CaseEvent.objects.filter(case=case, kind="task_completed", data__decision=kind).order_by("id").last()
    return (event.actor_label if event else "") or WINDOW_NAME


def _common(case: Case, issued_at: dt.datetime) -> dict:
    return {
        "hall_name": settings.ONETHING_HALL_NAME,
        "case_no": case.case_no,
        "status_url": status_url(case.case_no),
        "issued_at": issued_at,
        "one_thing_name": composition_of(case).name,
        "applicant_name": case.applicant_name,
        "contact_phone": settings.ONETHING_HALL_PHONE,
        **_places(case),
        **({"agent_name": case.agent_name} if case.agent_name else {}),  # 帮办代办: the agent acting for the applicant
    }


def _places(case: Case) -> dict:
    """收受分离: a case decided in another region names both places on its documents."""
    if not halls.is_cross_region(case):
        return {}
    accepting, deciding = halls.hall_by_id(case.accepting_hall_id), halls.hall_by_id(case.deciding_hall_id)
    return {
        "accepting_place": f"{accepting.name}（{accepting.region_name}）",
        "deciding_place": f"{deciding.name}（{deciding.region_name}）",
    }


def _tasks(case: Case) -> list[HumanTask]:
    return list(case.tasks.select_related("department").order_by("created_at", "id"))


def promised_date(case: Case, accepted_at: dt.datetime) -> tuple[dt.date | str, bool]:
    """承诺办结日期 and whether it is provisional (预计, docs/clock.md): the legal clock's due date when the case has
    one, else the one-thing's promised limit counted in working days from acceptance; when the calendar cannot
    count the year at all, the limit in words."""
    due = getattr(case, "promised_due_date", None)
    if due:
        return due, bool(getattr(case, "promised_due_date_provisional", False))
    days = composition_of(case).promised_limit_days
    working = calendar.WorkingCalendar()
    try:
        due = working.add_working_days(accepted_at, days)
    except calendar.CalendarUnknown:
        return f"受理之日起 {days} 个工作日内", False
    return due, working.provisional_between(accepted_at, due)


def _receipt(case: Case) -> Notice:
    if not CaseEvent.objects.filter(case=case, kind="accept").exists():
        raise NotIssuable("办件尚未受理，不出具受理回执")
    accepted_at = _event_time(case, "accept", last=False)
    rows = case_results(case, _tasks(case))
    materials = [{"name": row.name, "status": row.text} for row in intake_record(case)]
    due, provisional = promised_date(case, accepted_at)
    context = {
        **_common(case, accepted_at),
        "query_code": QUERY_CODE_ON_RECEIPT,
        "items": [{"name": row["item"], "department": row["department_name"]} for row in rows],
        "materials": materials or [{"name": "一件事申请表", "status": "原件 1 份"}],
        "legal_basis": ACCEPTANCE_BASIS,
        "promised_date": due,
        "promised_date_provisional": provisional,
        "window_name": WINDOW_NAME,
        "officer_name": _actor_of(case, Decision.ACCEPT),
    }
    return Notice(DocumentKind.ACCEPTANCE_RECEIPT, DocumentKind.ACCEPTANCE_RECEIPT.label, context)


def _refusal(case: Case) -> Notice:
    task = case.tasks.filter(lane="window", decision=Decision.REFUSE).order_by("id").last()
    if task is None:
        raise NotIssuable("办件未被不予受理")
    reasons = [line.strip() for line in re.split(r"[\r\n]+", task.opinion) if line.strip()]
    context = {
        **_common(case, task.completed_at or _event_time(case, "refuse")),
        "reasons": reasons or [task.opinion.strip() or "不符合受理条件"],
        "legal_basis": task.legal_basis or REFUSAL_BASIS,
        "review_rights": REVIEW_RIGHTS,
        "window_name": WINDOW_NAME,
        "officer_name": _actor_of(case, Decision.REFUSE),
    }
    return Notice(DocumentKind.REFUSAL_NOTICE, DocumentKind.REFUSAL_NOTICE.label, context)


def _label(case: Case, name: str) -> str:
    """What a correction asks for, by its name: a field's title, a material's name, or the text as written."""
    return composition_of(case).label_of(name)


def _correction(case: Case, review_round: int) -> Notice:
    asked = [
        task
        for task in _tasks(case)
        if task.department_id and task.review_round == review_round and task.decision == Decision.NEED_CORRECTION
    ]
    if not asked:
        raise NotIssuable(f"第 {review_round} 轮审查没有补正要求")
    items = [
        {"department": task.department.name, "item": _label(case, entry["item"]), "reason": entry["reason"]}
        for task in asked
        for entry in task.corrections or [{"item": task.name, "reason": task.opinion}]
    ]
    issued_at = max(task.completed_at or timezone.now() for task in asked)
    context = {**_common(case, issued_at), "items": items}
    return Notice(DocumentKind.CORRECTION_NOTICE, f"补正告知书（第{review_round}轮）", context)


def _validity(row: dict) -> str:
    if not row.get("licence_no"):
        return ""
    start = row.get("valid_from")
    end = row.get("valid_to")
    start_text = f"{start.year}年{start.month}月{start.day}日" if isinstance(start, dt.date) else ""
    end_text = f"{end.year}年{end.month}月{end.day}日" if isinstance(end, dt.date) else "长期"
    return f"{start_text} 至 {end_text}" if start_text else end_text


def _decision_text(case: Case, row: dict) -> str:
    if not row.get("applicable", True):
        return f"不再适用（{row['not_applicable_reason']}）"
    item = composition_of(case).item(row.get("item_code", ""))
    kind = licence_kinds.result_kind(item.snapshot.get("result") if item else None)
    if row["decision"] == Decision.APPROVE and not kind.issues_licence:
        # 备案/登记: a result, not a licence
        return "准予备案" if "备案" in kind.title else "准予登记" if "登记" in kind.title else "已办理"
    return DECISION_TEXT.get(row["decision"], row.get("decision_label") or "未办理")


def _lines(text: str) -> list[str]:
    return [line.strip() for line in re.split(r"[\r\n]+", text or "") if line.strip()]


def _validity_ends(row: dict) -> dict:
    """The two ends of a validity, each printed whole (a date never breaks across lines)."""
    if not row.get("licence_no") or not isinstance(row.get("valid_from"), dt.date):
        return {}
    start, end = row["valid_from"], row.get("valid_to")
    return {
        "valid_from": f"{start.year}年{start.month}月{start.day}日",
        "valid_to": f"{end.year}年{end.month}月{end.day}日" if isinstance(end, dt.date) else "长期",
    }


def _conclusion(case: Case) -> Notice:
    if case.outcome not in ("approved", "rejected"):
        raise NotIssuable("办件尚未形成统一办理结果")
    tasks = _tasks(case)
    rows = case_results(case, tasks)
    if not rows:
        raise NotIssuable("办件没有部门审查结果")
    results = [
        {
            "item": row["item"],
            "department": row["department_name"],
            "decision": _decision_text(case, row),
            "licence_no": row.get("licence_no") or "",
            "validity": _validity(row),
            **_validity_ends(row),
        }
        for row in rows
    ]
    context = {
        **_common(case, _event_time(case, "approve", "reject")),
        "results": results,
        "licences_issued": any(row.get("licence_no") for row in rows),
    }
    refusals = _refusals(case, tasks, rows)
    if refusals or case.outcome == "rejected":
        context["refusals"] = refusals
        context["review_rights"] = REVIEW_RIGHTS
    return Notice(DocumentKind.CONCLUSION_NOTICE, DocumentKind.CONCLUSION_NOTICE.label, context)


def _delivery_receipt(case: Case) -> Notice:
    """送达回证: the handover at the window as the trail records it, with the recipient's signature."""
    event = CaseEvent.objects.filter(case=case, kind="handed_over").order_by("id").first()
    if event is None:
        raise NotIssuable("办理结果尚未在窗口交付，不出具送达回证")
    data = event.data
    recipient = data.get("recipient") or {}
    kind = "经办人，凭授权委托书" if recipient.get("kind") == "agent" else "申请人本人"
    signature = data.get("signature") or {}
    context = {
        **_common(case, event.created_at),
        "recipient": f"{recipient.get('name') or case.applicant_name}（{kind}）",
        "identity_method": halls.IDENTITY_METHODS.get(data.get("identity_method"), data.get("identity_method") or "—"),
        "items": list(data.get("items") or []),
        "handed_over_at": event.created_at,
        "window_name": WINDOW_NAME,
        "officer_name": event.actor_label or WINDOW_NAME,
        "signature_method": {"pad": "签名板电子签名", "scan": "纸质签收单扫描件"}.get(signature.get("method"), "签收"),
        "signature_sha256": signature.get("sha256") or "—",
        "agent_name": case.agent_name,
    }
    image = _signature_image(signature)
    if image:
        context["signature_image"] = image
    return Notice(DocumentKind.DELIVERY_RECEIPT, DocumentKind.DELIVERY_RECEIPT.label, context)


def _signature_image(signature: dict) -> str:
    """The signature as a data: URI when it is an image kept intact (its digest matches), else ""."""
    name, content_type = signature.get("file"), signature.get("content_type")
    if not name or content_type not in ("image/png", "image/jpeg"):
        return ""
    storage = private_storage()
    if not storage.exists(name):
        return ""
    with storage.open(name, "rb") as handle:
        content = handle.read()
    if hashlib.sha256(content).hexdigest() != signature.get("sha256"):
        logger.error("signature %s does not match its sha256", name)
        return ""
    return f"data:{content_type};base64,{base64.b64encode(content).decode()}"


def _refusals(case: Case, tasks: list[HumanTask], rows: list[dict]) -> list[dict]:
    """不予许可 (Art. 38): per rejecting department's item, the reasons it entered and the legal basis — the one it
    entered, else the item's 设定依据 from the case's composition."""
    composition = composition_of(case)
    latest = {}
    for task in tasks:
        if task.department_id:
            latest[task.lane] = task
    refusals = []
    for row in rows:
        if row.get("decision") != Decision.REJECT or not row.get("applicable", True):
            continue
        task = latest.get(row.get("department"))
        item = composition.item(row.get("item_code", ""))
        basis = (task.legal_basis if task else "") or (
            f"{item.snapshot.get('legal_basis')}" if item and item.snapshot.get("legal_basis") else ""
        )
        refusals.append(
            {
                "item": row["item"],
                "department": row["department_name"],
                "reasons": _lines(task.opinion if task else "") or ["不符合法定条件、标准"],
                "legal_basis": basis or "《中华人民共和国行政许可法》第三十八条第二款",
            }
        )
    return refusals


def _extension(case: Case, extension_id: int) -> Notice:
    extension = DeadlineExtension.objects.filter(case=case, pk=extension_id).first()
    if extension is None:
        raise NotIssuable(f"该办件没有编号为 {extension_id} 的延期")
    event = (
        CaseEvent.objects.filter(case=case, kind="deadline_extended", data__extension_id=extension_id)
        .order_by("id")
        .first()
    )
    data = event.data if event else {}
    due = data.get("promised_due_date") or (case.promised_due_date and case.promised_due_date.isoformat())
    statutory = data.get("statutory_due_date")
    joint = len(composition_of(case).items) > 1
    context = {
        **_common(case, extension.approved_at),
        "days": str(extension.days),
        "reason": extension.reason,
        "legal_basis": EXTENSION_BASIS["joint" if joint else "single"],
        "due_date": dt.date.fromisoformat(due) if due else "另行计算",
        "statutory_due_date": dt.date.fromisoformat(statutory) if statutory else None,
    }
    return Notice(DocumentKind.EXTENSION_NOTICE, DocumentKind.EXTENSION_NOTICE.label, context)


def _procedure(case: Case, pause_id: int) -> Notice:
    pause = ClockPause.objects.filter(case=case, pk=pause_id).select_related("department").first()
    if pause is None or pause.kind not in SPECIAL_PROCEDURE_KINDS:
        raise NotIssuable(f"该办件没有编号为 {pause_id} 的特别程序")
    duration = (
        f"预计 {pause.expected_days} 个工作日" if pause.expected_days else "所需时间尚不能确定，确定后另行书面告知"
    )
    context = {
        **_common(case, pause.started_at),
        "procedure": pause.get_kind_display(),
        "department": pause.department.name if pause.department_id else settings.ONETHING_HALL_NAME,
        "reason": pause.reason or pause.get_kind_display(),
        "started_at": pause.started_at,
        "duration": duration,
    }
    return Notice(DocumentKind.PROCEDURE_NOTICE, DocumentKind.PROCEDURE_NOTICE.label, context)


def _licence(case: Case, item_code: str) -> Notice:
    licence = (
        ELicence.objects.filter(case=case, item__code=item_code).select_related("item", "issuer").order_by("id").last()
    )
    if licence is None:
        raise NotIssuable(f"该办件没有事项 {item_code} 的电子证照")
    context = {
        "hall_name": settings.ONETHING_HALL_NAME,
        "case_no": case.case_no,
        # The licence's QR code opens the public check of this licence, not the case (docs/documents.md).
        "status_url": licence_check_url(licence.number, licence.verification_code),
        "issued_at": licence.issued_at,
        "licence_no": licence.number,
        "holder": licence.holder_name,
        "holder_label": HOLDER_LABELS.get(licence.holder_kind, "持证者"),
        "item": licence.title or licence.item_name,
        "issuer": licence.issuer.name,
        "issuer_code": licence.issuer_id,
        "valid_from": licence.valid_from,
        "valid_to": licence.valid_to or "长期",
        "verification_code": licence.verification_code,
        "face": [{"label": label, "value": value} for label, value in licence.face or []],
    }
    return Notice(DocumentKind.E_LICENCE, f"电子证照（{licence.title or licence.item_name}）", context)


# --- reads of issued documents ---------------------------------------------------------------------------


def case_documents(case: Case) -> list[Document]:
    return list(Document.objects.filter(case=case).order_by("created_at", "id"))


def case_document(case: Case, document_id: int) -> Document:
    """A document of this case; another case's document is not found, like one that does not exist."""
    document = Document.objects.filter(case=case, pk=document_id).select_related("case").first()
    if document is None:
        raise NotFound("未找到该文书")
    return document


def document_by_sha256(sha256: str) -> Document | None:
    return Document.objects.filter(sha256=sha256).select_related("case").order_by("id").first()


def document_content(document: Document) -> bytes:
    """The stored bytes, checked against the digest recorded when the document was issued."""
    with document.file.open("rb") as handle:
        content = handle.read()
    if hashlib.sha256(content).hexdigest() != document.sha256:
        logger.error("document %s of case %s does not match its sha256", document.pk, document.case_id)
        raise DocumentDamaged()
    return content
