"""A hot query compiled once and run again (workflow/prepared.py): the same instances the ORM's own iteration gives."""

import pytest
from django.db import connection, transaction
from django.db.models import Exists, OuterRef
from django.test.utils import CaptureQueriesContext

from tests.workflow.helpers import decide, open_and_accept, open_task
from workflow.models import Case, HumanTask, HumanTaskState, MaterialPromise
from workflow.prepared import PreparedQuery

pytestmark = pytest.mark.django_db


def _tasks(*, case_no: str, lane: str | None, state: str):
    return (
        HumanTask.objects.select_related("case__process_version")
        .defer("case__process_version__compiled")
        .annotate(promised=Exists(MaterialPromise.objects.filter(case=OuterRef("case"))))
        .filter(case__case_no=case_no, lane=lane, state=state)
        .order_by("pk")
    )


def _fields(obj) -> dict:
    return {field.attname: getattr(obj, field.attname) for field in type(obj)._meta.concrete_fields}


def test_rows_come_back_as_the_orm_builds_them_with_their_related_rows_converters_and_annotations(users):
    case = open_and_accept(users)
    prepared = PreparedQuery(_tasks)
    for lane in ("market_regulation", "tax"):
        arguments = {"case_no": case.case_no, "lane": lane, "state": HumanTaskState.OPEN}
        expected, got = list(_tasks(**arguments)), prepared.all(**arguments)
        assert [_fields(task) for task in got] == [_fields(task) for task in expected] and got
        for mine, theirs in zip(got, expected, strict=True):
            assert isinstance(mine.result, dict) and mine.corrections == theirs.corrections  # JSON decoded
            assert _fields(mine.case) == _fields(theirs.case)
            assert _fields(mine.case.process_version) == _fields(theirs.case.process_version)
            assert mine.promised is theirs.promised is False
            assert not mine._state.adding and mine._state.db == "default"


def test_it_compiles_once_per_shape_and_sends_one_statement_per_run(users):
    case = open_and_accept(users)
    prepared = PreparedQuery(_tasks)
    prepared.all(case_no=case.case_no, lane="tax", state=HumanTaskState.OPEN)
    with CaptureQueriesContext(connection) as queries:
        assert prepared.first(case_no=case.case_no, lane="market_regulation", state=HumanTaskState.OPEN)
        assert prepared.first(case_no="no-such-case", lane="tax", state=HumanTaskState.OPEN) is None
        # None is another shape (IS NULL): compiled on its own, not sent as "= NULL"
        assert prepared.all(case_no=case.case_no, lane=None, state=HumanTaskState.OPEN) == []
    assert len(queries.captured_queries) == 3
    assert len(prepared._compiled) == 2


def test_a_lock_is_taken_as_the_queryset_says(users):
    case = open_and_accept(users)
    prepared = PreparedQuery(lambda *, pk: Case.objects.select_for_update().filter(pk=pk))
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        assert prepared.first(pk=case.pk).case_no == case.case_no
    if connection.vendor == "postgresql":
        (select,) = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("SELECT")]
        assert select.endswith("FOR UPDATE")


def test_arguments_it_cannot_mark_are_refused_and_an_unused_argument_is_a_mistake(users):
    prepared = PreparedQuery(lambda *, pks: Case.objects.filter(pk__in=pks))
    with pytest.raises(TypeError):
        prepared.all(pks=[1, {"a": 2}])
    with pytest.raises(ValueError, match="empty"):
        prepared.all(pks=[])
    with pytest.raises(TypeError):
        PreparedQuery(lambda *, flag: Case.objects.filter(version__gt=0)).all(flag=True)
    with pytest.raises(ValueError, match="pk"):
        PreparedQuery(lambda *, pk: Case.objects.filter(version__gt=0)).all(pk=1)


def test_a_date_argument_is_sent_as_each_call_gives_it(users):
    import datetime as dt

    case = open_and_accept(users)
    opened = case.opened_at.date()
    prepared = PreparedQuery(lambda *, day, case_no: Case.objects.filter(case_no=case_no, opened_at__date__gte=day))
    assert [c.pk for c in prepared.all(day=opened, case_no=case.case_no)] == [case.pk]
    assert prepared.all(day=opened + dt.timedelta(days=2), case_no=case.case_no) == []
    with pytest.raises(TypeError):  # an instant is not a date: its marker would not survive the ORM's conversion
        PreparedQuery(lambda *, at: Case.objects.filter(opened_at__gte=at)).all(at=case.opened_at)


def _prepared_statements() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="server-side prepared statements are PostgreSQL's")
def test_the_lock_and_the_write_batch_are_prepared_by_the_server_and_logged_with_their_values(users):
    case = open_and_accept(users)
    task = open_task(case, "tax")
    with CaptureQueriesContext(connection) as queries:
        decide(users, case, "tax")
    prepared = _prepared_statements()
    assert any("FOR UPDATE OF" in sql for sql in prepared)
    assert any(sql.startswith("WITH RECURSIVE") and "workflow_case" in sql for sql in prepared)
    # Django's query log shows them as it shows any statement: with their values in place
    lock = next(q["sql"] for q in queries.captured_queries if "FOR UPDATE OF" in q["sql"])
    assert "%s" not in lock and f'"workflow_humantask"."id" = {task.pk}' in lock


@pytest.mark.skipif(connection.vendor != "postgresql", reason="server-side prepared statements are PostgreSQL's")
def test_with_prepared_statements_off_nothing_is_prepared(users, settings):
    settings.ONETHING_PREPARED_STATEMENTS = False
    case = open_and_accept(users)
    before = set(_prepared_statements())
    decide(users, case, "tax")
    assert set(_prepared_statements()) == before


@pytest.mark.skipif(connection.vendor != "postgresql", reason="psycopg's placeholders: PostgreSQL only")
def test_a_long_statement_is_converted_once_and_as_psycopg_converts_it():
    from psycopg._queries import PostgresQuery

    from workflow import prepared

    # longer than psycopg's own cache takes (4,096 bytes, 50 parameters): parsed on every run without ours
    statement = "SELECT " + ", ".join(f"%s::int AS c{i}" for i in range(60)) + " -- " + "x" * 4096
    params = list(range(60))
    prepared._CONVERTED.clear()
    with prepared.prepared_cursor(connection) as cursor:
        cursor.execute(statement, params)
        assert list(cursor.fetchone()) == params
        cursor.execute(statement, params[::-1])
        assert list(cursor.fetchone()) == params[::-1]
        theirs = PostgresQuery(cursor.cursor._tx)
        theirs.convert(statement, params)
    (kept,) = [converted for (text, _), converted in prepared._CONVERTED.items() if text == statement]
    assert kept[0] == theirs.query and kept[1] == theirs._want_formats


def test_a_list_argument_is_marked_element_by_element_and_each_length_is_a_shape(users):
    """``__in`` with a list: one parameter per element, compiled once per length, the rows the ORM finds."""
    first, second = open_and_accept(users), open_and_accept(users)
    prepared = PreparedQuery(lambda *, numbers, state: Case.objects.filter(case_no__in=numbers, status=state))
    state = first.status
    for numbers in ([first.case_no], [second.case_no, "无此办件"], ("无此办件", first.case_no), [first.case_no] * 2):
        expected = list(Case.objects.filter(case_no__in=numbers, status=state).order_by("pk"))
        got = sorted(prepared.all(numbers=numbers, state=state), key=lambda case: case.pk)
        assert [c.pk for c in got] == [c.pk for c in expected] and got
    with CaptureQueriesContext(connection) as queries:
        assert {c.pk for c in prepared.all(numbers=[second.case_no, first.case_no], state=state)} == {
            first.pk,
            second.pk,
        }
    assert len(queries.captured_queries) == 1
    assert sorted(dict(shape[1:])["numbers"] for shape in prepared._compiled) == [1, 2]  # a length, a shape
