"""Shared bits of the small action screens (转办, 特别程序, 延期, 撤回, 查询码): a Django form per action whose
errors — the form's own and the service's ``ValidationFailed`` field errors — show next to the fields, on a
page of its own when the inline form on the task or case page was sent with mistakes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render

from workflow.errors import Conflict, ValidationFailed

REQUIRED = "此项为必填项"


def text_field(label: str, *, required_message: str, max_length: int = 1000, rows: int = 2, **kwargs):
    return forms.CharField(
        label=label,
        max_length=max_length,
        widget=forms.Textarea(attrs={"rows": rows, "maxlength": max_length}),
        error_messages={"required": required_message, "max_length": f"最多 {max_length} 个字符"},
        **kwargs,
    )


def add_service_errors(form: forms.Form, exc: ValidationFailed, fields: dict[str, str] | None = None) -> None:
    """The service's field errors onto the form's fields (``fields`` renames service keys); the rest on top."""
    fields = fields or {}
    for key, texts in exc.field_errors.items():
        name = fields.get(key, key)
        for message in texts:
            form.add_error(name if name in form.fields else None, message)
    if not exc.field_errors:
        form.add_error(None, exc.message)


def submit(request, form: forms.Form, action: Callable[[dict], Any], *, success: Callable[[Any], str], done: str):
    """A posted, valid form → ``action(cleaned_data)`` (one service call) → the ``success(result)`` message and a
    redirect to ``done``. A ``Conflict`` is a message and the same redirect; a ``ValidationFailed`` puts the
    service's errors next to the fields. None when the form is to be shown (again)."""
    if request.method != "POST" or not form.is_valid():
        return None
    try:
        result = action(form.cleaned_data)
    except ValidationFailed as exc:
        add_service_errors(form, exc)
        return None
    except Conflict as exc:
        messages.error(request, exc.message)
        return redirect(done)
    messages.success(request, success(result))
    return redirect(done)


def form_page(request, *, form, title: str, action: str, submit: str, back: str, about: list[str], danger=False):
    """The action's own page: the form again with its errors (400), or empty (200) when opened directly."""
    return render(
        request,
        "web/tool_form.html",
        {
            "form": form,
            "title": title,
            "action": action,
            "submit": submit,
            "back": back,
            "about": about,
            "danger": danger,
        },
        status=400 if form.is_bound and form.errors else 200,
    )
