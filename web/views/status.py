"""The applicant's status page: case number + query code → progress, the combined correction notice and the one
correction. No account; the lookup is the API's selector under the API's throttles, and an unknown case and a
wrong code get the same answer."""

from __future__ import annotations

from django import forms as django_forms
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods, require_POST

from workflow import selectors, services
from workflow.errors import Conflict, FileTooLarge, LookupThrottled, NotFound, ValidationFailed
from workflow.labels import DIMENSIONS, RatingLevel, normalise_case_no

from .. import corrections, schema_form
from ..throttles import CASE_NO_RE, StatusIpThrottle
from .cases import pdf_response

NOT_FOUND = "办件编号或查询码不正确，请核对受理回执"
THROTTLED = "查询过于频繁，请稍后再试"


class LookupForm(django_forms.Form):
    case_no = django_forms.CharField(label="办件编号", max_length=64, error_messages={"required": "请填写办件编号"})
    query_code = django_forms.CharField(label="查询码", max_length=32, error_messages={"required": "请填写查询码"})

    def clean_case_no(self):
        value = normalise_case_no(self.cleaned_data["case_no"])
        if not CASE_NO_RE.fullmatch(value):
            raise django_forms.ValidationError("办件编号应为 20 位数字")
        return value


def _lookup(request):
    """(case, form, error message, HTTP status): the API's lookup under the API's limits (``applicant_lookup``)."""
    form = LookupForm(request.POST)
    ip_throttle = StatusIpThrottle()
    if not ip_throttle.check(request):
        return None, form, THROTTLED, 429
    if not form.is_valid():
        return None, form, "", 400
    try:
        case = services.applicant_lookup(**form.cleaned_data, address=ip_throttle.get_ident(request))
    except LookupThrottled:
        return None, form, THROTTLED, 429
    except NotFound:
        return None, form, NOT_FOUND, 404
    return case, form, "", 200


def _render(
    request, *, form, case=None, error="", status=200, correction=None, notice="", rating_errors=None, withdraw=None
):
    context = {"form": form, "error": error, "notice": notice}
    if case is not None:
        view = selectors.case_applicant_view(case)
        context["view"] = view
        may_withdraw = "withdraw" in view.allowed_actions
        context["withdraw"] = withdraw or ({"reason": "", "errors": []} if may_withdraw else None)
        if "correct" in view.allowed_actions:
            context["correction"] = correction or _correction_form(case, view.corrections)
        if view.rating["can_rate"]:
            context["rating_form"] = {
                "levels": RatingLevel.choices,
                "dimensions": list(DIMENSIONS.items()),
                "errors": rating_errors or [],
                "posted": request.POST if rating_errors else {},
            }
    return render(request, "web/status.html", context, status=status)


def _correction_form(case, notice, *, raw=None, errors=None, material_errors=None) -> dict:
    """Only the fields and materials the departments named, the fields filled with what the applicant gave
    before; what names neither stays a note to bring to the window."""
    merged = selectors.case_merged_form(case)
    asked = selectors.asked_fields(notice, merged)
    schema = merged.get("schema") or {}
    raw = raw if raw is not None else schema_form.raw_from_data(schema, case.form_data)
    fields = schema_form.flat(list(asked), schema, raw=raw, errors=errors or {})
    for field in fields:
        field.highlight = asked[field.name]
    materials = corrections.asked_materials(notice, merged, material_errors)
    named = {field.name for field in fields} | {m.code for m in materials}
    labels = {m.name for m in materials}
    props = schema_form.properties(schema)
    by_title = {d.get("title"): n for n, d in props.items()}
    other_items = [
        item
        for row in notice
        for item in row.items
        if item.item not in named and item.item not in labels and by_title.get(item.item) is None
    ]
    return {
        "fields": fields,
        "materials": materials,
        "other_items": other_items,
        "errors": [],
        **corrections.accept_attributes(),
    }


@require_http_methods(["GET", "POST"])
def status(request):
    if request.method == "GET":
        # The notices' QR code opens /status/?case_no=…: the number is filled in, the code is the applicant's.
        case_no = normalise_case_no(request.GET.get("case_no", ""))
        initial = {"case_no": case_no} if CASE_NO_RE.fullmatch(case_no) else {}
        return _render(request, form=LookupForm(initial=initial))
    case, form, error, code = _lookup(request)
    return _render(request, form=form, case=case, error=error, status=code)


@csrf_exempt  # checked inside, once the size limit is the first upload handler (the check reads the body)
@require_POST
def status_correction(request):
    """The one correction: the asked fields and the asked materials' files in one multipart submission."""
    refused = corrections.install_limit(request)
    if refused:
        return _render(request, form=LookupForm(), error=refused, status=413)
    try:
        return _status_correction(request)
    except (FileTooLarge, ValidationFailed) as exc:  # raised while the body was parsed
        return _render(request, form=LookupForm(), error=exc.message, status=exc.http_status)


@csrf_protect
def _status_correction(request):
    case, form, error, code = _lookup(request)
    if case is None:
        return _render(request, form=form, error=error, status=code)
    view_notice = selectors.case_applicant_view(case).corrections
    merged = selectors.case_merged_form(case)
    schema = merged.get("schema") or {}
    asked = selectors.asked_fields(view_notice, merged)
    raw = {
        **schema_form.raw_from_data(schema, case.form_data),
        **schema_form.raw_from_post(schema, request.POST, asked),
    }
    data, errors = schema_form.parse(schema, {name: raw[name] for name in asked if name in raw})
    given = {name: data[name] for name in asked if name in data}  # every asked field: the answer must cover it
    files = corrections.posted_files(request)
    form_errors: list[str] = []
    material_errors: dict[str, list[str]] = {}
    if not errors:
        try:
            services.case_correction_submit(case_no=case.case_no, changes=given, files=files)
        except ValidationFailed as exc:
            errors, form_errors = schema_form.field_errors_of(exc.field_errors)
            material_errors = corrections.material_errors(exc.field_errors)
            if exc.message != ValidationFailed.message:  # 补正不完整：… names every missing one
                form_errors = [exc.message]
        except (Conflict, FileTooLarge) as exc:
            return _render(request, form=form, case=case, error=exc.message, status=exc.http_status)
        else:
            case = selectors.case_for_applicant(**form.cleaned_data)
            return _render(request, form=form, case=case, notice="补正已提交，相关部门将重新审查，请留意办理进度。")
    correction = _correction_form(case, view_notice, raw=raw, errors=errors, material_errors=material_errors)
    correction["errors"] = form_errors or ["请按提示修改标红的内容"]
    return _render(request, form=form, case=case, correction=correction, status=400)


def _ascii_number(value: str | None) -> bool:
    """ "3" yes; "²" or "٣" no (str.isdigit accepts them, int() refuses them)."""
    return bool(value) and len(value) <= 3 and value.isascii() and value.isdigit()


@require_POST
def status_rating(request):
    """好差评: once the case is over; a bad rating opens a rectification order for the department."""
    case, form, error, code = _lookup(request)
    if case is None:
        return _render(request, form=form, error=error, status=code)
    level = request.POST.get("level", "")
    dimensions = {
        name: int(request.POST[f"dim_{name}"]) for name in DIMENSIONS if _ascii_number(request.POST.get(f"dim_{name}"))
    }
    if not _ascii_number(level):
        return _render(request, form=form, case=case, rating_errors=["请选择评价等级"], status=400)
    try:
        services.case_rate(
            case_no=case.case_no,
            level=int(level),
            dimensions=dimensions,
            comment=request.POST.get("comment", "")[:1000],
        )
    except ValidationFailed as exc:
        messages_ = [m for ms in exc.field_errors.values() for m in ms] or [exc.message]
        return _render(request, form=form, case=case, rating_errors=messages_, status=400)
    except Conflict as exc:
        return _render(request, form=form, case=case, error=exc.message, status=409)
    return _render(request, form=form, case=case, notice="感谢您的评价！")


@require_POST
def status_document(request, document_id: int):
    """Download a notice of the case: POST with case number + query code, so the code never sits in a URL."""
    case, form, error, code = _lookup(request)
    if case is None:
        return _render(request, form=form, error=error, status=code)
    try:
        document = selectors.case_document(case, document_id)
    except NotFound:
        return _render(request, form=form, case=case, error="未找到该文书", status=404)
    response = pdf_response(document)
    services.result_download_record(case_id=case.pk, document=document)  # 电子送达: the first download proves it
    return response


@require_POST
def status_withdraw(request):
    """撤回: the applicant withdraws before a result, in two steps — the reason, then a confirmation page."""
    case, form, error, code = _lookup(request)
    if case is None:
        return _render(request, form=form, error=error, status=code)
    reason = request.POST.get("reason", "").strip()[:1000]
    if not reason:
        withdraw = {"reason": "", "errors": ["请说明撤回原因"]}
        return _render(request, form=form, case=case, withdraw=withdraw, status=400)
    if request.POST.get("confirm") != "yes":
        return render(request, "web/status_withdraw_confirm.html", {"form": form, "case": case, "reason": reason})
    try:
        services.case_withdraw(case_no=case.case_no, reason=reason)
    except ValidationFailed as exc:
        withdraw = {"reason": reason, "errors": [m for ms in exc.field_errors.values() for m in ms] or [exc.message]}
        return _render(request, form=form, case=case, withdraw=withdraw, status=400)
    except Conflict as exc:
        return _render(request, form=form, case=case, error=exc.message, status=409)
    case = selectors.case_for_applicant(**form.cleaned_data)
    return _render(request, form=form, case=case, notice="您的申请已撤回，办理终止。如需办理，请重新申请。")


# --------------------------------------------------------------------------- the public licence check


LICENCE_NOT_FOUND = "证照编号或核验码不正确，请核对证照上的编号和核验码"


@require_http_methods(["GET", "POST"])
def licence_check(request):
    """证照核验: a licence's number + the verification code printed on it → valid / revoked / expired, the
    holder masked. The licence's QR code opens this page with both filled in and checked. Under the status
    lookup's limits (the same per-address budget and wrong-code counters); an unknown number and a wrong code
    get the same answer."""
    data = request.POST if request.method == "POST" else request.GET
    number, code = data.get("no", "").strip(), data.get("code", "").strip()
    context = {"number": number, "code": code, "result": None, "error": ""}
    if not (number or code):
        return render(request, "web/licence_check.html", context)
    status = 200
    ip_throttle = StatusIpThrottle()
    if not ip_throttle.check(request):
        context["error"], status = THROTTLED, 429
    elif not number or not code:
        context["error"], status = "请填写证照编号和核验码", 400
    else:
        try:
            context["result"] = services.licence_lookup(
                number=number, code=code, address=ip_throttle.get_ident(request)
            )
        except LookupThrottled:
            context["error"], status = THROTTLED, 429
        except (NotFound, ValidationFailed):
            context["error"], status = LICENCE_NOT_FOUND, 404
    return render(request, "web/licence_check.html", context, status=status)
