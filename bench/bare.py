"""The floor: the same BPMN run by bare SpiffWorkflow, with nothing of ours in the way.

Three baselines of one lifecycle (start → window accepts → each department approves), all with
SpiffWorkflow's own parser, default script engine and serializer, as its documentation shows them:

- ``memory``: one workflow object kept in memory throughout;
- ``json``: ``serialize_json`` after every step and ``deserialize_json`` before the next, as a service that
  keeps no workflow in memory between requests must do;
- ``postgres``: that JSON in one row of one table, each step one transaction (SELECT … FOR UPDATE, UPDATE), its
  statements sent as the write path sends its own (``workflow.prepared.prepared_cursor``: bound on the server and
  prepared), so that the comparison is of the work and not of the transport.

The task data each step sets is the data our services set, so the model routes the same way.
"""

from __future__ import annotations

import copy
import time

from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.util.task import TaskState

SERIALIZER = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
TABLE = "bench_bare_workflow"


class BareProcess:
    def __init__(self, bpmn_xml: str, process_id: str):
        parser = SpiffBpmnParser(validator=VALIDATOR)
        parser.add_bpmn_str(bpmn_xml.encode("utf-8"))
        self.spec = parser.get_spec(process_id)
        self.subprocess_specs = parser.get_subprocess_specs(process_id)

    # -- one step each, on a workflow object ---------------------------------------------------------
    def start(self, data: dict) -> BpmnWorkflow:
        workflow = BpmnWorkflow(self.spec, self.subprocess_specs)
        workflow.get_next_task(state=TaskState.READY).set_data(**copy.deepcopy(data))
        workflow.do_engine_steps()
        return workflow

    @staticmethod
    def complete(workflow: BpmnWorkflow, lane: str, make_data) -> None:
        task = workflow.get_next_task(state=TaskState.READY, manual=True, lane=lane)
        if task is None:
            raise RuntimeError(f"no ready task in lane {lane}")
        task.set_data(**make_data(task.data))
        task.run()
        workflow.do_engine_steps()

    @staticmethod
    def steps(departments: list[str]) -> list[tuple[str, object]]:
        def approve(department):
            return lambda data: {"reviews": {**data.get("reviews", {}), department: "approve"}}

        return [("window", lambda data: {"intake": {"decision": "accept"}})] + [(d, approve(d)) for d in departments]

    @staticmethod
    def check_done(workflow: BpmnWorkflow) -> None:
        if not workflow.is_completed() or workflow.data.get("outcome") != "approved":
            raise RuntimeError(f"bare lifecycle did not end approved: {workflow.data.get('outcome')!r}")

    # -- the three baselines, each returning milliseconds for one lifecycle -----------------------------
    def lifecycle_memory(self, data: dict, departments: list[str]) -> float:
        started = time.perf_counter()
        workflow = self.start(data)
        for lane, make_data in self.steps(departments):
            self.complete(workflow, lane, make_data)
        elapsed = time.perf_counter() - started
        self.check_done(workflow)
        return elapsed * 1000

    def lifecycle_json(self, data: dict, departments: list[str]) -> tuple[float, int]:
        started = time.perf_counter()
        state = SERIALIZER.serialize_json(self.start(data))
        for lane, make_data in self.steps(departments):
            workflow = SERIALIZER.deserialize_json(state)
            self.complete(workflow, lane, make_data)
            state = SERIALIZER.serialize_json(workflow)
        elapsed = time.perf_counter() - started
        self.check_done(SERIALIZER.deserialize_json(state))
        return elapsed * 1000, len(state.encode("utf-8"))

    def lifecycle_postgres(self, connection, data: dict, departments: list[str]) -> tuple[float, int]:
        """``connection``: a Django connection; each step is its own transaction, like a request. Returns the
        milliseconds and the row, for `check_postgres` (kept apart so that statement counts leave it out)."""
        from django.db import transaction

        from workflow.prepared import prepared_cursor

        started = time.perf_counter()
        with transaction.atomic(using=connection.alias), prepared_cursor(connection) as cursor:
            cursor.execute(
                f"INSERT INTO {TABLE} (state) VALUES (%s) RETURNING id", [SERIALIZER.serialize_json(self.start(data))]
            )
            (row_id,) = cursor.fetchone()
        for lane, make_data in self.steps(departments):
            with transaction.atomic(using=connection.alias), prepared_cursor(connection) as cursor:
                cursor.execute(f"SELECT state FROM {TABLE} WHERE id = %s FOR UPDATE", [row_id])
                workflow = SERIALIZER.deserialize_json(cursor.fetchone()[0])
                self.complete(workflow, lane, make_data)
                cursor.execute(
                    f"UPDATE {TABLE} SET state = %s WHERE id = %s", [SERIALIZER.serialize_json(workflow), row_id]
                )
        return (time.perf_counter() - started) * 1000, row_id

    def check_postgres(self, connection, row_id: int) -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT state FROM {TABLE} WHERE id = %s", [row_id])
            self.check_done(SERIALIZER.deserialize_json(cursor.fetchone()[0]))


def create_table(connection) -> None:
    with connection.cursor() as cursor:
        # json text, like Case.process_state (never jsonb: it reorders keys and breaks the data deltas).
        cursor.execute(f"CREATE TABLE IF NOT EXISTS {TABLE} (id bigserial PRIMARY KEY, state text NOT NULL)")
