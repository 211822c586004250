"""The attack suite for model expressions and scripts, beyond the basic escapes in test_sandbox.py.

Three promises, each tried from both sides (the deploy-time check an administrator meets, and the run
time as if that check had been bypassed):
1. nothing escapes: no module, frame, builtin or dunder is ever handed back;
2. deploy refuses what it can see statically (literal bombs, ``while True`` without ``break``);
3. a runaway script is stopped: by the step budget, by the wall-clock deadline, and by the size guards
   before the allocation happens — and a swallowed limit error does not let the loop go on.
"""

from __future__ import annotations

import time

import pytest

from bpmn import ModelInvalid, ProcessError, ProcessInstance, compile_model, load_model, sandbox
from bpmn.sandbox import SAFE_ENGINE, SandboxLimitExceeded

DEPARTMENTS = ("market_regulation", "public_security", "tax")
FORM = {"company_name": "测试有限公司", "capital": 100}


def evaluate(expression: str, **data):
    return SAFE_ENGINE.environment.evaluate(expression, {"form": dict(FORM), **data})


def execute(script: str, **data) -> dict:
    context = {"form": dict(FORM), **data}
    SAFE_ENGINE.environment.execute(script, context)
    return context


@pytest.fixture
def small_budget(monkeypatch):
    """A step budget CI can exhaust in milliseconds; the real one is tested once below."""
    monkeypatch.setattr(sandbox, "STEP_LIMIT", 20_000)


# --- 1. nothing escapes ---------------------------------------------------------------------------

ESCAPES = [
    ("builtins-via-function-self", "sorted.__self__"),
    ("builtins-via-method-self", "form.get.__self__"),
    ("lambda-globals", "(lambda: 0).__globals__"),
    ("lambda-code", "(lambda: 0).__code__"),
    ("mro-walk", "form.__class__.__mro__[-1].__subclasses__()"),
    ("object-via-mro-method", "str.mro()[-1].__subclasses__()"),
    ("generator-code", "(x for x in []).gi_code"),
    ("generator-frame-globals", "(x for x in []).gi_frame.f_globals"),
    ("generator-yieldfrom", "(x for x in []).gi_yieldfrom"),
    ("fullwidth-dunder-import", "＿＿import＿＿('os')"),
    ("fullwidth-eval", "ｅｖａｌ('1')"),
    ("vars", "vars()"),
    ("dir", "dir()"),
    ("locals", "locals()"),
    ("builtins-name", "__builtins__"),
    ("getattr-builtin", 'getattr(form, "get")'),
    ("compile", 'compile("1", "x", "eval")'),
    ("exec", 'exec("x = 1")'),
    ("breakpoint", "breakpoint()"),
    ("object-builtin", "object"),
    ("super-builtin", "super"),
    ("memoryview", 'memoryview(b"x")'),
    ("hash-builtin", "hash((1, 2))"),
    ("id-builtin", "id(form)"),
    ("guard-helper", "_write_"),
    ("fstring-dunder", 'f"{form.__class__}"'),
    ("fstring-nested-dunder", 'f"{form:{form.__class__}}"'),
    ("percent-dunder", '"%s" % (form.__class__,)'),
    ("format-via-real-str", 'str.mro()[1].format("{0.__class__}", 1)'),
    ("format-via-method-ref", 'sorted(["{0.__class__}"])[0].format(1)'),
    ("format-map-unbound", 'str.format_map("{x.__class__}", {"x": 1})'),
]


def escape_params():
    return [pytest.param(source, id=attack_id) for attack_id, source in ESCAPES]


@pytest.mark.parametrize("expression", escape_params())
def test_deploy_refuses_the_escape(problems_of, documents, expression):
    problems = problems_of(documents.condition(expression))

    assert {problem.element_id for problem in problems} == {"f_condition"}


@pytest.mark.parametrize("expression", escape_params())
def test_the_runtime_refuses_the_escape(expression):
    with pytest.raises(Exception) as refusal:  # any refusal, as long as nothing comes back
        evaluate(expression)

    assert not isinstance(refusal.value, SandboxLimitExceeded), "refused for size, not for the escape"


@pytest.mark.parametrize("expression", escape_params())
def test_the_runtime_refuses_the_escape_in_a_script(expression):
    context = {"form": dict(FORM)}

    with pytest.raises(Exception):  # noqa: B017
        SAFE_ENGINE.environment.execute(f"stolen = {expression}", context)

    assert "stolen" not in context


def test_a_caught_exception_exposes_no_traceback_or_frame():
    script = "try:\n    x = 1 / 0\nexcept ZeroDivisionError as error:\n    stolen = error.__traceback__.tb_frame"

    with pytest.raises(Exception):  # noqa: B017
        execute(script)


def test_the_str_builtin_is_guarded_but_still_a_type_for_isinstance():
    assert evaluate('isinstance(form["company_name"], str) and not isinstance(form["capital"], str)') is True
    assert evaluate('str(form["capital"]) + "万元"') == "100万元"
    assert evaluate('str.join("、", ["甲", "乙"])') == "甲、乙"


def test_guards_are_per_evaluation_and_not_reachable_from_process_data():
    context = execute("names = sorted(form)\nhelper = lambda value: value\ntotal = sum([1, 2]) + pow(2, 3)")

    assert context["names"] == ["capital", "company_name"]
    assert context["total"] == 11
    assert "helper" not in context
    assert not any(name.startswith("_") for name in context)


# --- 2. deploy refuses what it can see ------------------------------------------------------------

STATIC_BOMBS = [
    ("string-repetition", '"x" * 10**10'),
    ("list-repetition", "[0] * 10**9"),
    ("nested-repetition", "[[0] * 10**5] * 10**5"),
    ("power", "2 ** 10**8"),
    ("tower", "10 ** 10 ** 10"),
    ("pow-builtin", "pow(3, 10**8)"),
    ("left-shift", "1 << 10**9"),
    ("ljust", '"x".ljust(10**10)'),
    ("replace-blowup", '"ab".replace("", "x" * 100000).replace("", "y" * 100000)'),
    ("join-blowup", '"-".join(["x" * 1000] * 100000)'),
    ("printf-width", '"%999999999d" % 1'),
    ("fstring-width", 'f"{form:>999999999}"'),
    ("sum-of-lists", "sum([[0] * 1000] * 1000, [])"),
]


@pytest.mark.parametrize("expression", [pytest.param(source, id=attack_id) for attack_id, source in STATIC_BOMBS])
def test_deploy_refuses_a_literal_bomb(problems_of, documents, expression):
    started = time.monotonic()

    [problem] = problems_of(documents.script(f"outcome = {expression}"))

    assert problem.element_id == "run_script"
    assert "过大" in problem.message or "超过" in problem.message, problem.message
    assert time.monotonic() - started < 2, "the static check must not compute the bomb"


@pytest.mark.parametrize(
    "script",
    [
        pytest.param("while True:\n    outcome = 1", id="while-true"),
        pytest.param("while 1:\n    for x in [1]:\n        break", id="break-only-in-inner-loop"),
    ],
)
def test_deploy_refuses_an_endless_while_loop(problems_of, documents, script):
    [problem] = problems_of(documents.script(script))

    assert problem.element_id == "run_script"
    assert "无限循环" in problem.message


def test_deploy_accepts_a_bounded_while_loop_and_ordinary_arithmetic(documents):
    script = "\n".join(
        [
            "review_round = review_round + 1",
            "while True:",
            "    if review_round > 0:",
            "        break",
            'outcome = "第" + str(review_round) + "轮：" + "、".join(sorted(reviews)) + "-" * 3',
            "limit = 2 ** 10 + (1 << 4) + 10 ** 6 * 3",
            'label = f"{review_round:>4}|{outcome:<10.5}|" + "%05d" % review_round',
        ]
    )
    compiled = compile_model("bounded.bpmn", documents.script(script).encode(), departments=DEPARTMENTS)
    model = load_model(compiled.content_hash, compiled.compiled)

    instance = ProcessInstance.start(model, {"form": {}, "reviews": {"tax": "approve"}, "review_round": 0})

    assert instance.data["outcome"] == "第1轮：tax---"
    assert instance.data["limit"] == 1024 + 16 + 3_000_000
    assert instance.data["label"] == "   1|第1轮：t     |00001"


# --- 3. runtime: the same bombs built from data, out of the static check's sight ------------------

DYNAMIC_BOMBS = [
    ("string-repetition", '"x" * n'),
    ("list-repetition", "[0] * n"),
    ("reversed-operands", "n * [0]"),
    ("nested-repetition", "[[0] * small] * small"),
    ("bytes-repetition", 'b"x" * n'),
    ("power", "2 ** n"),
    ("pow-builtin", "pow(2, n)"),
    ("left-shift", "1 << n"),
    ("ljust", '"x".ljust(n)'),
    ("unbound-ljust", 'str.ljust("x", n)'),
    ("center", '"x".center(n)'),
    ("zfill", '"1".zfill(n)'),
    ("expandtabs", '("\\t" * 1000).expandtabs(n)'),
    ("printf-width-from-data", '("%" + str(n) + "d") % 1'),
    ("printf-star-width", '"%*d" % (n, 1)'),
    ("fstring-width-from-data", 'f"{1:>{n}}"'),
    ("str-of-shared-structure", "str([[0] * small for i in range(999)])"),
    ("repr-of-shared-structure", "repr([[0] * small for i in range(999)])"),
    ("fstring-of-shared-structure", 'f"{[[0] * small for i in range(999)]}"'),
    ("percent-of-shared-structure", '"%s" % ([[0] * small for i in range(999)],)'),
    ("str-of-shared-long-string", 'str(("x" * 1000000,) * 99999)'),
]


@pytest.mark.parametrize("expression", [pytest.param(source, id=attack_id) for attack_id, source in DYNAMIC_BOMBS])
def test_the_runtime_refuses_a_bomb_before_allocating_it(expression):
    started = time.monotonic()

    with pytest.raises(SandboxLimitExceeded):
        evaluate(expression, n=10**10, small=10**5)

    assert time.monotonic() - started < 2


GROWING_LOOPS = [
    ("concatenation-doubling", 's = "ab"\nfor i in range(60):\n    s = s + s'),
    ("augmented-doubling", 's = "ab"\nfor i in range(60):\n    s += s'),
    ("augmented-repetition", "s = [0]\nfor i in range(60):\n    s *= 2"),
    ("extend-doubling", "s = [0]\nfor i in range(60):\n    s.extend(s)"),
    ("slice-assignment-doubling", "s = [0]\nfor i in range(60):\n    s[len(s):] = s"),
    ("join-doubling", 's = "ab"\nfor i in range(60):\n    s = "".join([s, s])'),
    ("replace-doubling", 's = "ab"\nfor i in range(60):\n    s = s.replace("a", "aa" + s)'),
    ("integer-squaring", "x = 3\nfor i in range(60):\n    x = x * x"),
    ("cumulative-allocation", 'parts = []\nfor i in range(999):\n    parts.append("x" * 999999)'),
    ("shared-data-written-back", "big = [0] * 100000\nstolen = [big for i in range(999)]"),
    ("shared-data-changed-in-place", 'big = [0] * 100000\nform["x"] = [big for i in range(999)]'),
    ("shared-long-string-written-back", 'big = "x" * 1000000\nstolen = (big,) * 99999'),
    ("aliased-list-grows-in-place", "a = [0]\nb = a\nfor i in range(60):\n    a += b"),
]


@pytest.mark.parametrize("script", [pytest.param(source, id=attack_id) for attack_id, source in GROWING_LOOPS])
def test_the_runtime_stops_a_value_growing_in_a_loop(script):
    started = time.monotonic()
    context = {"form": dict(FORM)}

    with pytest.raises(SandboxLimitExceeded):
        SAFE_ENGINE.environment.execute(script, context)

    assert time.monotonic() - started < 3
    assert "stolen" not in context


RUNAWAYS = [
    ("while-counter", "x = 0\nwhile x >= 0:\n    x = x + 1"),
    ("while-on-data", "while form:\n    x = 1"),
    ("nested-comprehension", "x = [[i, j] for i in range(999) for j in range(999) for k in range(999)]"),
    ("generator-consumed-by-builtin", "x = sum(i * j for i in range(999) for j in range(999) for k in range(999))"),
    ("sorted-with-key", "x = [sorted(range(999), key=lambda v: -v) for i in range(999)]"),
    ("exponential-recursion", "f = lambda n: 0 if n == 0 else f(n - 1) + f(n - 1)\nx = f(60)"),
    ("tuple-unpacking-loop", "x = 0\nfor a, b in [(i, j) for i in range(999) for j in range(999)]:\n    x += a"),
    (
        "limit-error-swallowed",
        "x = 0\nwhile x >= 0:\n    try:\n        while True:\n            x = x + 1\n"
        "    except Exception:\n        x = x + 1",
    ),
    (
        "limit-error-swallowed-in-comprehension",
        "x = 0\nwhile x >= 0:\n    try:\n        y = [i for i in range(999) for j in range(999)]\n"
        "    except Exception:\n        pass",
    ),
]


@pytest.mark.parametrize("script", [pytest.param(source, id=attack_id) for attack_id, source in RUNAWAYS])
def test_a_runaway_script_is_stopped_by_the_step_budget(small_budget, script):
    started = time.monotonic()

    with pytest.raises(SandboxLimitExceeded, match="步数"):
        execute(script)

    assert time.monotonic() - started < 2


def test_a_runaway_condition_is_stopped_too(small_budget):
    with pytest.raises(SandboxLimitExceeded):
        evaluate("len([1 for i in range(999) for j in range(999)]) > 0")


def test_the_wall_clock_deadline_stops_slow_steps(monkeypatch):
    """Each step is slow (a big sort), so the step budget alone would take minutes."""
    monkeypatch.setattr(sandbox, "TIME_LIMIT_SECONDS", 0.3)
    script = "big = list(range(999)) * 50\nx = 0\nwhile x >= 0:\n    x = x + len(sorted(big, reverse=True))"
    started = time.monotonic()

    with pytest.raises(SandboxLimitExceeded, match="时间"):
        execute(script)

    assert time.monotonic() - started < 1.5


def test_the_real_budget_stops_an_endless_loop_within_a_few_seconds():
    started = time.monotonic()

    with pytest.raises(SandboxLimitExceeded):
        execute("x = 0\nwhile x >= 0:\n    x = x + 1")

    elapsed = time.monotonic() - started
    assert elapsed < sandbox.TIME_LIMIT_SECONDS + 1.5, elapsed


def test_each_evaluation_gets_a_fresh_budget(small_budget):
    script = "x = len([i for i in range(999) for j in range(10)])"  # 10,989 steps: half the budget

    for _ in range(5):
        assert execute(script)["x"] == 9990


def test_augmented_assignment_stays_in_place_as_in_python():
    context = execute("a = [1]\nb = a\na += [2]\na *= 2\nn = 3\nn += 4\ns = 'x'\ns *= 3")

    assert context["b"] == [1, 2, 1, 2] and context["a"] is context["b"]
    assert (context["n"], context["s"]) == (7, "xxx")


def test_ordinary_work_stays_far_inside_the_limits():
    context = execute(
        "\n".join(
            [
                'reviews = {d: "approve" for d in ["market_regulation", "public_security", "tax"]}',
                "table = [[i * j for j in range(30)] for i in range(30)]",
                'text = "、".join(sorted(reviews)) * 10 + "-" * 100',
                "total = sum(sum(row) for row in table)",
                'summary = "%s：%d" % (text[:4], total)',
            ]
        )
    )

    assert context["total"] == sum(range(30)) ** 2
    assert context["summary"].endswith(str(context["total"]))


# --- in a case: a runaway model fails the step; nothing is half done -------------------------------


def test_a_runaway_script_in_a_deployed_model_fails_the_step_cleanly(small_budget, documents):
    script = "x = 0\nwhile x >= 0:\n    x = x + 1\noutcome = x"
    compiled = compile_model("runaway.bpmn", documents.script(script).encode(), departments=DEPARTMENTS)
    model = load_model(compiled.content_hash, compiled.compiled)

    with pytest.raises(ProcessError) as failure:
        ProcessInstance.start(model, {"form": dict(FORM)})

    assert failure.value.element_id == "run_script"


def test_a_bomb_in_a_deployed_condition_fails_the_step_cleanly(documents):
    compiled = compile_model(
        "bomb.bpmn", documents.condition('len("x" * form["capital"] ** 9) > 0').encode(), departments=DEPARTMENTS
    )
    model = load_model(compiled.content_hash, compiled.compiled)

    with pytest.raises(ProcessError):
        ProcessInstance.start(model, {"form": dict(FORM)})


def test_a_static_bomb_never_reaches_a_case(documents):
    with pytest.raises(ModelInvalid):
        compile_model("bomb.bpmn", documents.script('outcome = "x" * 10**10').encode(), departments=DEPARTMENTS)
