"""Section 1: a whole case through the service layer on PostgreSQL against bare SpiffWorkflow on the same BPMN.

One lifecycle: window opens the case, accepts it, every department approves its parallel review, the window
concludes. Ours runs the services exactly as the API calls them (one transaction each, task rows, audit
events, the legal clock, the sandbox). The four measurements of one round run back to back, in rotating
order, so that machine noise hits all of them alike; the ratios are of medians over the rounds.

SQL statements are counted on the connection, BEGIN and COMMIT included, and only inside the service calls
(the bench's own lookups of task ids, and bare's read-back that checks its outcome, are left out). The goal's
scenario (issue 8, DESIGN.md §4: window acceptance + four parallel reviews) is the steps bare runs too: open,
accept, the reviews — bare's 11 statements + 6 transactions × 2 are the DESIGN's 23; conclude, which bare has
no counterpart for, is counted in the whole lifecycle only.
"""

from __future__ import annotations

import re
import statistics
import time
from collections import defaultdict

from .bare import BareProcess, create_table
from .common import (
    APPLICANT,
    ENTERPRISE_FORM,
    FOUR_FORM,
    FOUR_KEY,
    REVIEWER_OF,
    SqlCounter,
    build_schema,
    checklist_codes,
    hand_over,
    handover_of,
    load_demo_data,
    log,
    summary,
)

OPINION = "经审查，材料齐全，符合法定条件，准予办理"
# What each statement is for, by the table it reads or writes (for the statement budget table).
TABLE_PURPOSES = {
    "workflow_case": "case row: lock, read, insert, update",
    "workflow_humantask": "task rows",
    "workflow_calendarday": "legal clock: working-day calendar",
    "workflow_casenumbercounter": "case number",
    "workflow_onething": "catalogue: one-thing, version, items",
    "workflow_processversion": "catalogue: one-thing, version, items",
    "workflow_onethingitem": "catalogue: one-thing, version, items",
    "workflow_serviceitem": "catalogue: one-thing, version, items",
    "workflow_elicence": "licences and material reuse",
    "workflow_materialreuse": "licences and material reuse",
    "workflow_materialpromise": "licences and material reuse",
    "workflow_auditchainhead": "audit trail: chain head (lock + last link)",
}
APPEND_EVENTS = "audit trail: events (one statement: head lock, numbering, hashes, insert)"
STEP_WRITES = "a step's writes, one statement (workflow.write_batch: case row, task rows, audit events)"
LOCK = "case row: lock, with the task the step acts on (one statement)"
_MAIN_TABLE = re.compile(r'^\s*(?:INSERT INTO|UPDATE|DELETE FROM|SELECT .*? FROM)\s+"?(\w+)"?', re.IGNORECASE)


def statement_purposes(statements: list[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for sql in statements:
        if "pg_advisory_xact_lock" in sql:
            purpose = "audit trail: chain lock"
        elif sql.lstrip().upper().startswith("WITH") and " write_0 AS (" in sql:
            purpose = STEP_WRITES
        elif sql.lstrip().upper().startswith("WITH") and "INSERT INTO workflow_caseevent" in sql:
            purpose = APPEND_EVENTS
        elif " FOR UPDATE" in sql:
            purpose = LOCK
        else:
            match = _MAIN_TABLE.match(sql)
            table = match.group(1) if match else sql.split()[0]
            if table == "workflow_caseevent":
                purpose = (
                    "audit trail: events" if sql.lstrip().upper().startswith("INSERT") else "audit trail: last hash"
                )
            else:
                purpose = TABLE_PURPOSES.get(table, f"other: {table}")
        counts[purpose] = counts.get(purpose, 0) + 1
    return counts


ENGINE = {"seconds": 0.0}  # time inside bpmn.ProcessInstance while the counter is active


def _instrument_engine(counter: SqlCounter) -> None:
    """Time the engine boundary (restore, complete, ready tasks, dump...) separately from SQL and the rest."""
    import bpmn

    cls = bpmn.ProcessInstance

    def timed(function):
        def wrapper(*args, **kwargs):
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                if counter.active:
                    ENGINE["seconds"] += time.perf_counter() - started

        return wrapper

    for name in ("complete", "dump", "ready_tasks", "task_data"):
        setattr(cls, name, timed(getattr(cls, name)))
    for name in ("start", "restore"):
        setattr(cls, name, classmethod(timed(getattr(cls, name).__func__)))


def _initial_data(key: str, form: dict) -> dict:
    """What case_open starts every process with (docs/engine-contract.md)."""
    import bpmn

    return bpmn.initial_data(case_no="11010520260101000001", one_thing=key, form=form)


def _ours(users: dict, key: str, form: dict, counter: SqlCounter) -> dict:
    from workflow import services
    from workflow.models import Case, HumanTask, HumanTaskState

    window = users["window1"]
    step_ms: dict[str, list[float]] = defaultdict(list)
    step_sql: dict[str, list[int]] = defaultdict(list)
    counter.reset()
    ENGINE["seconds"] = 0.0

    def timed(name: str, call):
        before = counter.total
        started = time.perf_counter()
        with counter.counting():
            result = call()
        step_ms[name].append((time.perf_counter() - started) * 1000)
        step_sql[name].append(counter.total - before)
        return result

    from workflow.errors import ValidationFailed

    try:
        opened = timed(
            "open", lambda: services.case_open(user=window, one_thing_key=key, applicant=APPLICANT, form=form)
        )
    except ValidationFailed as exc:
        raise RuntimeError(f"the bench's form does not fit {key}: {exc.field_errors}") from None
    case_no, pk = opened.case.case_no, opened.case.pk
    materials = checklist_codes(key)  # everything handed in: read before the timing, as the window's screen has it
    timed("accept", lambda: services.case_accept(user=window, case_no=case_no, materials=materials))
    tasks = list(HumanTask.objects.filter(case_id=pk, state=HumanTaskState.OPEN).values_list("pk", "lane"))
    for task_id, lane in tasks:
        timed(
            "decide",
            lambda task_id=task_id, lane=lane: services.human_task_complete(
                user=users[REVIEWER_OF[lane]], task_id=task_id, decision="approve", opinion=OPINION
            ),
        )
    # The goal's scenario ends here: open, accept, the parallel reviews (what bare runs too).
    scenario = {
        "sql": counter.total,
        "statements": counter.statements,
        "transactions": counter.commits,
        "ms": sum(sum(values) for values in step_ms.values()),
    }
    shown = handover_of(window, case_no)  # read before the timing, as the window's screen has it
    timed("conclude", lambda: hand_over(window, case_no, shown))  # 办结 by the handover that proves the delivery
    status, state = Case.objects.values_list("status", "process_state").get(pk=pk)
    if status != "concluded":
        raise RuntimeError(f"lifecycle ended in {status}")
    return {
        "ms": sum(sum(values) for values in step_ms.values()),
        "sql": counter.total,
        "scenario": scenario,
        "statements": counter.statements,
        "transactions": counter.commits,
        "rollbacks": counter.rollbacks,
        "db_ms": counter.db_seconds * 1000,
        "engine_ms": ENGINE["seconds"] * 1000,
        "step_ms": step_ms,
        "step_sql": step_sql,
        "departments": len(tasks),
        "state_bytes": len(state.encode("utf-8")),
        "samples": list(counter.samples),
    }


def _measure_flow(name: str, key: str, form: dict, users: dict, counter: SqlCounter, rounds: int, warmup: int) -> dict:
    from django.db import connection

    from workflow.models import OneThing

    version = OneThing.objects.select_related("current_version").get(key=key).current_version
    departments = sorted(version.departments)
    bare = BareProcess(version.bpmn_xml, version.process_id)
    data = _initial_data(key, form)

    times: dict[str, list[float]] = defaultdict(list)
    ours_runs, bare_sql, bare_tx, json_bytes = [], [], [], 0

    def run_ours():
        result = _ours(users, key, form, counter)
        ours_runs.append(result)
        times["ours_scenario"].append(result["scenario"]["ms"])  # the steps bare runs too (no conclude)
        return result["ms"]

    def run_memory():
        return bare.lifecycle_memory(data, departments)

    def run_json():
        nonlocal json_bytes
        ms, json_bytes = bare.lifecycle_json(data, departments)
        return ms

    def run_postgres():
        counter.reset()
        with counter.counting():
            ms, row_id = bare.lifecycle_postgres(connection, data, departments)
        bare_sql.append(counter.total)
        bare_tx.append(counter.commits)
        bare.check_postgres(connection, row_id)
        return ms

    kinds = [("ours", run_ours), ("memory", run_memory), ("json", run_json), ("postgres", run_postgres)]
    for i in range(warmup + rounds):
        rotation = kinds[i % len(kinds) :] + kinds[: i % len(kinds)]
        for kind, run in rotation:
            ms = run()
            if i >= warmup:
                times[kind].append(ms)
        if i == warmup - 1:
            times["ours_scenario"].clear()
            ours_runs.clear()
            bare_sql.clear()
            bare_tx.clear()
    ours_ms, json_ms = statistics.median(times["ours"]), statistics.median(times["json"])
    log(f"lifecycle {name}: ours {ours_ms:.1f} ms, bare with JSON {json_ms:.1f} ms")

    medians = {kind: statistics.median(values) for kind, values in times.items()}
    step_ms: dict[str, list[float]] = defaultdict(list)
    step_sql: dict[str, list[int]] = defaultdict(list)
    for run in ours_runs:
        for step, values in run["step_ms"].items():
            step_ms[step].extend(values)
        for step, values in run["step_sql"].items():
            step_sql[step].extend(values)
    last = ours_runs[-1]
    return {
        "key": key,
        "departments": departments,
        "rounds": rounds,
        "times": {kind: summary(values) for kind, values in times.items()},
        "ratio_json": medians["ours"] / medians["json"],
        "ratio_memory": medians["ours"] / medians["memory"],
        "ratio_postgres": medians["ours"] / medians["postgres"],
        # issue 19's ratio: the same steps on both sides (open, accept, the reviews), interleaved in one run
        "ratio_postgres_scenario": medians["ours_scenario"] / medians["postgres"],
        "sql": {
            "ours": max(run["sql"] for run in ours_runs),
            "ours_min": min(run["sql"] for run in ours_runs),
            "ours_statements": last["statements"],
            "ours_transactions": last["transactions"],
            "ours_rollbacks": last["rollbacks"],
            "scenario": max(run["scenario"]["sql"] for run in ours_runs),
            "scenario_statements": last["scenario"]["statements"],
            "scenario_transactions": last["scenario"]["transactions"],
            "postgres": max(bare_sql),
            "postgres_transactions": max(bare_tx),
        },
        "steps": {
            step: {"ms": statistics.median(step_ms[step]), "sql": statistics.median(step_sql[step])}
            for step in ("open", "accept", "decide", "conclude")
        },
        "breakdown": {
            "total": statistics.median(run["ms"] for run in ours_runs),
            "database": statistics.median(run["db_ms"] for run in ours_runs),
            "engine": statistics.median(run["engine_ms"] for run in ours_runs),
        },
        "state_bytes": last["state_bytes"],
        "bare_json_bytes": json_bytes,
        "statement_samples": [sql[:100] for sql in SqlCounter.statement_texts(last["samples"])],
        "statement_purposes": statement_purposes(SqlCounter.statement_texts(last["samples"])),
    }


def run(params: dict) -> dict:
    from django.db import connection

    schema = build_schema()
    users = load_demo_data(four_departments=True)
    create_table(connection)
    counter = SqlCounter(connection)
    _instrument_engine(counter)
    flows = [
        ("four departments (generated)", FOUR_KEY, FOUR_FORM),
        ("enterprise_start (shipped)", "enterprise_start", ENTERPRISE_FORM),
    ]
    results = {}
    with counter.installed():
        for name, key, form in flows:
            results[name] = _measure_flow(name, key, form, users, counter, params["rounds"], params["warmup"])
    return {"flows": results, "schema": schema}
