"""Timers at the engine boundary: what a waiting timer reports, and firing it after its instant."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import time_machine

import bpmn

TIMER_MODEL = Path(__file__).parents[1] / "workflow" / "clock_fixtures" / "clock_timer.bpmn"
SHIPPED_MODEL = Path(bpmn.__file__).parent / "processes" / "enterprise_start" / "enterprise_start.bpmn"
START = dt.datetime(2026, 9, 28, 2, 0, tzinfo=dt.UTC)
DATA = bpmn.initial_data(case_no="T1", one_thing="clock_timer", form={})


def load(path: Path) -> bpmn.LoadedModel:
    compiled = bpmn.compile_model(
        path.name, path.read_bytes(), departments=["market_regulation", "public_security", "tax"]
    )
    return bpmn.load_model(compiled.content_hash, compiled.compiled)


def accepted(model: bpmn.LoadedModel) -> bpmn.ProcessInstance:
    instance = bpmn.ProcessInstance.start(model, DATA)
    [window] = instance.ready_tasks()
    instance.complete(window.id, {"intake": {"decision": "accept"}})
    return instance


def test_a_waiting_boundary_timer_reports_its_due_instant_and_survives_a_save():
    model = load(TIMER_MODEL)
    with time_machine.travel(START, tick=False):
        instance = accepted(model)
    assert instance.has_timers
    [timer] = instance.waiting_timers()
    assert (timer.element_id, timer.name) == ("review_overdue", "审查超时")
    assert timer.due_at == START + dt.timedelta(seconds=1)
    restored = bpmn.ProcessInstance.restore(model, instance.dump())
    assert restored.waiting_timers() == [timer]


def test_firing_before_the_instant_changes_nothing_and_after_it_runs_the_escalation():
    model = load(TIMER_MODEL)
    with time_machine.travel(START, tick=False) as traveller:
        instance = accepted(model)
        instance.fire_timers()
        assert [t.element_id for t in instance.ready_tasks()] == ["review"]
        traveller.shift(2)
        instance = bpmn.ProcessInstance.restore(model, instance.dump())
        instance.fire_timers()
    [escalated] = instance.ready_tasks()
    assert escalated.element_id == "escalated_review"
    assert instance.task_data(escalated.id)["escalated"] is True  # the escalation path's script ran
    assert instance.waiting_timers() == []


def test_a_model_without_timers_reports_none():
    instance = bpmn.ProcessInstance.start(load(SHIPPED_MODEL), {**DATA, "one_thing": "enterprise_start"})
    assert not instance.has_timers
    assert instance.waiting_timers() == []
