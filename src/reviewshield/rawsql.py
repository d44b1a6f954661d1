"""Plain SQL for the few hot paths where building the query with the ORM costs more than running it.

Used by the screening API's context reads (hundreds of ids per `IN` list: the ORM prepares every
id one by one, about 2 ms a read) and the sanctions sync's small per-shop reads; and for the
screening batch's alert updates, where `bulk_update`'s CASE expressions took longer to build than
the rest of the batch's writes, and for its inserts (`bulk_create` prepares each of a hundred
rows' twenty values through five layers of calls). Plain SQL that SQLite and PostgreSQL both take;
values are always parameters, table and column names come from the models.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.db import connection, models
from django.db.backends.sqlite3.base import FORMAT_QMARK_REGEX


@lru_cache(maxsize=4096)
def _qmark(sql: str) -> str:
    """`sql` with its `%s` placeholders in the qmark style SQLite's driver takes, as Django's
    SQLite cursor rewrites them (there by a regular expression on every statement run)."""
    return FORMAT_QMARK_REGEX.sub("?", sql).replace("%%", "%")


def _run(db: Any, sql: str, params: Any, *, many: bool = False) -> Any:
    """Run one statement on `db` (the thread's own connection); the open cursor is returned for
    the caller to read and close.

    Straight on the driver's cursor when nothing watches the statements: Django's cursor costs
    about 15 µs a statement (its async, thread and health checks, three wrapper layers, and on
    SQLite the placeholder rewrite), more than most of these one-row statements take to run, and
    a complaint's step runs a dozen or more. Its errors are still Django's (`wrap_database_errors`)
    and a broken transaction is still refused. Whenever something watches — execute wrappers,
    query logging (DEBUG, `assertNumQueries`) — or the connection is not open yet or not yet
    health-checked this request, Django's own cursor runs it, as it would anyway."""
    if (
        db.execute_wrappers
        or db.queries_logged
        or db.connection is None
        or (db.health_check_enabled and not db.health_check_done)
    ):
        cursor = db.cursor()
    else:
        db.validate_no_broken_transaction()
        with db.wrap_database_errors:
            cursor = db.connection.cursor()
        if db.vendor == "sqlite":
            sql = _qmark(sql)
    try:
        with db.wrap_database_errors:
            if many:
                cursor.executemany(sql, params)
            else:
                cursor.execute(sql, params)
    except BaseException:
        cursor.close()
        raise
    return cursor


# A list longer than this goes to the database as one parameter (`_expand`).
_ONE_PARAMETER = 32


def _expand(sql: str, params: Sequence[Any]) -> tuple[str, tuple[Any, ...]] | None:
    """`sql` with each `IN %s` filled by its list parameter, and the parameters flattened in order;
    None when a list is empty (`IN ()` matches nothing).

    A short list gets one placeholder per value. A long list of plain strings or integers (the
    screening batch's hundreds of buyers) goes as one parameter — a JSON array read by SQLite's
    `json_each`, an array on PostgreSQL — so that the statement's text does not change with the
    list's length: each new text was compiled again (about a third of a millisecond for a list
    of a thousand on SQLite) and pushed the statements that run again and again out of the
    driver's statement cache and `_qmark`'s."""
    lists = [p for p in params if isinstance(p, list)]
    if not lists:
        return sql, tuple(params)
    parts = sql.split("IN %s")
    if len(lists) != len(parts) - 1:
        raise ValueError("give one list for each IN %s, in order")
    if not all(lists):
        return None
    vendor = connection.vendor
    sql = parts[0]
    flat: list[Any] = []
    at = 0
    for param in params:  # in the order of the placeholders
        if not isinstance(param, list):
            flat.append(param)
            continue
        head, rest = sql, parts[at + 1]
        at += 1
        if len(param) > _ONE_PARAMETER and _plain_values(param):
            if vendor == "sqlite":
                sql = head + "IN (SELECT value FROM json_each(%s))" + rest
                flat.append(json.dumps(param))
                continue
            if vendor == "postgresql" and not head.rstrip().upper().endswith("NOT"):
                sql = head + "= ANY(%s)" + rest
                flat.append(param)
                continue
        sql = head + "IN (" + ", ".join(["%s"] * len(param)) + ")" + rest
        flat.extend(param)
    return sql, tuple(flat)


def _plain_values(values: list[Any]) -> bool:
    """All strings, or all integers (not booleans): what both databases compare as they are."""
    kind = type(values[0])
    return kind in (str, int) and all(type(v) is kind for v in values)


def _fetchall(db: Any, cursor: Any) -> list[tuple[Any, ...]]:
    """The rows of a statement `_run` ran, its errors Django's as well (SQLite steps through a
    read's rows while they are fetched, and may fail there), then the cursor closed."""
    try:
        with db.wrap_database_errors:
            return cursor.fetchall()  # type: ignore[no-any-return]
    finally:
        cursor.close()


def _write(db: Any, sql: str, params: Any, *, many: bool = False) -> int:
    """Run a write `_run`'s way; the number of rows it touched, the cursor closed."""
    cursor = _run(db, sql, params, many=many)
    touched = int(cursor.rowcount)
    cursor.close()
    return touched


def rows(sql: str, *params: Any) -> list[tuple[Any, ...]]:
    """The rows of a read, as the driver returns them. A list parameter fills an `IN %s`
    placeholder (one list per `IN %s`, in order); an empty list matches nothing."""
    expanded = _expand(sql, params)
    if expanded is None:
        return []
    db = connection.ops.connection
    return _fetchall(db, _run(db, *expanded))


def execute(sql: str, *params: Any) -> int:
    """Run a write (`UPDATE`, `DELETE`); returns the number of rows it touched. List parameters
    fill `IN %s` as in `rows`; an empty list touches nothing."""
    expanded = _expand(sql, params)
    if expanded is None:
        return 0
    return _write(connection.ops.connection, *expanded)


def execute_many(sql: str, values: Sequence[Sequence[Any]]) -> None:
    """Run one statement for each row of values (executemany): plain INSERTs of prepared values."""
    if values:
        _write(connection.ops.connection, sql, values, many=True)


def untaken(model: Any, field: str, draw: Callable[[], str]) -> str:
    """A value of `draw()` that no row of `model` holds in the unique column `field`, drawn again
    while one does (one indexed read a draw). For the short random references people read out
    (six hex digits a day): among a few thousand a day, two the same is likely within weeks, and
    the insert's unique index would refuse the second with an error. Run in the transaction that
    inserts the row: SQLite's writers take turns, so nothing takes the value in between; on
    PostgreSQL that needs two transactions to draw the same value at the same moment."""
    column = model._meta.get_field(field).column
    sql = f"SELECT 1 FROM {connection.ops.quote_name(model._meta.db_table)} WHERE {connection.ops.quote_name(column)} = %s"
    value = draw()
    while rows(sql, value):
        value = draw()
    return value


def query_rows(query: Any) -> list[tuple[Any, ...]]:
    """The rows of an ORM `values_list` query as the driver returns them: for columns that need no
    conversion (text, integers), the ORM's per-value converters and chunked reads only cost time."""
    sql, params = query.query.sql_with_params()
    db = connection.ops.connection
    return _fetchall(db, _run(db, sql, params))


def stored_time(value: Any) -> datetime:
    """A stored time read raw, as an aware datetime (SQLite hands back UTC text without an offset)."""
    if isinstance(value, str):
        try:
            # Parsed with the offset appended: one C call, where `.replace(tzinfo=UTC)` after the
            # parse costs several times the parse itself (a thousand rows per sync).
            return datetime.fromisoformat(value + "+00:00")
        except ValueError:
            return datetime.fromisoformat(value).replace(tzinfo=UTC)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def update_rows(model: Any, saved: Sequence[Any], fields: Sequence[str]) -> None:
    """Write these fields of saved model instances: one statement run for each (executemany)."""
    if not saved:
        return
    db = connection.ops.connection  # the thread's own connection, resolved once
    columns = [model._meta.get_field(name) for name in fields]
    table = db.ops.quote_name(model._meta.db_table)
    sets = ", ".join(f"{db.ops.quote_name(c.column)} = %s" for c in columns)
    prepare = [(c.attname, _field_preparer(model, c)) for c in columns]
    values = [[prep(getattr(row, attname), db) for attname, prep in prepare] + [row.pk] for row in saved]
    _write(db, f"UPDATE {table} SET {sets} WHERE id = %s", values, many=True)


# Field types whose values go to the driver as they are when they already have the type the
# column stores (exact field types, so a subclass with its own preparation takes the ORM's path;
# any other value, a lazy translation say, takes it too).
_NATIVE: dict[type, tuple[type, ...]] = {
    models.CharField: (str,),
    models.TextField: (str,),
    models.IntegerField: (int,),
    models.BigIntegerField: (int,),
    models.SmallIntegerField: (int,),
    models.PositiveIntegerField: (int,),
    models.PositiveBigIntegerField: (int,),
    models.PositiveSmallIntegerField: (int,),
    models.BooleanField: (bool,),
}
_INTEGER_KEYS = (models.AutoField, models.BigAutoField, models.SmallAutoField, models.IntegerField)


def _sqlite_utc_time(value: datetime) -> str:
    """An aware time as Django's SQLite backend stores it when the connection's zone is UTC (its
    `adapt_datetimefield_value`: made naive in UTC, then `str`), without its checks of the
    settings for every value: a complaint's step writes dozens of times."""
    return str(value.astimezone(UTC).replace(tzinfo=None))


def _sqlite_utc_read(value: Any, expression: Any, db: Any) -> Any:
    """A stored time as Django's SQLite backend reads it when the connection's zone is UTC (its
    `convert_datetimefield_value`: the driver's naive datetime, made aware in UTC)."""
    if value is None:
        return None
    if not isinstance(value, datetime):
        return db.ops.convert_datetimefield_value(value, expression, db)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _preparer(field: Any, db: Any) -> Callable[[Any, Any], Any]:
    """A function of (value, connection) that prepares the field's value for the driver. The caller
    resolves Django's per-thread `connection` proxy once per statement (each resolution is a
    thread-local lookup, and a hundred-row insert prepares a thousand values); the preparers of a
    model are kept per database vendor (`_preparers`), which `db` (a connection of it) gives."""

    def orm(value: Any, db: Any) -> Any:
        return field.get_db_prep_save(value, db)

    native = _NATIVE.get(type(field))
    if native is None and type(field) is models.ForeignKey and isinstance(field.target_field, _INTEGER_KEYS):
        native = (int,)
    if native is not None:
        return lambda value, db: value if value is None or type(value) in native else orm(value, db)
    if type(field) is models.DateTimeField:
        # A naive time takes the ORM's path (its warning and the default zone), as it would anyway.
        if db.vendor == "sqlite" and settings.USE_TZ and db.timezone == UTC:
            return lambda value, db: (
                None if value is None else orm(value, db) if value.tzinfo is None else _sqlite_utc_time(value)
            )
        return lambda value, db: (
            orm(value, db)
            if value is not None and value.tzinfo is None
            else db.ops.adapt_datetimefield_value(value)
        )
    if type(field) is models.JSONField:
        encoder = field.encoder
        return lambda value, db: None if value is None else db.ops.adapt_json_value(value, encoder)
    return orm


_AUTOMATIC: dict[Any, list[Any]] = {}


def _automatic_times(model: Any, fields: Sequence[Any]) -> list[Any]:
    found = _AUTOMATIC.get(model)
    if found is None:
        found = _AUTOMATIC[model] = [
            f for f in fields if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
        ]
    return found


_PREPARERS: dict[tuple[Any, str], list[tuple[str, Callable[[Any, Any], Any]]]] = {}


def _preparers(model: Any, fields: Sequence[Any]) -> list[tuple[str, Callable[[Any, Any], Any]]]:
    """(attname, preparer) for each field, worked out once per model and database vendor."""
    key = (model, connection.vendor)
    found = _PREPARERS.get(key)
    if found is None:
        found = _PREPARERS[key] = [(f.attname, _preparer(f, connection.ops.connection)) for f in fields]
    return found


def insert_rows(model: Any, objs: Sequence[Any], *, returning_ids: bool = False) -> None:
    """Insert unsaved model instances, in the order given.

    Every concrete column but the automatic id is written from the instance as it stands: defaults
    apply when the instance is built, as with `bulk_create`; a related object saved after it was
    assigned gives its id, an unsaved one is refused; fields with `auto_now` or `auto_now_add` get
    the time now, set by the field itself as `bulk_create` has it do. Without `returning_ids` the rows go in by one statement run for each (executemany) and
    the instances keep `pk=None`; with it, by multi-row INSERTs that return the new ids, which the
    instances then carry.
    """
    if not objs:
        return
    db = connection.ops.connection  # the thread's own connection, resolved once
    plan = _insert_plans.get((model, db.vendor))
    if plan is None:
        plan = _insert_plans[(model, db.vendor)] = _insert_plan(model, db)
    head, marks, prepare, automatic, per_statement, pk_column = plan
    for obj in objs:
        obj._prepare_related_fields_for_save(operation_name="insert_rows")
    for field in automatic:
        for obj in objs:
            field.pre_save(obj, add=True)  # the ORM's own: the time now, set on the instance too
    values = [[prep(getattr(obj, attname), db) for attname, prep in prepare] for obj in objs]
    if not returning_ids:
        _write(db, head + marks, values, many=True)
        return
    for start in range(0, len(objs), per_statement):
        chunk = values[start : start + per_statement]
        cursor = _run(
            db, head + ", ".join([marks] * len(chunk)) + pk_column, [value for row in chunk for value in row]
        )
        # One statement's new ids rise in the order of its VALUES, whatever order RETURNING hands
        # them back in.
        ids = sorted(row[0] for row in _fetchall(db, cursor))
        for obj, new_id in zip(objs[start : start + per_statement], ids, strict=True):
            obj.pk = new_id
            obj._state.adding = False
            obj._state.db = db.alias


def insert_values(model: Any, fields: Sequence[str], values: Sequence[Sequence[Any]]) -> None:
    """Insert rows given as values of `fields` (attribute names: `recipient_id`, not `recipient`),
    in the order given; every other column takes its field's default as a new instance would
    (`Field.get_default`). Values are prepared as `insert_rows` prepares them; nothing comes back.

    For the rows every step of a complaint writes and nobody reads back in the same request
    (notifications, outbox messages, log records): building a model instance for each cost more
    than preparing its values. A field with an automatic time (`auto_now`) is set by the instance:
    give its value, or use `insert_rows`.
    """
    if not values:
        return
    db = connection.ops.connection  # the thread's own connection, resolved once
    key = (model, tuple(fields), db.vendor)
    plan = _value_plans.get(key)
    if plan is None:
        plan = _value_plans[key] = _value_plan(model, fields, db)
    sql, prepare, defaults = plan
    rows_ = []
    for row in values:
        prepared = [prep(value, db) for prep, value in zip(prepare, row, strict=True)]
        for field, prep in defaults:
            prepared.append(prep(field.get_default(), db))
        rows_.append(prepared)
    _write(db, sql, rows_, many=True)


_value_plans: dict[tuple[Any, ...], tuple[str, list[Callable[[Any, Any], Any]], list[tuple[Any, Any]]]] = {}


def _value_plan(
    model: Any, fields: Sequence[str], db: Any
) -> tuple[str, list[Callable[[Any, Any], Any]], list[tuple[Any, Any]]]:
    meta = model._meta
    by_attname = {f.attname: f for f in meta.concrete_fields if not (f.primary_key and f.auto_created)}
    unknown = [name for name in fields if name not in by_attname]
    if unknown:
        raise ValueError(f"{meta.label} has no column {', '.join(unknown)}")
    given = [by_attname[name] for name in fields]
    rest = [f for name, f in by_attname.items() if name not in fields]
    for f in rest:
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            raise ValueError(f"give {meta.label}.{f.attname}: its time is set by the instance")
    quote = db.ops.quote_name
    columns = [*given, *rest]
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in columns)})"
        f" VALUES ({', '.join(['%s'] * len(columns))})"
    )
    return sql, [_preparer(f, db) for f in given], [(f, _preparer(f, db)) for f in rest]


_insert_plans: dict[
    tuple[Any, str], tuple[str, str, list[tuple[str, Callable[[Any, Any], Any]]], list[Any], int, str]
] = {}


def _insert_plan(
    model: Any, db: Any
) -> tuple[str, str, list[tuple[str, Callable[[Any, Any], Any]]], list[Any], int, str]:
    """What `insert_rows` needs of a model, worked out once per model and database vendor: the
    statement's head and one row's placeholders, each column's preparer, the fields with automatic
    times, how many rows one statement takes, and the RETURNING clause."""
    meta = model._meta
    fields = [f for f in meta.concrete_fields if not (f.primary_key and f.auto_created)]
    quote = db.ops.quote_name
    head = f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) VALUES "
    marks = "(" + ", ".join(["%s"] * len(fields)) + ")"
    per_statement = max(1, (db.features.max_query_params or 999) // len(fields))
    return (
        head,
        marks,
        _preparers(model, fields),
        _automatic_times(model, fields),
        per_statement,
        f" RETURNING {quote(meta.pk.column)}",
    )


def update_where(model: Any, values: dict[str, Any], where: dict[str, Any]) -> int:
    """`UPDATE … SET <values> WHERE <where>` (each a field name → value, equality), values prepared
    as `insert_rows` prepares them; returns the number of rows written. For the one-row updates
    every step of a complaint makes, where `QuerySet.update` built its query for longer than it ran.
    Like `QuerySet.update`, it leaves `auto_now` fields alone."""
    db = connection.ops.connection  # the thread's own connection, resolved once
    key = (model, tuple(values), tuple(where), db.vendor)
    plan = _update_plans.get(key)
    if plan is None:
        meta = model._meta
        quote = db.ops.quote_name
        fields = [meta.get_field(name) for name in (*values, *where)]
        sets = ", ".join(f"{quote(f.column)} = %s" for f in fields[: len(values)])
        tests = " AND ".join(f"{quote(f.column)} = %s" for f in fields[len(values) :])
        plan = _update_plans[key] = (
            f"UPDATE {quote(meta.db_table)} SET {sets} WHERE {tests}",
            [(f, _field_preparer(model, f)) for f in fields],
        )
    sql, prepare = plan
    params = []
    for (field, prep), value in zip(prepare, (*values.values(), *where.values()), strict=True):
        if hasattr(value, "prepare_database_save"):
            value = value.prepare_database_save(field)  # a related object: its key, as `update` does
        params.append(prep(value, db))
    return _write(db, sql, params)


_update_plans: dict[tuple[Any, ...], tuple[str, list[tuple[Any, Callable[[Any, Any], Any]]]]] = {}


_FIELD_PREPARERS: dict[tuple[Any, str, str], Callable[[Any, Any], Any]] = {}


def _field_preparer(model: Any, field: Any) -> Callable[[Any, Any], Any]:
    key = (model, field.name, connection.vendor)
    found = _FIELD_PREPARERS.get(key)
    if found is None:
        found = _FIELD_PREPARERS[key] = _preparer(field, connection.ops.connection)
    return found


_READERS: dict[tuple[Any, str], tuple[list[str], list[tuple[int, list[Any], Any]]]] = {}


def _reader(model: Any, db: Any) -> tuple[list[str], list[tuple[int, list[Any], Any]]]:
    """The model's column attribute names, and for each column that needs them the converters the
    ORM's compiler applies to a value read (the backend's, then the field's), worked out once per
    model and database vendor."""
    key = (model, db.vendor)
    found = _READERS.get(key)
    if found is None:
        # The backend's converters are methods of the first reader's connection: they read only
        # what its settings give every connection of the vendor (SQLite's time zone), so they
        # serve every thread.
        fields = list(model._meta.concrete_fields)
        converters = []
        for index, field in enumerate(fields):
            column = field.get_col(model._meta.db_table)
            chain = db.ops.get_db_converters(column) + column.get_db_converters(db)
            if (
                db.vendor == "sqlite"
                and type(field) is models.DateTimeField
                and chain == [db.ops.convert_datetimefield_value]
                and settings.USE_TZ
                and db.timezone == UTC
            ):
                chain = [_sqlite_utc_read]  # the same answer, without its checks of the settings
            if chain:
                converters.append((index, chain, column))
        found = _READERS[key] = ([f.attname for f in fields], converters)
    return found


def _read(model: Any, sql: str, params: Sequence[Any]) -> list[Any]:
    """The rows of `sql` (the model's concrete columns in order, then any extra ones) as instances
    built the way the ORM builds what it reads: each value through the converters its compiler
    would apply, then `Model.from_db`. Extra columns become attributes, as with `Manager.raw`.

    Hand-written because `Manager.raw` works out the columns, their converters and the model's
    init order again for every query, which cost several times the query itself for the one-row
    reads every step of a complaint makes."""
    db = connection.ops.connection  # the thread's own connection, resolved once
    names, converters = _reader(model, db)
    width = len(names)
    cursor = _run(db, sql, params)
    try:
        with db.wrap_database_errors:
            found = cursor.fetchall()
        extra = [column[0] for column in cursor.description[width:]] if found else []
    finally:
        cursor.close()
    out = []
    for row in found:
        values = list(row[:width])
        for index, chain, column in converters:
            value = values[index]
            for convert in chain:
                value = convert(value, column, db)
            values[index] = value
        obj = model.from_db(db.alias, names, values)
        for name, value in zip(extra, row[width:], strict=True):
            setattr(obj, name, value)
        out.append(obj)
    return out


def _select(model: Any, where: str, *, extra: str = "", order_by: str = "", lock: bool = False) -> str:
    """`SELECT` of the model's concrete columns (then `extra`) from its table as `t`."""
    db = connection.ops.connection
    return _select_text(
        model, where, extra, order_by, lock and db.features.has_select_for_update_of, db.vendor
    )


@lru_cache(maxsize=1024)
def _select_text(model: Any, where: str, extra: str, order_by: str, lock: bool, vendor: str) -> str:
    """`_select`'s text, worked out once per query shape and database vendor (quoting forty column
    names cost more than the one-row read it is for)."""
    quote = connection.ops.quote_name
    meta = model._meta
    columns = ", ".join(f"t.{quote(f.column)}" for f in meta.concrete_fields)
    if extra:
        columns += ", " + extra
    sql = f"SELECT {columns} FROM {quote(meta.db_table)} t WHERE {where}"
    if order_by:
        sql += f" ORDER BY {order_by}"
    if lock:
        sql += " FOR UPDATE OF t"
    return sql


def instance(model: Any, pk: int, *, lock: bool = False, extra: str = "", params: Sequence[Any] = ()) -> Any:
    """Row `pk` of `model` as an instance (None if there is none), read by one hand-written query
    and converted column by column as the ORM converts what it reads. `lock`: FOR UPDATE where the
    database has row locks (PostgreSQL; on SQLite the write transaction already holds the file).
    `extra`: more columns, written against the table's alias `t` (`… AS name`), whose values the
    instance carries as attributes of those names; `params` fill their placeholders.

    For the rows every step of a complaint reads or locks: building these queries with the ORM
    (an annotation, a subquery) cost more than running them.
    """
    where = f"t.{connection.ops.quote_name(model._meta.pk.column)} = %s"
    found = _read(model, _select(model, where, extra=extra, lock=lock), [*params, pk])
    return found[0] if found else None


def instances(model: Any, where: str, *params: Any, order_by: str = "", lock: bool = False) -> list[Any]:
    """The rows of `model` matching `where` (written against the table's alias `t`; list
    parameters fill `IN %s` as in `rows`), as instances, in `order_by`'s order. `lock`: FOR UPDATE
    where the database has row locks, as `instance` has it."""
    expanded = _expand(_select(model, where, order_by=order_by, lock=lock), params)
    if expanded is None:
        return []
    return _read(model, *expanded)
