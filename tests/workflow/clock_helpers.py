"""Shared by the clock tests: fixed instants around National Day 2026, and a one-thing with a boundary timer."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

from tests.conftest import APPLICANT, handed_in
from workflow import services
from workflow.models import OneThing, ServiceItem

CST = ZoneInfo("Asia/Shanghai")
TIMER_MODEL = Path(__file__).parent / "clock_fixtures" / "clock_timer.bpmn"
# enterprise_start's items: market regulation, public security, tax.
MARKET_ITEM = "000113101000"


def at(day: str, hour: int = 10, minute: int = 0) -> dt.datetime:
    """An instant in the hall's time zone: at("2026-09-28") is Monday 10:00 in Beijing."""
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(hour, minute), tzinfo=CST)


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def set_limits(*, one_thing_days: int = 10, market_days: int = 5) -> None:
    """Longer limits than the demo's one-day promise, so warnings, yellow and red fall on different days."""
    OneThing.objects.filter(key="enterprise_start").update(promised_limit_days=one_thing_days)
    ServiceItem.objects.filter(code=MARKET_ITEM).update(statutory_limit_days=20, promised_limit_days=market_days)
    services.one_thing_recompose(key="enterprise_start")  # published: new cases are pinned to these limits


def deploy_timer_model() -> None:
    services.process_versions_deploy(files=[("clock_timer.bpmn", TIMER_MODEL.read_bytes())], deployed_by="test")


def open_timer_case(users, *, accept: bool = True):
    opened = services.case_open(
        user=users["window1"],
        one_thing_key="clock_timer",
        applicant=APPLICANT,
        form={},
        materials=handed_in("clock_timer"),
    )
    if accept:
        services.case_accept(user=users["window1"], case_no=opened.case.case_no)
    return opened.case
