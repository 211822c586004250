"""A step's writes, sent together: on PostgreSQL as one statement, elsewhere one by one.

A service step changes the case row, some task rows and appends its trail entries, all in one transaction. Each
of those writes is an ordinary ORM statement — an ``update()`` of a queryset, a ``bulk_create`` of new rows — and
the audit append (``models.audit``); ``WriteBatch`` collects them and ``send`` executes them. On PostgreSQL the
compiled statements become the data-modifying common table expressions of one statement (one round trip instead
of one per write); on other databases (the SQLite demo) each runs on its own, in the order added. Either way
nothing is written before ``send``: code that reads between adding and sending sees the same on both.

The writes of one batch see the same snapshot and none sees another's effect, so a batch must never write one row
twice (PostgreSQL would keep only one of the changes); the step's writes are disjoint by construction (the case
row once, each task row once, new rows, new events).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import connections
from django.db.models import AutoField, Model, QuerySet, sql

from .errors import ConcurrentUpdate
from .models import audit
from .prepared import prepared_cursor


@dataclass
class _Update:
    queryset: QuerySet
    values: dict
    expected: int | None  # rows it must change, else ConcurrentUpdate (an optimistic check failed)


@dataclass
class _Insert:
    objs: list[Model]


@dataclass
class WriteBatch:
    using: str = "default"
    _writes: list = field(default_factory=list)
    _events: list = field(default_factory=list)

    def update(self, queryset: QuerySet, *, expected: int | None = None, **values) -> None:
        """``queryset.update(**values)`` at ``send``; with ``expected``, a different row count raises
        ConcurrentUpdate. On PostgreSQL the batch's other writes have run by then: the service's transaction
        (every service is one ``transaction.atomic``) rolls them back with it."""
        self._writes.append(_Update(queryset, values, expected))

    def insert(self, objs: list[Model]) -> None:
        """``bulk_create(objs)`` of one model's new rows at ``send``; their primary keys are set then. Their
        ``auto_now``/``auto_now_add`` timestamps are set now, as ``save`` would, for the step's code in between."""
        if objs:
            stamped = [
                f
                for f in objs[0]._meta.concrete_fields
                if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
            ]
            for obj in objs:
                for field in stamped:
                    field.pre_save(obj, add=True)
            self._writes.append(_Insert(list(objs)))

    def append_events(self, events: list) -> None:
        """The trail entries (``CaseEvent``), numbered, hashed and inserted after the batch's other writes."""
        self._events.extend(events)

    def send(self) -> None:
        writes, events = self._writes, self._events
        self._writes, self._events = [], []
        if not writes and not events:
            return
        if connections[self.using].vendor == "postgresql":
            self._send_as_one(writes, events)
            return
        for write in writes:
            if isinstance(write, _Update):
                _check(write, write.queryset.update(**write.values))
            else:
                type(write.objs[0]).objects.using(self.using).bulk_create(write.objs)
        if events:
            type(events[0]).objects.using(self.using).bulk_create(events)

    def _send_as_one(self, writes: list, events: list) -> None:
        connection = connections[self.using]
        ctes, params, outputs = [], [], []
        if events:
            ctes.append(audit.APPEND_CTES)
            params += audit.append_params(events)
        for i, write in enumerate(writes):
            name = f"write_{i}"
            statement, statement_params = _compiled(write, connection)
            ctes.append(f"{name} AS ({statement})")
            params += statement_params
            if isinstance(write, _Update):
                outputs.append(f"(SELECT count(*) FROM {name})")
            else:
                outputs.append(f"(SELECT array_agg(id ORDER BY id) FROM {name})")
        if events:
            ctes.append(f"appended AS ({audit.APPEND_INSERT})")
            outputs.append("(SELECT array_agg(ARRAY[id::text, seq::text, prev_hash, hash]) FROM appended)")
        statement = f"WITH RECURSIVE {', '.join(ctes)} SELECT {', '.join(outputs)}"
        with prepared_cursor(connection) as cursor:
            cursor.execute(statement, params)
            results = cursor.fetchone()
        for write, result in zip(writes, results, strict=False):
            if isinstance(write, _Update):
                _check(write, result)
            else:
                for obj, pk in zip(write.objs, result, strict=True):
                    obj.pk = pk
                    obj._state.adding, obj._state.db = False, self.using
        if events:
            rows = [(int(pk), int(seq), prev, hash_) for pk, seq, prev, hash_ in results[-1]]
            audit.appended(events, rows, self.using)


def _check(write: _Update, count: int) -> None:
    if write.expected is not None and count != write.expected:
        raise ConcurrentUpdate()


def _compiled(write, connection) -> tuple[str, list]:
    """The statement the ORM would send for this write, with RETURNING for the batch's result."""
    if isinstance(write, _Update):
        query = write.queryset.query.chain(sql.UpdateQuery)
        query.add_update_values(write.values)
        query.annotations = {}
        statement, params = query.get_compiler(connection.alias).as_sql()
        return f"{statement} RETURNING 1", list(params)
    objs = write.objs
    opts = objs[0]._meta
    for obj in objs:
        obj._prepare_related_fields_for_save(operation_name="bulk_create")
    with_pk = objs[0].pk is not None  # ids drawn ahead (a new case's), else the database's
    fields = [f for f in opts.concrete_fields if not f.generated and (with_pk or not isinstance(f, AutoField))]
    query = sql.InsertQuery(type(objs[0]))
    query.insert_values(fields, objs, raw=True)  # the values as they are: ``insert`` stamped the times already
    compiler = query.get_compiler(connection.alias)
    compiler.returning_fields = [opts.pk]
    ((statement, params),) = compiler.as_sql()
    return statement, list(params)
