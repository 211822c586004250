"""SMS that keeps applicants informed: the templates, and the outbox rows a step writes in its own transaction.

The event registry (``workflow.events``) names the template of each event kind that sends an SMS
(``EventSpec.sms``). ``write_outbox(case, events, writes)`` runs once a step's events are made, before its writes
are sent: one ``SmsMessage`` row per (case, event, recipient) with an idempotency key, written with the step's
other writes (on PostgreSQL in its one statement, the event's id read from the events' INSERT), and — once the
step commits — the sending task is queued for each (``services.sms.sms_deliver`` sends it once; a beat sweep retries
what an outage left pending). Bodies name the one-thing and the tail of the case number, never a query code or an
ID number (a message can be read on a lock screen).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from celery import signature
from django.conf import settings
from django.db import transaction

from .. import halls
from ..compositions import composition_of
from ..events import spec
from ..models import CaseEvent, Decision, HumanTask, SmsMessage

SEND_TASK = "workflow.tasks.sms.send_sms"


@dataclass(frozen=True)
class Template:
    name: str
    label: str
    text: str  # str.format over the params, in order {0}, {1}, … (Tencent's templates number them {1}, {2}, …)


TEMPLATES = {
    t.name: t
    for t in (
        Template(
            "accepted", "受理", "您申请的“{0}”（办件编号尾号{1}）已受理，承诺于{2}前办结。可在网上“我的办件”查看进度。"
        ),
        Template(
            "correction",
            "补正",
            "您申请的“{0}”（办件编号尾号{1}）需要补正，请一次性补充：{2}。可在网上或到{3}窗口补正。",
        ),
        Template("pickup", "领取", "您申请的“{0}”（办件编号尾号{1}）已有办理结果，请{3}到{2}窗口领取。"),
        Template("mailed", "寄出", "您申请的“{0}”（办件编号尾号{1}）的办理结果已由{2}寄出，运单号{3}，请注意查收。"),
        Template(
            "download",
            "电子送达",
            "您申请的“{0}”（办件编号尾号{1}）已有办理结果，请在网上办件查询页下载（电子送达）。",
        ),
        Template("concluded", "办结", "您申请的“{0}”（办件编号尾号{1}）已办结，结果：{2}。感谢您对我们工作的评价。"),
        Template("login_code", "验证码", "您的验证码为{0}，{1}分钟内有效。工作人员不会向您索取，请勿告诉他人。"),
    )
}
OUTCOME_WORDS = {"approved": "准予许可", "rejected": "不予许可"}
# ``EventSpec.sms = RESULT``: the result SMS, whose template is the case's delivery method's (``result_template``).
RESULT = "result"
RESULT_TEMPLATES = {"pickup": "pickup", "post": "", "electronic": "download"}  # post: ``mailed`` when it is sent
BRING_APPLICANT = "携带本人身份证件"
BRING_AGENT = "由申请人本人携带身份证件，或由经办人携带本人身份证件和授权委托书"


def render(template: str, params: list[str]) -> str:
    return TEMPLATES[template].text.format(*params)


def _tail(case_no: str) -> str:
    return case_no[-6:]


def _hall_name(case) -> str:
    hall = halls.hall_by_id(case.accepting_hall_id) if case.accepting_hall_id else None
    return hall.name if hall is not None else settings.ONETHING_HALL_NAME


def _correction_items(case) -> str:
    """What to bring: the current round's correction items of every department, by their titles."""
    composition = composition_of(case)
    tasks = HumanTask.objects.filter(case_id=case.pk, decision=Decision.NEED_CORRECTION).order_by("-review_round")
    rows = list(tasks.values_list("review_round", "corrections"))
    current = rows[0][0] if rows else 0
    labels: list[str] = []
    for review_round, corrections in rows:
        if review_round != current:
            continue
        for item in corrections or []:
            name = str(item.get("item", ""))
            label = composition.field_title(name) if name in composition.form_schema.get("properties", {}) else None
            if label is None:
                label = next((m["name"] for m in composition.materials if m.get("code") == name), name)
            if label and label not in labels:
                labels.append(label)
    return "、".join(labels) or "补正告知书所列内容"


def params_for(template: str, case) -> list[str]:
    name = composition_of(case).name
    tail = _tail(case.case_no)
    if template == "accepted":
        due = case.promised_due_date
        return [name, tail, f"{due.year}年{due.month}月{due.day}日" if due else "承诺时限内"]
    if template == "correction":
        return [name, tail, _correction_items(case), _hall_name(case)]
    if template == "pickup":
        return [name, tail, _hall_name(case), BRING_AGENT if case.agent_name else BRING_APPLICANT]
    if template == "mailed":
        return [name, tail, case.delivery_carrier, case.delivery_waybill]
    if template == "download":
        return [name, tail]
    if template == "concluded":
        return [name, tail, OUTCOME_WORDS.get(case.outcome, "已办结")]
    raise ValueError(template)


def template_for(kind: str, case) -> str:
    """The template an event of ``kind`` sends for this case: the registry's, the result SMS resolved by the
    case's delivery method (window pickup → ``pickup``; post → nothing until ``mailed``; electronic →
    ``download``)."""
    template = spec(kind).sms
    if template != RESULT:
        return template
    if kind == "delivery_changed" and (case.status not in ("approved", "rejected") or case.delivered_at):
        return ""  # a change before the result: the result SMS follows the choice when it comes
    return RESULT_TEMPLATES.get(case.delivery_method, "")


# Templates whose parameters read rows the step itself writes (the correction items of its review): their outbox
# rows are made once the step's writes are sent.
READS_THE_STEP = {"correction"}


def idempotency_key(case_no: str, event_id, phone: str) -> str:
    """The outbox row's idempotency key (docs/configuration.md): the provider's SessionContext."""
    return f"sms:{case_no}:{event_id}:{phone}"


def write_outbox(case, events: Iterable[CaseEvent], writes) -> None:
    """The outbox rows of a step's events, written with the step's writes (``writes``, its ``WriteBatch``, before
    its ``send``: on PostgreSQL in the same statement) and queued for sending after the commit."""
    phone = (case.applicant_phone or "").strip()
    if not phone:
        return
    templates = [(event, template) for event in events if (template := template_for(event.kind, case))]
    if not templates:
        return
    if any(template in READS_THE_STEP for _, template in templates):
        writes.after_send(lambda: _write_now(case, templates, phone))
        return
    rows = [_row(case, template, phone) for _, template in templates]
    around_id = tuple(idempotency_key(case.case_no, "\x00", phone).split("\x00"))  # (prefix, suffix)
    writes.insert_for_events(
        rows,
        event_field="event",
        events=[event for event, _ in templates],
        with_event_id={"idempotency_key": [around_id] * len(rows)},
    )
    writes.after_send(lambda: [queue(row.pk) for row in rows])


def _row(case, template: str, phone: str) -> SmsMessage:
    params = params_for(template, case)
    return SmsMessage(case_id=case.pk, recipient=phone, template=template, params=params, body=render(template, params))


def _write_now(case, templates: list[tuple[CaseEvent, str]], phone: str) -> None:
    """The outbox rows of saved events (ids known), inserted on their own."""
    rows = []
    for event, template in templates:
        row = _row(case, template, phone)
        row.event_id, row.idempotency_key = event.pk, idempotency_key(case.case_no, event.pk, phone)
        rows.append(row)
    SmsMessage.objects.bulk_create(rows)
    for row in rows:
        queue(row.pk)


def queue(message_id: int) -> None:
    """Queue the sending of one outbox row once the current transaction commits (a broker hiccup is logged; the
    beat sweep sends the row later)."""
    if not getattr(settings, "ONETHING_SMS_DISPATCH", True):
        return
    transaction.on_commit(lambda: signature(SEND_TASK, args=(message_id,)).delay(), robust=True)
