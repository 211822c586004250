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


def _stock_serializer():
    """The serializer with SpiffWorkflow's own task converter (ours makes each task id once per restore)."""
    from uuid import UUID

    from SpiffWorkflow.bpmn.serializer.default.workflow import TaskConverter
    from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
    from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
    from SpiffWorkflow.task import Task

    class StockTasks(state_serializer.SpecFreeWorkflowConverter):
        def from_dict(self, dct):
            workflow = self.target_class(dct.pop("spec"), dct.pop("subprocess_specs"), deserializing=True)
            workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
            workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
            self.set_default_attributes(workflow, dct)
            self.subprocesses_from_dict(dct["subprocesses"], workflow)
            workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
            return workflow

    config = {**state_serializer._CONFIG, Task: TaskConverter, BpmnWorkflow: StockTasks}
    return BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(config))


def _stock_restore(model, state: str):
    stock = _stock_serializer()
    dct = json.loads(state)
    dct.pop(stock.VERSION_KEY)
    dct["spec"], dct["subprocess_specs"] = model.spec, dict(model.subprocess_specs)
    return stock.from_dict(dct)


def _tree(workflow) -> list:
    return [
        (
            task.id,
            task._parent,
            task._children,
            task.state,
            task.task_spec.name,
            task.triggered,
            task.last_state_change,
            task.internal_data,
            task.data,
        )
        for task in workflow.tasks.values()
    ]


def test_a_restore_makes_the_task_tree_spiffworkflows_own_converter_makes(stored):
    model, state, meta = stored
    instance = ProcessInstance.restore(model, state, state_format=meta["state_format"])
    states = [instance.dump()]
    for task in instance.ready_tasks():  # along the rest of the case: each review, the join, the end
        reviews = instance.task_data(task.id)["reviews"]
        instance.complete(task.id, {"reviews": {**reviews, task.lane: "approve"}})
        states.append(instance.dump())
    for each in states:
        ours = ProcessInstance.restore(model, each)._workflow
        theirs = _stock_restore(model, each)
        assert _tree(ours) == _tree(theirs)
        assert ours.task_tree.id == theirs.task_tree.id and ours.last_task.id == theirs.last_task.id
        assert ours.data == theirs.data
        assert state_serializer.dump_state(ours) == state_serializer.dump_state(theirs) == each
        # what ours writes is SpiffWorkflow's own task dict, key for key and in its order
        mine, stock = state_serializer.SERIALIZER.to_dict(ours), _stock_serializer().to_dict(ours)
        assert json.dumps(mine, ensure_ascii=False) == json.dumps(stock, ensure_ascii=False)
    # a task id is one object per restore: its parent's child is the task's own id
    ours = ProcessInstance.restore(model, states[0])._workflow
    for task in ours.tasks.values():
        assert all(ours.tasks[child].id is child for child in task._children)


def test_a_task_id_that_is_not_one_is_refused():
    import copy
    import pickle
    from uuid import UUID

    ids, text = state_serializer.TaskIds(), "6f1c2a54-0b7e-4c1e-9d3a-2f4b5c6d7e8f"
    assert ids[text] == UUID(text) and hash(ids[text]) == hash(UUID(text)) and str(ids[text]) == text
    assert {UUID(text): 1}[ids[text]] == 1 and str(ids[text.upper()]) == text
    for copied in (copy.deepcopy(ids[text]), copy.copy(ids[text]), pickle.loads(pickle.dumps(ids[text]))):
        assert copied == UUID(text) and str(copied) == text
    braces, dashes = "{6f1c2a54-0b7e-4c1e-9d3a-2f4b5c6d7e8f}", "6f1c2a540-b7e-4c1e-9d3a-2f4b5c6d7e8f"
    for wrong in ("6f1c2a540b7e4c1e9d3a2f4b5c6d7e8f", braces, "zz" * 18, dashes):
        with pytest.raises(ValueError):
            ids[wrong]
