"""Shared fixtures for the engine-boundary tests (package ``bpmn``; no Django needed).

Helpers are handed out as fixtures (factory-as-fixture), so test modules never import this file.
All fixtures are session-scoped: the hypothesis test may use them without a health-check warning.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

import pytest
from SpiffWorkflow.util.task import TaskState

import bpmn
from bpmn import LoadedModel, ModelInvalid, ModelProblem, ProcessInstance, ReadyTask, compile_model, load_model

DEPARTMENTS = ("market_regulation", "public_security", "tax")
SHIPPED_MODEL = Path(bpmn.__file__).parent / "processes" / "enterprise_start" / "enterprise_start.bpmn"


def start_data(**overrides) -> dict:
    """Process data at start, as the engine contract prescribes."""
    data = bpmn.initial_data(
        case_no="QY-2025-000001", one_thing="enterprise_start", form={"company_name": "测试有限公司", "capital": 100}
    )
    data.update(overrides)
    return data


def round_trip(model: LoadedModel, instance: ProcessInstance) -> ProcessInstance:
    """Save and restore, as every web request does; the state text must survive unchanged."""
    state = instance.dump()
    restored = ProcessInstance.restore(model, state)
    assert restored.dump() == state, "dump → restore → dump changed the state text"
    assert restored.ready_tasks() == instance.ready_tasks()
    # the set read off the task mappings is the tree walk's, before and after the round trip
    assert restored.ready_task_ids() == instance.ready_task_ids() == {task.id for task in instance.ready_tasks()}
    assert restored.is_completed == instance.is_completed
    assert restored.data == instance.data
    return restored


class Case:
    """One case of the shipped model, driven the way the application drives it.

    Every action is followed by a save/restore round trip, so each step runs on a freshly restored
    instance. ``opened`` records every task that has ever been ready, once per task id.
    """

    def __init__(self, model: LoadedModel, data: dict):
        self.model = model
        self.instance = round_trip(model, ProcessInstance.start(model, data))
        self.opened: dict[str, ReadyTask] = {}
        self._note_ready()

    # -- looking -------------------------------------------------------------------------------
    def ready(self) -> list[ReadyTask]:
        return self.instance.ready_tasks()

    def ready_lanes(self) -> list[str]:
        return sorted(task.lane for task in self.ready())

    def ready_departments(self) -> set[str]:
        return {task.lane for task in self.ready() if task.lane in DEPARTMENTS}

    def only_ready(self) -> ReadyTask:
        tasks = self.ready()
        assert len(tasks) == 1, f"expected exactly one ready task, got {tasks}"
        return tasks[0]

    def task_for(self, lane: str) -> ReadyTask:
        matching = [task for task in self.ready() if task.lane == lane]
        assert len(matching) == 1, f"expected one ready task in lane {lane}, got {self.ready()}"
        return matching[0]

    def opened_element_ids(self) -> list[str]:
        return sorted(task.element_id for task in self.opened.values())

    def completed_count(self, element_id: str) -> int:
        """How many task instances of one BPMN element have COMPLETED (inspects engine internals)."""
        return sum(
            1
            for task in self.instance._workflow.get_tasks()
            if task.task_spec.bpmn_id == element_id and task.state == TaskState.COMPLETED
        )

    @property
    def data(self) -> dict:
        return self.instance.data

    @property
    def is_completed(self) -> bool:
        return self.instance.is_completed

    @property
    def outcome(self):
        return self.instance.data["outcome"]

    # -- acting --------------------------------------------------------------------------------
    def complete(self, task_id: str, data: dict) -> None:
        self.instance.complete(task_id, data)
        self.instance = round_trip(self.model, self.instance)
        self._note_ready()

    def accept(self) -> None:
        self.complete(self.task_for("window").id, {"intake": {"decision": "accept"}})

    def refuse(self, reasons: str = "材料不齐全") -> None:
        self.complete(self.task_for("window").id, {"intake": {"decision": "refuse", "reasons": reasons}})

    def review(self, department: str, decision: str) -> None:
        task = self.task_for(department)
        reviews = self.instance.task_data(task.id)["reviews"]
        self.complete(task.id, {"reviews": {**reviews, department: decision}})

    def review_all(self, decisions: dict[str, str]) -> None:
        """Departments decide in the dict's order."""
        for department, decision in decisions.items():
            self.review(department, decision)

    def correct(self, form: dict | None = None, correction: dict | None = None) -> None:
        task = self.task_for("applicant")
        assert task.element_id == "correct_application"
        self.complete(
            task.id,
            {"form": form if form is not None else self.data["form"], "correction": correction or {"note": "已补正"}},
        )

    def _note_ready(self) -> None:
        for task in self.ready():
            self.opened.setdefault(task.id, task)


@pytest.fixture(scope="session")
def shipped_bytes() -> bytes:
    return SHIPPED_MODEL.read_bytes()


@pytest.fixture(scope="session")
def shipped_xml(shipped_bytes) -> str:
    return shipped_bytes.decode("utf-8")


@pytest.fixture(scope="session")
def enterprise_model(shipped_bytes) -> LoadedModel:
    compiled = compile_model(SHIPPED_MODEL.name, shipped_bytes, departments=DEPARTMENTS)
    return load_model(compiled.content_hash, compiled.compiled)


@pytest.fixture(scope="session")
def new_case(enterprise_model) -> Callable[..., Case]:
    """``new_case(**start_data_overrides)`` starts a case of the shipped model."""

    def make(**overrides) -> Case:
        return Case(enterprise_model, start_data(**overrides))

    return make


@pytest.fixture(scope="session")
def accepted_case(new_case) -> Callable[..., Case]:
    """A case the window has accepted: the three department reviews are ready."""

    def make(**overrides) -> Case:
        case = new_case(**overrides)
        case.accept()
        return case

    return make


@pytest.fixture(scope="session")
def problems_of() -> Callable[..., list[ModelProblem]]:
    """``problems_of(xml_text)``: the problems compile_model reports; fails the test if it compiles."""

    def problems(text: str | bytes, departments: Iterable[str] = DEPARTMENTS, filename="model.bpmn"):
        content = text.encode("utf-8") if isinstance(text, str) else text
        with pytest.raises(ModelInvalid) as refused:
            compile_model(filename, content, departments=departments)
        assert refused.value.problems, "ModelInvalid without problems"
        return refused.value.problems

    return problems


_DOCUMENT = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  xmlns:camunda="http://camunda.org/schema/1.0/bpmn"
                  id="Definitions_test" targetNamespace="https://onething.example/test">
  <bpmn:process id="test_process" name="测试流程" isExecutable="true">
{body}
  </bpmn:process>
</bpmn:definitions>
"""


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def script_document(script: str) -> str:
    """start → script task ``run_script`` → end."""
    return _DOCUMENT.format(
        body=f"""
    <bpmn:startEvent id="start"><bpmn:outgoing>f_start_script</bpmn:outgoing></bpmn:startEvent>
    <bpmn:scriptTask id="run_script" name="脚本">
      <bpmn:incoming>f_start_script</bpmn:incoming><bpmn:outgoing>f_script_end</bpmn:outgoing>
      <bpmn:script>{_escape(script)}</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f_script_end</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f_start_script" sourceRef="start" targetRef="run_script"/>
    <bpmn:sequenceFlow id="f_script_end" sourceRef="run_script" targetRef="end"/>"""
    )


def condition_document(condition: str) -> str:
    """start → exclusive gateway; flow ``f_condition`` (guarded by ``condition``) or the default → end."""
    return _DOCUMENT.format(
        body=f"""
    <bpmn:startEvent id="start"><bpmn:outgoing>f_start_gw</bpmn:outgoing></bpmn:startEvent>
    <bpmn:exclusiveGateway id="gw" default="f_default">
      <bpmn:incoming>f_start_gw</bpmn:incoming>
      <bpmn:outgoing>f_condition</bpmn:outgoing><bpmn:outgoing>f_default</bpmn:outgoing>
    </bpmn:exclusiveGateway>
    <bpmn:endEvent id="end_condition"><bpmn:incoming>f_condition</bpmn:incoming></bpmn:endEvent>
    <bpmn:endEvent id="end_default"><bpmn:incoming>f_default</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f_start_gw" sourceRef="start" targetRef="gw"/>
    <bpmn:sequenceFlow id="f_condition" sourceRef="gw" targetRef="end_condition">
      <bpmn:conditionExpression>{_escape(condition)}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f_default" sourceRef="gw" targetRef="end_default"/>"""
    )


def timer_document(duration: str, definition_attributes: str = "") -> str:
    """start → intermediate timer event ``wait_timer`` with the given timeDuration → end."""
    return _DOCUMENT.format(
        body=f"""
    <bpmn:startEvent id="start"><bpmn:outgoing>f_start_timer</bpmn:outgoing></bpmn:startEvent>
    <bpmn:intermediateCatchEvent id="wait_timer" name="等待">
      <bpmn:incoming>f_start_timer</bpmn:incoming><bpmn:outgoing>f_timer_end</bpmn:outgoing>
      <bpmn:timerEventDefinition {definition_attributes}>
        <bpmn:timeDuration>{_escape(duration)}</bpmn:timeDuration>
      </bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:endEvent id="end"><bpmn:incoming>f_timer_end</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f_start_timer" sourceRef="start" targetRef="wait_timer"/>
    <bpmn:sequenceFlow id="f_timer_end" sourceRef="wait_timer" targetRef="end"/>"""
    )


def user_task_document(task_attributes: str) -> str:
    """start → user task ``review`` (no lanes) → end; ``task_attributes`` go on the userTask element."""
    return _DOCUMENT.format(
        body=f"""
    <bpmn:startEvent id="start"><bpmn:outgoing>f_start_review</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="review" name="审查" {task_attributes}>
      <bpmn:incoming>f_start_review</bpmn:incoming><bpmn:outgoing>f_review_end</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f_review_end</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f_start_review" sourceRef="start" targetRef="review"/>
    <bpmn:sequenceFlow id="f_review_end" sourceRef="review" targetRef="end"/>"""
    )


@pytest.fixture(scope="session")
def documents():
    """Builders for small inline BPMN documents: ``documents.script(src)``, ``.condition(expr)``, …"""

    class Documents:
        script = staticmethod(script_document)
        condition = staticmethod(condition_document)
        timer = staticmethod(timer_document)
        user_task = staticmethod(user_task_document)

    return Documents
