"""Schedule and cancel deadlines; the registry of handlers the worker calls.

Callers (services) use `deadline_schedule` and `deadlines_cancel` inside their own transaction, so a
deadline exists exactly when the state change that needs it was committed.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from django.db import connection

from reviewshield import rawsql
from reviewshield.deadlines.models import Deadline, Outcome
from reviewshield.rawsql import insert_rows

Handler = Callable[[Deadline, datetime], str | None]
"""A handler gets the deadline (row-locked) and `now`; it returns an outcome ("fired" or "obsolete")."""

_HANDLERS: dict[str, Handler] = {}


def register(kind: str) -> Callable[[Handler], Handler]:
    def wrap(fn: Handler) -> Handler:
        _HANDLERS[kind] = fn
        return fn

    return wrap


def handler_for(kind: str) -> Handler | None:
    return _HANDLERS.get(kind)


HANDLER_MODULES_ENV = "REVIEWSHIELD_HANDLER_MODULES"
"""Comma-separated extra modules that register handlers (e.g. `reviewshield.deadlines.testing`).

The apps' own handler modules are imported by their `AppConfig.ready()`; this is for handlers that
exist only in tests and benchmarks, which must be importable by worker subprocesses too."""


def load_handler_modules(value: str | None = None) -> list[str]:
    """Import the modules named in $REVIEWSHIELD_HANDLER_MODULES (or `value`); returns their names."""
    raw = os.environ.get(HANDLER_MODULES_ENV, "") if value is None else value
    names = [name.strip() for name in raw.split(",") if name.strip()]
    for name in names:
        importlib.import_module(name)
    return names


def deadline_schedule(
    *,
    kind: str,
    due_at: datetime,
    case: Any = None,
    order: Any = None,
    provisional: bool = False,
    payload: dict[str, Any] | None = None,
) -> Deadline:
    return Deadline.objects.create(
        kind=kind,
        case=case,
        order=order,
        due_at=due_at,
        available_at=due_at,
        provisional=provisional,
        payload=payload or {},
    )


def deadlines_schedule(items: Iterable[dict[str, Any]]) -> list[Deadline]:
    """Schedule several deadlines in one statement; each item takes deadline_schedule's keywords."""
    rows = [
        Deadline(
            kind=i["kind"],
            case=i.get("case"),
            order=i.get("order"),
            due_at=i["due_at"],
            available_at=i["due_at"],
            provisional=i.get("provisional", False),
            payload=i.get("payload") or {},
        )
        for i in items
    ]
    insert_rows(Deadline, rows, returning_ids=True)  # plain INSERTs: every complaint schedules some
    return rows


def deadlines_cancel(
    *,
    now: datetime,
    case: Any = None,
    order: Any = None,
    kinds: Iterable[str] | None = None,
    payload: dict[str, Any] | None = None,
) -> int:
    """Mark open deadlines of a case (or order, or with these `payload` values) as cancelled; returns how many."""
    if (case is None) != (order is None) and not payload:
        # A case's or an order's deadlines (every step of a complaint closes some) as one plain UPDATE.
        column, owner = ("case_id", case) if case is not None else ("order_id", order)
        table, quote = Deadline._meta.db_table, connection.ops.quote_name
        sql = f"UPDATE {quote(table)} SET done_at = %s, outcome = %s WHERE done_at IS NULL AND {column} = %s"
        params: list[Any] = [
            connection.ops.adapt_datetimefield_value(now),
            Outcome.CANCELLED.value,
            getattr(owner, "pk", owner),  # an instance or its id, as the ORM's filter takes them
        ]
        if kinds is not None:
            wanted = list(kinds)
            if not wanted:
                return 0
            sql += " AND kind IN (" + ", ".join(["%s"] * len(wanted)) + ")"
            params += wanted
        return rawsql.execute(sql, *params)
    qs = Deadline.objects.filter(done_at__isnull=True)
    if payload:
        qs = qs.filter(**{f"payload__{key}": value for key, value in payload.items()})
    if case is not None:
        qs = qs.filter(case=case)
    if order is not None:
        qs = qs.filter(order=order)
    if kinds is not None:
        qs = qs.filter(kind__in=list(kinds))
    return qs.update(done_at=now, outcome=Outcome.CANCELLED)
