"""Every BPMN condition, script and timer expression runs here, under RestrictedPython.

SpiffWorkflow evaluates expressions with plain ``eval``/``exec``; its documented "restricted" recipe is
escapable through ``__subclasses__`` and generator frames. We compile with ``compile_restricted`` and
run with guarded attribute, item and iteration access and a globals dict that holds plain functions
only (a module in globals reaches ``sys.modules``). The same rules are checked statically at deploy
time so a bad model is refused before any case runs.
"""

from __future__ import annotations

import ast
import operator
from functools import lru_cache

from RestrictedPython import compile_restricted, limited_builtins
from RestrictedPython.Eval import default_guarded_getitem, default_guarded_getiter
from RestrictedPython.Guards import (
    full_write_guard,
    guarded_iter_unpack_sequence,
    guarded_unpack_sequence,
    safe_builtins,
    safer_getattr,
)
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment

# Names the engine contract puts into every case's process data (see docs/engine-contract.md).
CONTRACT_VARIABLES = frozenset(
    {"case_no", "one_thing", "form", "intake", "reviews", "review_round", "correction", "outcome"}
)

_EXTRA_BUILTINS = {
    "all": all,
    "any": any,
    "sorted": sorted,
    "min": min,
    "max": max,
    "sum": sum,
    "dict": dict,
    "list": list,
    "set": set,
    "enumerate": enumerate,
    "reversed": reversed,
}
# Not for models: attribute writers, and the BaseException family, which would get past every
# ``except Exception`` between a script and the worker running it (SystemExit stops the process).
_WITHHELD = {"setattr", "delattr", "BaseException", "SystemExit", "KeyboardInterrupt", "GeneratorExit"}
BUILTINS = {
    name: value
    for name, value in {**safe_builtins, **limited_builtins, **_EXTRA_BUILTINS}.items()
    if name not in _WITHHELD
}
ALLOWED_BUILTIN_NAMES = frozenset(name for name in BUILTINS if not name.startswith("_"))
# str.format reaches attributes through its format string ("{0.__class__}"); RestrictedPython refuses
# it at run time, so refuse it at deploy time too.
_REFUSED_ATTRIBUTES = {"format", "format_map"}
_INPLACE_OPERATORS = {
    "+=": operator.iadd,
    "-=": operator.isub,
    "*=": operator.imul,
    "/=": operator.itruediv,
    "//=": operator.ifloordiv,
    "%=": operator.imod,
    "|=": operator.ior,
    "&=": operator.iand,
}


def _inplacevar(op: str, target, value):
    try:
        return _INPLACE_OPERATORS[op](target, value)
    except KeyError:
        raise PermissionError(f"不支持的运算：{op}") from None


class RestrictedCodeError(Exception):
    """Source that RestrictedPython refuses to compile."""


@lru_cache(maxsize=4096)
def compile_source(source: str, mode: str):
    """Compile once per distinct expression; compiled code objects are immutable and shareable."""
    try:
        return compile_restricted(source, "<bpmn>", mode)
    except SyntaxError as exc:
        # Policy violations come back as SyntaxError without a line number; SpiffWorkflow's
        # error formatter would then fail with a TypeError and hide the reason.
        raise RestrictedCodeError("; ".join(str(arg) for arg in exc.args)) from None


class RestrictedEnvironment(TaskDataEnvironment):
    def _globals(self, context: dict, external_context: dict | None) -> dict:
        scope = {
            "__builtins__": BUILTINS,
            "_getattr_": safer_getattr,
            "_getiter_": default_guarded_getiter,
            "_getitem_": default_guarded_getitem,
            "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
            "_unpack_sequence_": guarded_unpack_sequence,
            "_inplacevar_": _inplacevar,
            "_write_": full_write_guard,
        }
        scope.update(self.globals)
        scope.update(external_context or {})
        scope.update(context)
        return scope

    def evaluate(self, expression, context, external_context=None):
        return eval(compile_source(expression, "eval"), self._globals(context, external_context))

    def execute(self, script, context, external_context=None):
        scope = self._globals(context, external_context)
        before = dict(scope)
        exec(compile_source(script, "exec"), scope)
        # Copy back only plain data the script created or changed; never functions or guards.
        for name, value in scope.items():
            if name.startswith("_") or callable(value):
                continue
            if name not in before or before[name] is not value:
                context[name] = value
        for name in [name for name in context if name not in scope]:
            del context[name]
        return True


class RestrictedScriptEngine(PythonScriptEngine):
    def __init__(self):
        super().__init__(environment=RestrictedEnvironment({}))

    def call_service(self, task, **kwargs):
        # SpiffWorkflow 3.2.0's call_service error path raises NameError('script'); no service
        # tasks are allowed until a whitelisted registry exists.
        raise PermissionError("不支持服务任务")


SAFE_ENGINE = RestrictedScriptEngine()


_AUG_OPS = {ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod, ast.BitOr, ast.BitAnd}


def check_source(source: str, mode: str, allowed_names: frozenset[str] | set[str]) -> list[str]:
    """Problems with one expression (mode 'eval') or script (mode 'exec'), in Chinese; empty if fine."""
    try:
        tree = ast.parse(source, mode=mode)
    except SyntaxError as exc:
        return [f"语法错误（第 {exc.lineno} 行）：{exc.msg}"]
    problems: list[str] = []
    local_names = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store)}
    local_names |= {arg.arg for node in ast.walk(tree) if isinstance(node, ast.Lambda) for arg in node.args.args}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            problems.append("不允许导入模块（import）")
        elif isinstance(node, ast.Attribute) and node.attr.startswith("_"):
            problems.append(f"不允许访问下划线属性：{node.attr}")
        elif isinstance(node, ast.Attribute) and node.attr in _REFUSED_ATTRIBUTES:
            problems.append(f"不允许使用字符串 {node.attr}()，请用 + 拼接")
        elif isinstance(node, ast.AugAssign) and type(node.op) not in _AUG_OPS:
            problems.append("不支持该复合赋值运算")
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            if node.id.startswith("_"):
                problems.append(f"不允许使用下划线名称：{node.id}")
            elif node.id not in allowed_names and node.id not in local_names:
                problems.append(f'名称不在白名单内：{node.id}（字面量请加引号，如 "PT2H"）')
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Global | ast.Nonlocal):
            problems.append("不允许在脚本中定义函数、类或使用 global/nonlocal")
    if not problems:
        try:
            compile_source(source, mode)
        except RestrictedCodeError as exc:
            problems.append(f"受限执行环境拒绝：{exc}")
    return list(dict.fromkeys(problems))


def assigned_names(source: str) -> set[str]:
    """Top-level names a script assigns: they become process data other expressions may read."""
    try:
        tree = ast.parse(source, mode="exec")
    except SyntaxError:
        return set()
    return {
        node.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store) and not node.id.startswith("_")
    }
