"""秒批 decision tables for the workflow and API tests, and a way to give a demo item one."""

from __future__ import annotations

from xml.sax.saxutils import escape

from workflow import services
from workflow.models import ServiceItem

SEAL_FILING = "000105402000"  # 公章刻制备案 (public_security) in the enterprise_start one-thing
BUSINESS_LICENCE = "000113101000"  # 企业设立登记 (market_regulation)
TAX_REGISTRATION = "000112103000"  # 新办纳税人涉税事项 (tax)


def decision_table(input_expression: str, rules: list[tuple[str, str, str]], *, hit_policy: str = "FIRST") -> str:
    """A one-input DMN table; ``rules``: (rule id, condition cell, ``approve`` cell)."""
    body = "".join(
        f'<rule id="{rule_id}"><description>规则 {rule_id}</description>'
        f'<inputEntry id="{rule_id}_in"><text>{escape(condition)}</text></inputEntry>'
        f'<outputEntry id="{rule_id}_out"><text>{escape(approve)}</text></outputEntry></rule>'
        for rule_id, condition, approve in rules
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="defs" name="秒批规则" '
        'namespace="https://onething.example/test">'
        '<decision id="auto_approval" name="秒批"><decisionTable id="table" hitPolicy="' + hit_policy + '">'
        '<input id="input" label="输入"><inputExpression id="input_expression" typeRef="string">'
        f"<text>{escape(input_expression)}</text></inputExpression></input>"
        '<output id="output" label="自动准予" name="approve" typeRef="boolean"/>'
        f"{body}</decisionTable></decision></definitions>"
    )


# 公章刻制备案: 1–5 seals are filed automatically; more need a person.
SEAL_TABLE = decision_table(
    'form.get("seal_count", 0)',
    [("few_seals", "1 <= ? <= 5", "True"), ("many_seals", "? > 5", "False")],
)
ALWAYS = decision_table('form.get("enterprise_name", "")', [("always", "-", "True")])


def give_table(code: str, text: str) -> None:
    """What an administrator does in the admin or a catalogue import (checked there; set directly here), then
    publishes: the one-things with the item are recomposed, so new cases get the table."""
    ServiceItem.objects.filter(code=code).update(auto_approval_dmn=text)
    for one_thing in services.one_things_with_item(code):
        services.one_thing_recompose(key=one_thing.key)
