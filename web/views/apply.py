"""The applicant's own door on the web (/apply/): on a phone, or on a self-service kiosk (portrait 1080×1920, large
touch targets, an idle timeout that clears the screen). Sign in with an SMS code (or, at a kiosk, the ID-card
reader), choose a one-thing, fill the window's one form (same conditions, same Chinese errors), upload materials
(same sniffing and limits), save a draft and resume it, run the pre-check, submit once, see the case number and
query code once, and list one's own cases. The same services and selectors as ``/api/applicant/…``."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST

from workflow import labels, selectors
from workflow.errors import Conflict, DomainError, FileTooLarge, NotFound, ValidationFailed
from workflow.services import applicant_apply as apply
from workflow.services import applicant_identity as identity
from workflow.services import uploads as upload_rules

from .. import schema_form
from .window import delivery_from_post

TOKEN, KIOSK, PENDING, CODES, DONE = "apply.token", "apply.kiosk", "apply.pending", "apply.codes", "apply.done"


def _address(request) -> str | None:
    from rest_framework.throttling import BaseThrottle

    return BaseThrottle().get_ident(request) or None


def _kiosk(request) -> dict | None:
    return request.session.get(KIOSK)


def _signed_in(request):
    token = request.session.get(TOKEN)
    if not token:
        return None
    try:
        return identity.applicant_session(token)
    except identity.ApplicantSignedOut as exc:
        request.session.pop(TOKEN, None)
        messages.info(request, exc.message)
        return None


def _context(request, **extra) -> dict:
    kiosk = _kiosk(request)
    idle = settings.ONETHING_KIOSK_IDLE_SECONDS if kiosk else settings.ONETHING_APPLICANT_SESSION_SECONDS
    return {"kiosk": kiosk, "idle_seconds": idle, "home": _home_url(request), **extra}


def _home_url(request) -> str:
    return reverse("web:apply-kiosk") if _kiosk(request) else reverse("web:apply")


def _need_session(view):
    def wrapped(request, *args, **kwargs):
        session = _signed_in(request)
        if session is None:
            return redirect(_home_url(request))
        request.applicant = session
        try:
            return view(request, *args, **kwargs)
        except NotFound:
            messages.error(request, "未找到该草稿或办件")
            return redirect(_home_url(request))

    wrapped.__name__ = view.__name__
    return wrapped


# --------------------------------------------------------------------------- identity


def apply_home(request):
    session = _signed_in(request)
    if session is None:
        return render(request, "web/apply/sign_in.html", _context(request, pending=request.session.get(PENDING)))
    return render(
        request,
        "web/apply/home.html",
        _context(
            request,
            applicant=session,
            one_things=selectors.one_things(),
            drafts=[d for d in selectors.own_drafts(id_number=session.id_number) if d.submitted_at is None],
            cases=selectors.own_cases(id_number=session.id_number)[:5],
        ),
    )


def apply_kiosk(request):
    """A kiosk opens /apply/kiosk/?device=<id>&key=<key> once; then its browser session is that kiosk's."""
    device, key = request.GET.get("device"), request.GET.get("key")
    if device and key:
        if settings.ONETHING_KIOSKS.get(device) == key:
            request.session[KIOSK] = {"device": device, "key": key}
        else:
            messages.error(request, "自助终端未登记或密钥不正确")
    if request.GET.get("idle"):
        messages.info(request, "长时间未操作，已自动退出并清除本次填写的内容")
    if not _kiosk(request):
        return render(request, "web/apply/sign_in.html", _context(request, kiosk_unregistered=True), status=403)
    if _signed_in(request):
        return redirect("web:apply-home")
    return render(request, "web/apply/sign_in.html", _context(request, pending=request.session.get(PENDING)))


@require_POST
def apply_code(request):
    id_number = request.POST.get("id_number", "").strip()
    phone = request.POST.get("phone", "").strip()
    try:
        identity.identity_code_request(id_number=id_number, phone=phone, address=_address(request))
    except ValidationFailed as exc:
        return render(
            request,
            "web/apply/sign_in.html",
            _context(request, errors=exc.field_errors, id_number=id_number, phone=phone),
            status=400,
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect(_home_url(request))
    request.session[PENDING] = {"id_number": id_number, "phone": phone}
    minutes = max(1, settings.ONETHING_APPLICANT_CODE_SECONDS // 60)
    messages.success(request, f"如手机号码与该证件号码绑定，验证码已发送，{minutes} 分钟内有效")
    return redirect(_home_url(request))


@require_POST
def apply_verify(request):
    pending = request.session.get(PENDING) or {}
    kiosk = _kiosk(request) or {}
    try:
        signed_in = identity.identity_code_verify(
            id_number=pending.get("id_number", ""),
            phone=pending.get("phone", ""),
            code=request.POST.get("code", ""),
            kiosk=kiosk.get("device", ""),
        )
    except ValidationFailed as exc:
        return render(
            request,
            "web/apply/sign_in.html",
            _context(request, pending=pending, code_error=exc.message),
            status=400,
        )
    request.session.pop(PENDING, None)
    request.session[TOKEN] = signed_in.token
    return redirect("web:apply-home")


@require_POST
def apply_card(request):
    """自助终端: the ID-card reader's result (the reader's driver fills these fields on the kiosk)."""
    kiosk = _kiosk(request)
    if not kiosk:
        return redirect("web:apply")
    try:
        signed_in = identity.kiosk_identify(
            kiosk=kiosk["device"],
            key=kiosk["key"],
            id_number=request.POST.get("id_number", ""),
            name=request.POST.get("name", ""),
        )
    except (ValidationFailed, DomainError) as exc:
        errors = getattr(exc, "field_errors", {}) or {"id_number": [exc.message]}
        return render(request, "web/apply/sign_in.html", _context(request, card_errors=errors), status=400)
    request.session[TOKEN] = signed_in.token
    return redirect("web:apply-home")


@require_POST
def apply_sign_out(request):
    token = request.session.pop(TOKEN, None)
    if token:
        identity.applicant_sign_out(token=token)
    for key in (PENDING, CODES, DONE):
        request.session.pop(key, None)
    url = _home_url(request)
    return redirect(url + ("?idle=1" if request.POST.get("idle") else ""))


# --------------------------------------------------------------------------- drafts


@require_POST
@_need_session
def apply_start(request, key: str):
    saved = apply.draft_save(session=request.applicant, one_thing_key=key, form={})
    request.session.setdefault(CODES, {})[str(saved.draft.pk)] = saved.code
    request.session.modified = True
    return redirect("web:apply-draft", draft_id=saved.draft.pk)


@require_POST
@_need_session
def apply_resume(request):
    draft = apply.own_draft(request.applicant, code=request.POST.get("draft_code", ""))
    return redirect("web:apply-draft", draft_id=draft.pk)


def _posted_form(merged: dict, post) -> tuple[dict, dict, dict]:
    schema = merged.get("schema") or {}
    raw = schema_form.raw_from_post(schema, post)
    data, errors = schema_form.parse(schema, raw)
    return raw, data, errors


@_need_session
def apply_draft(request, draft_id: int):
    draft = apply.own_draft(request.applicant, draft_id=draft_id)
    if draft.case_id:
        return redirect("web:apply-cases")
    one_thing = selectors.one_thing_get(key=draft.one_thing.key)
    merged = one_thing.merged_form
    schema = merged.get("schema") or {}
    view = selectors.draft_view(draft)
    errors: dict[str, list[str]] = {}
    form_errors: list[str] = []
    check = None
    raw = schema_form.raw_from_data(schema, draft.form_data)
    prefilled = {p.field: p for p in view.prefilled}
    if request.method == "GET" and not draft.form_data and prefilled:
        raw = schema_form.raw_from_data(schema, {name: p.value for name, p in prefilled.items()})
    delivery = view.delivery
    if request.method == "POST":
        raw, data, errors = _posted_form(merged, request.POST)
        delivery = delivery_from_post(request.POST)
        applicant = {
            "name": request.POST.get("applicant_name", "").strip(),
            "phone": request.POST.get("applicant_phone", "").strip(),
        }
        try:
            saved = apply.draft_save(
                session=request.applicant, draft_id=draft.pk, form=data, applicant=applicant, delivery=delivery
            )
            draft = saved.draft
        except ValidationFailed as exc:
            form_errors = [m for ms in exc.field_errors.values() for m in ms]
        action = request.POST.get("action", "save")
        if action == "save" and not form_errors:
            messages.success(request, "草稿已保存，可稍后继续填写")
        elif action == "precheck" and not form_errors:
            check = selectors.draft_precheck(draft)
        elif action == "submit" and not form_errors and not errors:
            try:
                submitted = apply.draft_submit(
                    session=request.applicant,
                    draft_id=draft.pk,
                    idempotency_key=request.POST.get("idempotency_key", ""),
                )
            except ValidationFailed as exc:
                by_field, other = schema_form.field_errors_of(exc.field_errors)
                errors.update(by_field)
                form_errors += other or ([] if by_field else [exc.message])
            except Conflict as exc:
                form_errors.append(exc.message)
            else:
                if submitted.query_code:
                    request.session[DONE] = {"case_no": submitted.case.case_no, "query_code": submitted.query_code}
                return redirect("web:apply-done", case_no=submitted.case.case_no)
        view = selectors.draft_view(draft)
    codes = request.session.get(CODES) or {}
    draft_code = codes.pop(str(draft.pk), None)
    request.session[CODES] = codes
    sections = schema_form.sections(
        merged,
        raw=raw,
        errors=errors,
        department_names=selectors.department_names(),
        highlight={name: f"已由电子证照预填：{p.licence_name}（{p.licence_no}）" for name, p in prefilled.items()},
    )
    answers = schema_form.answers_of(merged, raw)
    import forms as one_form

    required = {m["code"] for m in one_form.materials_required(merged, answers)}
    uploaded = {f.material_code: f for f in view.files}
    materials = [
        {
            "code": m.code,
            "name": m.name,
            "required": m.code in required and m.required,
            "e_licence": m.source == "e_licence",
            "file": uploaded.get(m.code),
            "hidden": m.code not in required,
        }
        for m in one_thing.materials
    ]
    return render(
        request,
        "web/apply/draft.html",
        _context(
            request,
            applicant=request.applicant,
            draft=view,
            draft_code=draft_code,
            one_thing=one_thing,
            sections=sections,
            form_logic=schema_form.form_logic(merged),
            delivery={
                "methods": list(labels.DeliveryMethod.choices),
                "method": delivery.get("method") or "pickup",
                "address": delivery.get("address") or {},
            },
            materials=materials,
            check=check,
            form_errors=form_errors,
            has_errors=bool(errors or form_errors),
            idempotency_key=request.POST.get("idempotency_key") or uuid.uuid4().hex,
            allowed=upload_rules.ACCEPT_ATTRIBUTE,
            allowed_label=upload_rules.ALLOWED_LABEL,
        ),
        status=400 if (errors or form_errors) else 200,
    )


@csrf_exempt  # checked inside, once the size limit is the first upload handler
@require_POST
def apply_upload(request, draft_id: int):
    upload_rules.install_size_limit(request)
    back = redirect(reverse("web:apply-draft", kwargs={"draft_id": draft_id}) + "#materials")
    if upload_rules.declared_too_large(request.META):
        messages.error(request, upload_rules.too_large().message)
        return back
    try:
        return _apply_upload(request, draft_id=draft_id, back=back)
    except (FileTooLarge, ValidationFailed) as exc:
        messages.error(request, exc.message)
        return back


@_need_session
@csrf_protect
def _apply_upload(request, draft_id: int, back):
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, "请选择要上传的文件")
        return back
    try:
        row = apply.draft_upload(
            session=request.applicant,
            draft_id=draft_id,
            material_code=request.POST.get("material_code", ""),
            file=upload,
        )
    except (ValidationFailed, Conflict, FileTooLarge) as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"已上传：{row.original_name}")
    return back


@_need_session
def apply_done(request, case_no: str):
    stash = request.session.pop(DONE, None) or {}
    case = selectors.own_case(id_number=request.applicant.id_number, case_no=case_no)
    query_code = stash.get("query_code") if stash.get("case_no") == case.case_no else None
    return render(request, "web/apply/done.html", _context(request, case=case, query_code=query_code))


@_need_session
def apply_cases(request):
    return render(
        request,
        "web/apply/cases.html",
        _context(
            request, applicant=request.applicant, cases=selectors.own_cases(id_number=request.applicant.id_number)
        ),
    )
