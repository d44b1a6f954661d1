"""`rawsql.insert_rows`: a row written by plain SQL reads back exactly as one `bulk_create` wrote."""

from __future__ import annotations

import warnings
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.transaction import TransactionManagementError
from django.forms.models import model_to_dict
from django.test.utils import CaptureQueriesContext
from django.utils import timezone as django_time

from reviewshield.detection.models import ScreenedMessage
from reviewshield.evidence.models import LogQueue
from reviewshield.marketplace.models import Shop
from reviewshield.outbox.models import OutboxMessage
from reviewshield.rawsql import insert_rows, insert_values, instance, instances, rows, update_where

SHANGHAI = timezone(timedelta(hours=8))


def message(cast: Any, message_id: str, **overrides: Any) -> ScreenedMessage:
    values: dict[str, Any] = {
        "platform": cast.taobao,
        "message_id": message_id,
        "conversation_id": "c-1",
        "shop_id": cast.shop.pk,
        "buyer_id": cast.bob.pk,
        "order_id": None,
        "sender": "seller",
        "sent_at": datetime(2026, 11, 21, 23, 59, 59, 123456, tzinfo=SHANGHAI),
        "text": "我知道你住哪 🙂 'quoted' \"double\" \\ back",
        "action": "hold",
        "categories": ["threat", "doxxing"],
        "scores": {"threat": 0.912, "doxxing": 1.0},
        "spans": [[0, 5, "doxxing", "知道你住哪"]],
        "reason_code": "threat",
        "reason_params": {"nested": {"list": [1, None, True]}, "zh": "差评"},
        "factors": [],
        "muted": True,
        "lexicon_version": "2026.05-2",
        "lexicon_hash": "sha256:abc",
        "screened_at": datetime(2026, 11, 22, 0, 0, tzinfo=UTC),
    }
    values.update(overrides)
    return ScreenedMessage(**values)


def read_back(message_id: str) -> dict[str, Any]:
    row = ScreenedMessage.objects.get(message_id=message_id)
    values = model_to_dict(row)
    values.pop("id")
    values.pop("message_id")
    return values


def test_a_row_inserted_by_plain_sql_reads_back_as_the_orm_wrote_it(cast: Any) -> None:
    ScreenedMessage.objects.bulk_create([message(cast, "orm")])
    insert_rows(ScreenedMessage, [message(cast, "raw")])

    assert read_back("raw") == read_back("orm")
    raw = ScreenedMessage.objects.get(message_id="raw")
    assert raw.sent_at == datetime(2026, 11, 21, 23, 59, 59, 123456, tzinfo=SHANGHAI)
    assert raw.reason_params == {"nested": {"list": [1, None, True]}, "zh": "差评"}
    assert raw.muted is True and raw.text.startswith("我知道你住哪 🙂")
    # stored as the very same text, so that times compare and sort in SQL as the ORM's do
    stored = (
        "SELECT CAST(sent_at AS text), CAST(screened_at AS text)"
        f" FROM {ScreenedMessage._meta.db_table} WHERE message_id = %s"
    )
    assert rows(stored, "raw") == rows(stored, "orm")


def test_empty_and_null_values_read_back_as_the_orm_wrote_them(cast: Any) -> None:
    blank = {"shop_id": None, "buyer_id": None, "categories": [], "scores": {}, "muted": False, "text": ""}
    ScreenedMessage.objects.bulk_create([message(cast, "orm", **blank)])
    insert_rows(ScreenedMessage, [message(cast, "raw", **blank)])

    assert read_back("raw") == read_back("orm")


def test_a_naive_time_is_taken_as_the_orm_takes_it(cast: Any) -> None:
    naive = {"sent_at": datetime(2026, 11, 21, 12, 0)}  # noqa: DTZ001 - the point of the test
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        ScreenedMessage.objects.bulk_create([message(cast, "orm", **naive)])
        insert_rows(ScreenedMessage, [message(cast, "raw", **naive)])

    assert read_back("raw")["sent_at"] == read_back("orm")["sent_at"]


def test_rows_go_in_in_the_order_given_and_bytes_stay_bytes(db: Any) -> None:
    now = datetime(2026, 11, 22, 1, 0, tzinfo=UTC)
    records = [bytes([i, 0, 255]) + f"record {i}".encode() for i in range(5)]
    insert_rows(
        LogQueue,
        [LogQueue(ref=f"r{i}", case_id=i or None, record=r, created_at=now) for i, r in enumerate(records)],
    )

    stored = list(LogQueue.objects.order_by("id").values_list("ref", "case_id", "record", "created_at"))
    assert [(ref, case_id, bytes(record), at) for ref, case_id, record, at in stored] == [
        (f"r{i}", i or None, r, now) for i, r in enumerate(records)
    ]


def test_automatic_times_are_the_time_of_the_insert_as_with_the_orm(cast: Any) -> None:
    before = django_time.now()
    shop = Shop(platform=cast.taobao, external_id="S9", name="x")
    insert_rows(Shop, [shop], returning_ids=True)
    after = django_time.now()
    stored = Shop.objects.get(external_id="S9")
    assert before <= stored.created_at <= after
    assert shop.created_at == stored.created_at and shop.pk == stored.pk


def test_nothing_to_insert_writes_nothing(db: Any) -> None:
    insert_rows(LogQueue, [])
    assert not LogQueue.objects.exists()


def test_returned_ids_go_to_the_rows_that_got_them_across_statements(cast: Any) -> None:
    # 21 columns a row: 47 rows a statement under SQLite's 999 parameters, so three statements here.
    rows = [message(cast, f"m{i}", text=f"text {i}") for i in range(100)]
    insert_rows(ScreenedMessage, rows, returning_ids=True)

    assert all(row.pk is not None and not row._state.adding for row in rows)
    stored = dict(ScreenedMessage.objects.values_list("id", "text"))
    assert [stored[row.pk] for row in rows] == [f"text {i}" for i in range(100)]


def test_a_related_row_saved_after_it_was_assigned_gives_its_id(cast: Any) -> None:
    from reviewshield.detection.models import Alert, AlertEvent

    at = datetime(2026, 11, 22, 1, 0, tzinfo=UTC)
    alert = Alert(
        reference="A-TEST0001", source="chat", platform=cast.taobao, shop=cast.shop, buyer=cast.bob,
        status="open", action="hold", first_at=at, last_at=at, raised_at=at,
    )  # fmt: skip
    event = AlertEvent(alert=alert, kind="raised", actor_role="system", at=at, to_status="open")
    with pytest.raises(ValueError, match="unsaved"):
        insert_rows(AlertEvent, [event], returning_ids=True)

    insert_rows(Alert, [alert], returning_ids=True)
    insert_rows(AlertEvent, [event], returning_ids=True)
    assert AlertEvent.objects.get(pk=event.pk).alert_id == alert.pk == Alert.objects.get().pk


def test_a_value_not_yet_of_the_columns_type_is_prepared_as_the_orm_prepares_it(cast: Any) -> None:
    from django.utils.translation import gettext_lazy

    odd = {"reason_code": gettext_lazy("threat"), "conversation_id": 42}
    ScreenedMessage.objects.bulk_create([message(cast, "orm", **odd)])
    insert_rows(ScreenedMessage, [message(cast, "raw", **odd)])

    assert read_back("raw") == read_back("orm")
    assert read_back("raw")["conversation_id"] == "42"


def test_an_update_by_plain_sql_writes_what_the_orm_update_writes(cast: Any) -> None:
    insert_rows(ScreenedMessage, [message(cast, "orm"), message(cast, "raw")])
    changes: dict[str, Any] = {
        "buyer": cast.alice,  # a related object: its id is written
        "sent_at": datetime(2026, 1, 1, 7, 30, tzinfo=SHANGHAI),
        "scores": {"insult": 0.5},
        "muted": False,
        "text": "改过的",
    }
    ScreenedMessage.objects.filter(message_id="orm").update(**changes)
    written = update_where(ScreenedMessage, changes, {"message_id": "raw", "action": "hold"})

    assert written == 1
    assert read_back("raw") == read_back("orm")
    assert read_back("raw")["buyer"] == cast.alice.pk


def test_an_update_whose_condition_no_longer_holds_writes_nothing(cast: Any) -> None:
    insert_rows(ScreenedMessage, [message(cast, "m1")])
    before = read_back("m1")

    assert update_where(ScreenedMessage, {"text": "changed"}, {"message_id": "m1", "action": "block"}) == 0
    assert read_back("m1") == before


def test_an_instance_read_raw_is_the_instance_the_orm_reads(cast: Any) -> None:
    insert_rows(ScreenedMessage, [message(cast, "m1")])
    pk = ScreenedMessage.objects.get(message_id="m1").pk

    raw = instance(ScreenedMessage, pk, lock=True, extra="t.text || %s AS marked", params=["!"])

    assert model_to_dict(raw) == model_to_dict(ScreenedMessage.objects.get(pk=pk))
    assert raw.sent_at.tzinfo is not None and raw.scores == {"threat": 0.912, "doxxing": 1.0}
    assert raw.marked == message(cast, "m1").text + "!"
    assert instance(ScreenedMessage, pk + 1000) is None


def test_instances_read_raw_are_the_instances_the_orm_reads_in_the_order_asked(cast: Any) -> None:
    insert_rows(
        ScreenedMessage,
        [
            message(cast, "a", action="warn", sent_at=datetime(2026, 11, 21, 10, tzinfo=UTC)),
            message(cast, "b", action="hold", sent_at=datetime(2026, 11, 21, 9, tzinfo=UTC)),
            message(cast, "c", action="block", sent_at=datetime(2026, 11, 21, 8, tzinfo=UTC)),
            message(cast, "d", action="hold", sent_at=datetime(2026, 11, 21, 7, tzinfo=UTC)),
        ],
    )

    found = instances(
        ScreenedMessage,
        "t.action IN %s AND t.muted = %s",
        ["hold", "block"],
        True,
        order_by="t.sent_at DESC",
        lock=True,
    )

    expected = ScreenedMessage.objects.filter(action__in=["hold", "block"], muted=True).order_by("-sent_at")
    assert [m.message_id for m in found] == ["b", "c", "d"]
    assert [model_to_dict(m) for m in found] == [model_to_dict(m) for m in expected]
    assert instances(ScreenedMessage, "t.action IN %s", []) == []  # an empty list matches nothing
    assert rows(f"SELECT id FROM {ScreenedMessage._meta.db_table} WHERE action IN %s", []) == []


def test_long_lists_find_what_the_orms_in_finds(cast: Any) -> None:
    # given: 60 flagged messages with awkward ids (Chinese, quotes, a backslash, digits alone)
    ids = [f"消息-{i}" if i % 3 else f'm"{i}\\' if i % 2 else str(i) for i in range(60)]
    insert_rows(
        ScreenedMessage, [message(cast, mid, action="hold" if i % 2 else "warn") for i, mid in enumerate(ids)]
    )
    pks = sorted(ScreenedMessage.objects.values_list("pk", flat=True))
    table = ScreenedMessage._meta.db_table

    def raw(sql: str, *params: Any) -> set[Any]:
        return {r[0] for r in rows(f"SELECT message_id FROM {table} WHERE {sql}", *params)}

    def orm(**where: Any) -> set[Any]:
        return set(ScreenedMessage.objects.filter(**where).values_list("message_id", flat=True))

    wanted = ids[::2] + ["not there", "消息-9999"] * 20  # long, with values twice and values absent
    # when / then: strings, integers, both lists in one statement, with other parameters between
    assert raw("message_id IN %s", wanted) == orm(message_id__in=wanted)
    assert raw("id IN %s", [*pks[5:50], 10**12]) == orm(pk__in=pks[5:50])
    assert raw("id IN %s AND action = %s AND message_id IN %s", pks, "hold", wanted) == orm(
        pk__in=pks, action="hold", message_id__in=wanted
    )
    # a list of anything else (booleans here) still matches as the ORM's does
    assert raw("muted IN %s", [False] * 40) == orm(muted__in=[False])
    # the same statement, any length: lists of 40 and of 400 values are one text
    assert raw("id IN %s", pks[:40]) == orm(pk__in=pks[:40])
    assert raw("id IN %s", pks * 7) == orm(pk__in=pks)


def test_a_list_for_each_in_placeholder_is_required(db: Any) -> None:
    with pytest.raises(ValueError, match="one list for each IN"):
        rows(f"SELECT id FROM {ScreenedMessage._meta.db_table} WHERE action IN %s AND id IN %s", ["hold"])


def test_money_times_and_missing_values_read_raw_are_what_the_orm_reads(cast: Any) -> None:
    from reviewshield.marketplace.models import Order

    paid = cast.order(amount="1234.50")
    open_order = cast.order(status="paid")  # no trade-success time yet

    for order in (paid, open_order):
        raw = instance(Order, order.pk)
        orm = Order.objects.get(pk=order.pk)
        assert model_to_dict(raw) == model_to_dict(orm)
        assert type(raw.amount) is type(orm.amount) and raw.amount == orm.amount
        assert raw._state.adding is False and raw._state.db == orm._state.db
    assert instance(Order, paid.pk).amount == Decimal("1234.50")
    assert instance(Order, open_order.pk).trade_success_at is None


def test_statements_run_past_djangos_cursor_still_fail_as_djangos_do(cast: Any) -> None:
    # A unique value taken: Django's IntegrityError, which the services catch (a filing race).
    shop = Shop.objects.get(pk=cast.shop.pk)
    twin = Shop(platform=shop.platform, external_id=shop.external_id, name="Twin", created_at=shop.created_at)
    with pytest.raises(IntegrityError), transaction.atomic():
        insert_rows(Shop, [twin], returning_ids=True)
    # A transaction broken by an error takes no further statement until it is rolled back.
    with transaction.atomic():
        with pytest.raises(IntegrityError), transaction.atomic(savepoint=False):
            insert_rows(Shop, [twin])
        with pytest.raises(TransactionManagementError):
            rows("SELECT COUNT(*) FROM marketplace_shop")
    assert rows("SELECT COUNT(*) FROM marketplace_shop WHERE external_id = %s", shop.external_id) == [(1,)]


def test_a_literal_percent_and_placeholders_mean_what_they_mean_for_django(db: Any) -> None:
    assert rows("SELECT '100%%', %s, %s", "a%s", 2) == [("100%", "a%s", 2)]


def test_statements_run_raw_are_seen_by_whatever_watches_the_queries(cast: Any) -> None:
    # assertNumQueries, DEBUG's query log and execute wrappers all see them.
    with CaptureQueriesContext(connection) as seen:
        rows("SELECT id FROM marketplace_shop WHERE id = %s", cast.shop.pk)
        update_where(Shop, {"name": "Renamed"}, {"id": cast.shop.pk})
    assert [q["sql"].split()[0] for q in seen.captured_queries] == ["SELECT", "UPDATE"]
    watched: list[str] = []

    def watch(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        watched.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(watch):
        assert instance(Shop, cast.shop.pk).name == "Renamed"
    assert len(watched) == 1 and "marketplace_shop" in watched[0]


def test_rows_given_as_values_read_back_as_instances_the_orm_wrote(cast: Any) -> None:
    at = datetime(2026, 11, 22, 9, 30, 15, 250000, tzinfo=SHANGHAI)
    payload = {"kind": "case.filed", "case": "RS261122ABCDEF", "respond_by": "2026-11-25T09:30:15+08:00"}
    OutboxMessage.objects.bulk_create(
        [OutboxMessage(channel="sms", recipient=cast.alice, topic="orm", payload=payload, created_at=at)]
    )
    fields = ("channel", "recipient_id", "topic", "payload", "created_at")
    insert_values(OutboxMessage, fields, [("sms", cast.alice.pk, "raw", payload, at)])
    orm, raw = (
        model_to_dict(OutboxMessage.objects.get(topic=topic), exclude=["id", "topic"])
        for topic in ("orm", "raw")
    )
    assert raw == orm  # the columns left out took their defaults: not sent, no attempts, no error
    assert (raw["sent_at"], raw["attempts"], raw["last_error"], raw["created_at"]) == (None, 0, "", at)


def test_values_for_a_column_that_is_not_there_or_sets_its_own_time_are_refused(cast: Any) -> None:
    with pytest.raises(ValueError, match="no column recipient"):
        insert_values(OutboxMessage, ("channel", "recipient"), [("sms", cast.alice)])
    with pytest.raises(ValueError, match="created_at"):  # auto_now_add: the instance sets it
        insert_values(Shop, ("platform_id", "external_id", "name"), [(cast.taobao.pk, "S9", "Nine")])
    assert not OutboxMessage.objects.exists() and not Shop.objects.filter(external_id="S9").exists()


def test_an_error_while_the_rows_are_read_is_djangos_too(db: Any) -> None:
    # SQLite computes a read's later rows as they are fetched: the overflow comes then.
    with pytest.raises(DatabaseError) as raised:
        rows("SELECT 1 UNION ALL SELECT abs(-9223372036854775807 - 1)")
    assert type(raised.value).__module__ == "django.db.utils"
