"""Handlers for tests and benchmarks only; imported when named in $REVIEWSHIELD_HANDLER_MODULES.

They live in the package (not under tests/) so worker subprocesses can import them.

- `test.record`: writes an `OutboxMessage(topic="test.record", payload={"deadline": id})` — an
  effect in the same transaction as the run, observable from outside; `payload["sleep_ms"]` makes
  it slow, so that crash tests can kill workers mid-batch.
- `test.fail`: raises, always.
- `test.obsolete`: returns "obsolete" (the state moved on).
- `test.noop`: does nothing (benchmarks: the cost of the machinery alone).
"""

from __future__ import annotations

import time
from datetime import datetime

from reviewshield.deadlines.models import Deadline, Outcome
from reviewshield.deadlines.scheduling import register
from reviewshield.outbox.models import Channel, OutboxMessage

RECORD = "test.record"
FAIL = "test.fail"
OBSOLETE = "test.obsolete"
NOOP = "test.noop"


class HandlerBoom(RuntimeError):
    pass


@register(RECORD)
def record(deadline: Deadline, now: datetime) -> str:
    OutboxMessage.objects.create(
        channel=Channel.WEBHOOK, topic=RECORD, payload={"deadline": deadline.pk}, created_at=now
    )
    sleep_ms = deadline.payload.get("sleep_ms")
    if sleep_ms:
        time.sleep(sleep_ms / 1000)
    return Outcome.FIRED


@register(FAIL)
def fail(deadline: Deadline, now: datetime) -> str:
    # Write first, so tests can check that the savepoint really rolls the effect back.
    OutboxMessage.objects.create(
        channel=Channel.WEBHOOK, topic=FAIL, payload={"deadline": deadline.pk}, created_at=now
    )
    raise HandlerBoom(f"boom on deadline {deadline.pk}")


@register(OBSOLETE)
def obsolete(deadline: Deadline, now: datetime) -> str:
    return Outcome.OBSOLETE


@register(NOOP)
def noop(deadline: Deadline, now: datetime) -> None:
    return None
