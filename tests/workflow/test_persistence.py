"""The process state round-trips through PostgreSQL intact, as text: never jsonb."""

import json

import pytest
from django.db import connection

import bpmn
from tests.conftest import DEPARTMENTS
from tests.workflow.helpers import decide, open_and_accept, restored
from workflow import services
from workflow.models import Case
from workflow.services.engine import model_for

pytestmark = pytest.mark.django_db


def test_process_state_is_stored_as_text_not_jsonb():
    if connection.vendor != "postgresql":
        pytest.skip("column types are checked on PostgreSQL")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT data_type FROM information_schema.columns WHERE table_name = %s AND column_name = %s",
            [Case._meta.db_table, "process_state"],
        )
        assert cursor.fetchone() == ("text",)


def test_a_steps_process_state_is_compressed_with_lz4_where_the_server_has_it(users):
    """Migration 0024: every step rewrites the state; lz4 writes it with less work than the server's default."""
    if connection.vendor != "postgresql":
        pytest.skip("TOAST compression is PostgreSQL's")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT attcompression FROM pg_attribute WHERE attrelid = %s::regclass AND attname = 'process_state'",
            [Case._meta.db_table],
        )
        (method,) = cursor.fetchone()
    if method != "l":
        pytest.skip("this server was built without lz4: the migration kept pglz")
    case = open_and_accept(users)  # a state long enough to be compressed (over 2 KB)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_column_compression(process_state) FROM workflow_case WHERE id = %s", [case.pk])
        assert cursor.fetchone() == ("lz4",)
    assert restored(case).ready_tasks()


def test_department_data_survives_many_database_round_trips(users):
    """Three correction rounds; after every step the decisions so far are read back from the row."""
    case = open_and_accept(users)
    expected: dict[str, str] = {}
    for round_no in range(1, 4):
        asking = {"tax", "market_regulation"} if round_no == 1 else ({"tax"} if round_no == 2 else set())
        for department in DEPARTMENTS:
            if department in expected and expected[department] == "approve":
                continue
            decision = "need_correction" if department in asking else "approve"
            decide(users, case, department, decision)
            expected[department] = decision
            instance = restored(case)
            seen = instance.data["reviews"] if instance.is_completed else _reviews_seen(instance)
            for decided, value in expected.items():
                assert seen.get(decided) == value, (round_no, department, seen)
        if asking:
            # Fields only the asking departments need, so no approval is re-opened by provenance.
            changes = {"registered_capital": 100 + round_no} if round_no == 1 else {"invoice_needed": False}
            changes["address"] = Case.objects.get(pk=case.pk).form_data["address"]  # asked for: given back as it was
            services.case_correction_submit(case_no=case.case_no, changes=changes)
            expected = {d: v for d, v in expected.items() if v == "approve"}
    case.refresh_from_db()
    assert case.outcome == "approved"
    assert restored(case).data["reviews"] == dict.fromkeys(DEPARTMENTS, "approve")


def _reviews_seen(instance) -> dict:
    """Decisions visible to the engine now: merged from the data of every task still ahead."""
    merged: dict = {}
    for task in instance._workflow.get_tasks():
        merged.update(task.data.get("reviews", {}))
    return merged


def test_a_jsonb_round_trip_would_lose_department_data(users):
    """Why the column is text: jsonb reorders keys, and the library's task data deltas need parents first."""
    if connection.vendor != "postgresql":
        pytest.skip("jsonb is PostgreSQL's")
    case = open_and_accept(users)
    decide(users, case, "tax")
    decide(users, case, "market_regulation")
    case.refresh_from_db()
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s::jsonb::text", [case.process_state])
        (through_jsonb,) = cursor.fetchone()
    assert json.loads(through_jsonb) == json.loads(case.process_state)  # the same content, keys reordered…
    model = model_for(case.process_version)
    from_text = bpmn.ProcessInstance.restore(model, case.process_state)
    from_jsonb = bpmn.ProcessInstance.restore(model, through_jsonb)
    [text_task], [jsonb_task] = from_text.ready_tasks(), from_jsonb.ready_tasks()
    assert from_text.task_data(text_task.id)["form"]["enterprise_name"] == "示范区星火科技有限公司"
    assert "form" not in from_jsonb.task_data(jsonb_task.id)  # …and the restored task has lost its data


def test_a_case_records_its_state_format_and_an_older_one_is_upgraded_by_its_next_step(users, monkeypatch):
    """Versioned engine state: the row says which format its state is in; a step on a case of an older format
    runs the chain of upgrades (bpmn/serializer.py) and saves the state in the current format."""
    from bpmn import serializer as state_serializer

    case = open_and_accept(users)
    assert case.state_format == bpmn.STATE_FORMAT == 1
    upgraded = []
    monkeypatch.setattr(state_serializer, "STATE_FORMAT", 2)
    monkeypatch.setattr(bpmn, "STATE_FORMAT", 2)
    monkeypatch.setitem(state_serializer.STATE_UPGRADES, 1, lambda dct, spec_dicts: upgraded.append(case.case_no))
    decide(users, case, "tax")
    case.refresh_from_db()
    assert upgraded == [case.case_no]
    assert case.state_format == 2
    decide(users, case, "market_regulation")  # now of the current format: no upgrade
    assert upgraded == [case.case_no]
