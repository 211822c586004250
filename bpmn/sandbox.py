"""Every BPMN condition, script and timer expression runs here, under RestrictedPython.

SpiffWorkflow evaluates expressions with plain ``eval``/``exec``; its documented "restricted" recipe is
escapable through ``__subclasses__`` and generator frames. We compile with ``compile_restricted`` and
run with guarded attribute, item and iteration access and a globals dict that holds plain functions
only (a module in globals reaches ``sys.modules``). The same rules are checked statically at deploy
time so a bad model is refused before any case runs.

Resource limits (what a runaway or hostile model can cost). Python cannot interrupt a thread from outside
without ``sys.settrace`` (slow, and shared with debuggers and coverage) or signals (main thread only), so
the limits are checked *inside* the code a model runs, through hooks the compiler adds:

- **Time.** Each evaluation gets a budget: ``STEP_LIMIT`` steps and a wall-clock deadline of
  ``TIME_LIMIT_SECONDS``. A step is one iteration of a ``for`` loop or comprehension (our ``_getiter_``
  yields through a counter), one pass through a ``while`` body (the compiler inserts ``_tick_()`` at the
  top of every ``while`` body) and one call of a ``lambda`` (its body is wrapped in ``_tick_(...)``). Every
  step checks both, so the budget is exceeded at the first step after the deadline, and stays exceeded:
  an ``except Exception`` in the script cannot resume the loop, because the next step raises again.
- **Size.** ``*``, ``**``, ``<<``, ``+`` and ``%`` become calls to guards that refuse, *before* computing,
  a string/bytes longer than ``MAX_STRING_LENGTH``, a list/tuple longer than ``MAX_ITEMS`` (counting what
  nested repetition would expand to), an integer wider than ``MAX_INT_BITS`` and a printf width or
  precision over ``MAX_FORMAT_WIDTH``; so do ``pow()``, ``sum()`` (numbers only), f-string format specs,
  the growing ``str``/``bytes`` methods (``ljust rjust center zfill expandtabs replace join``),
  ``list.extend`` and slice assignment. Everything those guards produce in one evaluation is added up and
  capped at ``MAX_ALLOCATION`` bytes. ``str()``, ``repr()``, f-strings, ``%`` and the data a script writes
  back into the process are walked first (shared references expanded) and refused past
  ``MAX_RENDER_NODES`` values or ``MAX_RENDER_CHARACTERS`` characters of strings: ``[[0] * 10**5] * 10**5``
  and ``("x" * 10**6,) * 10**5`` are small in memory but not as text or JSON.
- At deploy time the static check evaluates constant sub-expressions through the same guards, so
  ``"x" * 10**10``, ``[0] * 10**9`` or ``2 ** 10**8`` in a model is refused with a message, and refuses a
  ``while`` loop whose condition is constantly true and which has no ``break``.

- **Memory, measured.** While an evaluation runs, ``tracemalloc`` traces the process's allocations (started for
  the evaluation, stopped after it unless someone else traces; ~1 µs), and every step compares the memory
  allocated since the evaluation began and still held with ``MAX_ALLOCATION``: what comprehensions and loops
  accumulate is counted as it is, not estimated. What one C-level call would allocate before the next step —
  ``list(range(10**8))``, ``sorted``/``set``/``dict``/``tuple``/``min``/``max``/``any``/``all`` of a huge range,
  ``dict.fromkeys``, ``set.update`` and the other methods that consume an iterable — is refused before the call when
  its argument has a length over ``MAX_ITEMS``; an argument without a length is consumed through the step counter.

Not bounded here: a single C-level call on a large structure built within the limits (hashing a tuple of a
million references to one big tuple, sorting 10**6 items) runs to its end before the next step can check
the clock. The outer bounds are the worker's: Celery's
``CELERY_TASK_SOFT_TIME_LIMIT``/``CELERY_TASK_TIME_LIMIT`` (240/300 s), gunicorn's worker ``--timeout``
(the master replaces a stuck worker) and the service manager's memory limit.
"""

from __future__ import annotations

import ast
import contextvars
import operator
import re
import threading
import time
import tracemalloc
from functools import lru_cache

from RestrictedPython import RestrictingNodeTransformer, compile_restricted, limited_builtins
from RestrictedPython.Eval import default_guarded_getitem
from RestrictedPython.Guards import full_write_guard, guarded_iter_unpack_sequence, safe_builtins, safer_getattr
from RestrictedPython.Guards import guarded_unpack_sequence as _guarded_unpack_sequence
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment

# Names the engine contract puts into every case's process data (see docs/engine-contract.md).
CONTRACT_VARIABLES = frozenset(
    {"case_no", "one_thing", "form", "intake", "reviews", "review_round", "correction", "outcome"}
)

# --- resource limits, per evaluation of one expression or script ---------------------------------------
TIME_LIMIT_SECONDS = 2.0
STEP_LIMIT = 1_000_000
MAX_STRING_LENGTH = 1_000_000  # characters (str) or bytes (bytes) of one value a guarded operation makes
MAX_ITEMS = 100_000  # elements of one list/tuple a guarded operation makes
MAX_INT_BITS = 10_000  # about 3,000 decimal digits
MAX_FORMAT_WIDTH = 10_000  # width/precision in a %-format or f-string format spec
MAX_ALLOCATION = 64 * 2**20  # bytes, everything the size guards let through in one evaluation
MAX_RENDER_NODES = 100_000  # values in what str()/repr()/f-strings/% render and scripts write back
MAX_RENDER_CHARACTERS = 4 * MAX_STRING_LENGTH  # characters of the strings in such a value


class SandboxLimitExceeded(Exception):
    """A model's expression or script went past a time or size limit. Deliberately an ``Exception``:
    SpiffWorkflow turns it into a task error (and the service into a refused, rolled-back step)."""


class SandboxEscape(Exception):
    """A model's code raised something that is not an ``Exception`` (``BaseException`` reached through a generator's
    ``throw``, say): turned into an ordinary error, so every ``except Exception`` between the model and the worker
    holds — the step fails cleanly, a decision table falls back to a person. ``SystemExit`` and
    ``KeyboardInterrupt`` are the process's own signals (a worker being stopped) and pass unchanged."""


def contained(run, *args):
    """``run(*args)``, with any non-``Exception`` the model raises turned into ``SandboxEscape``."""
    try:
        return run(*args)
    except Exception:
        raise
    except (SystemExit, KeyboardInterrupt):
        raise
    except BaseException as exc:
        raise SandboxEscape(f"表达式引发了不允许的异常类型（{type(exc).__name__}）") from None


class _Sequence:
    TEXT = (str, bytes)
    LISTS = (list, tuple)
    ALL = (str, bytes, list, tuple)


_CURRENT_BUDGET: contextvars.ContextVar[_Budget | None] = contextvars.ContextVar("sandbox_budget", default=None)
_tracing_lock = threading.Lock()
_tracing_users = 0
_tracing_ours = False


class _measured:
    """Trace allocations while an evaluation runs (``tracemalloc``), and make ``budget`` the current one (the
    guarded builtins find it there). Re-entrant and thread-safe: tracing stops when the last evaluation ends,
    and never if someone else (a profiler) had started it."""

    def __init__(self, budget: _Budget):
        self.budget = budget

    def __enter__(self):
        global _tracing_users, _tracing_ours
        with _tracing_lock:
            if _tracing_users == 0 and not tracemalloc.is_tracing():
                tracemalloc.start()
                _tracing_ours = True
            _tracing_users += 1
        self.budget.memory_base = tracemalloc.get_traced_memory()[0]
        self.token = _CURRENT_BUDGET.set(self.budget)
        return self.budget

    def __exit__(self, *exc):
        global _tracing_users, _tracing_ours
        _CURRENT_BUDGET.reset(self.token)
        with _tracing_lock:
            _tracing_users -= 1
            if _tracing_users == 0 and _tracing_ours:
                tracemalloc.stop()
                _tracing_ours = False
        return False


class _Budget:
    """The per-evaluation budget and every runtime guard that charges it."""

    __slots__ = ("allocated", "deadline", "memory_base", "steps")

    def __init__(self):
        self.deadline = time.monotonic() + TIME_LIMIT_SECONDS
        self.steps = 0
        self.allocated = 0
        self.memory_base = None  # traced bytes when the evaluation began (None: not measured)

    # -- time and memory ---------------------------------------------------------------------------
    def tick(self, value=None):
        self.steps += 1
        if self.steps > STEP_LIMIT:
            raise SandboxLimitExceeded(f"脚本执行步数超过限制（{STEP_LIMIT:,} 步），可能是死循环")
        if time.monotonic() > self.deadline:
            raise SandboxLimitExceeded(f"脚本执行超过时间限制（{TIME_LIMIT_SECONDS:g} 秒），可能是死循环")
        if self.memory_base is not None and tracemalloc.is_tracing():
            held = tracemalloc.get_traced_memory()[0] - self.memory_base
            if held > MAX_ALLOCATION:
                raise SandboxLimitExceeded(f"脚本占用的内存超过 {MAX_ALLOCATION // 2**20} MB")
        return value

    def bounded(self, iterable):
        """An iterable a C-level call will consume whole: refused over ``MAX_ITEMS`` when it has a length, else
        consumed through the step counter."""
        try:
            length = len(iterable)
        except TypeError:
            return self.getiter(iterable)
        if length > MAX_ITEMS:
            raise SandboxLimitExceeded(f"数据过大：{length:,} 个元素，上限 {MAX_ITEMS:,}")
        return iterable

    def getiter(self, ob):
        return self._counted(iter(ob))

    def _counted(self, iterator):
        tick = self.tick
        for item in iterator:
            tick()
            yield item

    def unpack_sequence(self, it, spec, _getiter_=None):
        return _guarded_unpack_sequence(it, spec, self.getiter)

    def iter_unpack_sequence(self, it, spec, _getiter_=None):
        return guarded_iter_unpack_sequence(it, spec, self.getiter)

    # -- size --------------------------------------------------------------------------------------
    def _produce(self, kind: type, length: int) -> None:
        """Refuse before making a ``kind`` value of ``length`` (characters, items or bits); charge it."""
        if issubclass(kind, _Sequence.TEXT):
            limit, size, unit = MAX_STRING_LENGTH, length, "字符"
        elif issubclass(kind, _Sequence.LISTS):
            limit, size, unit = MAX_ITEMS, 8 * length, "个元素"
        else:
            limit, size, unit = MAX_INT_BITS, length // 8, "位"
        if length > limit:
            raise SandboxLimitExceeded(f"运算结果过大：约 {length:,} {unit}，上限 {limit:,}")
        self.allocated += size
        if self.allocated > MAX_ALLOCATION:
            raise SandboxLimitExceeded(f"脚本累计生成的数据超过 {MAX_ALLOCATION // 2**20} MB")

    def mul(self, a, b):
        self._check_mul(a, b)
        return a * b

    def _check_mul(self, a, b) -> None:
        if isinstance(a, int) and isinstance(b, _Sequence.ALL):
            a, b = b, a
        if isinstance(a, _Sequence.ALL) and isinstance(b, int):
            times = max(b, 0)
            if isinstance(a, _Sequence.LISTS):
                # [[0] * 10**5] * 10**5 is 10**5 references in memory, 10**10 values as text or JSON.
                self._produce(type(a), _expanded_count(a, MAX_ITEMS + 1) * times if times else 0)
            else:
                self._produce(type(a), len(a) * times)
        elif isinstance(a, int) and isinstance(b, int):
            self._produce(int, a.bit_length() + b.bit_length())

    def pow(self, a, b, mod=None):
        if mod is None and isinstance(a, int) and isinstance(b, int) and b > 0 and abs(a) > 1:
            self._produce(int, (abs(a).bit_length() - 1) * b + 1)
        return pow(a, b) if mod is None else pow(a, b, mod)

    def lshift(self, a, b):
        if isinstance(a, int) and isinstance(b, int) and a and b > 0:
            self._produce(int, a.bit_length() + b)
        return a << b

    def add(self, a, b):
        self._check_add(a, b)
        return a + b

    def _check_add(self, a, b) -> None:
        if isinstance(a, _Sequence.ALL) and isinstance(b, _Sequence.ALL) and type(a) is type(b):
            self._produce(type(a), len(a) + len(b))

    def mod(self, a, b):
        if isinstance(a, _Sequence.TEXT):
            _check_printf(a if isinstance(a, str) else a.decode("latin-1"))
            self.check_rendered(b)
            result = a % b
            self._produce(type(a), len(result))
            return result
        return a % b

    def format_value(self, value, conversion: int, spec: str):
        """An f-string's ``{value!conversion:spec}``."""
        self.check_rendered(value)
        if len(spec) > MAX_FORMAT_WIDTH or any(
            len(digits) > 6 or int(digits) > MAX_FORMAT_WIDTH for digits in re.findall(r"\d+", spec)
        ):
            raise SandboxLimitExceeded(f"格式宽度或精度超过 {MAX_FORMAT_WIDTH:,}")
        if conversion == ord("s"):
            value = str(value)
        elif conversion == ord("r"):
            value = repr(value)
        elif conversion == ord("a"):
            value = ascii(value)
        result = format(value, spec)
        self._produce(str, len(result))
        return result

    def inplacevar(self, op: str, target, value):
        # Sized first, then done in place (``a = b = []; a += [1]`` changes b too, as in Python).
        if op == "+=":
            self._check_add(target, value)
        elif op == "*=":
            self._check_mul(target, value)
        elif op == "%=":
            return self.mod(target, value)
        try:
            return _INPLACE_OPERATORS[op](target, value)
        except KeyError:
            raise PermissionError(f"不支持的运算：{op}") from None

    def check_rendered(self, value, what: str = "要转换为文本的数据") -> None:
        _check_rendered(value, what)

    # -- builtins ----------------------------------------------------------------------------------
    def repr(self, value):
        self.check_rendered(value)
        return repr(value)

    def sum(self, iterable, start=0):
        if not isinstance(start, int | float | complex):
            raise SandboxLimitExceeded("sum() 只能对数字求和")
        return sum(self.getiter(iterable), start)

    # -- methods that grow a value -----------------------------------------------------------------
    def getattr(self, obj, name):
        if name in _REFUSED_ATTRIBUTES:  # mro() hands out BaseException; format() reaches attributes
            raise AttributeError(f"不允许访问属性：{name}")
        value = safer_getattr(obj, name)
        if name in _CONSUMING_METHODS and callable(value):
            return _Consuming(self, value)
        if name in _GROWING_METHODS:
            if isinstance(obj, _GROWING_TYPES):
                return _BoundGuard(self, name, obj)
            if isinstance(obj, type) and issubclass(obj, _GROWING_TYPES):
                return _UnboundGuard(self, name, value)
        return value

    def grow(self, obj, name: str, *args, **kwargs):
        method = getattr(obj, name)
        if name in ("ljust", "rjust", "center", "zfill") and args and isinstance(args[0], int):
            self._produce(type(obj), max(len(obj), args[0]))
        elif name == "expandtabs":
            tabsize = args[0] if args else kwargs.get("tabsize", 8)
            if isinstance(tabsize, int):
                self._produce(type(obj), len(obj) * max(tabsize, 1))
        elif name == "replace" and len(args) >= 2 and isinstance(args[0], type(obj)):
            old, new = args[0], args[1]
            count = args[2] if len(args) > 2 else kwargs.get("count", -1)
            hits = obj.count(old) if old else len(obj) + 1
            if isinstance(count, int) and count >= 0:
                hits = min(hits, count)
            if isinstance(new, type(obj)):
                self._produce(type(obj), len(obj) + hits * max(len(new) - len(old), 0))
        elif name == "join" and args:
            parts = list(self.getiter(args[0]))
            self._produce(
                type(obj),
                sum(len(p) for p in parts if isinstance(p, _Sequence.TEXT)) + len(obj) * max(len(parts) - 1, 0),
            )
            return method(parts)
        elif name == "extend" and args:
            items = list(self.getiter(args[0]))
            self._produce(list, len(obj) + len(items))
            return method(items)
        return method(*args, **kwargs)

    def write(self, ob):
        if type(ob) is list:
            return _ListWriter(self, ob)
        return full_write_guard(ob)


_GROWING_TYPES = (str, bytes, list)
_GROWING_METHODS = frozenset({"ljust", "rjust", "center", "zfill", "expandtabs", "replace", "join", "extend"})


# Methods that consume a whole iterable argument in one C-level call.
_CONSUMING_METHODS = frozenset(
    {
        "fromkeys",
        "update",
        "union",
        "intersection",
        "difference",
        "symmetric_difference",
        "intersection_update",
        "difference_update",
        "symmetric_difference_update",
        "issubset",
        "issuperset",
        "isdisjoint",
        "count",
        "index",
    }
)


class _Consuming:
    __slots__ = ("budget", "method")

    def __init__(self, budget: _Budget, method):
        self.budget, self.method = budget, method

    def __call__(self, *args, **kwargs):
        return self.method(
            *(self.budget.bounded(a) if not isinstance(a, str | int | float) else a for a in args), **kwargs
        )


class _Materializing(type):
    """A builtin type for models whose call bounds its iterable argument (``_Budget.bounded``) first; it is
    still the type for ``isinstance`` and its other attributes."""

    def __instancecheck__(cls, obj):
        return isinstance(obj, cls._real)

    def __subclasscheck__(cls, sub):
        return issubclass(sub, cls._real)

    def __call__(cls, *args, **kwargs):
        budget = _CURRENT_BUDGET.get()
        if budget is not None and args:
            args = (budget.bounded(args[0]), *args[1:])
        return cls._real(*args, **kwargs)

    def __getattr__(cls, name):
        value = getattr(cls._real, name)
        budget = _CURRENT_BUDGET.get()
        if budget is not None and name in _CONSUMING_METHODS and callable(value):
            return _Consuming(budget, value)
        return value


def _materializing(real: type) -> type:
    return _Materializing(real.__name__, (), {"_real": real})


def _bounded_function(function):
    def call(*args, **kwargs):
        budget = _CURRENT_BUDGET.get()
        if budget is not None and len(args) == 1:
            args = (budget.bounded(args[0]),)
        return function(*args, **kwargs)

    call.__name__ = function.__name__
    return call


class _BoundGuard:
    __slots__ = ("budget", "name", "obj")

    def __init__(self, budget: _Budget, name: str, obj):
        self.budget, self.name, self.obj = budget, name, obj

    def __call__(self, *args, **kwargs):
        return self.budget.grow(self.obj, self.name, *args, **kwargs)


class _UnboundGuard:
    """``str.join(sep, parts)`` as well as ``sep.join(parts)``."""

    __slots__ = ("budget", "method", "name")

    def __init__(self, budget: _Budget, name: str, method):
        self.budget, self.name, self.method = budget, name, method

    def __call__(self, obj, *args, **kwargs):
        if not isinstance(obj, _GROWING_TYPES):
            return self.method(obj, *args, **kwargs)
        return self.budget.grow(obj, self.name, *args, **kwargs)


class _ListWriter:
    """``_write_(lst)``: item assignment as usual; slice assignment (which can grow the list) is sized first."""

    __slots__ = ("budget", "ob")

    def __init__(self, budget: _Budget, ob: list):
        self.budget, self.ob = budget, ob

    def __setitem__(self, key, value):
        if isinstance(key, slice):
            value = list(self.budget.getiter(value))
            replaced = len(range(*key.indices(len(self.ob))))
            self.budget._produce(list, len(self.ob) - replaced + len(value))
        self.ob[key] = value

    def __delitem__(self, key):
        del self.ob[key]


def _check_rendered(value, what: str = "要转换为文本的数据") -> None:
    """Refuse a container whose text (str, repr, JSON) would be huge: shared references are expanded, as
    rendering expands them, and both the values and the characters of their strings are counted."""
    if not isinstance(value, dict | list | tuple | set | frozenset):
        return
    count, characters = -1, 0
    stack = [value]
    while stack:
        item = stack.pop()
        count += 1
        if count > MAX_RENDER_NODES:
            raise SandboxLimitExceeded(f"{what}过大（超过 {MAX_RENDER_NODES:,} 个值）")
        if isinstance(item, str | bytes):
            characters += len(item)
            if characters > MAX_RENDER_CHARACTERS:
                raise SandboxLimitExceeded(f"{what}过大（超过 {MAX_RENDER_CHARACTERS:,} 个字符）")
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple | set | frozenset):
            stack.extend(item)


def _expanded_count(value, cap: int) -> int:
    """How many values ``value`` holds, with shared references expanded as text or JSON would expand them
    (the container itself not counted), up to ``cap``."""
    count = -1
    stack = [value]
    while stack:
        item = stack.pop()
        count += 1
        if count >= cap:
            return cap
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple | set | frozenset):
            stack.extend(item)
    return count


_PRINTF_SPEC = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d*))?")


def _check_printf(template: str) -> None:
    for width, precision in _PRINTF_SPEC.findall(template):
        for number in (width, precision):
            if number == "*":
                raise SandboxLimitExceeded("% 格式中不允许用 * 指定宽度或精度")
            if number and (len(number) > 6 or int(number) > MAX_FORMAT_WIDTH):
                raise SandboxLimitExceeded(f"格式宽度或精度超过 {MAX_FORMAT_WIDTH:,}")


class _StrType(type):
    def __instancecheck__(cls, obj):
        return isinstance(obj, str)

    def __subclasscheck__(cls, sub):
        return issubclass(sub, str)


class _GuardedStr(str, metaclass=_StrType):
    """``str`` for models: ``str(x)`` is walked first; ``isinstance(v, str)`` still works."""

    def __new__(cls, *args, **kwargs):
        if args:
            _check_rendered(args[0])
        return str(*args, **kwargs)


_EXTRA_BUILTINS = {
    "all": _bounded_function(all),
    "any": _bounded_function(any),
    "sorted": _bounded_function(sorted),
    "min": _bounded_function(min),
    "max": _bounded_function(max),
    "sum": sum,  # replaced per evaluation by the guarded one
    "dict": _materializing(dict),
    "list": _materializing(list),
    "tuple": _materializing(tuple),
    "set": _materializing(set),
    "frozenset": _materializing(frozenset),
    "enumerate": enumerate,
    "reversed": reversed,
    "str": _GuardedStr,
}
# Not for models: attribute writers, and the BaseException family, which would get past every
# ``except Exception`` between a script and the worker running it (SystemExit stops the process).
# ``hash``/``id`` serve no model and hashing a deeply shared tuple is an uninterruptible CPU sink.
_WITHHELD = {"setattr", "delattr", "BaseException", "SystemExit", "KeyboardInterrupt", "GeneratorExit", "hash", "id"}
BUILTINS = {
    name: value
    for name, value in {**safe_builtins, **limited_builtins, **_EXTRA_BUILTINS}.items()
    if name not in _WITHHELD
}
ALLOWED_BUILTIN_NAMES = frozenset(name for name in BUILTINS if not name.startswith("_"))
# str.format reaches attributes through its format string ("{0.__class__}"); RestrictedPython refuses
# it at run time, so refuse it at deploy time too.
# ``mro()`` hands out ``BaseException`` (``Exception.mro()[1]``), which would get past every ``except Exception``.
_REFUSED_ATTRIBUTES = {"format", "format_map", "mro"}
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


class RestrictedCodeError(Exception):
    """Source that RestrictedPython refuses to compile."""


def _call(name: str, args: list[ast.expr], where: ast.AST) -> ast.Call:
    call = ast.Call(func=ast.Name(name, ast.Load()), args=args, keywords=[])
    return ast.fix_missing_locations(ast.copy_location(call, where))


class _LimitingTransformer(RestrictingNodeTransformer):
    """RestrictedPython's policy plus the hooks the resource limits need. The hooks are added after
    RestrictedPython has checked the node, so their underscore names are not refused."""

    _GUARDED_OPERATORS = {
        ast.Mult: "_mul_",
        ast.Pow: "_pow_",
        ast.LShift: "_lshift_",
        ast.Add: "_add_",
        ast.Mod: "_mod_",
    }

    def visit_BinOp(self, node):
        node = super().visit_BinOp(node)
        guard = self._GUARDED_OPERATORS.get(type(node.op))
        return _call(guard, [node.left, node.right], node) if guard else node

    def visit_While(self, node):
        node = super().visit_While(node)
        node.body.insert(0, ast.fix_missing_locations(ast.copy_location(ast.Expr(_call("_tick_", [], node)), node)))
        return node

    def visit_Lambda(self, node):
        node = super().visit_Lambda(node)
        node.body = _call("_tick_", [node.body], node.body)
        return node

    def visit_FormattedValue(self, node):
        node = super().visit_FormattedValue(node)
        spec = node.format_spec if node.format_spec is not None else ast.Constant("")
        node.value = _call("_format_", [node.value, ast.Constant(node.conversion), spec], node)
        node.conversion, node.format_spec = -1, None
        return node


@lru_cache(maxsize=4096)
def compile_source(source: str, mode: str):
    """Compile once per distinct expression; compiled code objects are immutable and shareable."""
    try:
        return compile_restricted(source, "<bpmn>", mode, policy=_LimitingTransformer)
    except SyntaxError as exc:
        # Policy violations come back as SyntaxError without a line number; SpiffWorkflow's
        # error formatter would then fail with a TypeError and hide the reason.
        raise RestrictedCodeError("; ".join(str(arg) for arg in exc.args)) from None


class RestrictedEnvironment(TaskDataEnvironment):
    def _globals(self, context: dict, external_context: dict | None, budget: _Budget) -> dict:
        scope = {
            "__builtins__": {**BUILTINS, "sum": budget.sum, "pow": budget.pow, "repr": budget.repr},
            "_getattr_": budget.getattr,
            "_getiter_": budget.getiter,
            "_getitem_": default_guarded_getitem,
            "_iter_unpack_sequence_": budget.iter_unpack_sequence,
            "_unpack_sequence_": budget.unpack_sequence,
            "_inplacevar_": budget.inplacevar,
            "_write_": budget.write,
            "_tick_": budget.tick,
            "_mul_": budget.mul,
            "_pow_": budget.pow,
            "_lshift_": budget.lshift,
            "_add_": budget.add,
            "_mod_": budget.mod,
            "_format_": budget.format_value,
        }
        scope.update(self.globals)
        scope.update(external_context or {})
        scope.update(context)
        return scope

    def evaluate(self, expression, context, external_context=None):
        budget = _Budget()
        scope = self._globals(context, external_context, budget)
        with _measured(budget):
            result = contained(eval, compile_source(expression, "eval"), scope)
        budget.check_rendered(result, "表达式的结果")
        return result

    def execute(self, script, context, external_context=None):
        budget = _Budget()
        scope = self._globals(context, external_context, budget)
        before = dict(scope)
        with _measured(budget):
            contained(exec, compile_source(script, "exec"), scope)
        # Copy back only plain data the script created or changed; never functions or guards.
        data = {name: value for name, value in scope.items() if not name.startswith("_") and not callable(value)}
        # Checked whether rebound or changed in place: this is what the case's state will hold as JSON.
        for name, value in data.items():
            budget.check_rendered(value, f"脚本写入的流程数据 {name} ")
        context.update({name: value for name, value in data.items() if name not in before or before[name] is not value})
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


# --- deploy-time checks ---------------------------------------------------------------------------------

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
            problems.append(
                "不允许使用 mro()" if node.attr == "mro" else f"不允许使用字符串 {node.attr}()，请用 + 拼接"
            )
        elif isinstance(node, ast.AugAssign) and type(node.op) not in _AUG_OPS:
            problems.append("不支持该复合赋值运算")
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            if node.id.startswith("_"):
                problems.append(f"不允许使用下划线名称：{node.id}")
            elif node.id not in allowed_names and node.id not in local_names:
                problems.append(f'名称不在白名单内：{node.id}（字面量请加引号，如 "PT2H"）')
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Global | ast.Nonlocal):
            problems.append("不允许在脚本中定义函数、类或使用 global/nonlocal")
        elif isinstance(node, ast.While) and _constantly_true(node.test) and not _breaks(node):
            problems.append("while 循环的条件恒为真且循环中没有 break：会无限循环")
        elif isinstance(node, ast.BinOp | ast.Call | ast.JoinedStr):
            problem = _constant_limit_problem(node)
            if problem:
                problems.append(problem)
    if not problems:
        try:
            compile_source(source, mode)
        except RestrictedCodeError as exc:
            problems.append(f"受限执行环境拒绝：{exc}")
    return list(dict.fromkeys(problems))


class _NotConstant(Exception):
    pass


_CONSTANT_OPERATORS = {
    ast.Add: "add",
    ast.Mult: "mul",
    ast.Pow: "pow",
    ast.LShift: "lshift",
    ast.Mod: "mod",
}
_PLAIN_OPERATORS = {ast.Sub: operator.sub, ast.FloorDiv: operator.floordiv, ast.Div: operator.truediv}


def _constant_limit_problem(node: ast.AST) -> str | None:
    """Evaluate a constant sub-expression through the runtime guards: a literal bomb is refused at deploy."""
    try:
        _static_value(node, _Budget())
    except SandboxLimitExceeded as exc:
        return f"表达式会产生过大的值：{exc}"
    except _NotConstant:
        return None
    except Exception:  # e.g. 1 / 0: the model fails at run time like any other faulty expression
        return None
    return None


def _static_value(node: ast.AST, budget: _Budget):
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        value = _static_value(node.operand, budget)
        return -value if isinstance(node.op, ast.USub) else +value
    if isinstance(node, ast.Tuple | ast.List):
        values = [_static_value(element, budget) for element in node.elts]
        return tuple(values) if isinstance(node, ast.Tuple) else values
    if isinstance(node, ast.BinOp):
        left, right = _static_value(node.left, budget), _static_value(node.right, budget)
        if type(node.op) in _CONSTANT_OPERATORS:
            return getattr(budget, _CONSTANT_OPERATORS[type(node.op)])(left, right)
        if type(node.op) in _PLAIN_OPERATORS:
            return _PLAIN_OPERATORS[type(node.op)](left, right)
        raise _NotConstant()
    if isinstance(node, ast.Call) and not node.keywords:
        args = [_static_value(arg, budget) for arg in node.args]
        if isinstance(node.func, ast.Name) and node.func.id == "pow":
            return budget.pow(*args)
        if isinstance(node.func, ast.Attribute) and node.func.attr in _GROWING_METHODS:
            return budget.grow(_static_value(node.func.value, budget), node.func.attr, *args)
        raise _NotConstant()
    if isinstance(node, ast.JoinedStr):
        # A constant format spec with a huge width (f"{x:>999999999}") is refused even if x is not constant.
        for part in node.values:
            if isinstance(part, ast.FormattedValue) and part.format_spec is not None:
                try:
                    spec = _static_value(part.format_spec, budget)
                except _NotConstant:
                    continue
                budget.format_value("", -1, spec)
        if all(isinstance(part, ast.Constant) for part in node.values):
            return "".join(str(part.value) for part in node.values)
        raise _NotConstant()
    raise _NotConstant()


def _constantly_true(test: ast.expr) -> bool:
    try:
        return bool(_static_value(test, _Budget()))
    except Exception:
        return False


def _breaks(loop: ast.While) -> bool:
    """Whether a ``break`` leaves this loop (not one of its inner loops)."""
    stack = list(loop.body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Break):
            return True
        if isinstance(node, ast.For | ast.While | ast.AsyncFor):
            stack.extend(node.orelse)  # a break in an inner loop's body leaves only the inner loop
            continue
        stack.extend(ast.iter_child_nodes(node))
    return False


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
