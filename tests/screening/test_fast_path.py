"""The batch engine's shortcuts never change a verdict.

`screen` skips most messages after one automaton pass over the batch, folds each distinct text
once, remembers verdicts of repeated (text, circumstances) pairs and counts floods only where a
total says they might. The reference here takes none of those shortcuts: every seller message
is searched for every term, every number shape and every known fragment, its counts worked out
one by one, and judged in full. Both must agree on every batch.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reviewshield.screening import NOT_SCREENED, Context, KnownData, Message, Verdict, screen
from reviewshield.screening.engine import _HOUR, _Batch, _Look, default_lexicon
from reviewshield.screening.lexicon import Lexicon, Settings
from reviewshield.screening.normalize import normalize
from reviewshield.screening.personal import number_shapes

SHANGHAI = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 4, 15, 20, 30, tzinfo=SHANGHAI)  # late night starts within the batch
BUYER = {
    "phone": ("13917206634",),
    "name": ("陈晓雯",),
    "address": ("上海市徐汇区漕溪北路398号2号楼1503室",),
    "family": ("陈朵朵",),
}


def _counts(
    messages: Sequence[Message], contexts: Sequence[Context], limits: Settings
) -> list[tuple[int, int]]:
    """(messages in the hour, copies in the hour) for each seller message, one by one in time order."""
    del limits  # every count is worked out; the engine only keeps those at a limit
    order = sorted(range(len(messages)), key=lambda i: messages[i].sent_at)
    counts = [(0, 0)] * len(messages)
    for position, i in enumerate(order):
        message, ctx = messages[i], contexts[i]
        if message.sender != "seller":
            continue
        earlier = [
            j
            for j in order[:position]
            if messages[j].sender == "seller"
            and contexts[j] is ctx
            and messages[j].sent_at > message.sent_at - _HOUR
        ]
        view = normalize(message.text)
        same = sum(1 for j in earlier if normalize(messages[j].text) == view)
        recent = sum(1 for text in ctx.recent_texts if normalize(text) == view)
        counts[i] = (len(earlier) + 1 + ctx.recent_seller_messages, same + 1 + recent if view else 0)
    return counts


def reference(messages: Sequence[Message], contexts: Sequence[Context], lex: Lexicon) -> list[Verdict]:
    """Every seller message judged in full, in batch order: no trigger pass, no memo, no prefilter."""
    batch = _Batch(lex)
    counts = _counts(messages, contexts, lex.settings)
    verdicts: list[Verdict] = []
    for message, ctx, count in zip(messages, contexts, counts, strict=True):
        if message.sender != "seller":
            verdicts.append(NOT_SCREENED)
            continue
        view = normalize(message.text)
        look = _Look(lex.matcher.find(view), number_shapes(message.text), True, None)
        known = [(kind, piece) for kind, piece in ctx.known_fragments if piece in view]
        circumstances = batch.circumstances(message.sent_at, ctx, id(ctx))
        asked = batch.asked_before(message.sent_at, ctx, id(ctx))
        verdict = batch.score(message, view, look, known, count, circumstances, asked)
        if "review_pressure" in verdict.scores:
            batch.asks.setdefault(id(ctx), []).append(message.sent_at)
        verdicts.append(verdict)
    return verdicts


LEX = default_lexicon()
TERMS = sorted({term for entry in LEX.entries for term in entry.terms})
# Pieces of ordinary chat, and the places where a shortcut could go wrong: words that hold a term
# but are not it ("pickups", "exchange", "has been"), numbers with odd separators (an ideographic
# space, a tab), the buyer's own data, a courier to excuse a visit.
FILLER = [
    "亲，",
    "您好",
    "快递",
    "the courier ",
    "your place ",
    " ",
    "，",
    "。",
    "!",
    "Hi ",
    "pickups ",
    "exchange ",
    "has been ",
    "USB ",
    "Flat 5B ",
    "13917206634",
    "139\u30001720\u30006634",
    "139\t1720\t6634",
    "138-0013-8000",
    "310104198811230428",
    "漕溪北路398号",
    "陈朵朵",
    "晓雯",
    "SF123456789012",
    "你家",
    "tonight ",
    "review ",
    "差评",
]
piece = st.one_of(st.sampled_from(TERMS), st.sampled_from(FILLER))
text = st.lists(piece, max_size=5).flatmap(
    lambda parts: st.sampled_from(["", " "]).map(lambda sep: sep.join(parts))
)
CONTEXTS = [
    Context(),
    Context(bad_review_at=START - timedelta(hours=2)),
    Context(bad_review_at=START - timedelta(days=6), review_window_days=3),
    Context(open_complaint=True, buyer_known=BUYER),
    Context(bad_review_at=START - timedelta(hours=1), buyer_known=BUYER),
    Context(recent_texts=("在吗", "亲，方便追加一下评价吗"), recent_seller_messages=18),
]


@st.composite
def batches(draw: st.DrawFn) -> tuple[list[Message], list[Context]]:
    """A batch with repeats: a few texts and contexts shared by many messages, in rough time order."""
    texts = draw(st.lists(text, min_size=1, max_size=6))
    # Fresh Context objects per batch: a conversation is one Context object.
    contexts = [Context(**{f: getattr(c, f) for f in c.__dataclass_fields__}) for c in CONTEXTS]
    rows = draw(
        st.lists(
            st.tuples(
                st.integers(0, len(texts) - 1),
                st.integers(0, len(contexts) - 1),
                st.integers(0, 240),  # minutes after the start: crosses 22:00 and the hour windows
                st.sampled_from(["seller"] * 5 + ["buyer", "system"]),
            ),
            min_size=1,
            max_size=40,
        )
    )
    messages = [Message(texts[t], sender, START + timedelta(minutes=m)) for t, _, m, sender in rows]
    return messages, [contexts[c] for _, c, _, _ in rows]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batches())
def test_the_fast_path_gives_exactly_the_verdicts_of_the_full_judgment(
    batch: tuple[list[Message], list[Context]],
) -> None:
    messages, contexts = batch

    assert screen(messages, contexts) == reference(messages, contexts, LEX)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batches())
def test_known_data_kept_from_batch_to_batch_judges_as_a_plain_mapping(
    batch: tuple[list[Message], list[Context]],
) -> None:
    messages, contexts = batch
    kept = KnownData(BUYER)  # one object, as the API keeps a buyer's data between batches
    for _ in range(2):  # the second time round, its folded form is the one worked out the first
        fresh = {
            id(c): dataclasses.replace(c, buyer_known=kept) if c.buyer_known else dataclasses.replace(c)
            for c in contexts
        }

        assert screen(messages, [fresh[id(c)] for c in contexts]) == reference(messages, contexts, LEX)


def test_known_data_is_folded_once_however_many_contexts_and_batches_use_it(monkeypatch: Any) -> None:
    from reviewshield.screening import engine

    folded = []
    real = engine._known_of
    monkeypatch.setattr(engine, "_known_of", lambda data: folded.append(data) or real(data))
    kept = KnownData(BUYER)

    for batch in range(3):
        got = screen(
            [Message("陈晓雯，你住漕溪北路398号吧", "seller", START + timedelta(days=batch))],
            [Context(bad_review_at=START - timedelta(hours=1), buyer_known=kept)],
        )[0]
        assert "doxxing" in got.categories
    plain = screen(
        [Message("陈晓雯，你住漕溪北路398号吧", "seller", START)],
        [Context(bad_review_at=START - timedelta(hours=1), buyer_known=dict(BUYER))],
    )[0]

    assert "doxxing" in plain.categories
    assert len(folded) == 2  # once for the kept object, once for the plain mapping


@settings(max_examples=100, deadline=None)
@given(st.lists(text, min_size=1, max_size=30))
def test_a_batch_of_repeated_texts_is_judged_like_each_text_alone(texts: list[str]) -> None:
    # Spread over days so that no count or earlier request links them: only the shortcuts remain.
    context = Context(bad_review_at=START - timedelta(hours=1), review_window_days=30)
    messages = [Message(t, "seller", START + timedelta(hours=2 * i)) for i, t in enumerate(texts)]

    together = screen(messages, context)

    assert together == reference(messages, [context] * len(messages), LEX)


@pytest.mark.parametrize(
    "text",
    [
        # A term that fails its word boundary must not excuse a visit: "pickups" holds no "pickup".
        "I'll come to your place tonight with the pickups",
        # A phone number spaced with ideographic spaces or tabs is still shaped like one.
        "你的电话是139\u30001720\u30006634吧",
        "your number is 139\t1720\t6634, right?",
    ],
)
def test_shortcut_edge_cases_match_the_full_judgment(text: str) -> None:
    context = Context(bad_review_at=START - timedelta(hours=2))
    messages = [Message(text, "seller", START)]

    verdict = screen(messages, context)[0]

    assert verdict == reference(messages, [context], LEX)[0]
    assert verdict.categories != ()


def test_a_number_ending_one_message_does_not_hide_the_phone_opening_the_next() -> None:
    # Found by the property test above: the batch's digit search ran from a tracking number at the
    # end of one message into the buyer's number at the start of the next, and the second message
    # was let through as clean.
    context = Context(bad_review_at=START - timedelta(hours=1), review_window_days=30)
    texts = ["SF12345678901213917206634", "13917206634你的微信"]
    messages = [Message(t, "seller", START + timedelta(hours=2 * i)) for i, t in enumerate(texts)]

    together = screen(messages, context)

    assert together == reference(messages, [context] * len(messages), LEX)
    assert together[1].action == "hold" and together[1].categories == ("doxxing",)
