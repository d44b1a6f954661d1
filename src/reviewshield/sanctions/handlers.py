"""What the worker does for sanctions: a penalty's period ends; the year ends."""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import IntegrityError, transaction

from reviewshield.deadlines.models import Deadline
from reviewshield.deadlines.scheduling import register
from reviewshield.sanctions import engine
from reviewshield.sanctions.models import LedgerEntry, ShopEvent, YearEnd
from reviewshield.sanctions.services import (
    PERIOD_ENDS,
    _events_write,
    points_by_year,
    sanctions_sync,
    year_end_shops,
)

log = logging.getLogger(__name__)


@register(PERIOD_ENDS)
def period_ends(deadline: Deadline, now: datetime) -> str:
    """A penalty's period is over: it lifts if the seller passed the exam, else it waits for one."""
    # The sync moves the penalty on (lifted, or waiting for the exam) and is a no-op if an appeal or
    # an exam got there first; either way the period's end has been dealt with.
    sanctions_sync(shop_id=deadline.payload["shop"], now=now, reason=LedgerEntry.Reason.DECISION)
    return "fired"


def year_end_tick(now: datetime) -> int:
    """At 24:00 on 31 December local (or the first tick after it): clear A, carry B at 48 or more.

    Safe on several workers and after a crash: the sync per shop is idempotent and each shop's
    reset event is written once; the YearEnd row records that the whole run finished.
    """
    year = engine.local_year(now) - 1
    if YearEnd.objects.filter(year=year, done_at__isnull=False).exists():
        return 0
    try:
        with transaction.atomic():
            run, _created = YearEnd.objects.get_or_create(year=year, defaults={"started_at": now})
    except IntegrityError:  # another worker created it at the same moment
        run = YearEnd.objects.get(year=year)
    shops = year_end_shops(year)
    for shop_id in shops:
        with transaction.atomic():
            sanctions_sync(shop_id=shop_id, now=now, reason=LedgerEntry.Reason.YEAR_END)
            if not ShopEvent.objects.filter(shop_id=shop_id, kind="year_end_reset", data__year=year).exists():
                points = points_by_year(shop_id)
                closing = points.get(year, {"A": 0, "B": 0})
                _events_write(
                    [
                        ShopEvent(
                            shop_id=shop_id,
                            kind="year_end_reset",
                            at=now,
                            data={
                                "year": year,
                                "a_cleared": closing["A"],
                                "b_closing": closing["B"],
                                "b_kept": points.get(year + 1, {}).get("B", 0),
                            },
                        )
                    ]
                )
    YearEnd.objects.filter(pk=run.pk, done_at__isnull=True).update(done_at=now, shops=len(shops))
    if shops:
        log.info("year-end reset of %s done for %s shops", year, len(shops))
    return len(shops)
