"""The intake record (收件登记): what the window recorded per material of a case at the counter — received
(original or copy, how many), reused from an e-licence, promised under 容缺, not applicable — read from where
each fact lives (the window's recording in the trail, ``MaterialPromise``, ``MaterialReuse``, the checklist).
The receipt prints it (``notices``); the views read it through ``selectors.materials``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .compositions import composition_of, materials_checklist
from .models import Case, CaseEvent, MaterialCommitment, MaterialPromise, MaterialReuse

RECEIVED = "received"  # handed in at the window: original or copy, how many
REUSED = "reused"  # 免提交: an e-licence stands for it (an earlier one of the holder, or the e-licence library)
PROMISED = "promised"  # 容缺: the applicant promised in writing to hand it in by a date
COMMITTED = "committed"  # 告知承诺: the applicant signed the catalogue's commitment in place of the certificate
NOT_APPLICABLE = "not_applicable"  # the window recorded that it does not apply to this applicant
MISSING = "missing"  # nothing recorded: an optional material that was not handed in

INTAKE_STATUS_LABELS = {
    RECEIVED: "已收取",
    REUSED: "电子证照免提交",
    PROMISED: "容缺承诺后补",
    COMMITTED: "告知承诺",
    NOT_APPLICABLE: "不适用",
    MISSING: "未提交",
}
ENTERED_STATUSES = (RECEIVED, NOT_APPLICABLE)  # what the window enters; the rest follow from other records
FORM_LABELS = {"original": "原件", "copy": "复印件"}
MAX_COPIES = 99


def intake_entry(value) -> dict:
    """One material as the window entered it, completed with the defaults: a plain code means received, the
    original, one copy (``{"code", "status", "form", "count"}``; ``form`` and ``count`` only when received).
    The caller has checked the shape (``services.cases.intake_entries``)."""
    if isinstance(value, str):
        value = {"code": value}
    status = value.get("status") or RECEIVED
    if status != RECEIVED:
        return {"code": value["code"], "status": status}
    return {
        "code": value["code"],
        "status": RECEIVED,
        "form": value.get("form") or "original",
        "count": value.get("count") or 1,
    }


def recorded_intake(events: Iterable) -> dict[str, dict]:
    """Code → entry of the window's latest intake recording in ``events`` (the case's ``opened`` and window
    ``task_completed`` events, in order): the acceptance's when there is one, else the opening's. Events written
    before the record had forms and counts list plain codes: received, original, one."""
    recorded: dict[str, dict] = {}
    for event in events:
        data = event.data or {}
        if event.kind not in ("opened", "task_completed"):
            continue
        if "intake" in data:
            recorded = {entry["code"]: intake_entry(entry) for entry in data["intake"] or []}
        elif "materials" in data and (event.kind == "opened" or data.get("department") == "window"):
            recorded = {code: intake_entry(code) for code in data["materials"] or []}
    return recorded


@dataclass(frozen=True)
class IntakeRow:
    """One material of the intake record, as the receipt prints it and the case page shows it."""

    code: str
    name: str
    required: bool
    status: str  # RECEIVED, REUSED, PROMISED, NOT_APPLICABLE or MISSING
    status_label: str
    form: str  # "original" / "copy" when received, else ""
    count: int  # copies received (0 unless received)
    due_date: dt.date | None  # 容缺: the promised date
    licence_no: str  # 免提交: the number of the earlier e-licence that stands for it ("" for the library's)
    fulfilled: bool = False  # 容缺: the promised material has since arrived

    @property
    def text(self) -> str:
        """The status as one line of the receipt: 原件 1 份 / 容缺承诺，2026年12月18日前补交 / …"""
        if self.status == RECEIVED:
            return f"{FORM_LABELS.get(self.form, self.form)} {self.count} 份"
        if self.status == PROMISED:
            due = f"{self.due_date.year}年{self.due_date.month}月{self.due_date.day}日" if self.due_date else ""
            return f"容缺受理，申请人承诺{due}前补交" + ("（已补交）" if self.fulfilled else "")
        if self.status == COMMITTED:
            return "告知承诺，申请人书面承诺代替该材料（事后核查）"
        if self.status == REUSED:
            return f"电子证照免提交（证照编号 {self.licence_no}）" if self.licence_no else "电子证照共享调取，免提交"
        return self.status_label


def intake_record(
    case: Case,
    *,
    checklist: Iterable[Mapping] | None = None,
    events: Iterable | None = None,
    promises: Iterable | None = None,
    reused: Iterable | None = None,
    materials: Iterable[Mapping] | None = None,
    commitments: Iterable | None = None,
) -> list[IntakeRow]:
    """The intake record (收件登记) of a case: per material of its checklist, what the window recorded — received
    (original or copy, how many), reused from an e-licence, promised under 容缺 (with its date), not applicable —
    or, for an optional material with nothing recorded, missing. Materials received though not on the checklist
    for the case's answers follow at the end. What the receipt prints, the case page shows and the API answers.

    Reads (unless given): the checklist for the case's answers, the window's recordings in the trail, the
    promises and the attached earlier e-licences. ``materials``: every material of the case's composition, to
    name one received off the checklist."""
    if checklist is None:
        checklist = materials_checklist(case)
    if events is None:
        events = CaseEvent.objects.filter(case_id=case.pk, kind__in=["opened", "task_completed"]).order_by(
            "created_at", "id"
        )
    if promises is None:
        promises = MaterialPromise.objects.filter(case_id=case.pk)
    if reused is None:
        reused = MaterialReuse.objects.filter(case_id=case.pk).select_related("licence")
    if commitments is None:
        commitments = MaterialCommitment.objects.filter(case_id=case.pk)
    committed = {c.material_code for c in commitments}
    recorded = recorded_intake(events)
    promised = {p.material_code: p for p in promises}
    reusing = {r.material_code: r for r in reused}
    rows: list[IntakeRow] = []
    listed = set()
    for entry in checklist:
        code = entry["code"]
        listed.add(code)
        rows.append(
            _intake_row(code, entry["name"], bool(entry.get("required")), entry, recorded, promised, reusing, committed)
        )
    extra = [code for code, entry in recorded.items() if code not in listed and entry["status"] == RECEIVED]
    if extra:
        names = {m["code"]: m["name"] for m in (materials if materials is not None else composition_of(case).materials)}
        rows += [
            _intake_row(code, names.get(code, code), False, {}, recorded, promised, reusing, committed)
            for code in sorted(extra)
        ]
    return rows


def _intake_row(code, name, required, entry, recorded, promised, reusing, committed=frozenset()) -> IntakeRow:
    blank = {"form": "", "count": 0, "due_date": None, "licence_no": ""}
    own = recorded.get(code) or {}
    if code in committed:
        fields = {**blank, "status": COMMITTED}
    elif code in promised:
        promise = promised[code]
        fields = {
            **blank,
            "status": PROMISED,
            "due_date": promise.due_date,
            "fulfilled": promise.fulfilled_at is not None,
        }
    elif own.get("status") == RECEIVED:
        fields = {**blank, "status": RECEIVED, "form": own["form"], "count": int(own["count"])}
    elif code in reusing:
        fields = {**blank, "status": REUSED, "licence_no": reusing[code].licence.number}
    elif entry.get("source") == "e_licence":
        fields = {**blank, "status": REUSED}
    elif own.get("status") == NOT_APPLICABLE:
        fields = {**blank, "status": NOT_APPLICABLE}
    else:
        fields = {**blank, "status": MISSING}
    return IntakeRow(
        code=code, name=name, required=required, status_label=INTAKE_STATUS_LABELS[fields["status"]], **fields
    )
