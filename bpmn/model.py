"""Deploy-time work on a BPMN model: check it, compile it once, and load it from its compiled form.

A model is checked for everything an administrator can get wrong — XML, lanes, user tasks without a
department, expressions outside the sandbox — and every problem is reported with its element id, not
just the first. The parsed spec is serialized once per content hash; workers load it from that text and
keep it in memory, so no request ever parses BPMN.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from lxml import etree
from SpiffWorkflow.bpmn.parser.task_parsers import GatewayParser
from SpiffWorkflow.bpmn.parser.util import full_tag
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser

from .errors import ModelInvalid, ModelProblem
from .gateways import LoopSafeParallelGateway
from .sandbox import ALLOWED_BUILTIN_NAMES, CONTRACT_VARIABLES, assigned_names, check_source
from .serializer import SERIALIZER

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
RESERVED_LANES = frozenset({"window", "applicant"})
HUMAN_TASK_TAGS = ("userTask", "manualTask")
# (tag, namespace, mode): where expressions live in BPMN XML.
_EXPRESSION_ELEMENTS = (
    ("conditionExpression", BPMN_NS, "eval"),
    ("script", BPMN_NS, "exec"),
    ("timeDuration", BPMN_NS, "eval"),
    ("timeDate", BPMN_NS, "eval"),
    ("timeCycle", BPMN_NS, "eval"),
    ("loopCardinality", BPMN_NS, "eval"),
    ("completionCondition", BPMN_NS, "eval"),
    ("loopCondition", BPMN_NS, "eval"),  # standard loop characteristics
    ("condition", BPMN_NS, "eval"),  # a conditional event's condition
    ("formalExpression", BPMN_NS, "eval"),  # correlation property retrieval expressions
    ("preScript", SPIFF_NS, "exec"),
    ("postScript", SPIFF_NS, "exec"),
    ("messagePayload", SPIFF_NS, "eval"),
    ("expression", SPIFF_NS, "eval"),  # spiffworkflow:processVariableCorrelation
)
# (tag, namespace, attribute): expressions SpiffWorkflow evaluates from an attribute (service task parameters).
_EXPRESSION_ATTRIBUTES = (("parameter", SPIFF_NS, "value"),)
_SAFE_XML_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, remove_comments=True)


class _Parser(SpiffBpmnParser):
    OVERRIDE_PARSER_CLASSES = {
        **SpiffBpmnParser.OVERRIDE_PARSER_CLASSES,
        full_tag("parallelGateway"): (GatewayParser, LoopSafeParallelGateway),
    }


@dataclass(frozen=True)
class UserTaskInfo:
    element_id: str
    name: str
    lane: str  # a department code or a reserved lane


@dataclass(frozen=True)
class CompiledModel:
    """What a deploy stores: the model's identity, its human tasks and the serialized spec."""

    process_id: str
    name: str
    content_hash: str
    departments: tuple[str, ...]
    user_tasks: tuple[UserTaskInfo, ...]
    compiled: str = field(repr=False)  # JSON text: serialized spec + task assignments


def content_hash(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def compile_model(filename: str, content: bytes, *, departments: Iterable[str]) -> CompiledModel:
    """Check one BPMN file and compile it, or raise ModelInvalid listing every problem found."""
    known_lanes = frozenset(departments) | RESERVED_LANES
    problems: list[ModelProblem] = []

    def problem(element_id: str, message: str) -> None:
        problems.append(ModelProblem(filename, element_id, message))

    try:
        content.decode("utf-8")
    except UnicodeDecodeError:
        raise ModelInvalid([ModelProblem(filename, "", "文件须为 UTF-8 编码")]) from None
    try:
        root = etree.fromstring(content, parser=_SAFE_XML_PARSER)
    except etree.XMLSyntaxError as exc:
        raise ModelInvalid([ModelProblem(filename, "", f"XML 格式错误：{exc}")]) from None
    if root.tag != f"{{{BPMN_NS}}}definitions":
        raise ModelInvalid([ModelProblem(filename, "", "不是 BPMN 2.0 文件（根元素应为 bpmn:definitions）")])

    processes = [p for p in root.iter(f"{{{BPMN_NS}}}process") if p.get("isExecutable", "true") == "true"]
    if len(processes) != 1:
        raise ModelInvalid([ModelProblem(filename, "", f"文件中应恰有一个可执行流程，实际为 {len(processes)} 个")])
    process = processes[0]
    process_id = process.get("id", "")

    lane_of: dict[str, str] = {}
    for lane in process.iter(f"{{{BPMN_NS}}}lane"):
        if lane.find(f"{{{BPMN_NS}}}childLaneSet") is not None:
            continue  # only the innermost lane names the department
        lane_name = (lane.get("name") or "").strip()
        if lane_name not in known_lanes:
            problem(lane.get("id", ""), f"泳道名称“{lane_name}”不是已登记的部门编码，也不是保留泳道 window/applicant")
            continue
        for ref in lane.iter(f"{{{BPMN_NS}}}flowNodeRef"):
            lane_of[(ref.text or "").strip()] = lane_name

    user_tasks: list[UserTaskInfo] = []
    for tag in HUMAN_TASK_TAGS:
        for task in process.iter(f"{{{BPMN_NS}}}{tag}"):
            task_id = task.get("id", "")
            groups = [g.strip() for g in (task.get(f"{{{CAMUNDA_NS}}}candidateGroups") or "").split(",") if g.strip()]
            lane_name = lane_of.get(task_id)
            if groups:
                unknown = [g for g in groups if g not in known_lanes]
                if unknown:
                    problem(task_id, f"camunda:candidateGroups 含未登记的部门：{'、'.join(unknown)}")
                    continue
                if len(groups) > 1:
                    problem(task_id, "一个任务只能属于一个部门（candidateGroups 只能写一个部门编码）")
                    continue
                if lane_name and lane_name != groups[0]:
                    problem(task_id, f"泳道“{lane_name}”与 candidateGroups“{groups[0]}”不一致")
                    continue
                lane_name = groups[0]
            if not lane_name:
                problem(task_id, "用户任务不在任何部门泳道或保留泳道内，也没有 camunda:candidateGroups")
                continue
            user_tasks.append(UserTaskInfo(task_id, task.get("name") or task_id, lane_name))

    expressions: list[tuple[str, str, str]] = []  # (element id, source, mode)
    for tag, namespace, mode in _EXPRESSION_ELEMENTS:
        for node in process.iter(f"{{{namespace}}}{tag}"):
            owner = node.getparent()
            # Report on the element an administrator can click: the event, not its event definition.
            while owner is not None and (not owner.get("id") or owner.tag.endswith("EventDefinition")):
                owner = owner.getparent()
            source = (node.text or "").strip()
            if source:
                expressions.append((owner.get("id", "") if owner is not None else "", source, mode))
    for tag, namespace, attribute in _EXPRESSION_ATTRIBUTES:
        for node in process.iter(f"{{{namespace}}}{tag}"):
            owner = next((a for a in node.iterancestors() if a.get("id")), None)
            source = (node.get(attribute) or "").strip()
            if source:
                expressions.append((owner.get("id", "") if owner is not None else "", source, "eval"))
    defined = set(CONTRACT_VARIABLES) | set(ALLOWED_BUILTIN_NAMES)
    for _, source, mode in expressions:
        if mode == "exec":
            defined |= assigned_names(source)
    frozen_defined = frozenset(defined)
    for element_id, source, mode in expressions:
        for message in check_source(source, mode, frozen_defined):
            problem(element_id, f"表达式“{_shorten(source)}”：{message}")

    parser = _Parser(validator=VALIDATOR)
    spec = subprocess_specs = None
    try:
        parser.add_bpmn_xml(root, filename=filename)
        spec = parser.get_spec(process_id)
        subprocess_specs = parser.get_subprocess_specs(process_id)
    except ValidationException as exc:
        problem(getattr(exc, "id", "") or "", f"BPMN 校验失败：{_first_line(exc)}")
    except Exception as exc:  # the parser raises assorted errors on models it cannot build
        problem("", f"BPMN 解析失败：{_first_line(exc)}")

    if problems:
        raise ModelInvalid(problems)

    assignments = {t.element_id: t.lane for t in user_tasks}
    compiled = json.dumps(
        {
            "process_id": process_id,
            "spec": SERIALIZER.to_dict(spec),
            "subprocess_specs": {k: SERIALIZER.to_dict(v) for k, v in subprocess_specs.items()},
            "assignments": assignments,
        },
        ensure_ascii=False,
    )
    return CompiledModel(
        process_id=process_id,
        name=process.get("name") or process_id,
        content_hash=content_hash(content),
        departments=tuple(sorted({t.lane for t in user_tasks} - RESERVED_LANES)),
        user_tasks=tuple(user_tasks),
        compiled=compiled,
    )


@dataclass(frozen=True)
class LoadedModel:
    """A deployed model ready to run: shared, read-only spec objects."""

    content_hash: str
    process_id: str
    spec: object
    subprocess_specs: Mapping[str, object]
    assignments: Mapping[str, str]

    @property
    def element_ids(self) -> frozenset[str]:
        """The BPMN ids of every task, gateway and event of the model (and its subprocesses)."""
        specs = [self.spec, *self.subprocess_specs.values()]
        return frozenset(name for spec in specs for name in spec.task_specs)


_loaded: dict[str, LoadedModel] = {}
_loaded_lock = threading.Lock()


def load_model(content_hash: str, compiled: str | Callable[[], str]) -> LoadedModel:
    """The model for a content hash, restored from its compiled text once per process.

    ``compiled`` may be a callable, so callers fetch the (large) text only on a cache miss.
    """
    model = _loaded.get(content_hash)
    if model is not None:
        return model
    with _loaded_lock:
        model = _loaded.get(content_hash)
        if model is None:
            data = json.loads(compiled() if callable(compiled) else compiled)
            model = LoadedModel(
                content_hash=content_hash,
                process_id=data["process_id"],
                spec=SERIALIZER.from_dict(data["spec"]),
                subprocess_specs={k: SERIALIZER.from_dict(v) for k, v in data["subprocess_specs"].items()},
                assignments=data["assignments"],
            )
            _loaded[content_hash] = model
    return model


def _shorten(source: str, limit: int = 60) -> str:
    flat = " ".join(source.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else exc.__class__.__name__
