"""Section 6: the peer, side by side — the four-department flow in viewflow 2.4, ours and the same floor.

viewflow is a dev-only extra (``pip install -e .[bench]``); without it the section reports that it was skipped.
This section's process runs the project's settings plus viewflow and the peer flow (``bench.viewflow_peer``) on
its own fresh database. Each round runs, back to back in rotating order: one whole viewflow lifecycle — start
(the case with its form), the window's acceptance, the four departments' reviews, each step as viewflow's own
task view runs it on a POST (the process lock, the task, ``activation.start``, the process data saved,
``activation.execute`` creating the next tasks) but without the HTTP and form rendering that ours leaves out
too —, ours through the services exactly as section 1 runs it (``lifecycle._ours``: open, accept, the reviews
timed; its conclusion runs after, untimed here), and the floor, bare SpiffWorkflow with its JSON in one
PostgreSQL row on the same BPMN as section 1.

Ours ÷ viewflow is the ratio of the two medians of this one interleaved run, so the load of the moment falls on
both alike; each is also reported ÷ the floor. Section 1's ratio to its own floor, divided by viewflow's here, is
reported beside it as a cross-check (two runs, so it carries the noise of both).
"""

from __future__ import annotations

import statistics
import time

from . import lifecycle
from .bare import BareProcess, create_table
from .common import APPLICANT, FOUR_FORM, FOUR_KEY, SqlCounter, build_schema, load_demo_data, log, summary


def available() -> bool:
    try:
        import viewflow  # noqa: F401
    except ImportError:
        return False
    return True


def _viewflow_lifecycle(counter: SqlCounter, users: dict) -> tuple[float, int, int]:
    from django.db import transaction
    from viewflow.workflow import STATUS

    from .viewflow_peer.flows import DEPARTMENTS, FourDepartments

    task_class = FourDepartments.task_class

    def step(task_pk: int, user, change) -> None:
        # What viewflow's task view does on a POST (flow/utils.py wrap_view + UpdateProcessView.form_valid).
        with FourDepartments.lock(process_pk), transaction.atomic():
            task = task_class._default_manager.get(pk=task_pk)
            activation = task.flow_task.activation_class(task)
            if not task.flow_task.can_execute(user, task=task):
                raise RuntimeError(f"{user} may not execute {task.flow_task.name}")
            activation.start(None)
            change(activation.process.data)
            activation.process.save()
            activation.execute()

    def assigned() -> list[tuple[int, str]]:
        rows = task_class._default_manager.filter(process_id=process_pk, status=STATUS.ASSIGNED)
        return [(task.pk, task.flow_task.name) for task in rows]

    counter.reset()
    started = time.perf_counter()
    with counter.counting(), transaction.atomic():
        process = FourDepartments.start.run(form=FOUR_FORM, applicant=APPLICANT)
    process_pk = process.pk
    elapsed = time.perf_counter() - started
    for task_pk, name in assigned():
        assert name == "accept", name
        started = time.perf_counter()
        with counter.counting():
            step(task_pk, users["window1"], lambda data: data.update(intake={"decision": "accept"}))
        elapsed += time.perf_counter() - started
    reviews = assigned()
    assert len(reviews) == len(DEPARTMENTS), reviews
    for task_pk, name in reviews:
        department = name.removeprefix("review_")
        started = time.perf_counter()
        with counter.counting():
            step(
                task_pk,
                users[DEPARTMENTS[department]],
                lambda data, department=department: data["reviews"].update({department: "approve"}),
            )
        elapsed += time.perf_counter() - started
    process.refresh_from_db()
    if process.status != STATUS.DONE:
        raise RuntimeError(f"viewflow lifecycle ended in {process.status}")
    return elapsed * 1000, counter.total, counter.commits


def run(params: dict) -> dict:
    if not available():
        log("viewflow: not installed (pip install -e .[bench]); section skipped")
        return {"skipped": "viewflow is not installed (pip install -e .[bench])"}
    from importlib import metadata

    from django.db import connection

    import bpmn
    from workflow.models import OneThing

    schema = build_schema()
    users = load_demo_data(four_departments=True)
    create_table(connection)
    version = OneThing.objects.select_related("current_version").get(key=FOUR_KEY).current_version
    departments = sorted(version.departments)
    bare = BareProcess(version.bpmn_xml, version.process_id)
    data = bpmn.initial_data(case_no="11010520260101000001", one_thing=FOUR_KEY, form=FOUR_FORM)
    counter = SqlCounter(connection)
    times: dict[str, list[float]] = {"viewflow": [], "ours": [], "floor": []}
    sql: dict[str, list[int]] = {"viewflow": [], "ours": [], "floor": []}
    transactions: dict[str, list[int]] = {"viewflow": [], "ours": [], "floor": []}

    def run_viewflow():
        ms, statements, commits = _viewflow_lifecycle(counter, users)
        return ms, statements, commits

    def run_ours():
        result = lifecycle._ours(users, FOUR_KEY, FOUR_FORM, counter)
        return result["scenario"]["ms"], result["scenario"]["sql"], result["scenario"]["transactions"]

    def run_floor():
        counter.reset()
        with counter.counting():
            ms, row_id = bare.lifecycle_postgres(connection, data, departments)
        statements, commits = counter.total, counter.commits
        bare.check_postgres(connection, row_id)
        return ms, statements, commits

    kinds = [("viewflow", run_viewflow), ("ours", run_ours), ("floor", run_floor)]
    with counter.installed():
        for i in range(params["warmup"] + params["rounds"]):
            for kind, call in kinds[i % len(kinds) :] + kinds[: i % len(kinds)]:
                ms, statements, commits = call()
                if i >= params["warmup"]:
                    times[kind].append(ms)
                    sql[kind].append(statements)
                    transactions[kind].append(commits)
    medians = {kind: statistics.median(values) for kind, values in times.items()}
    log(f"viewflow: {medians['viewflow']:.1f} ms, ours {medians['ours']:.1f} ms, floor {medians['floor']:.1f} ms")
    return {
        "schema": schema,
        "version": metadata.version("django-viewflow"),
        "departments": departments,
        "rounds": params["rounds"],
        "times": {kind: summary(values) for kind, values in times.items()},
        "ratio_floor": medians["viewflow"] / medians["floor"],
        "ours_ratio_floor": medians["ours"] / medians["floor"],
        "ours_ratio_viewflow": medians["ours"] / medians["viewflow"],
        "sql": {kind: max(values) for kind, values in sql.items()},
        "transactions": {kind: max(values) for kind, values in transactions.items()},
    }
