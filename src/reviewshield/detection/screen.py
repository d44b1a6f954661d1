"""Screen a batch of chat messages before the marketplace delivers them.

`screen_batch` is the one entry: it checks the batch, works out each seller–buyer pair's context from
what ReviewShield knows (the buyer's latest bad review of the shop, an open complaint between them,
the buyer's own name, phone, address and email, the seller's messages to the buyer in the hour
before — those the marketplace pushed to the chat log), runs the pure engine with the process's
current lexicon, and, in one transaction, stores every message not simply allowed and raises or
extends the pair's alert for every held or blocked one. While an agent's mute stands, every seller
message to that buyer is blocked. Context is read with a fixed number of queries per batch, not per
message.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, NamedTuple

from django.db import connection, transaction
from django.utils.translation import gettext as _

from reviewshield import rawsql
from reviewshield.accounts.models import User
from reviewshield.cases.models import OPEN_STATUSES, Case
from reviewshield.chat.models import ChatConversation, ChatMessage
from reviewshield.detection import services
from reviewshield.detection.lexicons import current_lexicon
from reviewshield.detection.models import ChatMute, ScreenedMessage
from reviewshield.errors import ValidationFailed
from reviewshield.marketplace.models import Order, Platform, Rating, Review, Shop
from reviewshield.marketplace.services import member_key
from reviewshield.rawsql import instances, rows, stored_time
from reviewshield.screening import Context, KnownData, Lexicon, Message, Reason, Verdict, screen

MAX_BATCH = 1000
MAX_TEXT = 5000
SENDERS = ("seller", "buyer", "system")
_HOUR = timedelta(hours=1)


class Incoming(NamedTuple):  # a thousand per batch: a tuple is the cheapest to build
    message_id: str
    conversation_id: str
    shop_id: str  # the marketplace's ids, as in chat pushes
    buyer_id: str
    sender: str
    sent_at: datetime
    text: str
    order_id: str | None = None


class Screened(NamedTuple):  # one per message of the batch, like Incoming
    message_id: str
    verdict: Verdict
    muted: bool
    known_pair: bool  # the shop and the buyer are known, so the context applied


@dataclass(frozen=True)
class BatchResult:
    lexicon: Lexicon
    results: list[Screened]
    alerts: list[str]  # references of the alerts raised or extended


def _check(platform: str, items: list[Incoming]) -> Platform:
    errors: list[dict[str, Any]] = []
    if not items:
        raise ValidationFailed(_("Send at least one message to screen."), details={"errors": []})
    if len(items) > MAX_BATCH:
        raise ValidationFailed(
            _("A batch holds at most %(max)d messages; this one has %(count)d.")
            % {"max": MAX_BATCH, "count": len(items)},
            details={"max": MAX_BATCH, "count": len(items)},
        )
    known = instances(Platform, "t.code = %s", platform)  # plain SQL: the ORM's query cost more
    found = known[0] if known else None
    if found is not None and _plainly_valid(items):
        return found  # nearly every batch: checked column by column in C, no error list to build
    if found is None:
        errors.append(
            {
                "index": None,
                "field": "platform",
                "reason": _("Unknown platform “%(code)s”.") % {"code": platform},
            }
        )
    seen: set[str] = set()
    for i, item in enumerate(items):
        if not item.message_id.strip():
            errors.append({"index": i, "field": "message_id", "reason": _("Give the message's id.")})
        elif item.message_id in seen:
            errors.append(
                {
                    "index": i,
                    "field": "message_id",
                    "reason": _("This message id appears twice in the batch."),
                }
            )
        seen.add(item.message_id)
        if item.sender not in SENDERS:
            errors.append(
                {
                    "index": i,
                    "field": "sender",
                    "reason": _("Unknown sender “%(sender)s”; use one of: %(choices)s.")
                    % {"sender": item.sender, "choices": ", ".join(SENDERS)},
                }
            )
        if item.sent_at.tzinfo is None:
            errors.append({"index": i, "field": "sent_at", "reason": _("Give the time with its time zone.")})
        if len(item.text) > MAX_TEXT:
            errors.append(
                {
                    "index": i,
                    "field": "text",
                    "reason": _("A message to screen holds at most %(n)d characters.") % {"n": MAX_TEXT},
                }
            )
        if not item.shop_id.strip() or not item.buyer_id.strip():
            errors.append(
                {
                    "index": i,
                    "field": "shop_id" if not item.shop_id.strip() else "buyer_id",
                    "reason": _("This field is required."),
                }
            )
    if errors:
        first = errors[0]
        where = "" if first["index"] is None else _("message %(n)d: ") % {"n": first["index"] + 1}
        raise ValidationFailed(
            _("The batch was not screened: %(where)s%(reason)s")
            % {"where": where, "reason": first["reason"]},
            details={"errors": [{**e, "reason": str(e["reason"])} for e in errors]},
        )
    assert found is not None
    return found


_SENDER_SET = frozenset(SENDERS)


def _plainly_valid(items: list[Incoming]) -> bool:
    """Whether every message passes every check of `_check` (which, if not, finds out which)."""
    ids = [i.message_id for i in items]
    return (
        len(set(ids)) == len(ids)
        and all(map(str.strip, ids))
        and _SENDER_SET.issuperset([i.sender for i in items])
        and all(i.sent_at.tzinfo is not None for i in items)
        and max(len(i.text) for i in items) <= MAX_TEXT
        and all(i.shop_id.strip() and i.buyer_id.strip() for i in items)
    )


@dataclass
class _Pair:
    shop_id: int
    buyer_id: int
    known: dict[
        str, tuple[str, ...]
    ]  # the buyer's own name, phone, address and email, as the engine takes them
    bad_review: tuple[int, int, datetime] | None = None  # (id, order id, posted at) of the latest
    open_complaint: bool = False
    muted: bool = False
    # (sent_at as stored, message id, text) of the seller's messages to the buyer in the hour
    # before the batch; the times are compared as the database holds them (`_context`)
    recent: list[tuple[Any, str, str]] = field(default_factory=list)


def _pairs(platform: Platform, items: list[Incoming]) -> dict[tuple[str, str], _Pair]:
    """The known seller–buyer pairs of the batch, with what the engine's context needs.

    Read as plain rows (not model instances) with one query per kind of context: a batch of 1,000
    messages reaches hundreds of pairs and is answered while the chat backend waits.
    """
    shop_keys = list({i.shop_id for i in items})
    shops = {
        external_id: pk
        for pk, external_id in rows(
            f"SELECT id, external_id FROM {Shop._meta.db_table} WHERE platform_id = %s AND external_id IN %s",
            platform.pk,
            shop_keys,
        )
    }
    keys = {member_key(platform, buyer): buyer for buyer in {i.buyer_id for i in items}}
    buyers: dict[str, tuple[int, dict[str, tuple[str, ...]]]] = {}
    user = User._meta.db_table
    for pk, external_id, *values in rows(
        f"SELECT id, external_id, real_name, phone, address, email FROM {user} WHERE external_id IN %s",
        list(keys),
    ):
        buyers[keys[external_id]] = (pk, _known_data(*values))
    pairs: dict[tuple[str, str], _Pair] = {}
    for key in dict.fromkeys((i.shop_id, i.buyer_id) for i in items):  # each pair once, in batch order
        shop_key, buyer_key = key
        if shop_key in shops and buyer_key in buyers:
            buyer_id, known = buyers[buyer_key]
            pairs[key] = _Pair(shops[shop_key], buyer_id, known)
    if not pairs:
        return pairs
    by_ids = {(p.shop_id, p.buyer_id): p for p in pairs.values()}
    # Each read by the buyers alone (a pair's shop is checked here): with both lists, SQLite
    # probes a (buyer, shop) index once for every combination of the two.
    buyer_ids = sorted({b for _, b in by_ids})
    review, order = Review._meta.db_table, Order._meta.db_table
    for review_id, order_id, shop_id, buyer_id, posted_at in rows(
        f"SELECT r.id, r.order_id, o.shop_id, o.buyer_id, r.posted_at FROM {review} r"
        f" JOIN {order} o ON o.id = r.order_id WHERE r.rating = %s AND o.buyer_id IN %s"
        " ORDER BY r.posted_at, r.id",
        Rating.BAD,
        buyer_ids,
    ):
        pair = by_ids.get((shop_id, buyer_id))
        if pair is not None:
            pair.bad_review = (review_id, order_id, stored_time(posted_at))  # the latest wins
    for shop_id, buyer_id in rows(
        f"SELECT shop_id, buyer_id FROM {Case._meta.db_table} WHERE buyer_id IN %s AND status IN %s",
        buyer_ids,
        list(OPEN_STATUSES),
    ):
        if (shop_id, buyer_id) in by_ids:
            by_ids[(shop_id, buyer_id)].open_complaint = True
    for shop_id, buyer_id in rows(
        f"SELECT shop_id, buyer_id FROM {ChatMute._meta.db_table} WHERE buyer_id IN %s AND lifted_at IS NULL",
        buyer_ids,
    ):
        if (shop_id, buyer_id) in by_ids:
            by_ids[(shop_id, buyer_id)].muted = True
    conversations = {
        pk: pair
        for pk, shop_id, buyer_id in rows(
            f"SELECT id, shop_id, buyer_id FROM {ChatConversation._meta.db_table} WHERE buyer_id IN %s",
            buyer_ids,
        )
        if (pair := by_ids.get((shop_id, buyer_id))) is not None
    }
    if conversations:
        earliest = min(i.sent_at for i in items)
        latest = max(i.sent_at for i in items)
        adapt = connection.ops.adapt_datetimefield_value
        # SQLite's stored text as it is (`CAST`): its driver would parse every value to a datetime
        sent = "CAST(sent_at AS text)" if connection.vendor == "sqlite" else "sent_at"
        for conversation_id, sent_at, external_id, text in rows(
            f"SELECT conversation_id, {sent}, external_id, text FROM {ChatMessage._meta.db_table}"
            " WHERE conversation_id IN %s AND sender = %s AND sent_at >= %s AND sent_at < %s",
            sorted(conversations),
            "seller",
            adapt(earliest - _HOUR),
            adapt(latest),
        ):
            conversations[conversation_id].recent.append((sent_at, external_id, text))
    return pairs


KNOWN_KINDS = ("name", "phone", "address", "other")  # real_name, phone, address, email


@lru_cache(maxsize=16384)
def _known_data(*values: str | None) -> KnownData:
    """The buyer's known data as the engine takes them, one object per distinct row of values in
    this process: the engine folds each object once, where a new mapping for every batch would be
    looked up by value again (see `KnownData`). Bounded: the least recently seen buyers drop out."""
    return KnownData(
        (kind, (value,)) for kind, value in zip(KNOWN_KINDS, values, strict=True) if value and value.strip()
    )


def _context(pair: _Pair | None, first_at: datetime, batch_ids: set[str]) -> Context:
    if pair is None:
        return Context()
    recent: tuple[str, ...] = ()
    if pair.recent:
        # Compared with the bounds adapted as the database stores times (on SQLite, UTC text,
        # whose order is the times' order, as its own comparisons have it): thousands of rows a
        # batch, each parsed to a datetime only to be compared, cost more than the query.
        adapt = connection.ops.adapt_datetimefield_value
        since, until = adapt(first_at - _HOUR), adapt(first_at)
        recent = tuple(text for at, mid, text in pair.recent if since <= at < until and mid not in batch_ids)
    return Context(
        bad_review_at=pair.bad_review[2] if pair.bad_review else None,
        recent_seller_messages=len(recent),
        recent_texts=recent,
        open_complaint=pair.open_complaint,
        buyer_known=pair.known,
    )


MUTED = Reason("muted")


def screen_batch(*, platform: str, items: list[Incoming], now: datetime) -> BatchResult:
    """Screen `items` (one marketplace, up to 1,000 messages); store what was flagged, raise alerts."""
    found = _check(platform, items)
    lexicon = current_lexicon()
    pairs = _pairs(found, items)
    batch_ids = {i.message_id for i in items}
    first_at: dict[tuple[str, str], datetime] = {}
    for item in items:
        key = (item.shop_id, item.buyer_id)
        earlier = first_at.get(key)
        if earlier is None or item.sent_at < earlier:
            first_at[key] = item.sent_at
    contexts_by_pair = {key: _context(pairs.get(key), at, batch_ids) for key, at in first_at.items()}
    verdicts = screen(
        [Message(i.text, i.sender, i.sent_at) for i in items],
        [contexts_by_pair[(i.shop_id, i.buyer_id)] for i in items],
        lexicon=lexicon,
    )
    results: list[Screened] = []
    flagged: list[tuple[Incoming, Screened]] = []
    any_muted = any(p.muted for p in pairs.values())
    for item, verdict in zip(items, verdicts, strict=True):
        pair = pairs.get((item.shop_id, item.buyer_id))
        muted = any_muted and bool(pair and pair.muted and item.sender == "seller")
        if muted:
            verdict = verdict._replace(action="block", reason=MUTED)
        result = Screened(item.message_id, verdict, muted, pair is not None)
        results.append(result)
        if verdict.action != "allow":
            flagged.append((item, result))
    alerts: list[str] = []
    if flagged:
        alerts = _store(found, flagged, pairs, lexicon, now)
    return BatchResult(lexicon, results, alerts)


class _Flagged:
    """A flagged message of the batch on its way into `ScreenedMessage`: what `alerts_from_screening`
    reads of one (and the alert it sets), and the verdict's values. The batch's rows are written by
    one plain INSERT (`_insert_flagged`), not as model instances: a hundred instances and their
    twenty values each, prepared one by one, cost a tenth of the whole request."""

    __slots__ = ("alert", "buyer_id", "item", "muted", "order_id", "pk", "shop_id", "verdict")

    def __init__(self, item: Incoming, result: Screened, pair: _Pair | None, order_id: int | None) -> None:
        self.item = item
        self.verdict = result.verdict
        self.muted = result.muted
        self.shop_id = pair.shop_id if pair else None
        self.buyer_id = pair.buyer_id if pair else None
        self.order_id = order_id
        self.pk = None  # not written yet
        self.alert: Any = None

    @property
    def message_id(self) -> str:
        return self.item.message_id

    @property
    def sent_at(self) -> datetime:
        return self.item.sent_at

    @property
    def action(self) -> str:
        return str(self.verdict.action)

    @property
    def categories(self) -> list[str]:
        return list(self.verdict.categories)


_FLAGGED_COLUMNS = (
    "platform_id, message_id, conversation_id, shop_id, buyer_id, order_id, sender, sent_at, text, action,"
    " categories, scores, spans, reason_code, reason_params, factors, muted, lexicon_version, lexicon_hash,"
    " screened_at, alert_id"
)


def _insert_flagged(platform: Platform, flagged: list[_Flagged], lexicon: Lexicon, now: datetime) -> None:
    """Write the batch's flagged messages as `ScreenedMessage` rows: the values as the ORM prepares
    them for this database, each verdict's JSON values prepared once for all its messages."""
    if not flagged:
        return
    db = connection.ops.connection
    adapt_json, adapt_time = db.ops.adapt_json_value, db.ops.adapt_datetimefield_value
    prepared: dict[int, tuple[Any, ...]] = {}  # id(verdict) → its JSON columns (verdicts outlive the batch)
    screened_at = adapt_time(now)
    values = []
    for row in flagged:
        v, item = row.verdict, row.item
        json_values = prepared.get(id(v))
        if json_values is None:
            json_values = prepared[id(v)] = (
                adapt_json(list(v.categories), None),
                adapt_json({k: round(score, 3) for k, score in v.scores.items()}, None),
                adapt_json([[span.start, span.end, span.category, span.entry] for span in v.spans], None),
                adapt_json(dict(v.reason.params), None),
                adapt_json(list(v.factors), None),
            )
        categories, scores, spans, reason_params, factors = json_values
        values.append(
            (
                platform.pk,
                item.message_id,
                item.conversation_id,
                row.shop_id,
                row.buyer_id,
                row.order_id,
                item.sender,
                adapt_time(item.sent_at),
                item.text,
                v.action,
                categories,
                scores,
                spans,
                v.reason.code,
                reason_params,
                factors,
                row.muted,
                lexicon.version,
                lexicon.content_hash,
                screened_at,
                row.alert.pk if row.alert is not None else None,
            )
        )
    marks = ", ".join(["%s"] * len(values[0]))
    rawsql.execute_many(
        f"INSERT INTO {ScreenedMessage._meta.db_table} ({_FLAGGED_COLUMNS}) VALUES ({marks})", values
    )


def _store(
    platform: Platform,
    flagged: list[tuple[Incoming, Screened]],
    pairs: dict[tuple[str, str], _Pair],
    lexicon: Lexicon,
    now: datetime,
) -> list[str]:
    order_ids = {i.order_id for i, _ in flagged if i.order_id}
    orders = {
        external_id: (pk, shop_id, buyer_id)
        for external_id, pk, shop_id, buyer_id in rows(
            f"SELECT external_id, id, shop_id, buyer_id FROM {Order._meta.db_table}"
            " WHERE platform_id = %s AND external_id IN %s",
            platform.pk,
            sorted(order_ids),
        )
    }
    with transaction.atomic():
        already = {
            message_id
            for (message_id,) in rows(
                f"SELECT message_id FROM {ScreenedMessage._meta.db_table}"
                " WHERE platform_id = %s AND message_id IN %s",
                platform.pk,
                [i.message_id for i, _ in flagged],
            )
        }
        stored: list[_Flagged] = []
        for item, result in flagged:
            if item.message_id in already:
                continue  # screened before: the first verdict stands, and it counted once
            pair = pairs.get((item.shop_id, item.buyer_id))
            order = orders.get(item.order_id or "")
            order_id = (
                order[0]
                if order is not None and pair is not None and order[1:] == (pair.shop_id, pair.buyer_id)
                else None
            )
            stored.append(_Flagged(item, result, pair, order_id))
        by_pair: dict[tuple[int, int], list[_Flagged]] = defaultdict(list)
        for row in stored:
            if (
                row.shop_id
                and row.buyer_id
                and row.verdict.action in ("hold", "block")
                and (row.verdict.categories or not row.muted)
            ):
                by_pair[(row.shop_id, row.buyer_id)].append(row)
        by_ids = {(p.shop_id, p.buyer_id): p for p in pairs.values()}
        groups = []
        for key, messages in by_pair.items():
            pair = by_ids[key]
            review = pair.bad_review
            groups.append(
                services.PairMessages(
                    platform_id=platform.pk,
                    shop_id=pair.shop_id,
                    buyer_id=pair.buyer_id,
                    review_id=review[0] if review else None,
                    review_order_id=review[1] if review else None,
                    messages=messages,
                )
            )
        # The alerts first, so that each stored message names its alert as it is written.
        alerts = services.alerts_from_screening(groups, now=now)
        _insert_flagged(platform, stored, lexicon, now)  # nobody needs their ids back
        return [alert.reference for alert in alerts]
