"""Generate the standard parallel-review BPMN model for a composition of service items.

``generate_process`` writes the same pattern as the shipped ``enterprise_start`` model (see
docs/engine-contract.md): applicant and window lanes and one lane per department; the window accepts or
refuses; ``plan_round`` keeps only approvals; a parallel split opens every review that has not approved;
each review branch is exclusive gateway ``needs_<key>`` → user task ``review_<key>`` → exclusive merge
``done_<key>``; a (loop-safe) parallel join; the outcome gateway concludes approved, rejected or loops
through one combined correction by the applicant back to ``plan_round``. The result carries full BPMN DI,
so it opens laid out in bpmn.io / Camunda Modeler, can be edited there and deployed again.

Review keys. A review's key is its department code, or ``<department>_<element_suffix>`` when one
department has several reviews (e.g. business licence and food business licence, both
``market_regulation``). Element ids derive from the key (``review_market_regulation_food``). The services
write a decision under the *lane* (department code), so a suffixed review is followed by a script task
``record_<key>`` that moves the decision from ``reviews[department]`` to ``reviews[key]``: without it two
reviews in one lane would overwrite each other's decision at the join and a "need correction" could be
lost behind the other review's approval.

Conditional reviews. A review with a ``condition`` (restricted Python over the process data) takes part
only when the condition holds. It is evaluated every round on the current form, so a correction that makes
a review necessary opens it in the next round. A review that asked for correction stays in the case until
it approves, even if the corrected form no longer meets its condition: ``plan_round`` records the askers
in ``reviews_to_reopen`` and the review flow is ``reviews.get(key) != "approve" and (key in
reviews_to_reopen or (condition))``. So a round after a correction always opens at least one review; a
round that opened none would go straight from 待补正 to 准予, which the case lifecycle refuses.

At least one review must be unconditional (``ValueError`` otherwise): with every review conditional a case
whose answers meet no condition would be approved at acceptance without any department reviewing it (the
``all(...)`` over an empty ``reviews`` is vacuously true), and the lifecycle refuses 已收件 → 准予 anyway.

Dependent reviews. A review may need other reviews' results first (``after``: 出生医学证明 before 户口登记 before
社保卡/医保). The reviews are laid out in **stages**, each a parallel split/join of its own: stage 1 holds the
reviews that need nobody, stage *n* those whose latest dependency is in stage *n − 1*; stages run one after the
other, reviews within a stage in parallel (a model without dependencies is the single-stage model above, element
for element). A script ``stage<n>_hold`` before each later stage adds to ``reviews_held`` every review of the
stage one of whose dependencies has not approved (asked for correction, refused, or is held itself), and such a
review does not open this round: its branch is skipped like an approved one. A dependency that does not take
part (its condition does not hold) does not hold anything back. ``plan_round`` empties ``reviews_held`` each
round, so after a correction the held reviews open once their dependencies approve; the outcome gateway sees a
held review's dependency's correction or refusal, so a round with a held review never concludes approved.
"""

from __future__ import annotations

import ast
import json
import re
from collections import Counter
from dataclasses import dataclass

from lxml import etree

from .contract import review_element_id
from .model import BPMN_NS, RESERVED_LANES
from .sandbox import ALLOWED_BUILTIN_NAMES, CONTRACT_VARIABLES, check_source

__all__ = ["HELD_VARIABLE", "REOPEN_VARIABLE", "ReviewSpec", "generate_process"]

BPMNDI_NS = "http://www.omg.org/spec/BPMN/20100524/DI"
DC_NS = "http://www.omg.org/spec/DD/20100524/DC"
DI_NS = "http://www.omg.org/spec/DD/20100524/DI"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
_NSMAP = {"bpmn": BPMN_NS, "bpmndi": BPMNDI_NS, "dc": DC_NS, "di": DI_NS, "xsi": XSI_NS}

# Model-owned process data: the review keys that asked for correction in the previous round; the review keys
# held back this round because a review they depend on has not approved.
REOPEN_VARIABLE = "reviews_to_reopen"
HELD_VARIABLE = "reviews_held"

_PROCESS_ID = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_CODE = re.compile(r"[A-Za-z0-9_-]+")  # a Department.code is a slug

_PLAN_SCRIPT = (
    'reviews = {dept: decision for dept, decision in reviews.items() if decision == "approve"}\n'
    "review_round = review_round + 1"
)
_HELD_LINE = f"{HELD_VARIABLE} = []\n"
_REOPEN_LINE = f'{REOPEN_VARIABLE} = sorted(key for key, decision in reviews.items() if decision != "approve")\n'
_ALL_APPROVED = 'all(decision == "approve" for decision in reviews.values())'
_ANY_REJECTED = '"reject" in reviews.values()'


@dataclass(frozen=True)
class ReviewSpec:
    """One department review in the composition.

    ``condition``: a restricted-Python expression over the process data (``form``, …) that decides whether
    this review takes part in a case; None means always. ``element_suffix``: needed when one department has
    several reviews; the review key and element ids become ``<department>_<suffix>``. ``after``: the keys of
    the reviews whose results this one needs first (it opens only once they have approved).
    """

    department: str
    task_name: str
    condition: str | None = None
    element_suffix: str | None = None
    after: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return f"{self.department}_{self.element_suffix}" if self.element_suffix else self.department

    @property
    def element_id(self) -> str:
        return review_element_id(self.key)


def generate_process(*, process_id: str, name: str, reviews: list[ReviewSpec]) -> str:
    """The BPMN 2.0 XML text (with DI) of the standard parallel-review process; ValueError on bad input."""
    name = (name or "").strip()
    _validate(process_id, name, reviews)
    lanes: dict[str, list[ReviewSpec]] = {}  # department → its reviews, in first-appearance order
    for review in reviews:
        lanes.setdefault(review.department, []).append(review)
    rows = [review for lane_reviews in lanes.values() for review in lane_reviews]
    stage_of = _stages(reviews)
    conditions = {review.key: _review_condition(review) for review in rows}
    builder = _Builder(process_id, name, lanes, rows, conditions, stage_of)
    try:
        text = builder.build()
    except ValueError as exc:  # lxml refuses characters XML cannot hold (control characters)
        raise ValueError(f"名称或条件含有 XML 不允许的字符：{exc}") from None
    _check_unique_ids(text)
    return text


# --- validation -----------------------------------------------------------------------------------


def _validate(process_id: str, name: str, reviews: list[ReviewSpec]) -> None:
    if not isinstance(process_id, str) or not _PROCESS_ID.fullmatch(process_id):
        raise ValueError(f"流程 id“{process_id}”无效：须以字母或下划线开头，只含字母、数字、_ 和 -")
    if not name:
        raise ValueError("流程名称不能为空")
    if not reviews:
        raise ValueError("至少需要一个部门审查")
    for review in reviews:
        if not isinstance(review, ReviewSpec):
            raise ValueError(f"审查须为 ReviewSpec，而不是 {type(review).__name__}")
        if not _CODE.fullmatch(review.department or ""):
            raise ValueError(f"部门编码“{review.department}”无效：只能含字母、数字、_ 和 -")
        if review.department in RESERVED_LANES:
            raise ValueError(f"“{review.department}”是保留泳道，不能作为审查部门")
        if review.element_suffix is not None and not _CODE.fullmatch(review.element_suffix):
            raise ValueError(f"element_suffix“{review.element_suffix}”无效：只能含字母、数字、_ 和 -")
        if not (review.task_name or "").strip():
            raise ValueError(f"审查“{review.key}”的任务名称不能为空")
        if review.condition is not None and not review.condition.strip():
            raise ValueError(f"审查“{review.key}”的条件为空；总是参与请用 None")
    keys = Counter(review.key for review in reviews)
    repeated = sorted(key for key, count in keys.items() if count > 1)
    if repeated:
        raise ValueError(
            f"审查标识重复：{'、'.join(repeated)}；同一部门有多个审查时请用 element_suffix 区分（如 food）"
        )
    departments = {review.department for review in reviews}
    clashing = sorted(review.key for review in reviews if review.element_suffix and review.key in departments)
    if clashing:
        raise ValueError(f"审查标识与部门编码冲突：{'、'.join(clashing)}；请换一个 element_suffix")
    if all(review.condition is not None for review in reviews):
        raise ValueError(
            "至少需要一个无条件参与的部门审查：否则回答不满足任何条件的办件将无人审查即被准予"
            "（且“已收件 → 准予”不是允许的状态变化）"
        )
    for review in reviews:
        after = review.after
        if not isinstance(after, tuple | list) or not all(isinstance(key, str) for key in after):
            raise ValueError(f"审查“{review.key}”的 after 须为审查标识的列表")
        unknown = [key for key in after if key not in keys]
        if unknown:
            raise ValueError(f"审查“{review.key}”依赖的审查不存在：{'、'.join(unknown)}")
        if review.key in after:
            raise ValueError(f"审查“{review.key}”不能依赖它自己")
    _stages(reviews)  # refuses a cycle
    allowed = frozenset(CONTRACT_VARIABLES | ALLOWED_BUILTIN_NAMES | {REOPEN_VARIABLE, HELD_VARIABLE})
    for review in reviews:
        if review.condition is not None:
            problems = check_source(review.condition.strip(), "eval", allowed)
            if problems:
                raise ValueError(f"审查“{review.key}”的条件“{review.condition}”：{'；'.join(problems)}")


def _stages(reviews: list[ReviewSpec]) -> dict[str, int]:
    """Review key → its stage (0 = needs nobody; otherwise one more than its latest dependency's)."""
    after = {review.key: tuple(review.after) for review in reviews}
    stage: dict[str, int] = {}

    def visit(key: str, path: tuple[str, ...]) -> int:
        if key in path:
            cycle = " → ".join([*path[path.index(key) :], key])
            raise ValueError(f"审查的前后依赖有循环：{cycle}")
        if key not in stage:
            stage[key] = 1 + max((visit(need, (*path, key)) for need in after.get(key, ())), default=-1)
        return stage[key]

    for review in reviews:
        visit(review.key, ())
    return stage


def _literal(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _review_condition(review: ReviewSpec) -> str:
    """The condition on the flow ``needs_<key>`` → ``review_<key>``."""
    key = _literal(review.key)
    parts = [f'reviews.get({key}) != "approve"']
    if review.after:
        parts.append(f"{key} not in {HELD_VARIABLE}")
    if review.condition is None:
        return " and ".join(parts)
    condition = review.condition.strip()
    combined = " and ".join([*parts, f"({key} in {REOPEN_VARIABLE} or ({condition}))"])
    # The condition must stay one operand: "x) or (y" parses on its own as nothing, and "x  # note"
    # would comment out the closing parentheses.
    expected = ast.BoolOp(
        op=ast.And(),
        values=[
            *(ast.parse(part, mode="eval").body for part in parts),
            ast.BoolOp(
                op=ast.Or(),
                values=[
                    ast.parse(f"{key} in {REOPEN_VARIABLE}", mode="eval").body,
                    ast.parse(condition, mode="eval").body,
                ],
            ),
        ],
    )
    try:
        actual = ast.parse(combined, mode="eval").body
    except SyntaxError:
        actual = None
    if actual is None or ast.dump(actual) != ast.dump(expected):
        raise ValueError(f"审查“{review.key}”的条件“{condition}”须为单个表达式（不含注释）")
    return combined


def _check_unique_ids(text: str) -> None:
    root = etree.fromstring(text.encode("utf-8"))
    ids = Counter(element.get("id") for element in root.iter() if element.get("id"))
    repeated = sorted(element_id for element_id, count in ids.items() if count > 1)
    if repeated:
        raise ValueError(f"生成的元素 id 重复：{'、'.join(repeated)}；请更换部门编码或 element_suffix")


# --- building -------------------------------------------------------------------------------------

# Layout (the shipped model's): lanes 30 px right of the pool's edge; applicant lane, window lane, then
# one 150 px row per review, grouped by department lane. Columns are fixed x positions; a model with
# suffixed reviews gets one more column (the record script) and everything right of it moves by _SHIFT.
_POOL_X, _TOP, _LANE_X = 160, 80, 190
_APPLICANT_H, _WINDOW_H, _ROW_H = 150, 250, 150
_WINDOW_Y = _TOP + _APPLICANT_H
_MAIN_Y = _WINDOW_Y + 75  # centre line of the window lane
_LOW_Y = _WINDOW_Y + 185  # centre line of the window lane's lower row (refusal, rejection)
_FIRST_ROW_Y = _WINDOW_Y + _WINDOW_H
_RIGHT = 1420
_SHIFT = 150
_TASK_W, _TASK_H, _GW, _EVENT = 100, 80, 50, 36


class _Builder:
    def __init__(self, process_id, name, lanes, rows, conditions, stage_of):
        self.process_id = process_id
        self.name = name
        self.lanes: dict[str, list[ReviewSpec]] = lanes
        self.rows: list[ReviewSpec] = rows
        self.conditions: dict[str, str] = conditions
        self.recorded = any(review.key != review.department for review in rows)
        self.conditional = any(review.condition is not None for review in rows)
        self.dx = _SHIFT if self.recorded else 0
        self.stage_of: dict[str, int] = stage_of
        self.stage_count = max(stage_of.values()) + 1
        self.step = 620 + self.dx  # from one stage's split to the next one's
        self.tail = (self.stage_count - 1) * self.step  # how far everything after the last stage moves right
        self.incoming: dict[str, list[str]] = {}
        self.outgoing: dict[str, list[str]] = {}
        self.flows: list[tuple[str, str, str, str | None, str | None]] = []  # id, source, target, name, cond
        self.nodes: list[tuple[str, str, dict[str, str], str | None]] = []  # tag, id, attributes, script
        self.lane_of: dict[str, str] = {}
        self.shapes: list[tuple[str, tuple[int, int, int, int], dict[str, str]]] = []
        self.edges: dict[str, list[tuple[int, int]]] = {}

    # -- the graph ---------------------------------------------------------------------------------
    def node(self, tag, element_id, lane, bounds, *, script=None, marker=False, **attributes):
        self.nodes.append((tag, element_id, {k: v for k, v in attributes.items() if v is not None}, script))
        self.lane_of[element_id] = lane
        self.shapes.append((element_id, bounds, {"isMarkerVisible": "true"} if marker else {}))
        self.incoming.setdefault(element_id, [])
        self.outgoing.setdefault(element_id, [])

    def flow(self, flow_id, source, target, waypoints, *, name=None, condition=None):
        self.flows.append((flow_id, source, target, name, condition))
        self.edges[flow_id] = waypoints

    def wire(self, element_id, incoming=(), outgoing=()):
        self.incoming[element_id].extend(incoming)
        self.outgoing[element_id].extend(outgoing)

    # Stage 1 keeps the single-stage model's ids; later stages are numbered from 2.
    @staticmethod
    def split_id(stage: int) -> str:
        return "review_split" if stage == 0 else f"stage{stage + 1}_split"

    @staticmethod
    def join_id(stage: int) -> str:
        return "review_join" if stage == 0 else f"stage{stage + 1}_join"

    def ox(self, review: ReviewSpec) -> int:
        return self.stage_of[review.key] * self.step

    def in_stage(self, stage: int) -> list[ReviewSpec]:
        return [review for review in self.rows if self.stage_of[review.key] == stage]

    def stage_nodes(self) -> None:
        """The later stages' hold script, split and join (stage 1's split and join are the model's own)."""
        gw_y, task_y, main = _MAIN_Y - _GW // 2, _MAIN_Y - _TASK_H // 2, _MAIN_Y
        for stage in range(1, self.stage_count):
            number, previous_join_x = stage + 1, 1040 + self.dx + (stage - 1) * self.step
            hold_x, split_x, join_x = previous_join_x + 90, 655 + stage * self.step, 1040 + self.dx + stage * self.step
            holding = {review.key: list(review.after) for review in self.in_stage(stage) if review.after}
            script = (
                f"{HELD_VARIABLE} = {HELD_VARIABLE} + [key for key, needs in {_python_dict(holding)}.items()"
                f' if any(reviews.get(need, "approve") != "approve" or need in {HELD_VARIABLE} for need in needs)]'
            )
            hold, split, join = f"stage{number}_hold", self.split_id(stage), self.join_id(stage)
            self.node(
                "scriptTask",
                hold,
                "window",
                (hold_x, task_y, _TASK_W, _TASK_H),
                name=f"第{number}批：核对前置事项",
                script=script,
            )
            self.node("parallelGateway", split, "window", (split_x, gw_y, _GW, _GW), name=f"第{number}批并联审查")
            self.node("parallelGateway", join, "window", (join_x, gw_y, _GW, _GW), name=f"第{number}批汇总")
            into = f"f_to_stage{number}"
            last = stage == self.stage_count - 1
            self.wire(hold, [into], [f"f_stage{number}_split"])
            self.wire(split, [f"f_stage{number}_split"], [f"f_split_{review.key}" for review in self.in_stage(stage)])
            self.wire(
                join,
                [f"f_join_{review.key}" for review in self.in_stage(stage)],
                ["f_join_outcome" if last else f"f_to_stage{number + 1}"],
            )
            self.flow(into, self.join_id(stage - 1), hold, [(previous_join_x + _GW, main), (hold_x, main)])
            self.flow(f"f_stage{number}_split", hold, split, [(hold_x + _TASK_W, main), (split_x, main)])

    def graph(self) -> None:
        dx, main, low = self.dx, _MAIN_Y, _LOW_Y
        task_y, gw_y, event_y = main - _TASK_H // 2, main - _GW // 2, main - _EVENT // 2
        low_task_y, low_event_y = low - _TASK_H // 2, low - _EVENT // 2
        applicant_y = _TOP + _APPLICANT_H // 2
        tail = self.tail
        join_x, outcome_x, conclude_x, end_x = 1040 + dx + tail, 1130 + dx + tail, 1220 + dx + tail, 1360 + dx + tail
        plan_round_script = (
            (_REOPEN_LINE if self.conditional else "") + (_HELD_LINE if self.stage_count > 1 else "") + _PLAN_SCRIPT
        )

        self.node("startEvent", "start", "window", (212, event_y, _EVENT, _EVENT), name="窗口收件")
        self.node("userTask", "window_accept", "window", (280, task_y, _TASK_W, _TASK_H), name="窗口受理")
        self.node(
            "exclusiveGateway",
            "accepted_gw",
            "window",
            (425, gw_y, _GW, _GW),
            marker=True,
            name="是否受理？",
            default="f_gw_refuse",
        )
        self.node(
            "scriptTask",
            "plan_round",
            "window",
            (510, task_y, _TASK_W, _TASK_H),
            name="确定本轮审查部门",
            script=plan_round_script,
        )
        self.node("parallelGateway", "review_split", "window", (655, gw_y, _GW, _GW), name="并联审查")
        for row, review in enumerate(self.rows):
            self.review_nodes(row, review)
        self.node("parallelGateway", "review_join", "window", (1040 + dx, gw_y, _GW, _GW), name="汇总")
        self.stage_nodes()
        self.node(
            "exclusiveGateway",
            "outcome_gw",
            "window",
            (outcome_x, gw_y, _GW, _GW),
            marker=True,
            name="审查结果？",
            default="f_outcome_correct",
        )
        self.node(
            "userTask",
            "correct_application",
            "applicant",
            (1105 + dx + tail, applicant_y - _TASK_H // 2, _TASK_W, _TASK_H),
            name="申请人一次性补正",
        )
        self.node(
            "scriptTask",
            "conclude_approved",
            "window",
            (conclude_x, task_y, _TASK_W, _TASK_H),
            name="统一反馈：准予",
            script='outcome = "approved"',
        )
        self.node(
            "scriptTask",
            "conclude_rejected",
            "window",
            (conclude_x, low_task_y, _TASK_W, _TASK_H),
            name="统一反馈：不予许可",
            script='outcome = "rejected"',
        )
        self.node(
            "scriptTask",
            "conclude_not_accepted",
            "window",
            (400, low_task_y, _TASK_W, _TASK_H),
            name="不予受理",
            script='outcome = "not_accepted"',
        )
        self.node("endEvent", "end_approved", "window", (end_x, event_y, _EVENT, _EVENT), name="办结（准予）")
        self.node("endEvent", "end_rejected", "window", (end_x, low_event_y, _EVENT, _EVENT), name="办结（不予许可）")
        self.node("endEvent", "end_not_accepted", "window", (542, low_event_y, _EVENT, _EVENT), name="不予受理")

        self.wire("start", outgoing=["f_start_accept"])
        self.wire("window_accept", ["f_start_accept"], ["f_accept_gw"])
        self.wire("accepted_gw", ["f_accept_gw"], ["f_gw_plan", "f_gw_refuse"])
        self.wire("plan_round", ["f_gw_plan", "f_correct_plan"], ["f_plan_split"])
        self.wire("review_split", ["f_plan_split"], [f"f_split_{review.key}" for review in self.in_stage(0)])
        self.wire(
            "review_join",
            [f"f_join_{review.key}" for review in self.in_stage(0)],
            ["f_join_outcome" if self.stage_count == 1 else "f_to_stage2"],
        )
        self.wire("outcome_gw", ["f_join_outcome"], ["f_outcome_approved", "f_outcome_rejected", "f_outcome_correct"])
        self.wire("correct_application", ["f_outcome_correct"], ["f_correct_plan"])
        self.wire("conclude_approved", ["f_outcome_approved"], ["f_approved_end"])
        self.wire("conclude_rejected", ["f_outcome_rejected"], ["f_rejected_end"])
        self.wire("conclude_not_accepted", ["f_gw_refuse"], ["f_not_accepted_end"])
        self.wire("end_approved", ["f_approved_end"])
        self.wire("end_rejected", ["f_rejected_end"])
        self.wire("end_not_accepted", ["f_not_accepted_end"])

        self.flow("f_start_accept", "start", "window_accept", [(248, main), (280, main)])
        self.flow("f_accept_gw", "window_accept", "accepted_gw", [(380, main), (425, main)])
        self.flow(
            "f_gw_plan",
            "accepted_gw",
            "plan_round",
            [(475, main), (510, main)],
            name="受理",
            condition='intake["decision"] == "accept"',
        )
        self.flow("f_gw_refuse", "accepted_gw", "conclude_not_accepted", [(450, 330), (450, 375)], name="不予受理")
        self.flow("f_plan_split", "plan_round", "review_split", [(610, main), (655, main)])
        for row, review in enumerate(self.rows):
            self.review_flows(row, review)
        self.flow(
            "f_join_outcome",
            self.join_id(self.stage_count - 1),
            "outcome_gw",
            [(join_x + _GW, main), (outcome_x, main)],
        )
        middle = outcome_x + _GW // 2
        self.flow(
            "f_outcome_approved",
            "outcome_gw",
            "conclude_approved",
            [(outcome_x + _GW, main), (conclude_x, main)],
            name="全部准予",
            condition=_ALL_APPROVED,
        )
        self.flow(
            "f_outcome_rejected",
            "outcome_gw",
            "conclude_rejected",
            [(middle, main + _GW // 2), (middle, low), (conclude_x, low)],
            name="有部门不予许可",
            condition=_ANY_REJECTED,
        )
        self.flow(
            "f_outcome_correct",
            "outcome_gw",
            "correct_application",
            [(middle, main - _GW // 2), (middle, applicant_y + _TASK_H // 2)],
            name="需补正",
        )
        self.flow(
            "f_correct_plan",
            "correct_application",
            "plan_round",
            [(1105 + dx + tail, applicant_y), (560, applicant_y), (560, task_y)],
        )
        self.flow("f_approved_end", "conclude_approved", "end_approved", [(conclude_x + _TASK_W, main), (end_x, main)])
        self.flow("f_rejected_end", "conclude_rejected", "end_rejected", [(conclude_x + _TASK_W, low), (end_x, low)])
        self.flow("f_not_accepted_end", "conclude_not_accepted", "end_not_accepted", [(500, low), (542, low)])

    def review_nodes(self, row: int, review: ReviewSpec) -> None:
        key, lane, ox = review.key, review.department, self.ox(review)
        top = _FIRST_ROW_Y + row * _ROW_H
        centre = top + _ROW_H // 2
        done_x = 950 + self.dx + ox
        recorded = key != review.department
        self.node(
            "exclusiveGateway",
            f"needs_{key}",
            lane,
            (720 + ox, centre - _GW // 2, _GW, _GW),
            marker=True,
            name="需审查？",
            default=f"f_skip_{key}",
        )
        self.node(
            "userTask",
            review.element_id,
            lane,
            (800 + ox, centre - _TASK_H // 2, _TASK_W, _TASK_H),
            name=review.task_name.strip(),
        )
        if recorded:
            script = (
                f"reviews = {{({_literal(key)} if key == {_literal(review.department)} else key): decision"
                " for key, decision in reviews.items()}"
            )
            self.node(
                "scriptTask",
                f"record_{key}",
                lane,
                (950 + ox, centre - _TASK_H // 2, _TASK_W, _TASK_H),
                name=f"登记{review.task_name.strip()}结论",
                script=script,
            )
        self.node("exclusiveGateway", f"done_{key}", lane, (done_x, centre - _GW // 2, _GW, _GW), marker=True)
        reviewed = f"f_reviewed_{key}"
        self.wire(f"needs_{key}", [f"f_split_{key}"], [f"f_review_{key}", f"f_skip_{key}"])
        self.wire(review.element_id, [f"f_review_{key}"], [reviewed])
        if recorded:
            self.wire(f"record_{key}", [reviewed], [f"f_recorded_{key}"])
            self.wire(f"done_{key}", [f"f_recorded_{key}", f"f_skip_{key}"], [f"f_join_{key}"])
        else:
            self.wire(f"done_{key}", [reviewed, f"f_skip_{key}"], [f"f_join_{key}"])

    def review_flows(self, row: int, review: ReviewSpec) -> None:
        key, ox, stage = review.key, self.ox(review), self.stage_of[review.key]
        top = _FIRST_ROW_Y + row * _ROW_H
        centre = top + _ROW_H // 2
        done_x = 950 + self.dx + ox
        recorded = key != review.department
        conditional = review.condition is not None
        self.flow(
            f"f_split_{key}",
            self.split_id(stage),
            f"needs_{key}",
            [(680 + ox, 330), (680 + ox, centre), (720 + ox, centre)],
        )
        self.flow(
            f"f_review_{key}",
            f"needs_{key}",
            review.element_id,
            [(770 + ox, centre), (800 + ox, centre)],
            name="未准予且需办理" if conditional else "未准予",
            condition=self.conditions[key],
        )
        self.flow(
            f"f_skip_{key}",
            f"needs_{key}",
            f"done_{key}",
            [
                (745 + ox, centre - _GW // 2),
                (745 + ox, top + 20),
                (done_x + _GW // 2, top + 20),
                (done_x + _GW // 2, centre - _GW // 2),
            ],
            name="已准予或无需办理" if conditional else "已准予",
        )
        target = f"record_{key}" if recorded else f"done_{key}"
        self.flow(
            f"f_reviewed_{key}",
            review.element_id,
            target,
            [(900 + ox, centre), (950 + ox if recorded else done_x, centre)],
        )
        if recorded:
            self.flow(f"f_recorded_{key}", f"record_{key}", f"done_{key}", [(1050 + ox, centre), (done_x, centre)])
        join_x = 1065 + self.dx + ox
        self.flow(
            f"f_join_{key}",
            f"done_{key}",
            self.join_id(stage),
            [(done_x + _GW, centre), (join_x, centre), (join_x, 330)],
        )

    # -- the XML -----------------------------------------------------------------------------------
    def build(self) -> str:
        self.graph()
        pid = self.process_id
        bpmn = _maker(BPMN_NS)
        definitions = etree.Element(
            bpmn("definitions"),
            nsmap=_NSMAP,
            id=f"Definitions_{pid}",
            targetNamespace="https://onething.example/bpmn",
            exporter="OneThing",
            exporterVersion="1",
        )
        collaboration = etree.SubElement(definitions, bpmn("collaboration"), id=f"Collaboration_{pid}")
        etree.SubElement(collaboration, bpmn("participant"), id="Participant_hall", name=self.name, processRef=pid)
        process = etree.SubElement(definitions, bpmn("process"), id=pid, name=self.name, isExecutable="true")
        etree.SubElement(process, bpmn("documentation")).text = self.documentation()
        lane_set = etree.SubElement(process, bpmn("laneSet"), id=f"LaneSet_{pid}")
        for lane in ("applicant", "window", *self.lanes):
            lane_element = etree.SubElement(lane_set, bpmn("lane"), id=f"Lane_{lane}", name=lane)
            for _, element_id, _, _ in self.nodes:
                if self.lane_of[element_id] == lane:
                    etree.SubElement(lane_element, bpmn("flowNodeRef")).text = element_id
        for tag, element_id, attributes, script in self.nodes:
            node = etree.SubElement(process, bpmn(tag), id=element_id, **attributes)
            for flow_id in self.incoming[element_id]:
                etree.SubElement(node, bpmn("incoming")).text = flow_id
            for flow_id in self.outgoing[element_id]:
                etree.SubElement(node, bpmn("outgoing")).text = flow_id
            if script is not None:
                etree.SubElement(node, bpmn("script")).text = script
        for flow_id, source, target, name, condition in self.flows:
            attributes = {"id": flow_id, **({"name": name} if name else {}), "sourceRef": source, "targetRef": target}
            flow = etree.SubElement(process, bpmn("sequenceFlow"), attributes)
            if condition is not None:
                expression = etree.SubElement(
                    flow, bpmn("conditionExpression"), {f"{{{XSI_NS}}}type": "bpmn:tFormalExpression"}
                )
                expression.text = condition
        self.diagram(definitions)
        etree.indent(definitions, space="  ")
        body = etree.tostring(definitions, encoding="unicode")
        return f'<?xml version="1.0" encoding="UTF-8"?>\n{body}\n'

    def diagram(self, definitions) -> None:
        pid, dx = self.process_id, self.dx
        di, dc, bpmndi = _maker(DI_NS), _maker(DC_NS), _maker(BPMNDI_NS)
        diagram = etree.SubElement(definitions, bpmndi("BPMNDiagram"), id=f"Diagram_{pid}")
        plane = etree.SubElement(diagram, bpmndi("BPMNPlane"), id=f"Plane_{pid}", bpmnElement=f"Collaboration_{pid}")

        def shape(element_id, bounds, **attributes):
            element = etree.SubElement(
                plane, bpmndi("BPMNShape"), {"id": f"{element_id}_di", "bpmnElement": element_id, **attributes}
            )
            x, y, width, height = bounds
            etree.SubElement(element, dc("Bounds"), x=str(x), y=str(y), width=str(width), height=str(height))

        right = _RIGHT + dx + self.tail
        height = _APPLICANT_H + _WINDOW_H + _ROW_H * len(self.rows)
        shape("Participant_hall", (_POOL_X, _TOP, right - _POOL_X, height), isHorizontal="true")
        lane_bounds = [("applicant", _TOP, _APPLICANT_H), ("window", _WINDOW_Y, _WINDOW_H)]
        y = _FIRST_ROW_Y
        for lane, lane_reviews in self.lanes.items():
            lane_bounds.append((lane, y, _ROW_H * len(lane_reviews)))
            y += _ROW_H * len(lane_reviews)
        for lane, top, lane_height in lane_bounds:
            shape(f"Lane_{lane}", (_LANE_X, top, right - _LANE_X, lane_height), isHorizontal="true")
        for element_id, bounds, attributes in self.shapes:
            shape(element_id, bounds, **attributes)
        for flow_id, _, _, _, _ in self.flows:
            edge = etree.SubElement(plane, bpmndi("BPMNEdge"), id=f"{flow_id}_di", bpmnElement=flow_id)
            for x, y in self.edges[flow_id]:
                etree.SubElement(edge, di("waypoint"), x=str(x), y=str(y))

    def documentation(self) -> str:
        lines = [
            f"Generated by bpmn.generate_process: one form at one window; {len(self.rows)} reviews in parallel;",
            "one combined correction re-opens only the reviews that have not approved; one unified result.",
        ]
        for review in self.rows:
            when = f"only when {review.condition.strip()}" if review.condition is not None else "always"
            after = f", after {', '.join(review.after)} approved" if review.after else ""
            lines.append(f"- {review.element_id} ({review.department}) {review.task_name.strip()}: {when}{after}")
        lines += [
            "Engine contract (docs/engine-contract.md): reviews maps each review key (the department code, or",
            "department_suffix for a department's further reviews) to its latest decision (approve / reject /",
            "need_correction); intake.decision is accept or refuse; outcome is set before every end.",
        ]
        if self.conditional:
            lines.append(f"{REOPEN_VARIABLE}: the reviews that asked for correction, kept until they approve.")
        if self.stage_count > 1:
            lines.append(
                f"{HELD_VARIABLE}: this round's reviews held back because a review they need has not approved;"
                f" the reviews run in {self.stage_count} stages, one after the other."
            )
        return "\n".join(lines)


def _python_dict(mapping: dict[str, list[str]]) -> str:
    items = ", ".join(f"{_literal(key)}: [{', '.join(_literal(v) for v in values)}]" for key, values in mapping.items())
    return "{" + items + "}"


def _maker(namespace: str):
    return lambda tag: f"{{{namespace}}}{tag}"
