"""秒批 decision tables (bpmn/decisions.py): parsing, every problem listed, the sandbox, never approving by accident."""

from __future__ import annotations

import copy
from xml.sax.saxutils import escape

import pytest

from bpmn import DecisionFailed, check_decision, compile_decision, sandbox

PAYMENT = 'form.get("payment_method", "")'
GUARDIAN = 'form.get("mother_id", "")'


def table(
    rules: list[tuple[str, list[str], list[str]]],
    *,
    inputs: tuple[str, ...] = (PAYMENT, GUARDIAN),
    outputs: tuple[str, ...] = ("approve",),
    hit_policy: str = "FIRST",
    namespace: str = "https://www.omg.org/spec/DMN/20191111/MODEL/",
) -> str:
    """A DMN document with one decision table; ``rules``: (id, condition cells, output cells)."""
    columns = "".join(
        f'<input id="in{i}" label="输入{i}"><inputExpression id="in{i}_expr" typeRef="string">'
        f"<text>{escape(source)}</text></inputExpression></input>"
        for i, source in enumerate(inputs)
    )
    columns += "".join(f'<output id="out{i}" label="输出{i}" name="{name}"/>' for i, name in enumerate(outputs))
    body = ""
    for rule_id, conditions, results in rules:
        cells = "".join(
            f'<inputEntry id="{rule_id}_in{i}"><text>{escape(cell)}</text></inputEntry>'
            for i, cell in enumerate(conditions)
        )
        cells += "".join(
            f'<outputEntry id="{rule_id}_out{i}"><text>{escape(cell)}</text></outputEntry>'
            for i, cell in enumerate(results)
        )
        body += f'<rule id="{rule_id}"><description>规则 {rule_id}</description>{cells}</rule>'
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<definitions xmlns="{namespace}" id="defs" name="测试" '
        f'namespace="https://onething.example/test"><decision id="decision" name="测试秒批">'
        f'<decisionTable id="table" hitPolicy="{hit_policy}">{columns}{body}</decisionTable></decision></definitions>'
    )


ENROLMENT = table(
    [
        ("auto", ['in ("银行代扣", "线上缴费")', "len(?) == 18"], ["True"]),
        ("window", ['"窗口缴费"', "-"], ["False"]),
    ]
)
GOOD_ID = "11010519491231002X"


def decide(text: str, form: dict, licences: list[str] | None = None):
    return compile_decision(text).evaluate({"form": form, "licences": licences or []})


def problems(text: str) -> list[tuple[str, str]]:
    found = check_decision(text)
    assert found, "the table compiled"
    return [(p.element_id, p.message) for p in found]


# --- deciding ----------------------------------------------------------------------------------------------


def test_a_matching_rule_that_says_true_approves_and_names_the_rule():
    outcome = decide(ENROLMENT, {"payment_method": "银行代扣", "mother_id": GOOD_ID})
    assert outcome.approve is True
    assert outcome.rule_id == "auto" and outcome.rule == "auto：规则 auto"


@pytest.mark.parametrize(
    ("form", "rule_id"),
    [
        ({"payment_method": "窗口缴费", "mother_id": GOOD_ID}, "window"),  # a rule says no
        ({"payment_method": "银行代扣", "mother_id": "123"}, ""),  # no rule matches
        ({}, ""),
    ],
)
def test_anything_but_a_true_output_does_not_approve(form, rule_id):
    outcome = decide(ENROLMENT, form)
    assert outcome.approve is False and outcome.rule_id == rule_id


def test_only_the_value_true_approves_not_a_truthy_one():
    text = table([("yes", ["-", "-"], ['"yes"'])])
    assert decide(text, {}).approve is False


def test_licences_the_applicant_holds_are_an_input():
    text = table(
        [("held", ["True"], ["True"])],
        inputs=('"business_licence" in licences',),
    )
    assert decide(text, {}, ["business_licence", "000113101000"]).approve is True
    assert decide(text, {}, []).approve is False


def test_first_takes_the_first_matching_rule_unique_refuses_two():
    rules = [("a", ["-", "-"], ["True"]), ("b", ["-", "-"], ["False"])]
    assert decide(table(rules, hit_policy="FIRST"), {}).rule_id == "a"
    with pytest.raises(DecisionFailed, match="UNIQUE"):
        decide(table(rules, hit_policy="UNIQUE"), {})


def test_a_cell_failing_at_run_time_is_a_failure_not_a_decision():
    text = table([("boom", ["1 / 0 == 0", "-"], ["True"])])
    with pytest.raises(DecisionFailed, match="division by zero"):
        decide(text, {})


def test_compiled_tables_are_cached_by_content():
    assert compile_decision(ENROLMENT) is compile_decision(ENROLMENT)
    assert compile_decision(ENROLMENT).content_hash != compile_decision(ENROLMENT + " ").content_hash


def test_inputs_are_not_changed_by_a_table():
    form = {"payment_method": "银行代扣", "mother_id": GOOD_ID}
    text = table([("pop", ['? == form.pop("payment_method")', "-"], ["True"])])
    assert decide(text, form).approve is True
    assert form == {"payment_method": "银行代扣", "mother_id": GOOD_ID}


def test_dmn_1_2_tables_are_accepted_too():
    text = table([("a", ["-", "-"], ["True"])], namespace="http://www.omg.org/spec/DMN/20180521/MODEL/")
    assert decide(text, {}).approve is True


# --- refused at save time, every problem listed --------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not xml <", "XML 格式错误"),
        ("<definitions/>", "不是 DMN 文件"),
        ('<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"/>', "不是 DMN 文件"),
    ],
)
def test_what_is_not_a_dmn_table_is_refused(text, message):
    [(_, found)] = problems(text)
    assert message in found


def test_a_schema_violation_names_the_element():
    text = ENROLMENT.replace('<rule id="window">', '<rule id="window"><unexpected/>')
    [(element_id, message)] = problems(text)
    assert element_id == "window" and "不符合 DMN 规范" in message


def test_every_problem_is_listed_with_its_element_id():
    text = table(
        [
            ("r1", ['in ("银行代扣",', "-"], ["True"]),  # a syntax error
            ("r2", ["-"], ["True"]),  # one condition cell short
            ("r3", ["-", "unknown_name"], ["maybe"]),  # names outside the whitelist
        ],
        hit_policy="COLLECT",
        outputs=("result",),
    )
    found = problems(text)
    ids = {element_id for element_id, _ in found}
    assert {"table", "r1_in0", "r2", "r3_in1", "r3_out0"} <= ids
    messages = " ".join(message for _, message in found)
    assert "COLLECT" in messages and "approve" in messages and "unknown_name" in messages and "maybe" in messages


def test_an_input_column_needs_an_expression():
    text = table([("a", ["-"], ["True"])], inputs=("",))
    assert ("in0_expr", '输入列须写输入表达式，如 form.get("payment_method")') in problems(text)


def test_a_table_without_rules_is_refused():
    assert ("table", "决策表没有任何规则") in problems(table([]))


def test_an_external_entity_is_not_resolved(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("top-secret", encoding="utf-8")
    text = ENROLMENT.replace(
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<?xml version="1.0" encoding="UTF-8"?><!DOCTYPE d [<!ENTITY x SYSTEM "file://{secret}">]>',
    ).replace("规则 auto", "&x;")
    [(_, message)] = problems(text)
    assert "DOCTYPE" in message and "top-secret" not in message


# --- the sandbox: DMN cells are untrusted code ------------------------------------------------------------------

ATTACKS = [
    ("import", '__import__("os").system("true") == 0'),
    ("dunder-class", "form.__class__.__mro__[-1].__subclasses__()"),
    ("dunder-globals", "(lambda: 0).__globals__"),
    ("generator-frame", "(x for x in []).gi_frame.f_globals"),
    ("builtins", "__builtins__"),
    ("open", 'open("/etc/passwd").read()'),
    ("eval", 'eval("1")'),
    ("getattr", 'getattr(form, "get")'),
    ("format-walk", '"{0.__class__}".format(form)'),
]


@pytest.mark.parametrize(("name", "attack"), ATTACKS, ids=[name for name, _ in ATTACKS])
@pytest.mark.parametrize("where", ["input", "condition", "output"])
def test_attacks_in_any_cell_are_refused_at_save_time(name, attack, where):
    if where == "input":
        text = table([("a", ["-"], ["True"])], inputs=(attack,))
        element = "in0_expr"
    elif where == "condition":
        text = table([("a", [f"? == ({attack})", "-"], ["True"])])
        element = "a_in0"
    else:
        text = table([("a", ["-", "-"], [attack])])
        element = "a_out0"
    assert element in {element_id for element_id, _ in problems(text)}


@pytest.mark.parametrize(("name", "attack"), ATTACKS, ids=[name for name, _ in ATTACKS])
def test_attacks_are_refused_at_run_time_too_if_the_check_was_bypassed(name, attack):
    """As if the table had been written to the database directly: the sandbox still refuses, and a failure
    never approves."""
    decision = compile_decision(table([("a", ["-", "-"], ["True"])]))
    bypassed = copy.deepcopy(decision)
    object.__setattr__(bypassed, "content_hash", "bypassed")
    bypassed.table.rules[0].inputEntries[0].lhs = [f"? == ({attack})"]
    with pytest.raises(DecisionFailed):
        bypassed.evaluate({"form": {}, "licences": []})


def test_a_literal_bomb_is_refused_at_save_time():
    text = table([("a", ['? == "x" * 10**10', "-"], ["True"])])
    assert any("过大" in message for _, message in problems(text))


@pytest.fixture
def small_budget(monkeypatch):
    monkeypatch.setattr(sandbox, "STEP_LIMIT", 20_000)


def test_one_budget_covers_the_whole_table(small_budget):
    """Each cell alone stays within the step limit; the table as a whole does not, and fails."""
    cell = "sum(1 for x in range(900) for y in range(10)) >= 0"  # 9,000 steps
    text = table([(f"r{i}", [cell, cell], ["False"]) for i in range(2)] + [("last", ["-", "-"], ["True"])])
    with pytest.raises(DecisionFailed, match="步数"):
        decide(text, {})


def test_a_runaway_cell_is_stopped(small_budget):
    text = table([("loop", ["sum(1 for x in range(900) for y in range(900) for z in range(900)) > 0", "-"], ["True"])])
    with pytest.raises(DecisionFailed, match="步数"):
        decide(text, {})
