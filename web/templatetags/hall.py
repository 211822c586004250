"""Template helpers for the hall's screens."""

from __future__ import annotations

from django import template
from django.conf import settings
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from workflow import selectors
from workflow.labels import PROVISIONAL_LABEL, PROVISIONAL_NOTE

register = template.Library()


@register.simple_tag(takes_context=True)
def hall_user(context):
    """The logged-in staff member (``selectors.Me``: role, department) or None."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    me = selectors.me(user)
    return me if me.role else None


@register.simple_tag
def hall_name() -> str:
    return settings.ONETHING_HALL_NAME


@register.filter
def percent(value, places: int = 1) -> str:
    if value is None or value == "":
        return "—"
    return f"{float(value) * 100:.{places}f}%"


@register.filter
def days(value) -> str:
    """Working days as the statistics state them (two places)."""
    if value is None or value == "":
        return "—"
    return f"{float(value):.2f}"


@register.filter
def get_item(mapping, key):
    try:
        return mapping.get(key)
    except AttributeError:
        return None


@register.simple_tag
def due_date(day, provisional=False, fmt="Y-m-d", note=True):
    """A due date as every screen shows it. A provisional one (docs/clock.md) reads "预计 2027-02-11
    （以国务院公布的节假日安排为准）"; ``note=False`` (a narrow table cell) keeps the note in the tooltip, and the
    page says it once below the table. No date: "—"."""
    if not day:
        return "—"
    text = date_format(day, fmt)
    if not provisional:
        return text
    if not note:
        return format_html(
            '<span class="provisional" title="{}">{} {}</span>', PROVISIONAL_NOTE, PROVISIONAL_LABEL, text
        )
    return format_html(
        '<span class="provisional">{} {}</span><span class="provisional-note">（{}）</span>',
        PROVISIONAL_LABEL,
        text,
        PROVISIONAL_NOTE,
    )


@register.simple_tag
def choice_groups(groups, selected) -> str:
    """``<optgroup>``s of ``(value, label)`` options, ``selected`` marked: a task page's correction rows list every
    field and material in each row, which the template language renders option by option at some cost."""
    return format_html_join(
        "\n",
        '<optgroup label="{}">{}</optgroup>',
        (
            (
                label,
                format_html_join(
                    "",
                    '<option value="{}"{}>{}</option>',
                    ((value, mark_safe(" selected") if value == selected else "", text) for value, text in options),
                ),
            )
            for label, options in groups
        ),
    )
