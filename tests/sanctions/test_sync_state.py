"""A sync that has nothing to do finds out from two reads, and never skips a real change."""

from __future__ import annotations

from datetime import timedelta

from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from reviewshield.cases.models import Case
from reviewshield.sanctions import services
from reviewshield.sanctions.models import LedgerEntry, Penalty, PenaltyState, SyncState
from tests.sanctions.conftest import START, decide, hooks


def sync(shop, now, **kwargs):
    with transaction.atomic():
        return services.sanctions_sync(shop_id=shop.pk, now=now, reason="decision", **kwargs)


def test_nothing_to_change_is_two_reads(cast, endpoint):
    # given a decided case and one plain sync that stored the state
    decide(cast, "serious", START)
    sync(cast.shop, START + timedelta(hours=1))
    assert SyncState.objects.filter(shop=cast.shop).exists()
    before = (LedgerEntry.objects.count(), len(hooks()))
    # when the shop is synced again with nothing new
    with CaptureQueriesContext(connection) as queries:
        result = sync(cast.shop, START + timedelta(hours=2))
    # then the shop's lock and the fingerprint are all it reads, and nothing is written
    reads = [q["sql"] for q in queries if q["sql"].startswith("SELECT")]
    writes = [q["sql"] for q in queries if q["sql"].split()[0] in ("INSERT", "UPDATE", "DELETE")]
    assert (len(reads), writes) == (2, [])
    assert (result.ledger_lines, result.applied, result.lifted) == (0, [], [])
    assert (LedgerEntry.objects.count(), len(hooks())) == before


def test_a_decision_written_behind_the_services_back_is_still_seen(cast, endpoint):
    first = decide(cast, "ordinary", START)
    sync(cast.shop, START + timedelta(hours=1))
    # a second upheld case stored directly (as an import or a bench would), not through case_decide
    order = cast.order(buyer=cast.bob, shop=cast.shop, trade_success_at=START - timedelta(days=3))
    twin = Case.objects.get(pk=first.pk)
    twin.pk, twin.reference, twin.order = None, "RSDIRECT", order
    twin.decided_at = START + timedelta(hours=3)
    twin.save()
    result = sync(cast.shop, START + timedelta(hours=4))
    assert result.ledger_lines == 1
    assert LedgerEntry.objects.filter(case=twin).count() == 1


def test_a_tier_changed_in_place_is_seen_through_the_version(cast, endpoint):
    case = decide(cast, "ordinary", START)
    sync(cast.shop, START + timedelta(hours=1))
    # the tier moves the way the appeal decision moves it: through the one writer, which bumps the version
    Case.objects.filter(pk=case.pk).update(tier="serious", points=12, version=case.version + 1)
    result = sync(cast.shop, START + timedelta(hours=2))
    assert result.ledger_lines == 1
    assert sum(LedgerEntry.objects.filter(case=case).values_list("points", flat=True)) == 12


def test_time_alone_moves_a_penalty_past_the_stored_state(cast, endpoint):
    # a serious decision on taobao-2021: a 7-day period that waits for the exam
    decide(cast, "serious", START)
    sync(cast.shop, START + timedelta(hours=1))
    (penalty,) = Penalty.objects.filter(shop=cast.shop)
    assert penalty.state == PenaltyState.IN_FORCE
    # same inputs, but the period has ended: the stored state holds only until then
    sync(cast.shop, START + timedelta(days=8))
    penalty.refresh_from_db()
    assert penalty.state == PenaltyState.AWAITING_EXAM


def test_an_earlier_now_than_the_last_sync_is_worked_out_in_full(cast, endpoint):
    decide(cast, "serious", START)
    sync(cast.shop, START + timedelta(days=8))
    (penalty,) = Penalty.objects.filter(shop=cast.shop)
    assert penalty.state == PenaltyState.AWAITING_EXAM
    sync(cast.shop, START + timedelta(days=1))
    penalty.refresh_from_db()
    assert penalty.state == PenaltyState.IN_FORCE


def test_a_decision_stores_the_state_of_the_inputs_after_it(cast, endpoint):
    decide(cast, "ordinary", START)
    sync(cast.shop, START + timedelta(hours=1))
    decide(cast, "ordinary", START + timedelta(days=1))
    stored = SyncState.objects.get(shop=cast.shop)
    assert stored.synced_at == START + timedelta(days=1)
    assert stored.inputs == services._inputs_fingerprint(cast.shop.pk)[0]  # with the second decision
    assert LedgerEntry.objects.filter(shop=cast.shop).count() == 2
