"""A step's writes sent together (workflow/write_batch.py): one statement on PostgreSQL, the ORM's own writes."""

import pytest
from django.db import connection, transaction
from django.db.models import F, sql
from django.test.utils import CaptureQueriesContext

from tests.workflow.helpers import decide, open_and_accept
from workflow.errors import ConcurrentUpdate
from workflow.events import case_event
from workflow.models import Case, CaseEvent, HumanTask, HumanTaskState
from workflow.write_batch import WriteBatch

pytestmark = pytest.mark.django_db


def _row(case, engine_task_id):
    return HumanTask(case=case, engine_task_id=engine_task_id, element_id="extra", name="附加", lane="window")


def test_updates_inserts_and_events_go_in_one_statement_and_come_back_numbered(users):
    case = open_and_accept(users)
    batch = WriteBatch()
    batch.update(Case, {"pk": case.pk, "version": case.version}, expected=1, version=F("version") + 1)
    rows = [_row(case, "extra-1"), _row(case, "extra-2")]
    batch.insert(rows)
    events = [case_event(case, "extension_requested", users["window1"], days=n, reason="备注") for n in range(2)]
    batch.append_events(events)
    before = CaseEvent.objects.order_by("-seq").first()
    with CaptureQueriesContext(connection) as queries:
        batch.send()
    if connection.vendor == "postgresql":
        assert len(queries.captured_queries) == 1
    assert Case.objects.get(pk=case.pk).version == case.version + 1
    assert [HumanTask.objects.get(pk=row.pk).engine_task_id for row in rows] == ["extra-1", "extra-2"]
    assert rows[0].pk < rows[1].pk
    stored = list(CaseEvent.objects.filter(pk__in=[e.pk for e in events]).order_by("seq"))
    assert [(e.seq, e.prev_hash, e.hash) for e in stored] == [(e.seq, e.prev_hash, e.hash) for e in events]
    assert events[0].seq == before.seq + 1 and events[0].prev_hash == before.hash
    assert events[1].prev_hash == events[0].hash


def test_nothing_is_written_before_send(users):
    case = open_and_accept(users)
    batch = WriteBatch()
    batch.update(HumanTask, {"case": case}, state=HumanTaskState.CANCELLED)
    batch.insert([_row(case, "extra-3")])
    assert not HumanTask.objects.filter(case=case, state=HumanTaskState.CANCELLED).exists()
    assert not HumanTask.objects.filter(engine_task_id="extra-3").exists()
    batch.send()
    assert HumanTask.objects.filter(case=case, engine_task_id="extra-3").exists()


def test_a_failed_optimistic_check_raises_and_the_transaction_keeps_none_of_the_batch(users):
    case = open_and_accept(users)
    events_before = CaseEvent.objects.count()
    batch = WriteBatch()
    batch.update(Case, {"pk": case.pk, "version": case.version + 7}, expected=1, trips=99)
    batch.update(HumanTask, {"case": case}, state=HumanTaskState.CANCELLED)
    batch.insert([_row(case, "extra-4")])
    batch.append_events([case_event(case, "extension_requested", users["window1"], days=1, reason="备注")])

    @transaction.atomic
    def service():  # as every service: one transaction
        batch.send()

    with pytest.raises(ConcurrentUpdate):
        service()
    assert CaseEvent.objects.count() == events_before
    assert not HumanTask.objects.filter(engine_task_id="extra-4").exists()
    assert not HumanTask.objects.filter(case=case, state=HumanTaskState.CANCELLED).exists()
    assert Case.objects.get(pk=case.pk).trips != 99


def test_a_step_sends_only_the_case_columns_it_changed(users):
    case = open_and_accept(users)
    with CaptureQueriesContext(connection) as queries:
        decide(users, case, "market_regulation")  # not the last review: the case moves nothing but its process
    (update,) = [q["sql"] for q in queries.captured_queries if 'UPDATE "workflow_case"' in q["sql"]]
    written = update.split('UPDATE "workflow_case" SET ', 1)[1].split(" WHERE ", 1)[0]
    assert '"process_state"' in written and '"version"' in written and '"updated_at"' in written
    for unchanged in ("form_data", "status", "promised_due_date", "accepted_at", "trips"):
        assert f'"{unchanged}"' not in written


def test_columns_to_write_compares_with_the_row_as_read_and_as_last_written(users):
    case = Case.objects.get(pk=open_and_accept(users).pk)
    same_form = dict(case.form_data)
    assert case.columns_to_write({"form_data": same_form, "trips": case.trips}) == {}
    new_form = {**case.form_data, "seal_count": 9}
    assert case.columns_to_write({"form_data": new_form, "trips": case.trips + 1}) == {
        "form_data": new_form,
        "trips": case.trips + 1,
    }
    # once written, setting a field back to what was first read is a change again
    assert case.columns_to_write({"trips": case.trips}) == {"trips": case.trips}
    assert Case(case_no="new").columns_to_write({"trips": 0}) == {"trips": 0}  # not read: everything


def test_an_opening_inserts_its_case_row_with_its_task_rows_and_events_in_one_statement(users):
    """On PostgreSQL the case number's upsert draws the new row's id, so the row goes into the opening's one
    statement with the rows that refer to it (their foreign keys are checked at its end); the times ``save`` would
    stamp are set before the step's code reads them (the window's deadline counts from the receipt)."""
    from tests.workflow.helpers import open_case

    with CaptureQueriesContext(connection) as queries:
        opened = open_case(users)
    case = Case.objects.get(pk=opened.case.pk)
    assert case.opened_at == opened.case.opened_at and case.case_no == opened.case.case_no
    window = HumanTask.objects.get(case=case, lane="window")
    assert window.due_date is not None and CaseEvent.objects.filter(case=case, kind="opened").exists()
    sent = [q["sql"] for q in queries.captured_queries]
    if connection.vendor == "postgresql":
        assert not [sql for sql in sent if sql.startswith('INSERT INTO "workflow_case"')]
        [batch] = [sql for sql in sent if sql.startswith("WITH RECURSIVE")]
        assert 'INSERT INTO "workflow_case"' in batch and 'INSERT INTO "workflow_humantask"' in batch


def test_rows_that_refer_to_the_batchs_events_are_inserted_after_them_with_their_ids(users):
    """``insert_for_events``: each row gets its event's id in its foreign key and in text made of it (an SMS outbox
    row's idempotency key), in the batch's one statement on PostgreSQL."""
    from workflow.models import SmsMessage

    case = open_and_accept(users)
    batch = WriteBatch()
    events = [case_event(case, "extension_requested", users["window1"], days=n, reason="备注") for n in range(3)]
    batch.append_events(events)
    rows = [
        SmsMessage(case=case, recipient="13800138000", template="accepted", params=["a", n], body=f"正文{n}")
        for n in range(2)
    ]
    keys = [("sms:前缀:", f":后缀{n}") for n in range(2)]
    batch.insert_for_events(
        rows, event_field="event", events=[events[2], events[0]], with_event_id={"idempotency_key": keys}
    )
    sent = []
    batch.after_send(lambda: sent.append([row.pk for row in rows]))
    with CaptureQueriesContext(connection) as queries:
        batch.send()
    if connection.vendor == "postgresql":
        assert len(queries.captured_queries) == 1
    stored = {row.pk: row for row in SmsMessage.objects.filter(pk__in=[row.pk for row in rows])}
    assert [stored[row.pk].event_id for row in rows] == [events[2].pk, events[0].pk]
    assert [stored[row.pk].idempotency_key for row in rows] == [
        f"sms:前缀:{events[2].pk}:后缀0",
        f"sms:前缀:{events[0].pk}:后缀1",
    ]
    assert [row.idempotency_key for row in rows] == [stored[row.pk].idempotency_key for row in rows]
    assert stored[rows[1].pk].params == ["a", 1] and stored[rows[0].pk].created_at is not None
    assert sent == [[row.pk for row in rows]] and all(sent[0])


def test_a_row_whose_event_is_not_in_the_batch_is_refused(users):
    from workflow.models import SmsMessage

    case = open_and_accept(users)
    batch = WriteBatch()
    batch.append_events([case_event(case, "extension_requested", users["window1"], days=1, reason="备注")])
    stray = case_event(case, "extension_requested", users["window1"], days=2, reason="备注")
    row = SmsMessage(case=case, recipient="13800138000", template="accepted", params=[], body="正文")
    batch.insert_for_events([row], event_field="event", events=[stray])
    before = CaseEvent.objects.count()
    with pytest.raises(ValueError, match="not one of the batch's events"):
        batch.send()
    assert CaseEvent.objects.count() == before and not SmsMessage.objects.filter(body="正文").exists()


def test_an_update_of_a_known_shape_sends_what_the_orm_compiles(users):
    """The step's UPDATEs are compiled once per shape: later ones of the shape send the SQL and the parameters the
    ORM itself would (JSON values, None, an expression, a foreign key given as an instance); another shape (a value
    that is None where it was not, another filter) is compiled on its own."""
    import datetime as dt

    from workflow import write_batch

    case = open_and_accept(users)
    task = HumanTask.objects.filter(case=case).exclude(lane="window").first()

    def orm(write):
        query = write.queryset("default").query.chain(sql.UpdateQuery)
        query.add_update_values(write.values)
        query.annotations = {}
        statement, params = query.get_compiler("default").as_sql()
        return f"{statement} RETURNING 1", list(params)

    def writes(n):
        at = dt.datetime(2026, 12, 1, 9, n, tzinfo=dt.UTC)
        return [
            write_batch._Update(
                HumanTask,
                {"pk": task.pk, "state": HumanTaskState.OPEN},
                {
                    "decision": "approve",
                    "result": {"n": n},
                    "corrections": [n],
                    "completed_by": users["market1"],
                    "completed_at": at,
                    "opinion": f"意见{n}",
                },
                1,
            ),
            write_batch._Update(
                Case,
                {"pk": case.pk, "version": n},
                {"form_data": {"k": n}, "process_state": f"state {n}", "version": F("version") + 1, "updated_at": at},
                1,
            ),
            write_batch._Update(Case, {"pk": case.pk, "version": n}, {"concluded_at": None, "trips": n}, 1),
            write_batch._Update(
                HumanTask, {"case_id": case.pk, "engine_task_id__in": ["a", "b"]}, {"opinion": ""}, None
            ),
            # a foreign key matched by its instance, and by its id under its attribute name
            write_batch._Update(HumanTask, {"case": case, "state": HumanTaskState.OPEN}, {"opinion": f"{n}"}, None),
            write_batch._Update(HumanTask, {"case_id": case.pk, "lane": "tax"}, {"review_round": n}, None),
        ]

    for n in range(3):
        for write in writes(n):
            mine, theirs = write_batch._compiled(write, connection), orm(write)
            assert mine[0] == theirs[0] and write_batch._same(mine[1], theirs[1]), (mine, theirs)
    kept = [write_batch._update_shape(write, "default") in write_batch._UPDATES for write in writes(0)]
    # a filter other than exact matches of plain values (``__in``, an instance) is compiled each time
    assert kept == [True, True, True, False, False, True]


def _stored(model, pk) -> dict:
    row = model.objects.get(pk=pk)
    return {f.attname: getattr(row, f.attname) for f in model._meta.concrete_fields if not f.primary_key}


def _varied_row(case, engine_task_id, users):
    import datetime as dt

    from django.utils import timezone

    return HumanTask(
        case=case,
        engine_task_id=engine_task_id,
        element_id="审查_1",
        name='附加审查 "引号" \\ 反斜杠 \n 换行',
        lane="tax",
        department_id="tax",
        review_round=3,
        state=HumanTaskState.COMPLETED,
        decision="approve",
        opinion="",
        result={"licence_no": "91110105MA01", "金额": 12.5, "列表": [1, None, True, {"嵌套": "值"}], "空": {}},
        corrections=[],
        completed_by=users["tax1"],
        completed_at=timezone.now().replace(microsecond=123456),
        limit_days=None,
        due_date=dt.date(2027, 2, 28),
        warning_date=None,
        due_date_provisional=True,
    )


def test_new_rows_are_stored_as_the_orms_own_insert_stores_them(users):
    """A batch's new rows travel as one JSON parameter on PostgreSQL (``_json_insert``): every column reads back as
    ``bulk_create`` of the same row writes it — times to the microsecond, dates, JSON with text escapes and CJK,
    choices, NULLs and foreign keys."""
    case = open_and_accept(users)
    ours, theirs = _varied_row(case, "json-1", users), _varied_row(case, "orm-1", users)
    theirs.completed_at = ours.completed_at
    batch = WriteBatch()
    batch.insert([ours])
    with CaptureQueriesContext(connection) as queries:
        batch.send()
    HumanTask.objects.bulk_create([theirs])
    if connection.vendor == "postgresql":
        assert "json_populate_recordset" in queries.captured_queries[0]["sql"]
    mine, orms = _stored(HumanTask, ours.pk), _stored(HumanTask, theirs.pk)
    assert mine.pop("engine_task_id") == "json-1" and orms.pop("engine_task_id") == "orm-1"
    mine.pop("created_at"), orms.pop("created_at")
    assert mine == orms and mine["result"]["列表"] == [1, None, True, {"嵌套": "值"}]


def test_a_value_json_cannot_carry_goes_the_orms_way_and_is_refused_as_it_refuses_it(users):
    import datetime as dt

    from django.db.models.functions import Now

    case = open_and_accept(users)
    row = _row(case, "expr-1")
    row.completed_at = Now()  # an expression: the ORM's insert compiles it
    batch = WriteBatch()
    batch.insert([row])
    batch.send()
    assert HumanTask.objects.get(pk=row.pk).completed_at is not None
    bad = _row(case, "bad-1")
    bad.result = {"when": dt.date(2027, 1, 1)}  # not JSON: the JSONField's encoder refuses it, as bulk_create does
    batch = WriteBatch()
    batch.insert([bad])
    with pytest.raises(TypeError), transaction.atomic():
        batch.send()
    theirs = _row(case, "bad-2")
    theirs.result = bad.result
    with pytest.raises(TypeError), transaction.atomic():
        HumanTask.objects.bulk_create([theirs])


def test_a_rows_plain_values_skip_only_a_prep_that_returns_them_as_they_are():
    """``_json_rows`` writes a value of a plain field (text, integer, boolean, or a key to such a field) as it is,
    without the field's ``get_db_prep_save``: what that prep returns must be written as the same JSON, on this
    backend (PostgreSQL's integer prep wraps an int in psycopg's Int4/Int8, which JSON writes as the int)."""
    from django.db import models

    from workflow.models import ELicence
    from workflow.write_batch import _PLAIN_FIELDS, _json_text, _json_value, _plain_kinds

    samples = {str: ["", "统一社会信用代码", "x" * 300], int: [0, -7, 2**40], bool: [True, False]}
    fields = [cls(primary_key=True) if issubclass(cls, models.AutoField) else cls() for cls in _PLAIN_FIELDS]
    fields += [f for model in (HumanTask, ELicence) for f in model._meta.concrete_fields if f.is_relation]
    checked = 0
    for f in fields:
        for kind in _plain_kinds(f):
            for value in samples[kind]:
                prepared = _json_value(f.get_db_prep_save(value, connection=connection))
                assert _json_text([{"c": prepared}]) == _json_text([{"c": value}]), (f, value)
                checked += 1
    assert checked > 40
    assert _plain_kinds(models.JSONField()) == _plain_kinds(models.DateTimeField()) == ()
