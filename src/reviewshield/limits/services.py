"""Count an actor's attempts at a limited action and refuse past the limit.

A limit is `count` attempts per fixed window of `seconds` (aligned to the epoch), per actor: a
person ("user:<id>") or, where there is none, an address ("address:<ip>"). Attempts are counted, not
only the ones that succeed: a refused upload costs the server the same scan, and a failed guess is
what a guessing limit is for. A fixed window lets an actor reach at most twice the count in one
window's span across a boundary; enough against floods, and one row per window instead of one per
attempt (a sliding log would write a row per request of the flood it is meant to stop).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from math import ceil
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from reviewshield.errors import RateLimited
from reviewshield.limits.models import LimitCounter, LimitHit

# What each limit covers, in the words the refused person reads (the wait is added after).
SCOPES = {
    "complaint_file": lambda: _("You have filed many complaints in a short time."),
    "evidence_upload": lambda: _("You have uploaded evidence many times in a short time."),
    "appeal_file": lambda: _("You have filed many appeals in a short time."),
    "extortion_report": lambda: _("You have filed many extortion reports in a short time."),
    "chat_evidence": lambda: _("You have made many chat evidence numbers in a short time."),
    "bearer_failure": lambda: _("Too many requests with an unknown API token came from your address."),
}


@dataclass(frozen=True)
class Limit:
    count: int
    seconds: int


def limit_for(scope: str) -> Limit:
    """The limit `scope` has in settings.REVIEWSHIELD_LIMITS (count 0 turns it off)."""
    count, seconds = settings.REVIEWSHIELD_LIMITS[scope]
    return Limit(int(count), int(seconds))


def wait_message(seconds: int) -> str:
    """ "Please try again in N minutes.", rounded up to whole minutes."""
    minutes = max(1, ceil(seconds / 60))
    return ngettext(
        "Please try again in %(minutes)d minute.", "Please try again in %(minutes)d minutes.", minutes
    ) % {"minutes": minutes}


def _count_attempt(scope: str, actor: str, start: int, end: int) -> int:
    # One statement adds the attempt and returns the window's count, so two web processes can never
    # both read 9 and both write 10: the upsert is the lock (SQLite >= 3.35 and PostgreSQL both
    # have INSERT … ON CONFLICT … RETURNING; the ORM has no form of it that returns the new value).
    table = connection.ops.quote_name(LimitCounter._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (scope, actor, window_start, window_end, count) VALUES (%s, %s, %s, %s, 1)"
            f" ON CONFLICT (scope, actor, window_start) DO UPDATE SET count = {table}.count + 1"
            " RETURNING count",
            [scope, actor, start, end],
        )
        (count,) = cursor.fetchone()
    return int(count)


def limit_hit_record(
    *,
    scope: str,
    actor: str,
    window_start: int,
    allowed: int,
    window_seconds: int,
    now: datetime,
    user: Any = None,
    address: str = "",
    path: str = "",
) -> LimitHit:
    """Keep a refusal: the window's LimitHit is created on the first and counts the rest."""
    with transaction.atomic():
        hit, created = LimitHit.objects.get_or_create(
            scope=scope,
            actor=actor,
            window_start=window_start,
            defaults={
                "user": user,
                "address": address,
                "path": path[:300],
                "allowed": allowed,
                "window_seconds": window_seconds,
                "first_at": now,
                "last_at": now,
                "refused": 1,
            },
        )
        if not created:
            LimitHit.objects.filter(pk=hit.pk).update(
                refused=F("refused") + 1, last_at=now, address=address, path=path[:300]
            )
    return hit


def limit_spend(
    *,
    scope: str,
    actor: str,
    now: datetime,
    user: Any = None,
    address: str = "",
    path: str = "",
) -> None:
    """Count one attempt by `actor` at `scope`; raise RateLimited when it is past the limit.

    Side effects: the window's counter grows by one; a refusal adds to the window's LimitHit (created
    on the first), in the same transaction. Counters of windows that ended are deleted when a new
    window opens."""
    limit = limit_for(scope)
    if limit.count <= 0:
        return
    ts = int(now.timestamp())
    start = ts - ts % limit.seconds
    end = start + limit.seconds
    with transaction.atomic():
        count = _count_attempt(scope, actor, start, end)
        if count == 1:
            LimitCounter.objects.filter(window_end__lte=ts).delete()
        if count <= limit.count:
            return
        limit_hit_record(
            scope=scope,
            actor=actor,
            window_start=start,
            allowed=limit.count,
            window_seconds=limit.seconds,
            now=now,
            user=user,
            address=address,
            path=path,
        )
    retry_after = end - ts
    raise RateLimited(
        # the two sentences joined as each language joins sentences (Chinese without a space)
        _("%(what)s %(wait)s") % {"what": SCOPES[scope](), "wait": wait_message(retry_after)},
        retry_after=retry_after,
        details={"limit": scope},
    )
