"""The restricted script engine: escapes are refused at deploy time AND at run time.

Each attack is tried twice: through ``compile_model`` (the static check an administrator meets when
uploading a model) and directly against ``SAFE_ENGINE.environment`` (as if the static check had been
bypassed), where it must raise rather than hand back the forbidden object.
"""

from __future__ import annotations

import pytest
from SpiffWorkflow.util.task import TaskState

from bpmn import ModelInvalid, ProcessError, ProcessInstance, compile_model, load_model
from bpmn.sandbox import SAFE_ENGINE

DEPARTMENTS = ("market_regulation", "public_security", "tax")
FORM = {"company_name": "测试有限公司", "capital": 100, "shareholders": ["张三", "李四"], "seal": None}

# (id, expression): each one reaches for something a model must never touch.
ATTACKS = [
    ("subclasses-walk", "().__class__.__bases__[0].__subclasses__()"),
    ("generator-frame", "(x for x in [1]).gi_frame"),
    ("open-file", 'open("/etc/hostname")'),
    ("dunder-import", '__import__("os")'),
    ("getattr-dunder", 'getattr(form, "__class__")'),
    ("format-string-attribute", '"{0.__class__}".format(1)'),
    ("format-on-type", 'str.format("{0.__self__}", sorted)'),
    ("format-map", '"{x.__class__}".format_map({"x": 1})'),
    ("eval", 'eval("1 + 1")'),
    ("globals", "globals()"),
    ("type-call", "type(form)"),
]


def attack_params(wrap=lambda source: source, *, static: bool = False):
    return [pytest.param(wrap(source), id=attack_id) for attack_id, source in ATTACKS]


def run_script_model(documents, script: str, data: dict | None = None) -> ProcessInstance:
    compiled = compile_model("script.bpmn", documents.script(script).encode(), departments=DEPARTMENTS)
    model = load_model(compiled.content_hash, compiled.compiled)
    instance = ProcessInstance.start(model, {"form": dict(FORM), "reviews": {}, **(data or {})})
    return ProcessInstance.restore(model, instance.dump())


def completed_elements(instance: ProcessInstance) -> set[str]:
    return {task.task_spec.bpmn_id for task in instance._workflow.get_tasks(state=TaskState.COMPLETED)}


# --- deploy time: compile_model refuses ---------------------------------------------------------


@pytest.mark.parametrize("expression", attack_params(static=True))
def test_compile_model_refuses_the_attack_in_a_condition(problems_of, documents, expression):
    problems = problems_of(documents.condition(expression))

    assert {problem.element_id for problem in problems} == {"f_condition"}


@pytest.mark.parametrize("script", attack_params(lambda source: f"outcome = {source}", static=True))
def test_compile_model_refuses_the_attack_in_a_script_task(problems_of, documents, script):
    problems = problems_of(documents.script(script))

    assert {problem.element_id for problem in problems} == {"run_script"}


def test_compile_model_refuses_an_import_statement(problems_of, documents):
    [problem] = problems_of(documents.script("import os\noutcome = 1"))

    assert problem.element_id == "run_script"


# --- run time: the engine refuses even without the static check -----------------------------------


@pytest.mark.parametrize("expression", attack_params())
def test_the_runtime_refuses_the_attack_as_an_expression(expression):
    with pytest.raises(Exception):  # noqa: B017 - any refusal will do, as long as nothing is returned
        SAFE_ENGINE.environment.evaluate(expression, {"form": dict(FORM)})


@pytest.mark.parametrize("script", attack_params(lambda source: f"stolen = {source}"))
def test_the_runtime_refuses_the_attack_as_a_script(script):
    context = {"form": dict(FORM)}

    with pytest.raises(Exception):  # noqa: B017
        SAFE_ENGINE.environment.execute(script, context)

    assert "stolen" not in context


def test_the_runtime_refuses_an_import_statement():
    context = {}

    with pytest.raises(Exception):  # noqa: B017
        SAFE_ENGINE.environment.execute("import os\nstolen = os", context)

    assert "stolen" not in context


def test_the_runtime_hides_guard_helpers_from_models():
    with pytest.raises(Exception):  # noqa: B017
        SAFE_ENGINE.environment.evaluate("_getattr_", {})


def test_a_format_call_never_runs_in_a_case(documents):
    """Defence in depth: whatever deploy lets through, running the case must fail, not format."""
    with pytest.raises((ModelInvalid, ProcessError)) as refusal:
        run_script_model(documents, 'outcome = "{0.__class__}".format(1)')

    if isinstance(refusal.value, ProcessError):  # today; ModelInvalid once the static check catches it
        assert refusal.value.element_id == "run_script"


# --- allowed code works ---------------------------------------------------------------------------


def test_allowed_expressions_evaluate():
    context = {"form": dict(FORM), "reviews": {"tax": "approve", "public_security": "need_correction"}}
    evaluate = SAFE_ENGINE.environment.evaluate

    assert evaluate("sorted(reviews)", context) == ["public_security", "tax"]
    assert evaluate('[d for d, v in sorted(reviews.items()) if v != "approve"]', context) == ["public_security"]
    assert evaluate('all(v == "approve" for v in reviews.values())', context) is False
    assert evaluate('"reject" in reviews.values()', context) is False
    assert evaluate('form.get("capital", 0) >= 100 and len(form["shareholders"]) == 2', context) is True
    assert evaluate('{k: v for k, v in form.items() if v is not None}.keys() >= {"capital"}', context) is True
    assert evaluate("max(len(s) for s in form['shareholders']) + sum([1, 2])", context) == 5
    assert evaluate("f\"{form['company_name']}：第{len(reviews)}项\"", context) == "测试有限公司：第2项"
    assert evaluate('"%s-%d" % ("QY", 7)', context) == "QY-7"


def test_allowed_script_updates_process_data():
    context = {"form": dict(FORM), "reviews": {"tax": "approve", "public_security": "need_correction"}}
    script = "\n".join(
        [
            'pending = sorted(d for d, v in reviews.items() if v != "approve")',
            'reviews = {d: v for d, v in reviews.items() if v == "approve"}',
            'reviews["market_regulation"] = "approve"',
            'summary = dict(form, owners=list(reversed(form["shareholders"])))',
            "for index, name in enumerate(form['shareholders']):",
            "    summary[name] = index",
            "helper = lambda value: value * 2",
        ]
    )

    SAFE_ENGINE.environment.execute(script, context)

    assert context["pending"] == ["public_security"]
    assert context["reviews"] == {"tax": "approve", "market_regulation": "approve"}
    assert context["summary"]["owners"] == ["李四", "张三"]
    assert context["summary"]["张三"] == 0
    assert "helper" not in context, "callables must not leak into process data"
    assert not any(name.startswith("_") for name in context)


def test_a_script_task_model_runs_under_the_sandbox(documents):
    script = 'outcome = {"names": sorted(form["shareholders"]), "fields": sorted(k for k in form if form[k])}'

    instance = run_script_model(documents, script)

    assert instance.is_completed
    assert instance.data["outcome"] == {
        "names": ["张三", "李四"],
        "fields": ["capital", "company_name", "shareholders"],
    }


@pytest.mark.parametrize(
    ("capital", "end"),
    [(100, "end_condition"), (10, "end_default")],
)
def test_a_condition_model_takes_the_branch_its_expression_selects(documents, capital, end):
    compiled = compile_model(
        "condition.bpmn", documents.condition('form.get("capital", 0) >= 50').encode(), departments=DEPARTMENTS
    )
    model = load_model(compiled.content_hash, compiled.compiled)

    instance = ProcessInstance.start(model, {"form": {"capital": capital}})

    assert instance.is_completed
    assert end in completed_elements(instance)


def test_a_runtime_failure_in_a_script_becomes_a_process_error(documents):
    with pytest.raises(ProcessError) as failure:
        run_script_model(documents, 'outcome = form["no_such_field"]')

    assert failure.value.element_id == "run_script"


# --- code that deploys also runs --------------------------------


def test_augmented_assignment_that_deploys_also_runs(documents):
    instance = run_script_model(documents, "review_round += 1", {"review_round": 1})

    assert instance.data["review_round"] == 2


def test_tuple_unpacking_that_deploys_also_runs(documents):
    instance = run_script_model(documents, 'first, second = sorted(form["shareholders"])')

    assert (instance.data["first"], instance.data["second"]) == ("张三", "李四")


def test_a_script_raising_system_exit_is_refused_at_deploy_and_cannot_run(documents):
    with pytest.raises(ModelInvalid):
        run_script_model(documents, 'raise SystemExit("bye")')
    with pytest.raises(NameError):
        SAFE_ENGINE.environment.execute('raise SystemExit("bye")', {})
