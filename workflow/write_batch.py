"""A step's writes, sent together: on PostgreSQL as one statement, elsewhere one by one.

A service step changes the case row, some task rows and appends its trail entries, all in one transaction. Each
of those writes is an ordinary ORM statement — an ``update()`` of a queryset, a ``bulk_create`` of new rows — and
the audit append (``models.audit``); ``WriteBatch`` collects them and ``send`` executes them. On PostgreSQL the
compiled statements become the data-modifying common table expressions of one statement (one round trip instead
of one per write); on other databases (the SQLite demo) each runs on its own, in the order added. Either way
nothing is written before ``send``: code that reads between adding and sending sees the same on both.

The writes of one batch see the same snapshot and none sees another's effect, so a batch must never write one row
twice (PostgreSQL would keep only one of the changes); the step's writes are disjoint by construction (the case
row once, each task row once, new rows, new events). New rows that refer to the batch's events (the SMS outbox)
go after the events: on PostgreSQL their event ids are read from what the events' INSERT returns.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from uuid import UUID

from django.core.exceptions import FieldDoesNotExist
from django.db import connections, models
from django.db.models import AutoField, Model, QuerySet, sql

from .errors import ConcurrentUpdate
from .models import audit
from .prepared import prepared_cursor


@dataclass
class _Update:
    model: type[Model]
    where: dict  # ``filter(**where)``
    values: dict
    expected: int | None  # rows it must change, else ConcurrentUpdate (an optimistic check failed)

    def queryset(self, using: str) -> QuerySet:
        return self.model._default_manager.using(using).filter(**self.where)


@dataclass
class _Insert:
    objs: list[Model]


@dataclass
class _EventRows:
    """New rows that each refer to an event of the batch: their foreign key, and text made of the event's id, are
    known only once the events are inserted."""

    objs: list[Model]
    event_field: str
    events: list
    with_event_id: dict[str, list[tuple[str, str]]]  # text field → per row, (prefix, suffix) around the event's id

    def complete(self) -> None:
        """The rows as written: their event's id in the foreign key and in the text made of it."""
        for i, (obj, event) in enumerate(zip(self.objs, self.events, strict=True)):
            setattr(obj, self.event_field, event)
            for name, parts in self.with_event_id.items():
                prefix, suffix = parts[i]
                setattr(obj, name, f"{prefix}{event.pk}{suffix}")


@dataclass
class WriteBatch:
    using: str = "default"
    _writes: list = field(default_factory=list)
    _events: list = field(default_factory=list)
    _event_rows: list = field(default_factory=list)
    _after_send: list = field(default_factory=list)

    def update(self, model: type[Model], where: dict, *, expected: int | None = None, **values) -> None:
        """``model.objects.filter(**where).update(**values)`` at ``send``; with ``expected``, a different row count
        raises ConcurrentUpdate. On PostgreSQL the batch's other writes have run by then: the service's transaction
        (every service is one ``transaction.atomic``) rolls them back with it. The queryset is built only when it
        is needed: a filter of exact matches on the model's own fields is an UPDATE shape compiled once."""
        self._writes.append(_Update(model, where, values, expected))

    def insert(self, objs: list[Model]) -> None:
        """``bulk_create(objs)`` of one model's new rows at ``send``; their primary keys are set then. Their
        ``auto_now``/``auto_now_add`` timestamps are set now, as ``save`` would, for the step's code in between."""
        if objs:
            _stamp(objs)
            self._writes.append(_Insert(list(objs)))

    def append_events(self, events: list) -> None:
        """The trail entries (``CaseEvent``), numbered, hashed and inserted after the batch's other writes."""
        self._events.extend(events)

    def insert_for_events(
        self,
        objs: list[Model],
        *,
        event_field: str,
        events: list,
        with_event_id: dict[str, list[tuple[str, str]]] | None = None,
    ) -> None:
        """New rows of one model that refer to this batch's events, inserted after them at ``send`` (on PostgreSQL
        in the same statement): ``objs[i].<event_field>`` becomes ``events[i]`` (an event appended to this batch),
        and each text field of ``with_event_id`` becomes ``prefix + the event's id + suffix`` with that row's
        ``(prefix, suffix)``. Their ids are set at ``send``."""
        if not objs:
            return
        _stamp(objs)
        self._event_rows.append(_EventRows(list(objs), event_field, list(events), with_event_id or {}))

    def after_send(self, call: Callable[[], None]) -> None:
        """Run ``call`` once the batch is sent (in the transaction): what needs the rows' ids, or reads the rows."""
        self._after_send.append(call)

    def send(self) -> None:
        writes, events, event_rows, after = self._writes, self._events, self._event_rows, self._after_send
        self._writes, self._events, self._event_rows, self._after_send = [], [], [], []
        batched = {id(event) for event in events}
        if any(id(event) not in batched for rows in event_rows for event in rows.events):
            raise ValueError("insert_for_events: a row's event is not one of the batch's events")
        if (writes or events) and connections[self.using].vendor == "postgresql":
            self._send_as_one(writes, events, event_rows)
        elif writes or events:
            for write in writes:
                if isinstance(write, _Update):
                    _check(write, write.queryset(self.using).update(**write.values))
                else:
                    type(write.objs[0]).objects.using(self.using).bulk_create(write.objs)
            if events:
                type(events[0]).objects.using(self.using).bulk_create(events)
            for rows in event_rows:
                rows.complete()
                type(rows.objs[0]).objects.using(self.using).bulk_create(rows.objs)
        for call in after:
            call()

    def _send_as_one(self, writes: list, events: list, event_rows: list) -> None:
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
        for i, rows in enumerate(event_rows):
            statement, statement_params = _after_events(rows, events, connection)
            ctes.append(f"after_events_{i} AS ({statement})")
            params += statement_params
            outputs.append(f"(SELECT array_agg(id ORDER BY id) FROM after_events_{i})")
        statement = f"WITH RECURSIVE {', '.join(ctes)} SELECT {', '.join(outputs)}"
        with prepared_cursor(connection) as cursor:
            cursor.execute(statement, params)
            results = cursor.fetchone()
        for write, result in zip(writes, results, strict=False):
            if isinstance(write, _Update):
                _check(write, result)
            else:
                self._saved(write.objs, result)
        if events:
            rows = [(int(pk), int(seq), prev, hash_) for pk, seq, prev, hash_ in results[len(writes)]]
            audit.appended(events, rows, self.using)
        for rows, ids in zip(event_rows, results[len(writes) + 1 :], strict=True):
            rows.complete()
            self._saved(rows.objs, ids)

    def _saved(self, objs: list[Model], ids: list[int]) -> None:
        """New rows as the INSERT left them: their ids, and saved (as ``bulk_create`` leaves its objects)."""
        for obj, pk in zip(objs, ids, strict=True):
            obj.pk = pk
            obj._state.adding, obj._state.db = False, self.using


def _stamp(objs: list[Model]) -> None:
    """Set the ``auto_now``/``auto_now_add`` times of new rows, as ``save`` would."""
    stamped = [
        f for f in objs[0]._meta.concrete_fields if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
    ]
    for obj in objs:
        for stamp in stamped:
            stamp.pre_save(obj, add=True)


def _check(write: _Update, count: int) -> None:
    if write.expected is not None and count != write.expected:
        raise ConcurrentUpdate()


def _compiled(write, connection) -> tuple[str, list]:
    """The statement the ORM would send for this write, with RETURNING for the batch's result."""
    if isinstance(write, _Update):
        shape = _update_shape(write, connection.alias)
        known = _UPDATES.get(shape) if shape is not None else None
        if known is not None:
            statement, plan = known
            return statement, _update_params(plan, write, connection)
        query = write.queryset(connection.alias).query.chain(sql.UpdateQuery)
        query.add_update_values(write.values)
        query.annotations = {}
        statement, params = query.get_compiler(connection.alias).as_sql()
        statement, params = f"{statement} RETURNING 1", list(params)
        if shape is not None and len(_UPDATES) < _UPDATES_KEPT:
            plan = _update_plan(write, params, connection)
            if plan is not None and _same(_update_params(plan, write, connection), params):
                _UPDATES[shape] = (statement, plan)
        return statement, params
    objs = write.objs
    opts = objs[0]._meta
    for obj in objs:
        obj._prepare_related_fields_for_save(operation_name="bulk_create")
    with_pk = objs[0].pk is not None  # ids drawn ahead (a new case's), else the database's
    fields = [f for f in opts.concrete_fields if not f.generated and (with_pk or not isinstance(f, AutoField))]
    rows = _json_rows(objs, fields, connection)
    if rows is not None:
        return _json_insert(type(objs[0]), fields, connection), [rows]
    query = sql.InsertQuery(type(objs[0]))
    query.insert_values(fields, objs, raw=True)  # the values as they are: ``insert`` stamped the times already
    compiler = query.get_compiler(connection.alias)
    compiler.returning_fields = [opts.pk]
    ((statement, params),) = compiler.as_sql()
    return statement, list(params)


# New rows travel as one JSON array of objects, one per row keyed by column, which the server turns into rows of the
# table's type (``json_populate_recordset``): one parameter made by the C JSON encoder instead of one array per
# column that psycopg adapts element by element, and SQL compiled once per model. The values are the ones the ORM's
# insert sends (each field's ``get_db_prep_save``), written as JSON the column's type reads back: times and dates in
# ISO 8601, decimals and UUIDs as text, a JSONField's value as itself. A row with a value of any other kind is
# inserted as the ORM compiles it.
_INSERTS: dict[tuple, str] = {}


class _NotJson(TypeError):
    """A value of a kind JSON does not carry (its type's name is the message)."""


def _json_value(value):
    """A prepared value as JSON the column's type reads back."""
    if value is None or isinstance(value, str | int | float):  # bool is an int; choices are str or int
        return value
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Decimal | UUID):
        return str(value)
    from psycopg.types.json import Json, Jsonb  # PostgreSQL only (the SQLite demo sends its rows one by one)

    if isinstance(value, Json | Jsonb):  # a JSONField's value, as its encoder writes it
        return value.obj if value.dumps in (None, json.dumps) else json.loads(value.dumps(value.obj))
    raise _NotJson(type(value).__name__)


def _json_rows(objs: list[Model], fields: list, connection) -> str | None:
    """The rows as ``_json_insert`` takes them; None when a value is an expression or not of a kind JSON carries (the
    ORM inserts those rows, and says what is wrong with a value, as ``bulk_create`` would)."""
    rows = []
    plain = [(f.attname, f.column, f, _plain_kinds(f)) for f in fields]
    try:
        for obj in objs:
            row = {}
            for attname, column, f, kinds in plain:
                value = getattr(obj, attname)
                if type(value) not in kinds and hasattr(value, "resolve_expression"):
                    return None
                row[column] = _field_json(f, kinds, value, connection)
            rows.append(row)
        return _json_text(rows)
    except (TypeError, ValueError):  # _NotJson is a TypeError
        return None


# Fields whose ``get_db_prep_save`` gives a value of these exact types back as JSON writes it anyway (a str as it is;
# an int as it is, or wrapped in psycopg's Int4/Int8, an int subclass JSON writes as the int; a bool as it is), so a
# row's plain values skip the field's prep (tested field by field); anything else (None, an enum member, a subclass,
# a value of another type) goes through it.
_TEXT, _INT = (str,), (int,)
_PLAIN_FIELDS: dict[type, tuple[type, ...]] = {
    models.AutoField: _INT,
    models.BigAutoField: _INT,
    models.SmallAutoField: _INT,
    models.CharField: _TEXT,
    models.TextField: _TEXT,
    models.IntegerField: _INT,
    models.BigIntegerField: _INT,
    models.SmallIntegerField: _INT,
    models.PositiveIntegerField: _INT,
    models.PositiveBigIntegerField: _INT,
    models.PositiveSmallIntegerField: _INT,
    models.BooleanField: (bool,),
}


def _field_json(f, kinds: tuple[type, ...], value, connection):
    """A field's value as a batch's JSON rows carry it: a plain value (``kinds``: ``_plain_kinds(f)``) as it is,
    anything else as the field's prep gives it to the ORM's insert."""
    return value if type(value) in kinds else _json_value(f.get_db_prep_save(value, connection=connection))


def _plain_kinds(f) -> tuple[type, ...]:
    """The value types ``f``'s prep leaves as they are: its own, or for a foreign key its target's (the key's prep
    is its target field's)."""
    if type(f) is models.ForeignKey:
        return _PLAIN_FIELDS.get(type(f.target_field), ())
    return _PLAIN_FIELDS.get(type(f), ())


def _json_text(rows: list[dict]) -> str:
    """A batch's rows as the one JSON parameter of their INSERT. No ``default``: what a JSONField holds is JSON
    already, or the ORM's own path refuses it; no NaN, which PostgreSQL's JSON does not read."""
    return json.dumps(rows, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def _json_insert(model: type[Model], fields: list, connection) -> str:
    key = (connection.alias, model, tuple(f.column for f in fields))
    statement = _INSERTS.get(key)
    if statement is None:
        quote, table = connection.ops.quote_name, connection.ops.quote_name(model._meta.db_table)
        columns = ", ".join(quote(f.column) for f in fields)
        values = ", ".join(f"r.{quote(f.column)}" for f in fields)
        statement = _INSERTS[key] = (
            f"INSERT INTO {table} ({columns}) SELECT {values} "
            f"FROM json_populate_recordset(NULL::{table}, %s::json) WITH ORDINALITY AS r ORDER BY r.ordinality "
            f"RETURNING {quote(model._meta.pk.column)}"
        )
    return statement


def _after_events(rows: _EventRows, events: list, connection) -> tuple[str, list]:
    """An INSERT of rows that refer to the batch's events, for the batch's statement: the rows travel as one JSON
    array (as ``_json_insert``'s do, so their values must be of a kind JSON carries), each row with the position of
    its event in the batch, and the event's id is read from what the batch's event INSERT (``appended``) returned:
    the event at position ``k`` took the sequence number after the chain's head (``head``) plus ``k``."""
    model = type(rows.objs[0])
    statement, fields = _event_rows_insert(model, rows.event_field, tuple(rows.with_event_id), connection)
    position = {id(event): k for k, event in enumerate(events, start=1)}
    payload = []
    for i, (obj, event) in enumerate(zip(rows.objs, rows.events, strict=True)):
        row = {
            f"c{k}": _field_json(f, kinds, getattr(obj, f.attname), connection) for k, (f, kinds) in enumerate(fields)
        }
        for j, name in enumerate(rows.with_event_id):
            row[f"p{j}"], row[f"s{j}"] = rows.with_event_id[name][i]
        row["event"] = position[id(event)]
        payload.append(row)
    return statement, [_json_text(payload)]


_EVENT_ROWS: dict[tuple, tuple[str, list]] = {}


def _event_rows_insert(model: type[Model], event_field: str, derived_names: tuple, connection) -> tuple[str, list]:
    """The INSERT of ``_after_events`` and the fields whose values it takes (each with its ``_plain_kinds``), compiled
    once per model and shape."""
    key = (connection.alias, model, event_field, derived_names)
    known = _EVENT_ROWS.get(key)
    if known is not None:
        return known
    opts = model._meta
    event_fk = opts.get_field(event_field)
    derived = [opts.get_field(name) for name in derived_names]
    fields = [
        f
        for f in opts.concrete_fields
        if not f.generated and not isinstance(f, AutoField) and f is not event_fk and f not in derived
    ]
    quote = connection.ops.quote_name
    types = [f"c{k} {f.db_type(connection)}" for k, f in enumerate(fields)]
    types += [f"{part}{j} text" for j in range(len(derived)) for part in ("p", "s")]
    names = [name.split()[0] for name in types]
    made = [f"r.p{j} || appended.id::text || r.s{j}" for j in range(len(derived))]
    statement = (
        f"INSERT INTO {quote(opts.db_table)} "
        f"({', '.join(quote(f.column) for f in [*fields, event_fk, *derived])}) "
        f"SELECT {', '.join([*(f'r.c{k}' for k in range(len(fields))), 'appended.id', *made])} "
        f"FROM ROWS FROM (json_to_recordset(%s::json) AS ({', '.join(types)}, event bigint)) "
        f"WITH ORDINALITY AS r({', '.join(names)}, event, ord) "
        "JOIN appended ON appended.seq = (SELECT seq FROM head) + r.event ORDER BY r.ord RETURNING id"
    )
    _EVENT_ROWS[key] = (statement, [(f, _plain_kinds(f)) for f in fields])
    return _EVENT_ROWS[key]


# The UPDATEs a step sends have a few shapes (the case row by id and version, a task row by id while open): the ORM
# compiles each shape once per process, and later updates of that shape send its SQL with their parameters
# prepared as the compiler prepares them — a plan checked once against the compiler's own parameters, else the
# shape is compiled every time. A shape: the model, the filter (exact matches on the model's own columns, nothing
# else), and the values' names, each a plain value, None (``= NULL``, no parameter) or an expression (its SQL).
_UPDATES: dict[tuple, tuple[str, list]] = {}
_UPDATES_KEPT = 512  # the step's shapes are a few dozen (which case columns a step changes); past this, compile


def _update_shape(write: _Update, using: str) -> tuple | None:
    opts, columns = write.model._meta, []
    for name, value in write.where.items():
        if "__" in name or value is None or isinstance(value, Model) or hasattr(value, "resolve_expression"):
            return None  # the ORM's own lookups (an instance stands for its key there)
        try:
            target = opts.pk if name == "pk" else opts.get_field(name)
        except FieldDoesNotExist:
            return None
        if not target.concrete or target.many_to_many:
            return None
        columns.append((name, target.column))
    kinds = tuple(
        (name, "null" if value is None else repr(value) if hasattr(value, "resolve_expression") else "value")
        for name, value in write.values.items()
    )
    return (using, write.model, tuple(sorted(columns)), kinds)


def _update_plan(write: _Update, params: list, connection) -> list | None:
    """Where each of the compiled UPDATE's parameters comes from: ``("set", field, name)`` a value, ``("const",
    value)`` an expression's own, ``("where", field, name)`` a match of the filter (in the filter's order: Django
    sorts a ``filter``'s keywords)."""
    opts, plan = write.model._meta, []
    for name, value in write.values.items():
        if value is None:
            continue
        if hasattr(value, "resolve_expression"):
            query = sql.UpdateQuery(write.model)
            resolved = value.resolve_expression(query, allow_joins=False, for_save=True)
            _, own = query.get_compiler(connection.alias).compile(resolved)
            plan += [("const", params[len(plan) + i]) for i in range(len(own))]
        else:
            plan.append(("set", opts.get_field(name), name))
    plan += [("where", opts.pk if name == "pk" else opts.get_field(name), name) for name in sorted(write.where)]
    return plan if len(plan) == len(params) else None


def _update_params(plan: list, write: _Update, connection) -> list:
    params = []
    for step in plan:
        if step[0] == "set":  # as SQLUpdateCompiler.as_sql prepares a value
            _, field, name = step
            value = write.values[name]
            if hasattr(value, "prepare_database_save"):
                value = value.prepare_database_save(field)
            params.append(field.get_db_prep_save(value, connection=connection))
        elif step[0] == "const":
            params.append(step[1])
        else:  # as an exact lookup prepares its value (Exact: the field's prep value, then its target's db value)
            _, field, name = step
            target = getattr(field, "target_field", None) or field
            params.append(target.get_db_prep_value(field.get_prep_value(write.where[name]), connection, prepared=True))
    return params


def _same(mine: list, theirs: list) -> bool:
    """The two parameter lists are equal (psycopg's JSON wrappers compared by what they wrap)."""
    return len(mine) == len(theirs) and all(
        type(a) is type(b) and getattr(a, "obj", a) == getattr(b, "obj", b) for a, b in zip(mine, theirs, strict=True)
    )
