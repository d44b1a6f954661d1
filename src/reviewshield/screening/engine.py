"""Screen chat messages before delivery: `screen(messages, context) -> list[Verdict]`. PURE.

No Django, no clock: each message carries its own `sent_at` (aware), and the context says what
the platform knows about the pair (the buyer's bad review, an open complaint, the buyer's
personal data, what the seller sent in the last hour).

Only seller → buyer messages are screened. A buyer's message is delivered as it is, even one that
quotes the threat they received; a marketplace system message too.

How one message is judged:

1. Its text is folded (`normalize`) — once per distinct text of the batch, since chat repeats its
   templates; one automaton pass over the batch's distinct texts finds those with a term worth a
   closer look (`matcher`), and only those are searched for every term. A message whose matches
   cannot score anything (most of them: "快递", "评价" alone) stops there, as the shared CLEAN
   verdict. English terms must also stand as words in the original text. Messages that do get a
   closer look are judged once per distinct (text, circumstances, buyer's data found, earlier
   request about the review) in the batch. None of this changes a verdict: the tests hold the
   batch path to the full judgment of every message (tests/screening/test_fast_path.py).
2. Entries score their category directly ("弄死你" → threat 0.9); `rules.toml` rules score a
   category from a combination of cues ("删差评" + "返" → review pressure); the buyer's known data
   and the shapes of phone, ID and address numbers are cues too.
3. The context sets the weight and the boosts:
   - *grievance* — the message falls in the window after the buyer's bad review, or a complaint
     between them is open: entries and rules count with their full `weight`, otherwise with
     `weight_calm` (which is 0 for words that are harmless without a quarrel, such as a
     courier's "I'll come to your place");
   - boosts per category: after the bad review, late at night (22:00–07:00 Asia/Shanghai), during
     an open complaint, and repeated (the second request about the review within the hour).
   A category's score is its strongest entry or rule plus half the second's share of what is
   left (rules overlap by design), plus the boosts, capped at 1.
4. Spam comes from counts: the seller's messages to this buyer in the last hour (flooding) and
   the same folded text sent again and again.
5. Each category's score meets its thresholds (warn, hold, block); the verdict's action is the
   most severe, its categories are those at or above their warn line.

A batch's messages that share one `Context` object are one conversation (one seller → buyer
pair); counts for flooding and repetition are kept per conversation, in `sent_at` order.

The reason is a code and parameters, not a sentence: `reason_text(verdict.reason, lang)` renders
it in Simplified Chinese ("zh-hans") or English ("en"), so the Django side picks the reader's
language. Codes: `clean`, `not_screened`, `below_line` (words matched, nothing to act on), or the
leading category (`threat`, `doxxing`, …) with params `action`, `categories`, `factors`.
"""

from __future__ import annotations

import gc
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache, lru_cache
from itertools import compress, repeat
from operator import attrgetter, call
from types import MappingProxyType
from typing import Literal, NamedTuple

from reviewshield.policy.calendar import BUSINESS_TZ
from reviewshield.screening.lexicon import ACTIONS, CATEGORIES, Lexicon, Settings, load
from reviewshield.screening.matcher import Hit
from reviewshield.screening.normalize import normalize, normalize_many, offsets, original_span
from reviewshield.screening.personal import address_shapes, digit_candidates, known_fragments, number_shapes

Action = Literal["allow", "warn", "hold", "block"]
FACTORS = ("after_review", "late_night", "open_complaint", "repeated")
_HOUR = timedelta(hours=1)
_CATEGORY_ORDER = {category: order for order, category in enumerate(CATEGORIES)}


class Message(NamedTuple):
    """One chat message: its text, who sent it ("seller", "buyer" or "system") and when (aware)."""

    text: str
    sender: str
    sent_at: datetime


@dataclass(frozen=True)
class Context:
    """What the platform knows about one seller → buyer pair when the messages are screened.

    `recent_seller_messages` and `recent_texts` cover the hour before the batch (the batch itself
    is counted by the engine). `buyer_known` maps a kind ("phone", "name", "address",
    "id_number", "employer", "family", "other") to the buyer's values of that kind.
    """

    bad_review_at: datetime | None = None
    review_window_days: int | None = None  # None: the lexicon's default (rules.toml)
    recent_seller_messages: int = 0
    recent_texts: tuple[str, ...] = ()
    open_complaint: bool = False
    buyer_known: Mapping[str, Sequence[str]] = field(default_factory=dict)

    @property
    def known_fragments(self) -> tuple[tuple[str, str], ...]:
        """(kind, folded fragment) of the buyer's known data; worked out once per buyer's data."""
        return self.known.fragments if self.buyer_known else ()

    @property
    def known(self) -> _Known:
        """The buyer's known data, cut and folded; kept on the context after the first look (a
        batch asks once per message's conversation, and the lookup by value costs a microsecond)."""
        cached: _Known | None = self.__dict__.get("_known")
        if cached is None:
            data = self.buyer_known
            cached = data.folded() if type(data) is KnownData else _known_of(data)
            object.__setattr__(self, "_known", cached)  # frozen: the cache is not part of the value
        return cached


class KnownData(dict[str, tuple[str, ...]]):
    """A buyer's known data (kind → values) that keeps its own folded form once worked out.

    For a caller that screens the same buyer again and again (the API, batch after batch): give the
    same `KnownData` object to each new `Context` and the folding is looked up once per object,
    not by value for every context (a lookup by value hashes and compares every string of it).
    Treat it as read-only: the folded form is not worked out again after a change.
    """

    __slots__ = ("_folded",)

    def folded(self) -> _Known:
        try:
            return self._folded
        except AttributeError:
            self._folded: _Known = _known_of(self)
            return self._folded


class _Known(NamedTuple):
    fragments: tuple[tuple[str, str], ...]  # (kind, folded fragment), longest first
    search: Callable[[str], bool] | None  # whether a folded text holds any of them


def _known_of(buyer_known: Mapping[str, Sequence[str]]) -> _Known:
    known = tuple(buyer_known.items())
    try:
        return _known_cached(known)
    except TypeError:  # values given as lists: the cache needs them as tuples
        return _known_cached(tuple((kind, tuple(values)) for kind, values in known))


@lru_cache(maxsize=16384)
def _known_cached(known: tuple[tuple[str, Sequence[str]], ...]) -> _Known:
    # Kept per process, by the buyer's data: the API builds new Contexts for every request, and
    # folding the same buyer's data again for each batch cost more than screening its texts.
    # Substring tests, not one compiled pattern: compiling a pattern for each buyer a batch meets
    # for the first time cost more than all the searches (the API sees new buyers all day long).
    fragments = tuple(known_fragments(dict(known)))
    if not fragments:
        return _Known((), None)
    # A text without a piece holds no piece that contains it ("虹桥路" in "虹桥路88号"): only the
    # pieces holding no shorter one are searched for (about half of them, for an address).
    shortest_first = sorted({piece for _, piece in fragments}, key=len)
    pieces: tuple[str, ...] = ()
    for piece in shortest_first:
        if not any(map(piece.__contains__, pieces)):
            pieces += (piece,)

    def search(view: str) -> bool:
        return any(map(view.__contains__, pieces))

    return _Known(fragments, search)


class Span(NamedTuple):
    """Where in the original text a category was found, and which lexicon entry or rule found it.

    `text[span.start:span.end]` is exactly the matched stretch of the original message.
    """

    start: int
    end: int
    category: str
    entry: str


class Reason(NamedTuple):
    """A code and its parameters; `reason_text` renders them in a person's language."""

    code: str
    params: Mapping[str, str] = MappingProxyType({})


# Values, built by the thousand: NamedTuples (immutable, and cheap to make) rather than frozen dataclasses.
class Verdict(NamedTuple):
    """What to do with one message, and why."""

    action: Action
    categories: tuple[str, ...]  # at or above their warn line, the most severe first
    scores: Mapping[str, float]  # every category with a score above 0
    spans: tuple[Span, ...]
    reason: Reason
    factors: tuple[str, ...] = ()  # the circumstances that applied: after_review, late_night, …


_EMPTY: Mapping[str, float] = MappingProxyType({})
CLEAN = Verdict("allow", (), _EMPTY, (), Reason("clean"))
NOT_SCREENED = Verdict("allow", (), _EMPTY, (), Reason("not_screened"))


@cache
def default_lexicon() -> Lexicon:
    """The shipped lexicon, loaded once per process."""
    return load()


def screen(
    messages: Sequence[Message], context: Context | Sequence[Context], *, lexicon: Lexicon | None = None
) -> list[Verdict]:
    """Judge each message; `context` is one Context for all of them, or one per message."""
    lex = lexicon if lexicon is not None else default_lexicon()
    count = len(messages)
    contexts: Sequence[Context] = [context] * count if isinstance(context, Context) else context
    if len(contexts) != count:
        raise ValueError(f"got {count} messages but {len(contexts)} contexts")
    if not gc.isenabled():
        return _screen(messages, contexts, lex)
    # A batch allocates thousands of short-lived lists, tuples and dicts, none in a reference
    # cycle: each collection they would trigger frees nothing and walks the caller's live objects
    # (a tenth of the time of a batch). Reference counting frees them when the batch returns. The
    # switch is process-wide for a few milliseconds; left alone if something else turned it off.
    gc.disable()
    try:
        return _screen(messages, contexts, lex)
    finally:
        gc.enable()


def _screen(messages: Sequence[Message], contexts: Sequence[Context], lex: Lexicon) -> list[Verdict]:
    count = len(messages)
    # Whole-batch steps run as C-level maps over columns; Python loops only over the few messages
    # that need a closer look.
    senders = list(map(_SENDER, messages))
    verdicts: list[Verdict] = list(map(_FIRST_VERDICT.get, senders, repeat(NOT_SCREENED)))
    sellers = list(compress(range(count), map("seller".__eq__, senders)))
    if not sellers:
        return verdicts
    texts = list(map(_TEXT, messages))
    seller_texts = list(map(texts.__getitem__, sellers))
    # Chat repeats itself (shipping notices, "在的亲"): each distinct text is folded and looked at once.
    distinct = list(dict.fromkeys(seller_texts))
    distinct_views = normalize_many(distinct)
    view_of = dict(zip(distinct, distinct_views, strict=True))
    seller_views = list(map(view_of.__getitem__, seller_texts))
    conversations = list(map(id, contexts))
    seller_conversations = list(map(conversations.__getitem__, sellers))
    looks = _looks(distinct, distinct_views, lex)
    known = _known_hits(sellers, seller_views, seller_conversations, contexts)
    counts = _counts(messages, contexts, sellers, seller_views, seller_conversations, lex.settings)
    worth = {text for text, look in looks.items() if look.may_score}
    judged = list(compress(sellers, map(worth.__contains__, seller_texts))) if worth else []
    if known or counts:
        judged = sorted({*judged, *known, *counts})
    if not judged:
        return verdicts  # nothing but common words: most batches of shipping talk end here
    batch = _Batch(lex)
    matcher = lex.matcher
    for i in judged:
        text = texts[i]
        view = view_of[text]
        look = looks.get(text)
        if look is None:  # only the buyer's data or the counts brought it here
            look = looks[text] = _Look(matcher.find(view), [], False, None)
        verdicts[i] = batch.judge(
            messages[i], contexts[i], conversations[i], view, look, known.get(i, ()), counts.get(i)
        )
    return verdicts


_SENDER = attrgetter("sender")
_BUYER_KNOWN = attrgetter("buyer_known")
_TEXT = attrgetter("text")
_FIRST_VERDICT = {"seller": CLEAN}  # a seller's message is clean until found otherwise; others pass
# The search of a conversation without known data: finds nothing, called from C.
_NOTHING: dict[str, None] = {}
_NO_SEARCH: Callable[[str], object] = _NOTHING.get


class _Look(NamedTuple):
    """What one text gives on its own, worked out once per distinct text of a batch."""

    raw: list[tuple[int, int, int]]  # every term in the view: (term, view start, view end), unchecked
    shapes: list[tuple[str, int, int]]  # numbers shaped like a mobile or an ID number
    may_score: bool  # whether the text alone could score anything (`_may_score`)
    resolved: tuple[list[int], list[Hit]] | None  # (offsets, hits) when already worked out


class _Cues(NamedTuple):
    """A text's hits and its word and shape cues (cue → original spans); the context adds the
    buyer's own data."""

    positions: list[int]
    hits: list[Hit]
    found: dict[str, list[tuple[int, int]]]


def _looks(distinct: Sequence[str], views: Sequence[str], lex: Lexicon) -> dict[str, _Look]:
    """The texts holding a trigger term or a long run of digits, with what each gives on its own."""
    digits = digit_candidates(distinct)
    matcher = lex.matcher
    triggered = matcher.triggered(views)
    looks: dict[str, _Look] = {}
    for u in triggered | digits:
        text, view = distinct[u], views[u]
        shapes = number_shapes(text) if u in digits else []
        if not shapes and u not in triggered:
            continue  # a tracking number and common words: nothing to score
        raw = matcher.find(view)
        may_score = False
        resolved: tuple[list[int], list[Hit]] | None = None
        if (raw or shapes) and _quick(raw, shapes, lex):
            may_score = True
            if not lex.bounded_terms.isdisjoint(t for t, _, _ in raw):
                # An English term may not stand as a word ("sb" in "has been"): check before judging.
                positions = offsets(text)
                resolved = positions, matcher.resolve(text, view, positions, raw)
                may_score = _may_score(tuple({(h.entry,) for h in resolved[1]}), lex, shapes)
        looks[text] = _Look(raw, shapes, may_score, resolved)
    return looks


def _quick(raw: Sequence[tuple[int, int, int]], shapes: Sequence[tuple[str, int, int]], lex: Lexicon) -> bool:
    """`_may_score` for raw matches, remembered by the matched terms themselves (the cheapest key).

    A term with an English end may still fail its word-boundary check, so its entries may score
    but their cues cancel nothing ("pickups" holds no "pickup" to excuse a visit).
    """
    key = (tuple([t for t, _, _ in raw]), tuple([cue for cue, _, _ in shapes]))
    cached = lex.quick_terms.get(key)
    if cached is None:
        owners, bounded = lex.matcher.owners, lex.bounded_terms
        sure = tuple({owners(t) for t in key[0] if t not in bounded})
        unsure = tuple({owners(t) for t in key[0] if t in bounded})
        cached = _may_score(sure, lex, shapes, unsure)
        if len(lex.quick_terms) > 100_000:
            lex.quick_terms.clear()
        lex.quick_terms[key] = cached
    return cached


def _may_score(
    owners: tuple[tuple[int, ...], ...],
    lex: Lexicon,
    shapes: Sequence[tuple[str, int, int]],
    unsure: tuple[tuple[int, ...], ...] = (),
) -> bool:
    """Whether matches (given as the entries of each matched term) could score anything: an entry
    of a category that no `unless` cue cancels, or cues that complete a rule. Most harmless
    messages only hold a cue or two ("快递", "评价") and stop here; a tracking number is no phone
    number, and a phone number needs words around it. `unsure` entries may be there or not: they
    can score but cancel nothing. Never False where the full judgment would score (the property
    tests hold it to that). Remembered by matched entries, per lexicon."""
    key = frozenset(owners), frozenset(unsure), frozenset(cue for cue, _, _ in shapes)
    cached = lex.quick_answers.get(key)
    if cached is not None:
        return cached
    entries = [lex.entries[e] for group in owners for e in group]
    maybe = [lex.entries[e] for group in unsure for e in group]
    certain = frozenset(c for entry in entries for c in entry.cues) | key[2]
    cues = certain | {c for entry in maybe for c in entry.cues}
    if not cues.isdisjoint(lex.address_cues):
        cues |= {"shape:address"}  # an address may be there; only the judge looks for one
    answer = any(e.category is not None and e.unless.isdisjoint(certain) for e in entries + maybe) or any(
        rule.cues <= cues and rule.unless.isdisjoint(certain)
        for rule in lex.rules_for(cues)
        if rule.cues <= lex.quick_cues
    )
    if len(lex.quick_answers) > 100_000:
        lex.quick_answers.clear()  # bounded: odd messages cannot grow it without end
    lex.quick_answers[key] = answer
    return answer


def _known_hits(
    sellers: Sequence[int],
    seller_views: Sequence[str],
    seller_conversations: Sequence[int],
    contexts: Sequence[Context],
) -> dict[int, list[tuple[str, str]]]:
    """For each seller message, the buyer's known fragments it contains."""
    if not any(map(_BUYER_KNOWN, contexts)):
        return {}
    searches: dict[int, Callable[[str], object]] = {}
    fragments_of: dict[int, tuple[tuple[str, str], ...]] = {}
    for ctx in filter(
        _BUYER_KNOWN,
        dict(zip(seller_conversations, map(contexts.__getitem__, sellers), strict=True)).values(),
    ):
        known = ctx.known
        if known.search is not None:
            searches[id(ctx)] = known.search
            fragments_of[id(ctx)] = known.fragments
    if not searches:
        return {}
    # One search per message in a conversation with known data, called from C (operator.call).
    matched = map(call, map(searches.get, seller_conversations, repeat(_NO_SEARCH)), seller_views)
    found: dict[int, list[tuple[str, str]]] = {}
    for k in compress(range(len(sellers)), matched):
        i, view = sellers[k], seller_views[k]
        found[i] = [(kind, piece) for kind, piece in fragments_of[seller_conversations[k]] if piece in view]
    return found


def _counts(
    messages: Sequence[Message],
    contexts: Sequence[Context],
    sellers: Sequence[int],
    seller_views: Sequence[str],
    seller_conversations: Sequence[int],
    settings: Settings,
) -> dict[int, tuple[int, int]]:
    """(messages in the last hour, copies of the same text in the last hour), each including this one.

    Only for messages that reach a spam limit: most conversations never come near one, so the
    sliding windows run only where a total says they might.
    """
    per_conversation = Counter(seller_conversations)
    recent_copies: dict[int, Counter[str]] = {}
    flooding: set[int] = set()
    # Two C-level checks first: no conversation near the flood line, none with texts of the hour before.
    most = max(per_conversation.values())
    flood_check = most + max(map(_RECENT_MESSAGES, contexts)) >= settings.flood_per_hour
    recent_check = any(map(_RECENT_TEXTS, contexts))
    context_of = (
        dict(zip(seller_conversations, map(contexts.__getitem__, sellers), strict=True))
        if flood_check or recent_check
        else {}
    )
    if flood_check:
        for conversation, total in per_conversation.items():
            if total + context_of[conversation].recent_seller_messages >= settings.flood_per_hour:
                flooding.add(conversation)
    if recent_check:
        for conversation in per_conversation:
            ctx = context_of[conversation]
            if ctx.recent_texts:
                recent_copies[conversation] = Counter(normalize_many(ctx.recent_texts))
    limit = settings.repeat_identical
    # Copies of one text need that many messages in one conversation, or copies from the hour before.
    crowded = {c for c, total in per_conversation.items() if total >= limit} if most >= limit else set()
    if not crowded and not recent_copies:
        if not flooding:
            return {}
        per_text: Counter[tuple[int, str]] = Counter()
    elif recent_copies:
        per_text = Counter(zip(seller_conversations, seller_views, strict=True))
    else:
        pairs = zip(seller_conversations, seller_views, strict=True)
        per_text = Counter(compress(pairs, map(crowded.__contains__, seller_conversations)))
    repeating = {key for key, total in per_text.items() if key[1] and total >= limit}
    if recent_copies:
        repeating.update(
            key
            for key, total in per_text.items()
            if key[1] and key[0] in recent_copies and total + recent_copies[key[0]][key[1]] >= limit
        )
    if not flooding and not repeating:
        return {}
    found: dict[int, tuple[int, int]] = {}
    window: dict[int, list[datetime]] = {}
    copies: dict[tuple[int, str], list[datetime]] = {}
    watched = [
        i
        for i, conversation, view in zip(sellers, seller_conversations, seller_views, strict=True)
        if conversation in flooding or (conversation, view) in repeating
    ]
    view_at = dict(zip(sellers, seller_views, strict=True))
    for i in sorted(watched, key=lambda i: _aware(messages[i].sent_at)):
        conversation, view, at = id(contexts[i]), view_at[i], messages[i].sent_at
        ctx = contexts[i]
        sent = _within_hour(window.setdefault(conversation, []), at)
        same = _within_hour(copies.setdefault((conversation, view), []), at)
        in_hour = sent + 1 + ctx.recent_seller_messages
        earlier = recent_copies[conversation][view] if conversation in recent_copies else 0
        repeated = same + 1 + earlier if view else 0
        if in_hour >= settings.flood_per_hour or repeated >= settings.repeat_identical:
            found[i] = (in_hour, repeated)
    return found


_RECENT_MESSAGES = attrgetter("recent_seller_messages")
_RECENT_TEXTS = attrgetter("recent_texts")


def _within_hour(times: list[datetime], at: datetime) -> int:
    """Append `at` to send times kept in order; return how many earlier ones fall in the hour before it."""
    earlier = len(times) - bisect_right(times, at - _HOUR)
    times.append(at)
    return earlier


def _aware(at: datetime) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"sent_at must carry a time zone (got {at.isoformat()})")
    return at


# The circumstances of one message as bits: a verdict memo key, and no set built per message.
_AFTER_REVIEW, _OPEN_COMPLAINT, _LATE_NIGHT = 1, 2, 4
_GRIEVANCE = _AFTER_REVIEW | _OPEN_COMPLAINT
_FACTOR_BITS = (
    ("after_review", _AFTER_REVIEW),
    ("late_night", _LATE_NIGHT),
    ("open_complaint", _OPEN_COMPLAINT),
)

# Asia/Shanghai has kept +08:00 all year since 1991: the local time of day is arithmetic on the
# timestamp, several times cheaper than astimezone(); older instants take the zone database.
_FIXED_OFFSET_SINCE = datetime(1992, 1, 1, tzinfo=BUSINESS_TZ).timestamp()


def _seconds_into_day(at: datetime) -> int:
    """Seconds since local midnight in Beijing time."""
    stamp = at.timestamp()
    if stamp >= _FIXED_OFFSET_SINCE:
        return int(stamp + 8 * 3600) % 86400
    local = at.astimezone(BUSINESS_TZ)
    return local.hour * 3600 + local.minute * 60 + local.second


def _late(seconds: int, window: tuple[int, int]) -> bool:
    begin, until = window
    if begin <= until:
        return begin <= seconds < until
    return seconds >= begin or seconds < until


class _Batch:
    """Judges the messages of one batch that need a closer look, remembering what repeats.

    A verdict is a function of the text, the circumstances, the buyer's data found in it and the
    counts — and, for review pressure, of the requests before it — so a message whose counts are
    below every limit and that does not score review pressure is judged once per distinct
    (text, circumstances, data found). Each text's hits and cues are worked out once.
    """

    def __init__(self, lex: Lexicon) -> None:
        self.lex = lex
        self.late_night = lex.settings.late_night_seconds
        self.cues: dict[str, _Cues] = {}
        self.cores: dict[
            tuple[str, bool, tuple[tuple[str, str], ...]],
            tuple[dict[str, float], dict[tuple[int, int, str], tuple[float, str]]],
        ] = {}
        self.verdicts: dict[tuple[str, int, bool, tuple[tuple[str, str], ...]], Verdict] = {}
        self.windows: dict[int, tuple[datetime, datetime] | None] = {}
        self.asks: dict[int, list[datetime]] = {}  # when each conversation asked about the review
        self.recent_asks: dict[int, int] = {}

    def judge(
        self,
        message: Message,
        ctx: Context,
        conversation: int,
        view: str,
        look: _Look,
        known: Sequence[tuple[str, str]],
        counts: tuple[int, int] | None,
    ) -> Verdict:
        at = message.sent_at
        circumstances = self.circumstances(at, ctx, conversation)
        asked = self.asked_before(at, ctx, conversation)
        if counts is None:
            key = (message.text, circumstances, asked, tuple(known))
            verdict = self.verdicts.get(key)
            if verdict is None:
                verdict = self.verdicts[key] = self.score(
                    message, view, look, known, (0, 0), circumstances, asked
                )
        else:
            verdict = self.score(message, view, look, known, counts, circumstances, asked)
        if "review_pressure" in verdict.scores:
            self.asks.setdefault(conversation, []).append(at)
        return verdict

    def asked_before(self, at: datetime, ctx: Context, conversation: int) -> bool:
        """Whether the seller already asked about the review in the hour before `at`: earlier in
        the batch (which comes in time order from one chat), or in the recent texts."""
        asked = self.asks.get(conversation)
        if asked and any(at - _HOUR < t <= at for t in asked):
            return True
        if not ctx.recent_texts:
            return False
        if conversation not in self.recent_asks:
            self.recent_asks[conversation] = _recent_asks(ctx, self.lex)
        return self.recent_asks[conversation] > 0

    def circumstances(self, at: datetime, ctx: Context, conversation: int) -> int:
        """The circumstances of a seller message sent at `at`, as bits."""
        _aware(at)
        if conversation in self.windows:
            window = self.windows[conversation]
        else:
            window = self.windows[conversation] = _review_window(ctx, self.lex.settings)
        bits = _OPEN_COMPLAINT if ctx.open_complaint else 0
        if window is not None and window[0] <= at <= window[1]:
            bits |= _AFTER_REVIEW
        if _late(_seconds_into_day(at), self.late_night):
            bits |= _LATE_NIGHT
        return bits

    def text_cues(self, text: str, view: str, look: _Look) -> _Cues:
        cues = self.cues.get(text)
        if cues is None:
            lex = self.lex
            if look.resolved is not None:
                positions, hits = look.resolved
            else:
                positions = offsets(text)
                hits = lex.matcher.resolve(text, view, positions, look.raw) if look.raw else []
            found: dict[str, list[tuple[int, int]]] = {}
            for hit in hits:
                for cue in lex.entries[hit.entry].cues:
                    found.setdefault(cue, []).append((hit.start, hit.end))
            for cue, start, end in look.shapes:
                found.setdefault(cue, []).append((start, end))
            if lex.address_cues and not lex.address_cues.isdisjoint(found):
                for cue, start, end in address_shapes(text):
                    found.setdefault(cue, []).append((start, end))
            cues = self.cues[text] = _Cues(positions, hits, found)
        return cues

    def score(
        self,
        message: Message,
        view: str,
        look: _Look,
        known: Sequence[tuple[str, str]],
        counts: tuple[int, int],
        circumstances: int,
        asked_before: bool,
    ) -> Verdict:
        """The verdict on one seller message: its text's cues, the buyer's data found in it, the
        counts, the circumstances (bits) and whether the review was asked about in the hour before."""
        lex = self.lex
        text = message.text
        grievance = bool(circumstances & _GRIEVANCE)
        key = (text, grievance, tuple(known))
        core = self.cores.get(key)
        if core is None:
            core = self.cores[key] = self.evidence(text, view, look, known, grievance)
        scores = dict(core[0])
        spans = core[1]
        factors = {name for name, bit in _FACTOR_BITS if circumstances & bit}
        if "review_pressure" in scores and asked_before:
            # A second request about the review within the hour is pressure even when each is polite.
            factors.add("repeated")
        in_hour, copies = counts
        settings = lex.settings
        spam = 0.0
        if in_hour >= settings.flood_per_hour:
            spam = settings.flood_weight * in_hour / settings.flood_per_hour
        if copies >= settings.repeat_identical:
            spam = max(spam, settings.repeat_weight + 0.1 * (copies - settings.repeat_identical))
        if spam:
            scores["spam"] = spam
            source = "count/flood" if in_hour >= settings.flood_per_hour else "count/repeat"
            spans = {**spans, (0, len(text), "spam"): (spam, source)}

        applied: set[str] = set()
        if factors:
            for category in scores:
                extra = 0.0
                for factor, boost in lex.boost_table[category]:
                    if boost and factor in factors:
                        extra += boost
                        applied.add(factor)
                scores[category] = min(1.0, scores[category] + extra)
        return _verdict(scores, spans, applied, lex)

    def evidence(
        self, text: str, view: str, look: _Look, known: Sequence[tuple[str, str]], grievance: bool
    ) -> tuple[dict[str, float], dict[tuple[int, int, str], tuple[float, str]]]:
        """(category → score before boosts, span → strongest source) from the words, shapes and the
        buyer's data; the same for every message with this text, data found and grievance."""
        lex = self.lex
        cues = self.text_cues(text, view, look)
        # Cue name → where it was found (original offsets).
        found = cues.found
        if known:
            found = dict(found)  # the text's own cues are shared by every message with that text
            for kind, piece in known:
                start = view.find(piece)
                found.setdefault(f"known:{kind}", []).append(
                    original_span(cues.positions, start, start + len(piece))
                )
        # category → entry or rule id → weight: each entry or rule counts once, however often it matched.
        weights: dict[str, dict[str, float]] = {}
        # (start, end, category) → (weight, entry or rule id): one span per stretch, the strongest source.
        spans: dict[tuple[int, int, str], tuple[float, str]] = {}
        for hit in cues.hits:
            entry = lex.entries[hit.entry]
            weight = entry.weight if grievance else entry.weight_calm
            if (
                entry.category is not None
                and weight > 0
                and (not entry.unless or entry.unless.isdisjoint(found))
            ):
                weights.setdefault(entry.category, {})[entry.id] = weight
                _keep(spans, (hit.start, hit.end, entry.category), weight, entry.id)
        fired: dict[str, list[tuple[float, str, frozenset[str]]]] = {}
        for rule in lex.rules_firing(frozenset(found)):
            if rule.at_least is not None and len(set(found[rule.at_least[0]])) < rule.at_least[1]:
                continue
            weight = rule.weight if grievance else rule.weight_calm
            if weight > 0:
                weights.setdefault(rule.category, {})[rule.id] = weight
                fired.setdefault(rule.category, []).append((-weight, rule.id, rule.cues))
        for category, rules in fired.items():
            # Only the two strongest rules count in the score (_combine); their cues make the spans.
            for negative, rule_id, rule_cues in sorted(rules)[:2]:
                for cue in rule_cues:
                    for start, end in found[cue]:
                        _keep(spans, (start, end, category), -negative, rule_id)
        scores = {category: _combine(list(by_source.values())) for category, by_source in weights.items()}
        return scores, spans


def _review_window(ctx: Context, settings: Settings) -> tuple[datetime, datetime] | None:
    """From the buyer's bad review to the end of the window after it, or None without one."""
    if ctx.bad_review_at is None:
        return None
    days = ctx.review_window_days if ctx.review_window_days is not None else settings.review_window_days
    return _aware(ctx.bad_review_at), ctx.bad_review_at + timedelta(days=days)


def _combine(weights: Sequence[float]) -> float:
    """The strongest piece of evidence, plus half the second's share of what is left.

    Not 1 − ∏(1 − w): rules overlap by design ("delete the review" and "delete it for money"
    both fire on one message), and counting each as independent would make any busy message block.
    """
    ordered = sorted(weights, reverse=True)
    if len(ordered) == 1:
        return ordered[0]
    return ordered[0] + 0.5 * ordered[1] * (1.0 - ordered[0])


def _keep(
    spans: dict[tuple[int, int, str], tuple[float, str]],
    key: tuple[int, int, str],
    weight: float,
    source: str,
) -> None:
    """Remember a span, keeping the strongest source for each stretch and category."""
    held = spans.get(key)
    if held is None or weight > held[0] or (weight == held[0] and source < held[1]):
        spans[key] = (weight, source)


def _outermost(
    spans: Mapping[tuple[int, int, str], tuple[float, str]], scores: Mapping[str, float]
) -> list[Span]:
    """The spans of scored categories, none inside a wider one of the same category, in text order."""
    if len(spans) == 1:
        ((start, end, category), (_, source)) = next(iter(spans.items()))
        return [Span(start, end, category, source)] if category in scores else []
    # Widest first, so a span inside a kept one is recognised; plain tuples until the end.
    ordered = sorted((s - e, s, e, category, source) for (s, e, category), (_, source) in spans.items())
    kept: list[tuple[int, int, int, str, str]] = []
    for item in ordered:
        _, start, end, category, _source = item
        if category in scores and not any(
            c == category and s <= start and end <= e for _, s, e, c, _ in kept
        ):
            kept.append(item)
    kept.sort(key=_in_text_order)
    return [Span(start, end, category, source) for _, start, end, category, source in kept]


def _in_text_order(item: tuple[int, int, int, str, str]) -> tuple[int, int, int, str]:
    _, start, end, category, source = item
    return (start, end, _CATEGORY_ORDER[category], source)


def _recent_asks(ctx: Context, lex: Lexicon) -> int:
    """How many of the seller's texts in the last hour already asked about the review."""
    if not ctx.recent_texts:
        return 0
    return sum(1 for text in ctx.recent_texts if _asks_about_review(text, lex))


def _asks_about_review(text: str, lex: Lexicon) -> bool:
    view = normalize(text)
    raw = lex.matcher.find(view)
    if not raw:
        return False
    hits = lex.matcher.resolve(text, view, offsets(text), raw)
    cues = {cue for hit in hits for cue in lex.entries[hit.entry].cues}
    if any(lex.entries[hit.entry].category == "review_pressure" for hit in hits):
        return True
    return any(rule.category == "review_pressure" and rule.cues <= cues for rule in lex.rules)


def _verdict(
    scores: dict[str, float],
    spans: Mapping[tuple[int, int, str], tuple[float, str]],
    applied: set[str],
    lex: Lexicon,
) -> Verdict:
    if not scores:
        return CLEAN
    ranked: list[tuple[int, float, int, str]] = []  # (−action rank, −score, category order, category)
    thresholds = lex.thresholds
    for category, score in scores.items():
        score = scores[category] = round(score, 3)
        line = thresholds[category]
        rank = 3 if score >= line.block else 2 if score >= line.hold else 1 if score >= line.warn else 0
        if rank:
            ranked.append((-rank, -score, _CATEGORY_ORDER[category], category))
    if len(ranked) > 1:
        ranked.sort()
    flagged = tuple(item[3] for item in ranked)
    action: Action = ACTIONS[-ranked[0][0]] if ranked else "allow"  # type: ignore[assignment]
    factors = tuple(f for f in FACTORS if f in applied)
    if flagged:
        params = {"action": action, "categories": ",".join(flagged), "factors": ",".join(factors)}
        reason = Reason(flagged[0], MappingProxyType(params))
    else:
        reason = Reason("below_line")
    return Verdict(
        action=action,
        categories=flagged,
        scores=MappingProxyType(
            scores if len(scores) == 1 else {c: scores[c] for c in CATEGORIES if c in scores}
        ),
        spans=tuple(_outermost(spans, scores)),
        reason=reason,
        factors=factors,
    )


_CATEGORY_NAMES = {
    "en": {
        "threat": "a threat",
        "doxxing": "exposing the buyer's personal data",
        "funeral": "a funeral curse or funeral items",
        "insult": "an insult or a curse",
        "review_pressure": "pressure to change a review",
        "spam": "flooding the buyer with messages",
    },
    "zh-hans": {
        "threat": "威胁",
        "doxxing": "泄露买家个人信息",
        "funeral": "丧葬用品或恶毒诅咒",
        "insult": "辱骂或诅咒",
        "review_pressure": "施压修改评价",
        "spam": "消息轰炸",
    },
}
_FACTOR_NAMES = {
    "en": {
        "after_review": "after the buyer's bad review",
        "late_night": "late at night",
        "open_complaint": "while a complaint is open",
        "repeated": "repeatedly",
    },
    "zh-hans": {
        "after_review": "差评后",
        "late_night": "深夜",
        "open_complaint": "投诉处理期间",
        "repeated": "多次",
    },
}
_REASONS = {
    "en": {
        "clean": "Nothing in this message needs attention.",
        "not_screened": "Only messages from a seller to a buyer are screened.",
        "below_line": "Some words matched, but not enough to act on.",
        "warn": "Delivered with a warning to the seller: the message looks like {category}{factors}.",
        "hold": "Held for an agent's review: the message looks like {category}{factors}.",
        "block": "Blocked: the message looks like {category}{factors}.",
        "factors": " (sent {factors})",
    },
    "zh-hans": {
        "clean": "该消息无需处理。",
        "not_screened": "仅筛查商家发给买家的消息。",
        "below_line": "有词语命中，但不足以处理。",
        "warn": "已送达，并提醒商家：该消息疑似{category}{factors}。",
        "hold": "已暂扣，等待客服小二审核：该消息疑似{category}{factors}。",
        "block": "已拦截：该消息疑似{category}{factors}。",
        "factors": "（{factors}发送）",
    },
}


def reason_text(reason: Reason, lang: str) -> str:
    """Render a verdict's reason as one sentence in English ("en") or Simplified Chinese ("zh-hans")."""
    lang = "zh-hans" if lang.lower().startswith("zh") else "en"
    templates = _REASONS[lang]
    if reason.code in ("clean", "not_screened", "below_line"):
        return templates[reason.code]
    action = reason.params.get("action", "warn")
    names = _FACTOR_NAMES[lang]
    factors = [names[f] for f in reason.params.get("factors", "").split(",") if f in names]
    joiner = "、" if lang == "zh-hans" else ", "
    factor_text = templates["factors"].format(factors=joiner.join(factors)) if factors else ""
    category = _CATEGORY_NAMES[lang].get(reason.code, reason.code)
    return templates.get(action, templates["warn"]).format(category=category, factors=factor_text)
