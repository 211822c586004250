"""The sandbox never lets a BaseException out, and every expression-bearing element is checked at deploy
(issue 18, low)."""

from __future__ import annotations

import pytest

from bpmn import DecisionFailed, compile_decision
from bpmn.sandbox import SAFE_ENGINE, SandboxEscape
from tests.bpmn.conftest import _DOCUMENT, _escape, condition_document
from tests.bpmn.test_decisions import table

FORM = {"company_name": "测试有限公司"}


def evaluate(expression: str, **data):
    return SAFE_ENGINE.environment.evaluate(expression, {"form": dict(FORM), **data})


@pytest.mark.parametrize(
    "expression",
    [
        "Exception.mro()[1]",
        "Exception.mro()[1]()",
        "(x for x in [1]).throw(Exception.mro()[1])",
        "ValueError.mro()[2]",
    ],
)
def test_the_base_exception_is_not_handed_out(problems_of, expression):
    with pytest.raises(Exception) as refused:
        evaluate(expression)
    assert isinstance(refused.value, Exception)
    assert "mro" in str(refused.value)
    assert [p.element_id for p in problems_of(condition_document(expression))] == ["f_condition"]


def test_whatever_non_exception_a_model_raises_comes_out_as_an_ordinary_error():
    """Even were a BaseException reachable, it would not get past an ``except Exception``."""
    for code, run in (
        ("(x for x in [1]).throw(err)", SAFE_ENGINE.environment.evaluate),
        ("g = (x for x in [1, 2])\nfor y in g:\n    g.throw(err)", SAFE_ENGINE.environment.execute),
    ):
        with pytest.raises(SandboxEscape, match="BaseException"):
            run(code, {"err": BaseException})
        with pytest.raises(SandboxEscape, match="GeneratorExit"):
            run(code, {"err": GeneratorExit})


def test_a_decision_cell_raising_a_base_exception_falls_back_to_a_person():
    text = table([("boom", ["(x for x in [1]).throw(form['err']) == 1", "-"], ["True"])])
    with pytest.raises(DecisionFailed):  # the caller routes the item to a person
        compile_decision(text).evaluate({"form": {"err": BaseException}, "licences": []})


LOOP = """
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:scriptTask id="looped" name="循环">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:standardLoopCharacteristics><bpmn:loopCondition>{expr}</bpmn:loopCondition>
      </bpmn:standardLoopCharacteristics>
      <bpmn:script>x = 1</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="looped"/>
    <bpmn:sequenceFlow id="f2" sourceRef="looped" targetRef="end"/>"""
CONDITIONAL_EVENT = """
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:intermediateCatchEvent id="wait_until" name="等待条件">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:conditionalEventDefinition><bpmn:condition>{expr}</bpmn:condition></bpmn:conditionalEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="wait_until"/>
    <bpmn:sequenceFlow id="f2" sourceRef="wait_until" targetRef="end"/>"""


@pytest.mark.parametrize(
    ("body", "element_id"),
    [pytest.param(LOOP, "looped", id="loopCondition"), pytest.param(CONDITIONAL_EVENT, "wait_until", id="condition")],
)
def test_every_expression_bearing_element_is_checked_at_deploy(problems_of, body, element_id):
    document = _DOCUMENT.format(body=body.format(expr=_escape("form.__class__.__mro__")))
    found = problems_of(document)
    assert element_id in {p.element_id for p in found}, found
    assert any("__class__" in p.message or "下划线" in p.message for p in found), found
