"""compile_model / load_model: what a deploy accepts, what it refuses, and how it reports problems."""

from __future__ import annotations

import hashlib

import pytest

from bpmn import CompiledModel, ModelProblem, compile_model, load_model

DEPARTMENTS = ("market_regulation", "public_security", "tax")


def edit(text: str, old: str, new: str) -> str:
    """Replace a snippet that must occur exactly once, so an edit can never silently miss."""
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times"
    return text.replace(old, new)


def ids_of(problems: list[ModelProblem]) -> list[str]:
    return [problem.element_id for problem in problems]


# --- the shipped model ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def compiled(shipped_bytes) -> CompiledModel:
    return compile_model("enterprise_start.bpmn", shipped_bytes, departments=DEPARTMENTS)


def test_shipped_model_compiles(compiled):
    assert compiled.process_id == "enterprise_start"
    assert compiled.name == "企业开办一件事"
    assert compiled.departments == ("market_regulation", "public_security", "tax")


def test_shipped_model_maps_every_user_task_to_its_lane(compiled):
    assert {task.element_id: task.lane for task in compiled.user_tasks} == {
        "window_accept": "window",
        "review_market_regulation": "market_regulation",
        "review_public_security": "public_security",
        "review_tax": "tax",
        "correct_application": "applicant",
    }
    assert {task.lane for task in compiled.user_tasks} == {"window", "applicant", *DEPARTMENTS}


def test_departments_lists_only_those_the_model_uses(shipped_bytes):
    compiled = compile_model(
        "enterprise_start.bpmn", shipped_bytes, departments=[*DEPARTMENTS, "social_security", "housing_fund"]
    )

    assert compiled.departments == ("market_regulation", "public_security", "tax")


def test_content_hash_is_the_sha256_of_the_bytes(compiled, shipped_bytes):
    assert compiled.content_hash == hashlib.sha256(shipped_bytes).hexdigest()


def test_compiling_twice_gives_the_same_hash_and_text(compiled, shipped_bytes):
    again = compile_model("enterprise_start.bpmn", shipped_bytes, departments=DEPARTMENTS)

    assert again.content_hash == compiled.content_hash
    assert again.compiled == compiled.compiled


def test_a_one_byte_change_changes_the_hash(compiled, shipped_bytes):
    changed = compile_model("enterprise_start.bpmn", shipped_bytes + b"\n", departments=DEPARTMENTS)

    assert changed.content_hash != compiled.content_hash


def test_load_model_returns_the_cached_object_on_the_second_call(compiled):
    first = load_model(compiled.content_hash, compiled.compiled)
    second = load_model(compiled.content_hash, compiled.compiled)

    assert second is first
    assert first.process_id == "enterprise_start"
    assert first.assignments["review_tax"] == "tax"


def test_load_model_does_not_parse_the_text_again_once_cached(compiled):
    load_model(compiled.content_hash, compiled.compiled)

    assert load_model(compiled.content_hash, "this text is never read").process_id == "enterprise_start"


# --- refused models: one problem each -------------------------------------------------------------


def test_malformed_xml_is_refused(problems_of, shipped_xml):
    [problem] = problems_of(shipped_xml[:-40], filename="broken.bpmn")

    assert problem.file == "broken.bpmn"
    assert problem.element_id == ""
    assert "XML" in problem.message


def test_a_document_that_is_not_bpmn_is_refused(problems_of):
    [problem] = problems_of('<?xml version="1.0"?><definitions/>')

    assert "BPMN" in problem.message


def test_a_lane_named_with_an_unknown_department_is_refused(problems_of, shipped_xml):
    problems = problems_of(edit(shipped_xml, 'name="tax"', 'name="customs"'))

    assert "Lane_tax" in ids_of(problems)
    [lane_problem] = [p for p in problems if p.element_id == "Lane_tax"]
    assert "customs" in lane_problem.message


def test_a_user_task_outside_any_lane_is_refused(problems_of, shipped_xml):
    problems = problems_of(edit(shipped_xml, "<bpmn:flowNodeRef>review_tax</bpmn:flowNodeRef>", ""))

    assert ids_of(problems) == ["review_tax"]
    assert "candidateGroups" in problems[0].message


@pytest.mark.parametrize(
    ("old", "new", "element_id", "words"),
    [
        ('intake["decision"] == "accept"', '__import__("os")', "f_gw_plan", "__import__"),
        ('reviews.get("tax") != "approve"', "form.__class__", "f_review_tax", "__class__"),
        ('reviews.get("tax") != "approve"', 'form.get("x")._fields', "f_review_tax", "_fields"),
        ('"reject" in reviews.values()', 'os.system("x")', "f_outcome_rejected", "os"),
        ('"reject" in reviews.values()', 'open("/etc/hostname")', "f_outcome_rejected", "open"),
        ('outcome = "rejected"', 'import os\noutcome = "rejected"', "conclude_rejected", "import"),
        ('outcome = "rejected"', 'from os import path\noutcome = "rejected"', "conclude_rejected", "import"),
        ('outcome = "approved"', 'def helper():\n    return 1\noutcome = "approved"', "conclude_approved", "函数"),
        ('outcome = "approved"', "outcome = (x for x in [1]).gi_frame", "conclude_approved", "gi_frame"),
        ('outcome = "approved"', 'outcome = "approved"\n  oops', "conclude_approved", "语法错误"),
    ],
    ids=[
        "dunder-import-in-condition",
        "dunder-attribute",
        "underscore-attribute",
        "name-outside-whitelist",
        "open",
        "import-in-script",
        "from-import-in-script",
        "function-definition",
        "generator-frame",
        "syntax-error",
    ],
)
def test_an_expression_outside_the_sandbox_is_refused_with_its_element_id(
    problems_of, shipped_xml, old, new, element_id, words
):
    [problem] = problems_of(edit(shipped_xml, old, new))

    assert problem.element_id == element_id
    assert words in problem.message


def test_an_unquoted_timer_duration_is_refused_with_the_event_id(problems_of, documents):
    [problem] = problems_of(documents.timer("PT5M"))

    assert problem.element_id == "wait_timer"
    assert "PT5M" in problem.message
    assert '"PT2H"' in problem.message  # the hint to quote literals


def test_an_unquoted_timer_with_a_modeler_style_definition_id_names_the_event(problems_of, documents):
    [problem] = problems_of(documents.timer("PT5M", 'id="TimerEventDefinition_0k3v8x"'))

    assert problem.element_id == "wait_timer"


def test_a_quoted_timer_duration_compiles(documents):
    compile_model("timer.bpmn", documents.timer('"PT5M"').encode(), departments=DEPARTMENTS)


def test_a_name_a_script_assigns_may_be_read_by_later_expressions(shipped_xml):
    text = edit(shipped_xml, 'outcome = "approved"', 'approved_at = "today"\noutcome = "approved"')
    text = edit(text, 'outcome = "rejected"', "outcome = approved_at")

    compile_model("m.bpmn", text.encode(), departments=DEPARTMENTS)


# --- refused models: every problem at once --------------------------------------------------------


def test_a_model_with_several_problems_reports_all_of_them(problems_of, shipped_xml):
    text = edit(shipped_xml, 'name="public_security"', 'name="police"')
    text = edit(text, "<bpmn:flowNodeRef>correct_application</bpmn:flowNodeRef>", "")
    text = edit(text, 'intake["decision"] == "accept"', '__import__("os")')
    text = edit(text, 'reviews.get("tax") != "approve"', "form.__class__")
    text = edit(text, '"reject" in reviews.values()', 'os.system("x")')
    text = edit(text, 'outcome = "rejected"', 'import os\noutcome = "rejected"')

    problems = problems_of(text)

    assert sorted(ids_of(problems)) == sorted(
        [
            "Lane_public_security",
            "review_public_security",  # its lane no longer counts
            "correct_application",
            "f_gw_plan",
            "f_review_tax",
            "f_outcome_rejected",
            "conclude_rejected",
        ]
    )
    assert all(problem.file == "model.bpmn" for problem in problems)


def test_one_expression_with_two_problems_reports_both(problems_of, shipped_xml):
    problems = problems_of(edit(shipped_xml, '"reject" in reviews.values()', "os.system(form.__class__)"))

    assert ids_of(problems) == ["f_outcome_rejected", "f_outcome_rejected"]
    messages = " ".join(problem.message for problem in problems)
    assert "os" in messages
    assert "__class__" in messages


# --- Camunda Modeler conventions ------------------------------------------------------------------


def test_candidate_groups_assign_a_user_task_outside_lanes(documents):
    compiled = compile_model(
        "camunda.bpmn", documents.user_task('camunda:candidateGroups="tax"').encode(), departments=DEPARTMENTS
    )

    assert [(task.element_id, task.lane) for task in compiled.user_tasks] == [("review", "tax")]
    assert compiled.departments == ("tax",)
    assert load_model(compiled.content_hash, compiled.compiled).assignments == {"review": "tax"}


def test_candidate_groups_with_spaces_around_the_code_are_accepted(documents):
    compiled = compile_model(
        "camunda.bpmn", documents.user_task('camunda:candidateGroups=" tax "').encode(), departments=DEPARTMENTS
    )

    assert compiled.user_tasks[0].lane == "tax"


def test_candidate_groups_naming_an_unknown_department_are_refused(problems_of, documents):
    [problem] = problems_of(documents.user_task('camunda:candidateGroups="customs"'))

    assert problem.element_id == "review"
    assert "customs" in problem.message


def test_candidate_groups_naming_two_departments_are_refused(problems_of, documents):
    [problem] = problems_of(documents.user_task('camunda:candidateGroups="tax,public_security"'))

    assert problem.element_id == "review"


def test_candidate_groups_contradicting_the_lane_are_refused(problems_of, shipped_xml):
    text = edit(
        shipped_xml,
        '<bpmn:userTask id="review_tax" name="涉税事项审查">',
        ('<bpmn:userTask id="review_tax" name="涉税事项审查" camunda:candidateGroups="public_security">'),
    )
    text = edit(text, 'exporter="OneThing"', 'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" exporter="OneThing"')

    [problem] = problems_of(text)

    assert problem.element_id == "review_tax"


def test_a_user_task_without_lane_or_candidate_groups_is_refused(problems_of, documents):
    [problem] = problems_of(documents.user_task('camunda:formKey="review-form"'))

    assert problem.element_id == "review"


CAMUNDA_MODELER_DOCUMENT = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI"
                  xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"
                  xmlns:di="http://www.omg.org/spec/DD/20100524/DI"
                  xmlns:camunda="http://camunda.org/schema/1.0/bpmn"
                  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
                  xmlns:modeler="http://camunda.org/schema/modeler/1.0"
                  id="Definitions_1x2y3z" targetNamespace="http://bpmn.io/schema/bpmn"
                  exporter="Camunda Modeler" exporterVersion="5.31.0"
                  modeler:executionPlatform="Camunda Platform" modeler:executionPlatformVersion="7.22.0">
  <bpmn:process id="tax_registration" name="税务登记" isExecutable="true" camunda:historyTimeToLive="180">
    <bpmn:startEvent id="StartEvent_1" camunda:formKey="embedded:app:forms/start.html">
      <bpmn:outgoing>Flow_0a1b2c3</bpmn:outgoing>
    </bpmn:startEvent>
    <bpmn:userTask id="Activity_accept" name="窗口受理" camunda:formKey="embedded:app:forms/accept.html"
                   camunda:candidateGroups="window">
      <bpmn:incoming>Flow_0a1b2c3</bpmn:incoming>
      <bpmn:outgoing>Flow_1d2e3f4</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:userTask id="Activity_tax_review" name="涉税审查" camunda:formKey="embedded:app:forms/tax.html"
                   camunda:candidateGroups="tax" camunda:dueDate="${dueDate}">
      <bpmn:incoming>Flow_1d2e3f4</bpmn:incoming>
      <bpmn:outgoing>Flow_2g3h4i5</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:exclusiveGateway id="Gateway_ok" default="Flow_rejected">
      <bpmn:incoming>Flow_2g3h4i5</bpmn:incoming>
      <bpmn:outgoing>Flow_approved</bpmn:outgoing>
      <bpmn:outgoing>Flow_rejected</bpmn:outgoing>
    </bpmn:exclusiveGateway>
    <bpmn:endEvent id="Event_approved"><bpmn:incoming>Flow_approved</bpmn:incoming></bpmn:endEvent>
    <bpmn:endEvent id="Event_rejected"><bpmn:incoming>Flow_rejected</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="Flow_0a1b2c3" sourceRef="StartEvent_1" targetRef="Activity_accept"/>
    <bpmn:sequenceFlow id="Flow_1d2e3f4" sourceRef="Activity_accept" targetRef="Activity_tax_review"/>
    <bpmn:sequenceFlow id="Flow_2g3h4i5" sourceRef="Activity_tax_review" targetRef="Gateway_ok"/>
    <bpmn:sequenceFlow id="Flow_approved" sourceRef="Gateway_ok" targetRef="Event_approved">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">
        reviews.get("tax") == "approve"
      </bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="Flow_rejected" sourceRef="Gateway_ok" targetRef="Event_rejected"/>
  </bpmn:process>
  <bpmndi:BPMNDiagram id="BPMNDiagram_1">
    <bpmndi:BPMNPlane id="BPMNPlane_1" bpmnElement="tax_registration">
      <bpmndi:BPMNShape id="_BPMNShape_StartEvent_2" bpmnElement="StartEvent_1">
        <dc:Bounds x="179" y="99" width="36" height="36"/>
      </bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="Activity_accept_di" bpmnElement="Activity_accept">
        <dc:Bounds x="270" y="77" width="100" height="80"/>
      </bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="Activity_tax_review_di" bpmnElement="Activity_tax_review">
        <dc:Bounds x="430" y="77" width="100" height="80"/>
      </bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="Gateway_ok_di" bpmnElement="Gateway_ok" isMarkerVisible="true">
        <dc:Bounds x="585" y="92" width="50" height="50"/>
      </bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="Event_approved_di" bpmnElement="Event_approved">
        <dc:Bounds x="692" y="99" width="36" height="36"/>
      </bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="Event_rejected_di" bpmnElement="Event_rejected">
        <dc:Bounds x="692" y="212" width="36" height="36"/>
      </bpmndi:BPMNShape>
      <bpmndi:BPMNEdge id="Flow_0a1b2c3_di" bpmnElement="Flow_0a1b2c3">
        <di:waypoint x="215" y="117"/><di:waypoint x="270" y="117"/>
      </bpmndi:BPMNEdge>
      <bpmndi:BPMNEdge id="Flow_1d2e3f4_di" bpmnElement="Flow_1d2e3f4">
        <di:waypoint x="370" y="117"/><di:waypoint x="430" y="117"/>
      </bpmndi:BPMNEdge>
      <bpmndi:BPMNEdge id="Flow_2g3h4i5_di" bpmnElement="Flow_2g3h4i5">
        <di:waypoint x="530" y="117"/><di:waypoint x="585" y="117"/>
      </bpmndi:BPMNEdge>
      <bpmndi:BPMNEdge id="Flow_approved_di" bpmnElement="Flow_approved">
        <di:waypoint x="635" y="117"/><di:waypoint x="692" y="117"/>
      </bpmndi:BPMNEdge>
      <bpmndi:BPMNEdge id="Flow_rejected_di" bpmnElement="Flow_rejected">
        <di:waypoint x="610" y="142"/><di:waypoint x="610" y="230"/><di:waypoint x="692" y="230"/>
      </bpmndi:BPMNEdge>
    </bpmndi:BPMNPlane>
  </bpmndi:BPMNDiagram>
</bpmn:definitions>
"""


def test_a_camunda_modeler_document_with_diagram_and_form_keys_compiles():
    compiled = compile_model("tax_registration.bpmn", CAMUNDA_MODELER_DOCUMENT.encode(), departments=DEPARTMENTS)

    assert compiled.process_id == "tax_registration"
    assert [(task.element_id, task.lane) for task in compiled.user_tasks] == [
        ("Activity_accept", "window"),
        ("Activity_tax_review", "tax"),
    ]
    assert compiled.departments == ("tax",)
