"""The legal clock by hand: special procedures (听证、检验检测检疫、鉴定、专家评审、招标拍卖: the clock stops),
extension requests (延期) and the supervisors' approvals. Each calls one service in workflow/services/."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from workflow import selectors, services
from workflow.errors import Conflict, ValidationFailed
from workflow.labels import SPECIAL_PROCEDURES, ExtensionRequestState, PauseKind, StaffRole
from workflow.services.extensions import MAX_DAYS

from ..access import SUPERVISORS, staff_view
from .tools import form_page, submit, text_field

# As the services: the window, or a reviewer whose department has an open task on the case.
MAY_STOP_THE_CLOCK = (StaffRole.WINDOW, StaffRole.REVIEWER)
PROCEDURE_CHOICES = [(str(kind), PauseKind(kind).label) for kind in SPECIAL_PROCEDURES]


class ProcedureForm(forms.Form):
    kind = forms.ChoiceField(
        label="特别程序",
        choices=[("", "— 选择 —"), *PROCEDURE_CHOICES],
        error_messages={
            "required": "请选择特别程序的类型",
            "invalid_choice": "特别程序类型只能是听证、检验检测检疫、鉴定、专家评审或招标拍卖",
        },
    )
    reason = text_field("事由（将告知申请人）", required_message="请说明启动特别程序的事由", max_length=2000)
    expected_days = forms.IntegerField(
        label="预计所需工作日（将书面告知申请人）",
        required=False,
        min_value=1,
        max_value=250,
        error_messages={
            "invalid": "请填写整数",
            "min_value": "预计所需时间应为 1 至 250 个工作日",
            "max_value": "预计所需时间应为 1 至 250 个工作日",
        },
    )
    next = forms.CharField(required=False, widget=forms.HiddenInput)


class ExtensionRequestForm(forms.Form):
    days = forms.IntegerField(
        label="延长工作日数",
        min_value=1,
        max_value=MAX_DAYS,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        error_messages={
            "required": "请填写延长的工作日数",
            "invalid": "延长的工作日数须为整数",
            "min_value": "至少延长 1 个工作日",
            "max_value": f"最多延长 {MAX_DAYS} 个工作日",
        },
        help_text="联合办理合计不超过 15 个工作日，单一事项不超过 10 个工作日",
    )
    reason = text_field("延期理由（将告知申请人）", required_message="请填写延期理由（将告知申请人）", max_length=2000)
    next = forms.CharField(required=False, widget=forms.HiddenInput)


def _back(request, case_no: str) -> str:
    """Where the inline form came from (the task page or the case page), else the case page."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return reverse("web:case", args=[case_no])


@require_http_methods(["GET", "POST"])
@staff_view(*MAY_STOP_THE_CLOCK)
def procedure_start(request, case_no: str):
    case = selectors.case_get(user=request.user, case_no=case_no)  # a case without the department: 404
    back = _back(request, case.case_no)
    form = ProcedureForm(request.POST if request.method == "POST" else None, initial={"next": back})
    done = submit(
        request,
        form,
        lambda data: services.case_procedure_start(
            user=request.user,
            case_no=case.case_no,
            kind=data["kind"],
            reason=data["reason"],
            expected_days=data.get("expected_days"),
        ),
        success=lambda pause: f"已启动特别程序：{pause.get_kind_display()}，期间暂停计时",
        done=back,
    )
    if done:
        return done
    return form_page(
        request,
        form=form,
        title="启动特别程序",
        action=reverse("web:procedure-start", args=[case.case_no]),
        submit="启动并暂停计时",
        back=back,
        about=[
            f"办件 {case.case_no} · {case.one_thing.name}",
            "听证、检验检测检疫、鉴定、专家评审、招标拍卖所需时间不计入办理时限（行政许可法第四十五条），并告知申请人。",
        ],
    )


@require_POST
@staff_view(*MAY_STOP_THE_CLOCK)
def procedure_end(request, case_no: str, pause_id: int):
    case = selectors.case_get(user=request.user, case_no=case_no)
    back = _back(request, case.case_no)
    try:
        pause = services.case_procedure_end(user=request.user, case_no=case.case_no, pause_id=pause_id)
    except Conflict as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"特别程序已结束：{pause.get_kind_display()}，恢复计时，期限相应顺延")
    return redirect(back)


@require_http_methods(["GET", "POST"])
@staff_view(*MAY_STOP_THE_CLOCK)
def extension_request(request, case_no: str):
    case = selectors.case_get(user=request.user, case_no=case_no)
    back = _back(request, case.case_no)
    form = ExtensionRequestForm(request.POST if request.method == "POST" else None, initial={"next": back})
    done = submit(
        request,
        form,
        lambda data: services.case_extension_request(
            user=request.user, case_no=case.case_no, days=data["days"], reason=data["reason"]
        ),
        success=lambda asked: f"已提交延期申请（{asked.days} 个工作日），待效能监督负责人批准",
        done=back,
    )
    if done:
        return done
    return form_page(
        request,
        form=form,
        title="申请延期",
        action=reverse("web:extension-request", args=[case.case_no]),
        submit="提交延期申请",
        back=back,
        about=[
            f"办件 {case.case_no} · {case.one_thing.name}",
            "延期须经效能监督负责人批准；批准后法定和承诺办结期限一并顺延。",
        ],
    )


@staff_view(*SUPERVISORS)
def extension_list(request, *, errors: dict | None = None, status: int = 200):
    """效能监督: the waiting requests (oldest first) with approve / refuse, and the latest decisions."""
    return render(
        request,
        "web/extensions.html",
        {
            "pending": list(selectors.extension_request_list(user=request.user)),
            "decided": selectors.extension_request_list(user=request.user, state=None)[:30],
            "errors": errors or {},
        },
        status=status,
    )


@require_POST
@staff_view(*SUPERVISORS)
def extension_decide(request, request_id: int):
    decision = request.POST.get("decision", "")
    note = request.POST.get("note", "")[:2000]
    if decision not in ("approve", "reject"):
        return extension_list(
            request, errors={request_id: {"note": [], "decision": ["请选择批准或不予批准"]}}, status=400
        )
    try:
        decided = services.extension_request_decide(
            user=request.user, request_id=request_id, approve=decision == "approve", note=note
        )
    except ValidationFailed as exc:
        return extension_list(request, errors={request_id: {**exc.field_errors, "posted_note": note}}, status=400)
    except Conflict as exc:
        messages.error(request, exc.message)
    else:
        verb = "已批准" if decided.state == ExtensionRequestState.APPROVED else "已不予批准"
        messages.success(request, f"{verb}办件 {decided.case.case_no} 的延期申请（{decided.days} 个工作日）")
    return redirect("web:extensions")
