"""Plain SQL for the few hot paths where building the query with the ORM costs more than running it.

Used by the screening API's context reads (hundreds of ids per `IN` list: the ORM prepares every
id one by one, about 2 ms a read) and the sanctions sync's small per-shop reads; and for the
screening batch's alert updates, where `bulk_update`'s CASE expressions took longer to build than
the rest of the batch's writes. Plain SQL that SQLite and PostgreSQL both take; values are always
parameters, table and column names come from the models.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from django.db import connection


def rows(sql: str, *params: Any) -> list[tuple[Any, ...]]:
    """The rows of a read, as the driver returns them. A list parameter fills an `IN %s`
    placeholder (one list per `IN %s`, in order); an empty list matches nothing."""
    lists = [p for p in params if isinstance(p, list)]
    if lists:
        parts = sql.split("IN %s")
        if len(lists) != len(parts) - 1:
            raise ValueError("give one list for each IN %s, in order")
        if not all(lists):
            return []  # IN () matches nothing (and is no SQL)
        sql = parts[0]
        for values, rest in zip(lists, parts[1:], strict=True):
            sql += "IN (" + ", ".join(["%s"] * len(values)) + ")" + rest
        flat: list[Any] = []
        for param in params:  # in the order of the placeholders
            if isinstance(param, list):
                flat.extend(param)
            else:
                flat.append(param)
        params = tuple(flat)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def query_rows(query: Any) -> list[tuple[Any, ...]]:
    """The rows of an ORM `values_list` query as the driver returns them: for columns that need no
    conversion (text, integers), the ORM's per-value converters and chunked reads only cost time."""
    sql, params = query.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


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
    columns = [model._meta.get_field(name) for name in fields]
    table = connection.ops.quote_name(model._meta.db_table)
    sets = ", ".join(f"{connection.ops.quote_name(c.column)} = %s" for c in columns)
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {table} SET {sets} WHERE id = %s",
            [
                [c.get_db_prep_save(getattr(row, c.attname), connection) for c in columns] + [row.pk]
                for row in saved
            ],
        )
