"""`manage.py deploy_bpmn FILE…`: a new immutable version, or a non-zero exit listing every problem."""

from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.conftest import DEPARTMENTS
from tests.workflow.helpers import decide, open_and_accept, open_case
from workflow.demo import PROCESSES_DIR
from workflow.lifecycle import CaseStatus
from workflow.models import Case, OneThing, ProcessVersion

pytestmark = pytest.mark.django_db
SHIPPED = PROCESSES_DIR / "enterprise_start" / "enterprise_start.bpmn"


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def deploy(*files) -> tuple[str, str]:
    from io import StringIO

    out, err = StringIO(), StringIO()
    try:
        call_command("deploy_bpmn", *files, stdout=out, stderr=err)
    finally:
        deploy.stderr = err.getvalue()
    return out.getvalue(), err.getvalue()


def test_deploying_the_same_content_again_creates_no_new_version(demo):
    out, _ = deploy(str(SHIPPED))
    assert "内容未变" in out
    assert ProcessVersion.objects.filter(one_thing__key="enterprise_start").count() == 1


def test_a_changed_model_becomes_version_two_and_running_cases_stay_on_version_one(users, tmp_path):
    running = open_and_accept(users)
    changed = SHIPPED.read_text(encoding="utf-8").replace('name="涉税事项审查"', 'name="涉税事项审查（新版）"')
    out, _ = deploy(write(tmp_path, "enterprise_start.bpmn", changed))
    assert "已部署 enterprise_start v2" in out
    assert OneThing.objects.get(key="enterprise_start").current_version.number == 2

    for department in DEPARTMENTS:
        decide(users, running, department)
    running = Case.objects.get(pk=running.pk)
    assert running.process_version.number == 1
    assert running.status == CaseStatus.APPROVED
    assert running.tasks.get(lane="tax").name == "涉税事项审查"

    new_case = Case.objects.get(pk=open_case(users).case.pk)
    assert new_case.process_version.number == 2


def test_versions_are_immutable(demo):
    version = ProcessVersion.objects.get(one_thing__key="enterprise_start")
    version.bpmn_xml = "<changed/>"
    with pytest.raises(ValueError):
        version.save()
    with pytest.raises(ValueError):
        version.delete()


def test_a_bad_file_is_refused_with_every_problem_and_nothing_is_deployed(demo, tmp_path):
    shipped = SHIPPED.read_text(encoding="utf-8")
    good = write(
        tmp_path,
        "good.bpmn",
        shipped.replace('id="enterprise_start"', 'id="enterprise_start_v2"').replace(
            'processRef="enterprise_start"', 'processRef="enterprise_start_v2"'
        ),
    )
    bad = write(
        tmp_path,
        "bad.bpmn",
        shipped.replace('name="tax"', 'name="customs"')
        .replace('reviews.get("market_regulation") != "approve"', '__import__("os").system("id")')
        .replace('intake["decision"] == "accept"', 'intake.__class__ and intake["decision"] == "accept"')
        .replace('outcome = "rejected"', "outcome = secret_value"),
    )
    malformed = write(tmp_path, "malformed.bpmn", shipped[: len(shipped) // 2])
    before = ProcessVersion.objects.count()

    with pytest.raises(CommandError, match="未部署"):
        deploy(good, bad, malformed)
    report = deploy.stderr
    assert "bad.bpmn#Lane_tax" in report and "customs" in report
    assert "bad.bpmn#review_tax" in report  # the user task left without a department
    assert "bad.bpmn#f_review_market_regulation" in report and "__import__" in report
    assert "bad.bpmn#f_gw_plan" in report and "__class__" in report
    assert "bad.bpmn#conclude_rejected" in report and "secret_value" in report
    assert "malformed.bpmn" in report and "XML" in report
    assert ProcessVersion.objects.count() == before
    assert not OneThing.objects.filter(key="enterprise_start_v2").exists()


def test_a_missing_file_is_a_clear_error(demo):
    with pytest.raises(CommandError, match="文件不存在"):
        deploy("/nonexistent/model.bpmn")


CAMUNDA_MODEL = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"
  xmlns:di="http://www.omg.org/spec/DD/20100524/DI" xmlns:camunda="http://camunda.org/schema/1.0/bpmn"
  xmlns:modeler="http://camunda.org/schema/modeler/1.0" id="Definitions_1" targetNamespace="http://bpmn.io/schema/bpmn"
  exporter="Camunda Modeler" exporterVersion="5.31.0" modeler:executionPlatform="Camunda Platform">
  <bpmn:process id="tax_quick" name="税务快办" isExecutable="true" camunda:historyTimeToLive="180">
    <bpmn:startEvent id="StartEvent_1"><bpmn:outgoing>Flow_1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="Activity_window" name="窗口受理" camunda:candidateGroups="window" camunda:formKey="intake">
      <bpmn:incoming>Flow_1</bpmn:incoming><bpmn:outgoing>Flow_2</bpmn:outgoing></bpmn:userTask>
    <bpmn:userTask id="Activity_tax" name="税务审查" camunda:candidateGroups="tax">
      <bpmn:extensionElements><camunda:properties><camunda:property name="sla" value="1" /></camunda:properties>
      </bpmn:extensionElements>
      <bpmn:incoming>Flow_2</bpmn:incoming><bpmn:outgoing>Flow_3</bpmn:outgoing></bpmn:userTask>
    <bpmn:scriptTask id="Activity_outcome" name="结果" scriptFormat="python">
      <bpmn:incoming>Flow_3</bpmn:incoming><bpmn:outgoing>Flow_4</bpmn:outgoing>
      <bpmn:script>outcome = "approved"</bpmn:script></bpmn:scriptTask>
    <bpmn:endEvent id="Event_end"><bpmn:incoming>Flow_4</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_1" targetRef="Activity_window" />
    <bpmn:sequenceFlow id="Flow_2" sourceRef="Activity_window" targetRef="Activity_tax" />
    <bpmn:sequenceFlow id="Flow_3" sourceRef="Activity_tax" targetRef="Activity_outcome" />
    <bpmn:sequenceFlow id="Flow_4" sourceRef="Activity_outcome" targetRef="Event_end" />
  </bpmn:process>
  <bpmndi:BPMNDiagram id="BPMNDiagram_1"><bpmndi:BPMNPlane id="BPMNPlane_1" bpmnElement="tax_quick">
    <bpmndi:BPMNShape id="_start_di" bpmnElement="StartEvent_1"><dc:Bounds x="152" y="82" width="36" height="36" />
    </bpmndi:BPMNShape>
    <bpmndi:BPMNEdge id="Flow_1_di" bpmnElement="Flow_1"><di:waypoint x="188" y="100" /><di:waypoint x="240" y="100" />
    </bpmndi:BPMNEdge>
  </bpmndi:BPMNPlane></bpmndi:BPMNDiagram>
</bpmn:definitions>
"""


def test_a_camunda_modeler_file_deploys_as_drawn_and_its_candidate_groups_route_tasks(demo, tmp_path):
    out, _ = deploy(write(tmp_path, "tax_quick.bpmn", CAMUNDA_MODEL))
    assert "已部署 tax_quick v1" in out
    version = ProcessVersion.objects.get(one_thing__key="tax_quick")
    assert version.departments == ["tax"]
    assert {t["element_id"]: t["lane"] for t in version.user_tasks} == {
        "Activity_window": "window",
        "Activity_tax": "tax",
    }
