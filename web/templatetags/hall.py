"""Template helpers for the hall's screens."""

from __future__ import annotations

from django import template
from django.conf import settings

from workflow import selectors

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
    if value is None or value == "":
        return "—"
    return f"{float(value):.1f}"


@register.filter
def get_item(mapping, key):
    try:
        return mapping.get(key)
    except AttributeError:
        return None
