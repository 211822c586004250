"""A hot query's SQL, compiled by the ORM once per process and run again with new parameters.

Django compiles a queryset into SQL every time it is evaluated. For most reads that is noise; for the lock every
step takes (a task row with its case and process version: ~80 columns, two joins) it was most of the step's ORM
time — more than PostgreSQL took to find and lock the rows. The SQL of a queryset depends on the *shape* of its
parameters (which are None: ``= %s`` or ``IS NULL``), not on their values, so ``PreparedQuery`` builds the
queryset once per shape with marker values, lets the ORM compile it, notes where the markers landed among the
statement's parameters, and from then on sends that SQL with the caller's values in those places. The rows become
model instances the way the ORM's own iteration makes them (``Model.from_db``, the fields' converters, the
``select_related`` populators), so callers get what ``queryset.first()`` would have given.

On PostgreSQL the statement is also *prepared* by the server at its first use on a connection (psycopg's
protocol-level prepared statements, bound on the server): planning the lock's three-table join cost about as much
as running it, and a prepared statement is planned once per connection. Its rows are found by key, so the
server's generic plan is the right one; the application's other statements stay bound on the client and
unprepared (a worklist's best plan depends on its values). The cursor is Django's own wrapper around it, so the
statement is logged, counted and its errors translated like any other. ``ONETHING_PREPARED_STATEMENTS = False``
(env ``DB_PREPARED_STATEMENTS=0``) sends it unprepared, bound on the client — for a pooler that cannot keep
prepared statements (PgBouncer before 1.21, or without ``max_prepared_statements``).

Only what the build function takes as arguments varies; everything else in the queryset is fixed at the first
compile — so a build function must not read the clock, settings or anything else that changes. Its arguments
must be ints, strings or dates (or None), or non-empty lists of them (for ``__in``; each length is a shape of its
own): those are what the markers can stand in for.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from django.conf import settings
from django.db import connections
from django.db.models import Model, QuerySet
from django.db.models.query import get_related_populators

M = TypeVar("M", bound=Model)

# Marker values no real parameter takes: far below any id, strings with a NUL (PostgreSQL text has none), and the
# first days of year 1.
_INT_MARKER = -(2**62)
_DATE_MARKER = dt.date(1, 1, 1)


@dataclass(frozen=True)
class _Compiled:
    sql: str
    model: type[Model] | None  # None: a values() queryset, for ``statement``
    slots: list  # per statement parameter: (argument name, list index or None, None, adapt), or a constant the ORM put
    # there: (None, None, the constant, None)
    init_list: list[str]
    model_slice: slice
    converters: list  # (position, converters, expression), as the ORM's compiler applies them
    populators: list
    annotation_col_map: dict


class PreparedQuery(Generic[M]):
    """``build(**arguments)`` returns the queryset; ``first(**arguments)`` runs it as ``build(...).first()``
    would, without compiling it again."""

    def __init__(self, build: Callable[..., QuerySet[M]]) -> None:
        self.build = build
        self._compiled: dict[tuple, _Compiled] = {}

    def first(self, using: str = "default", **arguments) -> M | None:
        return next(iter(self.all(using, **arguments)), None)

    def all(self, using: str = "default", **arguments) -> list[M]:
        compiled, params = self._bound(using, arguments)
        if compiled.model is None:
            raise TypeError("PreparedQuery.all makes model instances: its queryset must not be values()")
        connection = connections[using]
        with prepared_cursor(connection) as cursor:
            cursor.execute(compiled.sql, params)
            rows = cursor.fetchall()
        return [_instance(compiled, list(row), using, connection) for row in rows]

    def statement(self, using: str = "default", **arguments) -> tuple[str, list]:
        """The SQL and parameters ``all`` would send, for a statement of the caller's that reads them as a subquery
        (its columns are the queryset's, in order; a ``values_list`` queryset is allowed here)."""
        compiled, params = self._bound(using, arguments)
        return compiled.sql, params

    def _bound(self, using: str, arguments: dict) -> tuple[_Compiled, list]:
        shape = (using, *sorted((name, _kind(value)) for name, value in arguments.items()))
        compiled = self._compiled.get(shape)
        if compiled is None:
            compiled = self._compiled[shape] = _compile(self.build, using, arguments)
        params = []
        for name, index, constant, adapt in compiled.slots:
            if name is None:
                params.append(constant)
                continue
            value = arguments[name] if index is None else arguments[name][index]
            params.append(adapt(value) if adapt else value)
        return compiled, params


def _kind(value) -> object:
    """What of an argument's value shapes the statement: None (``IS NULL``), a list's length (``IN (…)``)."""
    if value is None:
        return None
    return len(value) if isinstance(value, list | tuple) else ""


def _compile(build: Callable[..., QuerySet], using: str, arguments: dict) -> _Compiled:
    # marker (as the statement's parameters hold it) → (argument name, element of a list or None, how a value is
    # adapted to stand there)
    markers: dict[object, tuple[str, int | None, Callable | None]] = {}
    marked = {}
    operations = connections[using].ops
    counter = itertools.count()  # each marker its own value

    def marker_for(name: str, value, index: int | None):
        if isinstance(value, bool | dt.datetime) or not isinstance(value, int | str | dt.date):
            kind = type(value).__name__
            raise TypeError(f"PreparedQuery arguments are ints, strings, dates or lists of them, not {kind} ({name})")
        n = next(counter)
        if isinstance(value, dt.date):
            # The backend may adapt a date on its way into the statement (SQLite: to its ISO text); a value is then
            # adapted the same way.
            marker = _DATE_MARKER + dt.timedelta(days=n)
            adapted = operations.adapt_datefield_value(marker)
            if adapted != marker:
                markers[adapted] = (name, index, operations.adapt_datefield_value)
        else:
            marker = _INT_MARKER - n if isinstance(value, int) else f"\x00{name}\x00{n}\x00"
        markers.setdefault(marker, (name, index, None))
        return marker

    for name, value in sorted(arguments.items()):
        if value is None:
            marked[name] = None
        elif isinstance(value, list | tuple):
            if not value:
                raise ValueError(f"PreparedQuery: the list {name} is empty (the ORM would send no statement)")
            marked[name] = [marker_for(name, element, index) for index, element in enumerate(value)]
        else:
            marked[name] = marker_for(name, value, None)
    compiler = build(**marked).query.get_compiler(using=using)
    sql, params = compiler.as_sql()
    slots = []
    for p in params:
        if isinstance(p, int | str | dt.date) and p in markers:
            name, index, adapt = markers[p]
            slots.append((name, index, None, adapt))
        else:
            slots.append((None, None, p, None))
    missing = {(name, index) for name, index, _ in markers.values()} - {(slot[0], slot[1]) for slot in slots}
    if missing:
        raise ValueError(f"PreparedQuery: the statement does not use the argument(s) {sorted(missing)}")
    klass_info, select = compiler.klass_info, compiler.select
    if klass_info is None:  # values(): rows, not instances (``statement`` only)
        return _Compiled(sql, None, slots, [], slice(0), [], [], {})
    fields = klass_info["select_fields"]
    model_slice = slice(fields[0], fields[-1] + 1)
    converters = compiler.get_converters([column[0] for column in select[: compiler.col_count]])
    return _Compiled(
        sql=sql,
        model=klass_info["model"],
        slots=slots,
        init_list=[column[0].target.attname for column in select[model_slice]],
        model_slice=model_slice,
        converters=[(position, convs, expression) for position, (convs, expression) in converters.items()],
        populators=get_related_populators(klass_info, select, using),
        annotation_col_map=dict(compiler.annotation_col_map or {}),
    )


def _instance(compiled: _Compiled, row: list, using: str, connection) -> Model:
    for position, convs, expression in compiled.converters:
        value = row[position]
        for converter in convs:
            value = converter(value, expression, connection)
        row[position] = value
    obj = compiled.model.from_db(using, compiled.init_list, row[compiled.model_slice])
    for populator in compiled.populators:
        populator.populate(row, obj)
    for name, position in compiled.annotation_col_map.items():
        setattr(obj, name, row[position])
    return obj


def prepared_cursor(connection):
    """Django's cursor; on PostgreSQL one whose statements the server prepares (see the module's docstring), for
    statements sent again and again with the same text: ``PreparedQuery``'s, and a step's writes
    (``workflow.write_batch``: the same few shapes per kind of step)."""
    if connection.vendor != "postgresql" or not getattr(settings, "ONETHING_PREPARED_STATEMENTS", True):
        return connection.cursor()
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    with connection.wrap_database_errors:
        return connection._prepare_cursor(_preparing_cursor_class()(connection.connection))


_PREPARING_CURSOR: list = []


def _preparing_cursor_class():
    """A psycopg cursor bound on the server that prepares what it executes (the backend's own server-binding
    cursor otherwise). Built on first use: SQLite installations never import the PostgreSQL backend."""
    if not _PREPARING_CURSOR:
        from django.db.backends.postgresql.base import ServerBindingCursor
        from psycopg import ClientCursor

        class LoggedQuery:
            """What Django's query log reads of a cursor when binding is on the client (``cursor._query.query``),
            which a server-binding cursor does not keep: the statement with its parameters in it, composed only
            when the log (tests, DEBUG) asks."""

            def __init__(self, cursor, query, params):
                self._cursor, self._sql, self._params = cursor, query, params

            @property
            def query(self) -> bytes:
                return ClientCursor(self._cursor.connection).mogrify(self._sql, self._params).encode()

        class PreparingCursor(ServerBindingCursor):
            _query_cls = _converted_query_class()

            def execute(self, query, params=None, *, prepare=None, binary=None):
                super().execute(query, params, prepare=True, binary=binary)
                self._query = LoggedQuery(self, query, params)
                return self

        _PREPARING_CURSOR.append(PreparingCursor)
    return _PREPARING_CURSOR[0]


# psycopg turns a statement's ``%s`` placeholders into ``$n`` by parsing its text on every execution unless the text
# is short (4,096 bytes) and has few parameters (50): a step's batch has more of both, and parsing it cost about a
# tenth of a millisecond a statement. The statements sent here are the same few texts again and again (what
# ``PreparedQuery`` compiles, a step's batch shapes), so their conversion is kept, per text, in a bounded table.
_CONVERTED: dict[tuple[str, str], tuple] = {}
_CONVERTED_KEPT = 1024


def _converted_query_class():
    from psycopg._queries import PostgresQuery, _query2pg_nocache

    class ConvertedQuery(PostgresQuery):
        def convert(self, query, vars):
            if vars is None or not isinstance(query, str):
                return super().convert(query, vars)
            key = (query, self._tx.encoding)
            converted = _CONVERTED.get(key)
            if converted is None:
                converted = _query2pg_nocache(query.encode(self._tx.encoding), self._tx.encoding)
                if len(_CONVERTED) < _CONVERTED_KEPT:
                    _CONVERTED[key] = converted
            self.query, self._want_formats, self._order, self._parts = converted
            self.dump(vars)

    return ConvertedQuery
