"""秒批 decision tables: DMN parsed by SpiffWorkflow, every cell run under our RestrictedPython sandbox.

A catalogue item may carry a DMN decision table (``ServiceItem.auto_approval_dmn``). When the item's review
becomes ready the application evaluates the table over the case's answers and the applicant's e-licences;
only an output ``approve`` that is exactly ``True`` approves. Everything else — no rule matching, a rule
saying ``False``, a table that fails to compile or to run, two rules matching a ``UNIQUE`` table — leaves
the review to a person. A decision table must never approve by accident.

- The XML is parsed with SpiffWorkflow's ``DMNParser`` (the same objects its business rule tasks use) and
  checked against the DMN XSD the library ships; every problem is listed with its element id.
- DMN cells are Python expressions that SpiffWorkflow's ``DMNEngine`` turns into ``(input) == (cell)``,
  ``input <op> …`` (a cell starting with an operator: ``> 3``, ``in ("a", "b")``) or, with ``?`` standing
  for the input value, ``? > 3``. At compile time each cell is expanded the same way and checked like a
  BPMN expression (``sandbox.check_source``): no imports, no dunders, only whitelisted names.
- At run time every cell is evaluated by ``sandbox.RestrictedEnvironment`` with one budget shared by the
  whole table: the table gets the time and size limits of one expression, however many rules it has.
- Compiled tables are cached per process by the sha256 of their text, like models (``model.py``).
"""

from __future__ import annotations

import ast
import copy
import hashlib
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from functools import cache
from types import SimpleNamespace

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.dmn.engine.DMNEngine import DMNEngine
from SpiffWorkflow.dmn.parser.BpmnDmnParser import SCHEMAS
from SpiffWorkflow.dmn.parser.DMNParser import DMNParser
from SpiffWorkflow.exceptions import SpiffWorkflowException

from .errors import ModelInvalid, ModelProblem
from .sandbox import (
    ALLOWED_BUILTIN_NAMES,
    RestrictedEnvironment,
    _Budget,
    _measured,
    check_source,
    compile_source,
    contained,
)

# What a decision table's expressions may read (docs/engine-contract.md, "秒批").
DECISION_VARIABLES = frozenset({"form", "licences", "results"})
APPROVE_OUTPUT = "approve"
HIT_POLICIES = ("UNIQUE", "FIRST")
_INPUT_PLACEHOLDER = "dmninputexpr"  # what DMNEngine substitutes for "?" in a cell
# DMNEngine's own rule for "?" outside quotes.
_QUESTION_MARK = re.compile(r"(\?)(?=(?:[^\'\"]|[\'\"][^\'\"]*[\'\"])*$)")
_SAFE_XML_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, remove_comments=True)
MAX_DMN_BYTES = 512 * 1024


class DecisionFailed(Exception):
    """The decision table could not decide (compile or run-time error, ambiguous UNIQUE hit). Never approves."""


@dataclass(frozen=True)
class DecisionOutcome:
    approve: bool  # True only when the matched rule's ``approve`` output is exactly True
    rule: str  # "<rule id>：<description>" of the matched rule, or "" when none matched
    rule_id: str
    outputs: dict = field(default_factory=dict)

    @property
    def matched(self) -> bool:
        return bool(self.rule_id)


@dataclass(frozen=True)
class Decision:
    """A compiled decision table: shared, read-only."""

    content_hash: str
    decision_id: str
    name: str
    hit_policy: str
    table: object = field(repr=False)  # SpiffWorkflow's DecisionTable

    def evaluate(self, inputs: dict) -> DecisionOutcome:
        """Decide over ``inputs`` (``form``, ``licences``, ``results``). Raises DecisionFailed on any failure."""
        environment = _DecisionEnvironment()
        engine = DMNEngine(self.table)
        task = _task(self.name, copy.deepcopy(inputs), _DecisionScriptEngine(environment))
        try:
            matched = []
            for rule in self.table.rules:
                if _rule_matches(engine, rule, task):
                    matched.append(rule)
                    if self.hit_policy == "FIRST":
                        break
            if len(matched) > 1:
                rows = "、".join(str(rule.row_number) for rule in matched)
                raise DecisionFailed(f"命中策略为 UNIQUE，但有多条规则同时命中（第 {rows} 行）")
            if not matched:
                return DecisionOutcome(approve=False, rule="", rule_id="", outputs={})
            rule = matched[0]
            outputs = dict(rule.output_as_dict(task))
        except DecisionFailed:
            raise
        except Exception as exc:  # anything a cell raises, including sandbox limits and refusals
            raise DecisionFailed(_describe(exc)) from None
        label = rule.id + (f"：{rule.description.strip()}" if (rule.description or "").strip() else "")
        return DecisionOutcome(
            approve=outputs.get(APPROVE_OUTPUT) is True, rule=label, rule_id=rule.id, outputs=_plain(outputs)
        )


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def check_decision(text: str, *, filename: str = "") -> list[ModelProblem]:
    """Every problem of a decision table, in Chinese with element ids; empty when it compiles."""
    try:
        compile_decision(text, filename=filename)
    except ModelInvalid as exc:
        return exc.problems
    return []


_compiled: OrderedDict[str, Decision] = OrderedDict()
_compiled_lock = threading.Lock()
_CACHE_SIZE = 256


def compile_decision(text: str, *, filename: str = "") -> Decision:
    """Check and compile a DMN decision table, once per process per content; ModelInvalid lists every problem."""
    key = content_hash(text)
    decision = _compiled.get(key)
    if decision is not None:
        return decision
    decision = _compile(text, key, filename)
    with _compiled_lock:
        _compiled[key] = decision
        while len(_compiled) > _CACHE_SIZE:
            _compiled.popitem(last=False)
    return decision


def _compile(text: str, key: str, filename: str) -> Decision:
    problems: list[ModelProblem] = []

    def problem(element_id: str, message: str) -> None:
        problems.append(ModelProblem(filename, element_id, message))

    def refuse(message: str) -> ModelInvalid:
        return ModelInvalid([ModelProblem(filename, "", message)])

    content = text.encode("utf-8")
    if len(content) > MAX_DMN_BYTES:
        raise refuse(f"决策表过大（超过 {MAX_DMN_BYTES // 1024} KB）")
    try:
        root = etree.fromstring(content, parser=_SAFE_XML_PARSER)
    except etree.XMLSyntaxError as exc:
        raise refuse(f"XML 格式错误：{exc}") from None
    if root.getroottree().docinfo.doctype:
        raise refuse("决策表中不允许 DOCTYPE 声明（实体引用）")
    namespace = etree.QName(root).namespace
    if etree.QName(root).localname != "definitions" or namespace not in SCHEMAS:
        raise refuse("不是 DMN 文件（根元素应为 DMN 1.1/1.2/1.3 的 definitions）")

    schema = _schema(namespace)
    if schema is not None and not schema.validate(root):
        for error in schema.error_log:
            problem(_element_id_at(root, error.path), f"不符合 DMN 规范（第 {error.line} 行）：{error.message}")
        raise ModelInvalid(problems)

    def q(tag: str) -> str:
        return f"{{{namespace}}}{tag}"

    decisions = root.findall(q("decision"))
    if len(decisions) != 1:
        raise refuse(f"文件中应恰有一个决策（decision），实际为 {len(decisions)} 个")
    tables = decisions[0].findall(q("decisionTable"))
    if len(tables) != 1:
        raise ModelInvalid(
            [ModelProblem(filename, decisions[0].get("id", ""), "决策中应恰有一张决策表（decisionTable）")]
        )
    table = tables[0]
    table_id = table.get("id", "")
    hit_policy = (table.get("hitPolicy") or "UNIQUE").upper()
    if hit_policy not in HIT_POLICIES:
        problem(table_id, f"命中策略“{hit_policy}”不适用于秒批，只支持 UNIQUE 或 FIRST")
    outputs = table.findall(q("output"))
    output_names = [(output.get("name") or output.get("label") or "").strip() for output in outputs]
    if APPROVE_OUTPUT not in output_names:
        problem(table_id, f"决策表须有名为 {APPROVE_OUTPUT} 的输出列（为 True 时自动准予）")
    if not table.findall(q("rule")):
        problem(table_id, "决策表没有任何规则")

    allowed = DECISION_VARIABLES | ALLOWED_BUILTIN_NAMES
    input_expressions: list[str | None] = []
    for column in table.findall(q("input")):
        node = column.find(f"{q('inputExpression')}/{q('text')}")
        source = (node.text or "").strip() if node is not None else ""
        owner = column.find(q("inputExpression"))
        element_id = (owner.get("id") if owner is not None else None) or column.get("id", "")
        if not source:
            problem(element_id, '输入列须写输入表达式，如 form.get("payment_method")')
            input_expressions.append(None)
            continue
        messages = check_source(source, "eval", allowed)
        for message in messages:
            problem(element_id, f"输入表达式“{_shorten(source)}”：{message}")
        input_expressions.append(None if messages else source)  # its cells are not checked again

    for rule in table.findall(q("rule")):
        entries = rule.findall(q("inputEntry"))
        if len(entries) != len(input_expressions):
            problem(
                rule.get("id", ""), f"规则的条件单元格数（{len(entries)}）与输入列数（{len(input_expressions)}）不一致"
            )
        for entry, source in zip(entries, input_expressions, strict=False):
            cell = entry.findtext(q("text"))
            if cell is None or cell == "-" or source is None:
                continue  # "-" (or no text): any value
            for message in _cell_problems(source, cell, allowed):
                problem(entry.get("id", ""), f"条件“{_shorten(cell)}”：{message}")
        outs = rule.findall(q("outputEntry"))
        if len(outs) != len(outputs):
            problem(rule.get("id", ""), f"规则的结果单元格数（{len(outs)}）与输出列数（{len(outputs)}）不一致")
        for entry in outs:
            cell = (entry.findtext(q("text")) or "").strip()
            if cell:
                for message in check_source(cell, "eval", allowed):
                    problem(entry.get("id", ""), f"结果“{_shorten(cell)}”：{message}")
    if problems:
        raise ModelInvalid(problems)

    nsmap = {**{k: v for k, v in root.nsmap.items() if k}, "dmn": namespace}
    try:
        parser = DMNParser(None, root, nsmap, filename=filename)
        parser.parse()
        parsed = parser.decision
    except ValidationException as exc:
        raise ModelInvalid([ModelProblem(filename, getattr(exc, "id", "") or "", f"DMN 解析失败：{exc}")]) from None
    except Exception as exc:  # the parser raises assorted errors on tables it cannot build
        raise refuse(f"DMN 解析失败：{exc}") from None
    return Decision(
        content_hash=key,
        decision_id=parsed.id,
        name=parsed.name or parsed.id,
        hit_policy=hit_policy,
        table=parsed.decisionTables[0],
    )


def _cell_problems(input_source: str, cell: str, allowed: frozenset[str]) -> list[str]:
    """Check a condition cell as the expression DMNEngine will evaluate (see DMNEngine.evaluate)."""
    expanded = _QUESTION_MARK.sub(_INPUT_PLACEHOLDER, cell)
    if _INPUT_PLACEHOLDER in expanded:
        return check_source(expanded, "eval", allowed | {_INPUT_PLACEHOLDER})
    try:
        ast.parse(cell)
        expression = f"({input_source}) == ({cell})"
    except SyntaxError:
        expression = input_source + cell
    return check_source(expression, "eval", allowed)


@cache
def _schema(namespace: str) -> etree.XMLSchema | None:
    """The XSD SpiffWorkflow ships for a DMN version; None when it does not load (its DMN 1.2 schema's DMNDI
    import is broken in 3.2.0): such tables get the structural checks below only."""
    try:
        return etree.XMLSchema(etree.parse(SCHEMAS[namespace]))
    except etree.XMLSchemaParseError:
        return None


def _element_id_at(root, path: str | None) -> str:
    """The id of the element an XSD error is about (``path`` is its XPath), or of its nearest parent with one."""
    try:
        found = root.getroottree().xpath(path) if path else []
    except etree.XPathError:
        found = []
    element = found[0] if found and isinstance(found[0], etree._Element) else None
    while element is not None and not element.get("id"):
        element = element.getparent()
    return element.get("id", "") if element is not None else ""


# --- run time ---------------------------------------------------------------------------------------------


class _DecisionEnvironment(RestrictedEnvironment):
    """The sandbox with one budget for the whole table: its time and size limits are one expression's."""

    def __init__(self):
        super().__init__({})
        self.budget = _Budget()

    def evaluate(self, expression, context, external_context=None):
        scope = self._globals(context, external_context, self.budget)
        with _measured(self.budget):
            result = contained(eval, compile_source(expression, "eval"), scope)
        self.budget.check_rendered(result, "表达式的结果")
        return result

    def execute(self, script, context, external_context=None):
        raise PermissionError("决策表中不能执行脚本")


class _CellFailed(SpiffWorkflowException):
    """A cell raised; a SpiffWorkflowException so DMNEngine passes it on with the rule's row noted."""


class _DecisionScriptEngine(PythonScriptEngine):
    def evaluate(self, task, expression, external_context=None):
        try:
            return self.environment.evaluate(expression, task.data, external_context)
        except Exception as exc:
            raise _CellFailed(f"表达式“{_shorten(expression)}”出错：{_describe(exc)}") from exc


def _task(name: str, data: dict, engine: PythonScriptEngine):
    """The little of a SpiffWorkflow task that DMNEngine and Rule.output_as_dict read."""
    workflow = SimpleNamespace(script_engine=engine, spec=SimpleNamespace(file="秒批规则"), parent_workflow=None)
    workflow.top_workflow = workflow
    return SimpleNamespace(data=data, workflow=workflow, task_spec=SimpleNamespace(name=name, bpmn_name=name))


def _rule_matches(engine: DMNEngine, rule, task) -> bool:
    for entry in rule.inputEntries:
        for cell in entry.lhs:
            if cell is None:
                continue  # "-": any value
            if not engine.evaluate(entry.input.expression, cell, task):
                return False
    return True


def _plain(outputs: dict) -> dict:
    """Outputs as JSON-safe values for the audit trail."""
    plain = {}
    for key, value in outputs.items():
        plain[str(key)] = value if isinstance(value, str | int | float | bool | type(None)) else repr(value)[:200]
    return plain


def _describe(exc: Exception) -> str:
    text = str(exc).strip()
    first = text.splitlines()[0] if text else exc.__class__.__name__
    return first[:300]


def _shorten(source: str, limit: int = 60) -> str:
    flat = " ".join(source.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
