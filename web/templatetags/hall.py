"""Template helpers for the hall's screens."""

from __future__ import annotations

from django import template
from django.conf import settings

from workflow.access import staff_of

register = template.Library()


@register.simple_tag(takes_context=True)
def hall_user(context):
    """The logged-in staff member (role, department) or None."""
    request = context.get("request")
    user = getattr(request, "user", None)
    return staff_of(user) if user is not None else None


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
