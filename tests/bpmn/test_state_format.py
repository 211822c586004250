"""Versioned engine state: a stored case of today's format keeps loading, and older formats are upgraded.

``fixtures/state_format_1`` is a real mid-review case as OneThing stored it (``Case.process_state``) with the
model it runs on. If a SpiffWorkflow upgrade (or a change of ours) stops it loading or finishing, this fails
here, in CI, and not in a hall: add an upgrade step in ``bpmn/serializer.py`` (``STATE_UPGRADES``) and bump
``STATE_FORMAT``, never regenerate the fixture.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import bpmn
from bpmn import ProcessInstance, StateFormatUnknown, compile_model, load_model
from bpmn import serializer as state_serializer

FIXTURE = Path(__file__).parent / "fixtures" / "state_format_1"


@pytest.fixture(scope="module")
def stored():
    meta = json.loads((FIXTURE / "meta.json").read_text(encoding="utf-8"))
    compiled = compile_model(
        "restaurant_start.bpmn", (FIXTURE / "restaurant_start.bpmn").read_bytes(), departments=meta["departments"]
    )
    model = load_model(compiled.content_hash, compiled.compiled)
    return model, (FIXTURE / "state.json").read_text(encoding="utf-8"), meta


def test_the_fixture_is_of_the_format_it_claims(stored):
    _, state, meta = stored
    assert meta["state_format"] == 1 <= bpmn.STATE_FORMAT
    assert json.loads(state)["serializer_version"] == meta["serializer_version"]


def test_a_stored_case_of_format_1_loads_where_it_stood_and_runs_to_its_end(stored):
    model, state, meta = stored
    instance = ProcessInstance.restore(model, state, state_format=meta["state_format"])
    assert sorted((t.element_id, t.lane) for t in instance.ready_tasks()) == sorted(map(tuple, meta["ready"]))
    data = instance.task_data(instance.ready_tasks()[0].id)
    assert data["reviews"] == meta["reviews"]
    assert data["review_round"] == meta["review_round"]
    assert data["form"]["business_scope"] == meta["business_scope"]
    # Saved again in the current format, and the case goes on to its unified result.
    instance = ProcessInstance.restore(model, instance.dump())
    for task in instance.ready_tasks():
        reviews = instance.task_data(task.id)["reviews"]
        instance.complete(task.id, {"reviews": {**reviews, task.lane: "approve"}})
        instance = ProcessInstance.restore(model, instance.dump())
    assert instance.is_completed and instance.data["outcome"] == "approved"
    assert instance.data["reviews"] == {
        "fire_rescue": "approve",
        "urban_management": "approve",
        "market_regulation": "approve",
        "market_regulation_item2": "approve",
    }


def test_loading_runs_the_chain_of_upgrades_from_an_older_format(stored, monkeypatch):
    """A future format 2: format-1 states pass through the 1 → 2 step on their way in."""
    model, state, _ = stored
    seen = []

    def one_to_two(dct, spec_dicts):
        seen.append(sorted(dct))
        dct["data"]["upgraded"] = True

    monkeypatch.setattr(state_serializer, "STATE_FORMAT", 2)
    monkeypatch.setitem(state_serializer.STATE_UPGRADES, 1, one_to_two)
    instance = ProcessInstance.restore(model, state, state_format=1)
    assert seen and "tasks" in seen[0]
    assert len(instance.ready_tasks()) == 2
    assert ProcessInstance.restore(model, state, state_format=2).ready_tasks() == instance.ready_tasks()


def test_a_missing_step_or_an_unknown_format_is_refused_not_guessed(stored, monkeypatch):
    model, state, _ = stored
    with pytest.raises(StateFormatUnknown, match="未知"):
        ProcessInstance.restore(model, state, state_format=bpmn.STATE_FORMAT + 1)
    with pytest.raises(StateFormatUnknown):
        ProcessInstance.restore(model, state, state_format=0)
    monkeypatch.setattr(state_serializer, "STATE_FORMAT", 2)
    with pytest.raises(StateFormatUnknown, match="1 → 2"):
        ProcessInstance.restore(model, state, state_format=1)


def test_an_older_serializer_version_goes_through_spiffworkflows_own_migration(stored, monkeypatch):
    """The library's migration hook (BpmnWorkflowSerializer.migrate) runs on the full serialization, spec
    included, whenever the state's serializer_version is not the library's."""
    model, state, _ = stored
    older = json.loads(state)
    older["serializer_version"] = "1.4"
    called = []
    real = state_serializer.SERIALIZER.migrate

    def spy(dct):
        called.append(("spec" in dct, dct.get("serializer_version")))
        return real(dct)

    monkeypatch.setattr(state_serializer.SERIALIZER, "migrate", spy)
    instance = ProcessInstance.restore(model, json.dumps(older, ensure_ascii=False))
    assert called == [(True, "1.4")]
    assert len(instance.ready_tasks()) == 2
    assert json.loads(instance.dump())["serializer_version"] == state_serializer.SERIALIZER_VERSION
