"""综合窗口: pick a one-thing, fill the one form with the applicant, check materials, open the case, print the
receipt with the query code (shown once), accept or refuse, key in a correction, conclude."""

from __future__ import annotations

import json

import segno
from django import forms as django_forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST

import forms as one_form
from workflow import labels, selectors, services
from workflow.errors import Conflict, FileTooLarge, ValidationFailed
from workflow.labels import IDENTITY_METHODS, CaseStatus

from .. import corrections, schema_form
from ..access import WINDOW, staff_view

RECEIPT_KEY = "web.receipt"  # the query code waits here, in the window's session, until the receipt shows it


class ApplicantForm(django_forms.Form):
    name = django_forms.CharField(
        label="申请人（姓名或单位名称）",
        max_length=100,
        error_messages={"required": "请填写申请人", "max_length": "申请人最多 100 个字符"},
    )
    id_type = django_forms.ChoiceField(
        label="证件类型",
        choices=list(labels.ID_TYPE_LABELS.items()),
        initial=labels.DEFAULT_ID_TYPE,
        required=False,  # not sent: 居民身份证, as in the API
        error_messages={"invalid_choice": "请选择证件类型"},
    )
    id_number = django_forms.CharField(
        label="证件号码",
        max_length=32,
        error_messages={"required": "请填写证件号码", "max_length": "证件号码最多 32 个字符"},
        help_text="按所选证件类型核对；单位申请人选“统一社会信用代码”",
    )
    phone = django_forms.RegexField(
        r"^1[3-9][0-9]{9}$",
        label="手机号码",
        required=False,
        error_messages={"invalid": "手机号码应为 11 位数字，如 13800138000"},
        help_text="用于接收办理进度短信（选填）",
    )

    def clean(self):
        """The document number checked by its type with the function case_open uses, shown on the field."""
        data = super().clean()
        if "id_type" in data:
            data["id_type"] = data["id_type"] or labels.DEFAULT_ID_TYPE
        if "id_type" in data and "id_number" in data:
            message = one_form.id_number_message(data["id_type"], data["id_number"])
            if message:
                self.add_error("id_number", message)
        return data


def materials_checklist(
    merged_form: dict,
    ticked: set[str],
    names: dict[str, str],
    promised: dict[str, str] | None = None,
    answers: dict | None = None,
    entered: list[dict] | None = None,
) -> list[dict]:
    """The merged materials (一次告知) with what the window ticked. E-licence ones need nothing handed in;
    a deferrable (容缺) one may instead carry the date the applicant promises to bring it.

    With the form's ``answers``, a material only items that do not apply need is ``hidden`` and the others are
    recombined over the items that apply (``forms.materials_required``, the checklist a case gets: 必交 only if
    one of those requires it); ``uses`` (JSON) lets app.js do the same as the answers change. ``entered``: the
    intake record as posted (``intake_from_post``), to show the form, count and 不适用 again."""
    promised = promised or {}
    entered_by_code = {entry["code"]: entry for entry in entered or []}
    due = None
    if answers is not None:
        due = {m.code: m for m in selectors.checklist(one_form.materials_required(merged_form, answers), names)}
    rows = []
    for listed in selectors.checklist(merged_form.get("materials"), names):
        material = listed if due is None else due.get(listed.code, listed)
        e_licence = material.source == "e_licence"
        uses = [{"item": use.item_code, "required": use.required} for use in listed.needed_by]
        rows.append(
            {
                **material.__dict__,
                "e_licence": e_licence,
                "promised": promised.get(material.code, ""),
                "ticked": e_licence or material.code in ticked,
                "entered_form": entered_by_code.get(material.code, {}).get("form")
                or ("original" if material.original else "copy"),
                "entered_count": entered_by_code.get(material.code, {}).get("count") or 1,
                "not_applicable": entered_by_code.get(material.code, {}).get("status") == "not_applicable",
                "hidden": due is not None and listed.code not in due,
                "uses": json.dumps({"uses": uses, "produced_by": listed.produced_by}, ensure_ascii=False),
            }
        )
    return rows


def error_summary(applicant, errors: dict[str, list[str]], sections, form_errors: list[str]) -> list[dict]:
    """Every problem of the page at the top, each linking to its field: the applicant's, then the form's in the
    order the form shows them, then the rest (materials, the identity check, the service's own)."""
    rows = [{"href": f"#{bf.id_for_label}", "message": message} for bf in applicant for message in bf.errors]
    for section in sections:
        for field in section.fields:
            rows += [{"href": f"#{field.input_id}", "message": m} for m in field.errors]
    placed = {f.name for section in sections for f in section.fields}
    for name, messages_ in errors.items():
        if name not in placed:
            rows += [{"href": "", "message": m} for m in messages_]
    return rows + [{"href": "", "message": message} for message in form_errors]


def promised_dates(post, merged_form: dict) -> dict[str, str]:
    """容缺: deferrable material code → the date typed next to it (``promise_<code>``)."""
    dates = {}
    for material in merged_form.get("materials") or []:
        value = post.get(f"promise_{material['code']}", "").strip()
        if material.get("deferrable") and value:
            dates[material["code"]] = value
    return dates


def intake_from_post(post) -> list[dict]:
    """The intake record as the screen posts it: ticked materials (``material``) with their form
    (``form_<code>``: original / copy) and count (``count_<code>``), and those marked not applicable
    (``not_applicable``). What the service checks (``services.cases.intake_entries``)."""
    entries = []
    for code in dict.fromkeys(post.getlist("material")):
        entry: dict = {"code": code}
        form = post.get(f"form_{code}", "").strip()
        count = post.get(f"count_{code}", "").strip()
        if form:
            entry["form"] = form
        if count:
            entry["count"] = int(count) if count.isdigit() else count
        entries.append(entry)
    ticked = {entry["code"] for entry in entries}
    entries += [
        {"code": code, "status": "not_applicable"}
        for code in dict.fromkeys(post.getlist("not_applicable"))
        if code not in ticked
    ]
    return entries


def _promises(dates: dict[str, str]) -> list[dict]:
    return [{"material": code, "due_date": due} for code, due in dates.items()]


def _messages_of(exc: ValidationFailed) -> str:
    return "；".join(m for ms in exc.field_errors.values() for m in ms) or exc.message


WORKLIST_SHOWN = 20  # cases per list on the window's home; a longer list says so and points to 办件检索


@staff_view(*WINDOW)
def window_home(request):
    lists = selectors.window_worklist(user=request.user, limit=WORKLIST_SHOWN)
    return render(request, "web/window_home.html", {"one_things": selectors.one_things(), "lists": lists})


@staff_view(*WINDOW)
def case_new(request, key: str):
    one_thing = selectors.one_thing_get(key=key)
    merged = one_thing.merged_form
    schema = one_thing.form_schema
    names = selectors.department_names()
    applicant = ApplicantForm(request.POST or None, prefix="applicant")
    errors: dict[str, list[str]] = {}
    form_errors: list[str] = []
    raw: dict = {}
    ticked: set[str] = set()

    if request.method == "POST":
        raw = schema_form.raw_from_post(schema, request.POST)
        ticked = set(request.POST.getlist("material"))
        promised = promised_dates(request.POST, merged)
        data, errors = schema_form.parse(schema, raw)
        # The acceptance rule (case_accept) on the checklist these answers need, checked at the window before
        # anything is received.
        missing = selectors.missing_required_materials(
            one_form.materials_required(merged, data), ticked | set(promised)
        )
        if promised and request.POST.get("action") != "accept":
            form_errors.append("容缺受理（填写了承诺补交日期）须选择“收件并受理”")
        if _cross_region(request) and request.POST.get("action") == "accept" and not _identity(request)[0]:
            form_errors.append("审批地在外地（收受分离）：收件并受理前须核验申请人身份，请勾选并选择核验方式")
        agent = agent_from_post(request.POST)
        if agent and request.POST.get("authorisation_letter") != "on":
            form_errors.append("经办人代为办理须核验并留存授权委托书，请勾选“已收取授权委托书”")
        applicant_ok = applicant.is_valid()
        if applicant_ok and not errors and not missing and not form_errors:
            try:
                opened = services.case_open(
                    user=request.user,
                    one_thing_key=key,
                    applicant=applicant.cleaned_data,
                    form=data,
                    deciding_hall=request.POST.get("deciding_hall") or None,
                    materials=intake_from_post(request.POST) + (["authorisation_letter"] if agent else []),
                    delivery=delivery_from_post(request.POST),
                    agent=agent,
                )
            except ValidationFailed as exc:
                errors, _ = schema_form.field_errors_of(exc.field_errors)
                form_errors = []
                for name, messages_ in exc.field_errors.items():
                    if name.startswith("applicant."):
                        applicant.add_error(name.removeprefix("applicant."), messages_)
                    elif not name.startswith("form."):
                        form_errors += messages_
                if not (errors or form_errors or applicant.errors):
                    form_errors = [exc.message]
            except Conflict as exc:
                form_errors = [exc.message]
            else:
                return _after_open(request, opened, promised)
        else:
            # Show every problem at once: the service's own check, run on what could be converted.
            checked, _ = schema_form.field_errors_of(
                {f"form.{k}": v for k, v in one_form.check_answers(merged, data).errors.items()}
            )
            for name, messages_ in checked.items():
                errors.setdefault(name, messages_)
            if missing:
                form_errors.append("请核对并勾选必交材料：" + "、".join(missing))

    sections = schema_form.sections(merged, raw=raw, errors=errors, department_names=names)
    answers, _ = schema_form.parse(schema, raw)
    summary = error_summary(applicant, errors, sections, form_errors) if request.method == "POST" else []
    return render(
        request,
        "web/case_new.html",
        {
            "one_thing": one_thing,
            "applicant": applicant,
            "sections": sections,
            "form_logic": schema_form.form_logic(merged),
            "materials": materials_checklist(
                merged,
                ticked,
                names,
                promised_dates(request.POST, merged),
                answers=answers,
                entered=intake_from_post(request.POST) if request.method == "POST" else None,
            ),
            "form_errors": form_errors,
            "error_summary": summary,
            "items": [
                {**item, "applies_when": schema_form.item_condition_text(merged, item)} for item in one_thing.items
            ],
            "report": merged.get("report") or {},
            "delivery": _delivery_choices(request.POST),
            "agent": agent_from_post(request.POST) or {},
            "authorisation_letter": request.POST.get("authorisation_letter") == "on",
            "id_types": list(labels.ID_TYPE_LABELS.items()),
            **_hall_choices(request),
        },
        status=400 if summary else 200,
    )


def delivery_from_post(post, prefix: str = "delivery") -> dict:
    """结果送达方式 as the page posts it: ``delivery_method`` and, for post, the address fields."""
    method = post.get(f"{prefix}_method") or "pickup"
    choice = {"method": method}
    if method == "post":
        choice["address"] = {key: post.get(f"{prefix}_{key}", "").strip() for key in ("recipient", "phone", "address")}
    return choice


def _delivery_choices(post, prefix: str = "delivery") -> dict:
    chosen = delivery_from_post(post, prefix)
    return {
        "methods": list(labels.DeliveryMethod.choices),
        "method": chosen["method"],
        "address": chosen.get("address") or {},
    }


def agent_from_post(post) -> dict | None:
    """帮办代办: the agent's fields, or None when the page names no agent."""
    agent = {key: post.get(f"agent_{key}", "").strip() for key in ("name", "id_type", "id_number", "phone")}
    return agent if agent["name"] or agent["id_number"] else None


def _hall_choices(request) -> dict:
    """The 审批地 select (this hall first and chosen by default) and the identity check, as posted."""
    rows = selectors.hall_list(user=request.user)
    mine = next((row["code"] for row in rows if row["is_mine"]), "")
    verified, method = _identity(request)
    return {
        "halls": rows,
        "deciding_hall": request.POST.get("deciding_hall") or mine,
        "identity_methods": list(IDENTITY_METHODS.items()),
        "identity_checked": verified,
        "identity_method": method,
    }


def _cross_region(request) -> bool:
    chosen = request.POST.get("deciding_hall")
    mine = next((row["code"] for row in selectors.hall_list(user=request.user) if row["is_mine"]), None)
    return bool(chosen) and chosen != mine


def _identity(request) -> tuple[bool, str]:
    method = request.POST.get("identity_method", "")
    return request.POST.get("identity_verified") == "on" and method in IDENTITY_METHODS, method


def _after_open(request, opened, promised: dict[str, str]):
    case = opened.case
    request.session[RECEIPT_KEY] = {"case_no": case.case_no, "query_code": opened.query_code}
    if request.POST.get("action") == "accept":
        try:
            verified, method = _identity(request)
            services.case_accept(
                user=request.user,
                case_no=case.case_no,
                promises=_promises(promised),
                identity_verified=verified,
                identity_method=method,
            )
        except ValidationFailed as exc:
            messages.error(request, f"已收件，但未受理：{_messages_of(exc)}")
        except Conflict as exc:
            messages.error(request, f"已收件，但受理失败：{exc.message}")
        else:
            messages.success(request, "已收件并受理，各部门开始并联审查")
    else:
        messages.success(request, "已收件，请核对后受理或不予受理")
    return redirect("web:receipt", case_no=case.case_no)


@staff_view(*WINDOW)
def receipt(request, case_no: str):
    """The receipt to print. The query code is on it only the first time it is shown."""
    case = selectors.case_get(user=request.user, case_no=case_no)
    stash = request.session.get(RECEIPT_KEY) or {}
    query_code = None
    if stash.get("case_no") == case.case_no:
        query_code = stash["query_code"]
        del request.session[RECEIPT_KEY]
    names = selectors.department_names()
    merged = selectors.case_merged_form(case)
    # The QR code opens the status page with this case's number filled in (the code is on this slip).
    status_url = request.build_absolute_uri(reverse("web:status")) + f"?case_no={case.case_no}"
    return render(
        request,
        "web/receipt.html",
        {
            "case": case,
            "query_code": query_code,
            "items": [{**item, "department_name": names.get(item["department"], "")} for item in merged["items"]],
            "intake": selectors.intake_record(case),
            "status_url": status_url,
            "halls": selectors.case_summary(case),
            "qr_svg": mark_safe(segno.make(status_url, error="m").svg_inline(scale=4, border=1, omitsize=True)),
        },
    )


@require_POST
@staff_view(*WINDOW)
def case_accept(request, case_no: str):
    """受理, or 容缺受理 when deferrable materials carry a promised date; 告知承诺 for those ticked ``commit``."""
    case = selectors.case_get(user=request.user, case_no=case_no)
    promised = promised_dates(request.POST, selectors.case_merged_form(case))
    verified, method = _identity(request)
    try:
        services.case_accept(
            user=request.user,
            case_no=case_no,
            opinion=request.POST.get("opinion", "").strip(),
            promises=_promises(promised),
            identity_verified=verified,
            identity_method=method,
            materials=intake_from_post(request.POST),
            decide_on_the_spot=request.POST.get("decide_on_the_spot") == "on",
            commitments=[{"material": code} for code in dict.fromkeys(request.POST.getlist("commit"))],
        )
    except ValidationFailed as exc:
        messages.error(request, _messages_of(exc))
    except Conflict as exc:
        messages.error(request, exc.message)
    else:
        if request.POST.get("decide_on_the_spot") == "on":
            messages.success(request, "已受理，即办件已当场决定；结果可当场交付")
        else:
            messages.success(request, "已容缺受理，各部门开始并联审查" if promised else "已受理，各部门开始并联审查")
    return redirect("web:case", case_no=case_no)


@require_POST
@staff_view(*WINDOW)
def promise_fulfil(request, case_no: str, code: str):
    """A promised (容缺) material arrived at the window."""
    try:
        services.case_promise_fulfil(user=request.user, case_no=case_no, material_code=code)
    except Conflict as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "已登记补交材料")
    return redirect("web:case", case_no=case_no)


@require_POST
@staff_view(*WINDOW)
def case_refuse(request, case_no: str):
    try:
        services.case_refuse(
            user=request.user,
            case_no=case_no,
            reasons=request.POST.get("reasons", "").strip(),
            legal_basis=request.POST.get("legal_basis", "").strip(),
        )
    except ValidationFailed as exc:
        messages.error(request, _messages_of(exc))
    except Conflict as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "已作出不予受理决定")
    return redirect("web:case", case_no=case_no)


@require_POST
@staff_view(*WINDOW)
def case_conclude(request, case_no: str):
    try:
        services.case_conclude(user=request.user, case_no=case_no)
    except Conflict as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "已办结，统一办理结果已送达")
    return redirect("web:case", case_no=case_no)


@csrf_exempt  # checked inside, once the size limit is the first upload handler (the check reads the body)
def case_correction(request, case_no: str):
    """The combined correction page; a POST carries fields and files, so the size limit goes first."""
    if request.method == "POST":
        refused = corrections.install_limit(request)
        if refused:
            messages.error(request, refused)
            return redirect("web:case-correction", case_no=case_no)
        try:
            return _case_correction(request, case_no=case_no)
        except (FileTooLarge, ValidationFailed) as exc:  # raised while the body was parsed
            messages.error(request, exc.message)
            return redirect("web:case-correction", case_no=case_no)
    return _case_correction(request, case_no=case_no)


@staff_view(*WINDOW)  # the role first: only then is the body read (by the CSRF check)
@csrf_protect
def _case_correction(request, case_no: str):
    """The combined correction (一次性告知): what each department asked, and the window keying in the answer —
    the asked fields and the asked materials' files in one submission."""
    case = selectors.case_get(user=request.user, case_no=case_no)
    merged = selectors.case_merged_form(case)
    schema = merged.get("schema") or {}
    tasks = selectors.case_tasks(case)
    names = selectors.department_names()
    notice = selectors.correction_notice(case, tasks)
    asked = selectors.asked_fields(notice, merged)
    open_for_correction = case.status == CaseStatus.CORRECTION_REQUIRED
    raw = schema_form.raw_from_data(schema, case.form_data)
    errors: dict[str, list[str]] = {}
    material_errors: dict[str, list[str]] = {}
    form_errors: list[str] = []

    if request.method == "POST":
        if not open_for_correction:
            messages.error(request, "办件当前不需要补正")
            return redirect("web:case", case_no=case.case_no)
        raw = {**raw, **schema_form.raw_from_post(schema, request.POST)}
        data, errors = schema_form.parse(schema, raw)
        changes = {name: value for name, value in data.items() if name in asked or case.form_data.get(name) != value}
        if not errors:
            try:
                services.case_correction_submit(
                    case_no=case.case_no,
                    changes=changes,
                    files=corrections.posted_files(request),
                    actor=request.user,
                )
            except ValidationFailed as exc:
                errors, form_errors = schema_form.field_errors_of(exc.field_errors)
                material_errors = corrections.material_errors(exc.field_errors)
                if exc.message != ValidationFailed.message:  # 补正不完整：… names every missing one
                    form_errors = [exc.message]
            except (Conflict, FileTooLarge) as exc:
                messages.error(request, exc.message)
                return redirect("web:case", case_no=case.case_no)
            else:
                messages.success(request, "补正已提交，需补正的部门重新审查")
                return redirect("web:case", case_no=case.case_no)
        form_errors = form_errors or ["请按提示修改标红的内容"]

    highlight = {name: f"需补正 — {reason}" for name, reason in asked.items()}
    asked_sections = schema_form.sections(
        merged, raw=raw, errors=errors, department_names=names, only=list(asked), highlight=highlight
    )
    other_sections = schema_form.sections(
        merged,
        raw=raw,
        errors=errors,
        department_names=names,
        only=[n for n in schema_form.properties(schema) if n not in asked],
    )
    history = selectors.correction_history(case, tasks)
    return render(
        request,
        "web/case_correction.html",
        {
            "case": case,
            "notice": notice,
            "open_for_correction": open_for_correction,
            "asked_sections": asked_sections,
            "other_sections": other_sections,
            "form_logic": schema_form.form_logic(merged),
            "other_has_errors": any(f.errors for s in other_sections for f in s.fields),
            "form_errors": form_errors,
            "history": history,
            "materials": corrections.asked_materials(notice, merged, material_errors),
            **corrections.accept_attributes(),
        },
        status=400 if form_errors else 200,
    )
