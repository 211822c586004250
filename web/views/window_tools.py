"""The window, for an applicant standing at the counter: withdrawing (撤回) and re-issuing a lost query code."""

from __future__ import annotations

import hmac

from django import forms
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from workflow import selectors, services

from ..access import WINDOW, staff_view
from .tools import form_page, submit, text_field

QUERY_CODE_KEY = "web.query_code"  # the new code waits here, in the window's session, until shown once


class WithdrawForm(forms.Form):
    reason = text_field("撤回原因", required_message="请说明撤回原因")
    confirm = forms.BooleanField(
        label="申请人已书面申请撤回，且已核验其身份；撤回后办理终止，不能恢复",
        error_messages={"required": "请确认申请人的撤回意愿"},
    )


class IdentityForm(forms.Form):
    id_number = forms.CharField(
        label="申请人证件号码",
        max_length=32,
        error_messages={"required": "请录入申请人证件上的号码", "max_length": "证件号码最多 32 个字符"},
        help_text="核验申请人身份证件原件（单位：营业执照及经办人身份证件）后，录入证件上的号码",
    )
    confirm = forms.BooleanField(
        label="已当面核验申请人身份证件原件", error_messages={"required": "请先核验申请人的身份证件"}
    )

    def __init__(self, *args, expected: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.expected = expected

    def clean_id_number(self) -> str:
        typed = "".join(self.cleaned_data["id_number"].split()).upper()
        # Constant time: the page must not become an oracle for the registered number.
        if not hmac.compare_digest(typed.encode(), "".join(self.expected.split()).upper().encode()):
            raise forms.ValidationError("证件号码与办件登记的申请人不一致，不能补发查询码")
        return typed


@require_http_methods(["GET", "POST"])
@staff_view(*WINDOW)
def case_withdraw(request, case_no: str):
    """撤回 keyed in by the window for the applicant (case_withdraw with the window as actor)."""
    case = selectors.case_get(user=request.user, case_no=case_no)
    form = WithdrawForm(request.POST if request.method == "POST" else None)
    done = submit(
        request,
        form,
        lambda data: services.case_withdraw(case_no=case.case_no, reason=data["reason"], actor=request.user),
        success=lambda _: "已撤回，办理终止，各部门待办已取消",
        done=reverse("web:case", args=[case.case_no]),
    )
    if done:
        return done
    return form_page(
        request,
        form=form,
        title="撤回申请",
        action=reverse("web:case-withdraw", args=[case.case_no]),
        submit="确认撤回",
        back=reverse("web:case", args=[case.case_no]),
        about=[
            f"办件 {case.case_no} · {case.one_thing.name} · 申请人 {case.applicant_name}",
            "形成办理结果之前，申请人可以撤回申请。",
        ],
        danger=True,
    )


@require_http_methods(["GET", "POST"])
@staff_view(*WINDOW)
def query_code_reissue(request, case_no: str):
    """补发查询码: after the identity check; the new code is shown once, the old one stops working."""
    case = selectors.case_get(user=request.user, case_no=case_no)
    form = IdentityForm(request.POST if request.method == "POST" else None, expected=case.applicant_id_number)
    done = submit(
        request,
        form,
        lambda data: _reissue(request, case.case_no),
        success=lambda _: "已补发查询码，原查询码已失效",
        done=reverse("web:query-code-issued", args=[case.case_no]),
    )
    if done:
        return done
    return form_page(
        request,
        form=form,
        title="补发查询码",
        action=reverse("web:query-code", args=[case.case_no]),
        submit="核验并补发",
        back=reverse("web:case", args=[case.case_no]),
        about=[
            f"办件 {case.case_no} · {case.one_thing.name} · 申请人 {case.applicant_name}",
            "补发后原查询码立即失效；新查询码只显示一次，请当面告知申请人。",
        ],
    )


def _reissue(request, case_no: str) -> None:
    """The new code waits in the window's session until the next page shows it, once (never in a URL)."""
    code = services.case_query_code_reissue(user=request.user, case_no=case_no)
    request.session[QUERY_CODE_KEY] = {"case_no": case_no, "query_code": code}


@staff_view(*WINDOW)
def query_code_issued(request, case_no: str):
    case = selectors.case_get(user=request.user, case_no=case_no)
    stash = request.session.get(QUERY_CODE_KEY) or {}
    code = None
    if stash.get("case_no") == case.case_no:
        code = stash["query_code"]
        del request.session[QUERY_CODE_KEY]
    response = render(request, "web/query_code_issued.html", {"case": case, "query_code": code})
    response["Cache-Control"] = "no-store"
    return response
