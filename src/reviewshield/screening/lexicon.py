"""Lexicons and rules: TOML files under `lexicons/`, loaded into one frozen, validated `Lexicon`.

PURE: `load(folder)` reads files and returns a new object; nothing is cached here, so the Django
side reloads by calling it again when a file's mtime changes (`Lexicon.paths` lists the files).

Two kinds of file:

- a category file (`threat.toml`, `insult.toml`, …) sets `category` and lists `[[entries]]`:
  terms in Chinese or English, a `weight` in [0, 1], an optional `weight_calm` used when the
  message is not in a grievance context (no recent bad review, no open complaint — 0 means "only
  counts after a bad review"), optional `cues` the rules can combine, optional `unless` cues that
  cancel it (a courier's "I'll come to your place"), optional `pinyin = true`
  (also match the toneless pinyin and mixed spellings of its Chinese terms: "nong si ni",
  "弄si你"), and an `example` that must contain one of the terms;
  `cues.toml` lists entries with cues only ("money", "review_ref", "knowledge", …);
- `rules.toml`: the version, the context settings (the window after a bad review, late-night
  hours, flooding and repetition limits), the per-category boosts and action thresholds, and the
  `[[rules]]` that turn a combination of cues into a category ("review_ref" + "change" + "pay" →
  review pressure). Besides word cues a rule may use `shape:mobile`, `shape:id_number`,
  `shape:address` (shapes from `privacy.shapes`) and `known:<kind>` (the buyer's own data).

The content hash covers every file, so a verdict can name exactly what judged it.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import time
from itertools import product
from pathlib import Path
from types import MappingProxyType
from typing import Any

from pypinyin import Style, lazy_pinyin

from reviewshield.screening.matcher import Matcher
from reviewshield.screening.normalize import normalize, offsets

SHIPPED_DIR = Path(__file__).resolve().parent / "lexicons"
RULES_FILE = "rules.toml"
CUES_FILE = "cues.toml"

# The categories a verdict can name, in the order reasons list them.
CATEGORIES = ("threat", "doxxing", "funeral", "insult", "review_pressure", "spam")
LEXICAL_CATEGORIES = ("threat", "doxxing", "funeral", "insult", "review_pressure")  # spam comes from counts
# The buyer's known personal data, by kind (Context.buyer_known's keys).
PERSONAL_KINDS = ("phone", "name", "address", "id_number", "employer", "family", "other")
SHAPE_CUES = ("shape:mobile", "shape:id_number", "shape:address")
KNOWN_CUES = tuple(f"known:{kind}" for kind in PERSONAL_KINDS)
ACTIONS = ("allow", "warn", "hold", "block")
BOOSTS = ("grievance", "late_night", "open_complaint", "repeated")
LANGS = ("zh", "en", "any")

_ID = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_CUE = re.compile(r"^[a-z][a-z0-9_]*$")
_CJK = re.compile(r"^[\u3400-\u9fff]+$")
# Mixed spellings ("弄si你") grow as 2^n; the worst words are short.
_MAX_MIXED_CHARS = 4


class LexiconError(Exception):
    """A lexicon file is broken; names the file, the key and the problem."""

    def __init__(self, file: str, key: str, problem: str) -> None:
        self.file = file
        self.key = key
        self.problem = problem
        super().__init__(file, key, problem)

    def __str__(self) -> str:
        return f"{self.file}: {self.key}: {self.problem}" if self.key else f"{self.file}: {self.problem}"


@dataclass(frozen=True)
class Entry:
    """Terms that mean one thing. `category` is None for an entry that only gives cues."""

    id: str
    category: str | None
    weight: float
    weight_calm: float
    terms: tuple[str, ...]
    cues: tuple[str, ...]
    example: str
    lang: str
    pinyin: bool = False
    unless: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Rule:
    """A category given by a combination of cues within one message."""

    id: str
    category: str
    cues: frozenset[str]
    weight: float
    weight_calm: float
    example: str
    unless: frozenset[str] = frozenset()
    # "at least N different terms of this cue" ("后果" and "门口" and "半夜"): (cue, N), or None.
    at_least: tuple[str, int] | None = None


@dataclass(frozen=True)
class Thresholds:
    """The score from which a category warns, holds and blocks."""

    warn: float
    hold: float
    block: float

    def action(self, score: float) -> str:
        if score >= self.block:
            return "block"
        if score >= self.hold:
            return "hold"
        if score >= self.warn:
            return "warn"
        return "allow"


@dataclass(frozen=True)
class Boosts:
    """What each aggravating circumstance adds to a category's score."""

    grievance: float = 0.0
    late_night: float = 0.0
    open_complaint: float = 0.0
    repeated: float = 0.0


@dataclass(frozen=True)
class Settings:
    review_window_days: int
    late_night_from: time
    late_night_until: time
    flood_per_hour: int
    flood_weight: float
    repeat_identical: int
    repeat_weight: float

    @property
    def late_night_seconds(self) -> tuple[int, int]:
        """The late-night window as seconds after local midnight (begin, end)."""
        start, end = self.late_night_from, self.late_night_until
        return start.hour * 3600 + start.minute * 60, end.hour * 3600 + end.minute * 60


@dataclass(frozen=True)
class Lexicon:
    version: str
    content_hash: str
    settings: Settings
    entries: tuple[Entry, ...]
    rules: tuple[Rule, ...]
    thresholds: Mapping[str, Thresholds]
    boosts: Mapping[str, Boosts]
    paths: tuple[Path, ...] = field(compare=False)
    matcher: Matcher = field(compare=False, repr=False)
    # Derived at load, for the engine's quick pass over a batch: the rules indexed by each of their
    # cues and by position, each category's boosts, the cues a quick check can see (words and
    # number shapes — a message with the buyer's known data is always judged), the word cues that
    # make looking for an address shape worth it, and the terms with an English end to check.
    rules_by_cue: Mapping[str, tuple[Rule, ...]] = field(compare=False, repr=False, default_factory=dict)
    rule_position: Mapping[str, int] = field(compare=False, repr=False, default_factory=dict)
    boost_table: Mapping[str, tuple[tuple[str, float], ...]] = field(
        compare=False, repr=False, default_factory=dict
    )  # per category: (circumstance, boost) in the engine's FACTORS order
    quick_cues: frozenset[str] = field(compare=False, repr=False, default=frozenset())
    address_cues: frozenset[str] = field(compare=False, repr=False, default=frozenset())
    bounded_terms: frozenset[int] = field(compare=False, repr=False, default=frozenset())
    # Memos — the only mutable parts, caches a lexicon may clear at any time: the quick check by
    # matched terms and by matched entries, and the rules that fire for a set of cues.
    quick_terms: dict[tuple[tuple[int, ...], tuple[str, ...]], bool] = field(
        compare=False, repr=False, default_factory=dict
    )
    quick_answers: dict[tuple[frozenset[object], frozenset[object], frozenset[str]], bool] = field(
        compare=False, repr=False, default_factory=dict
    )
    fired: dict[frozenset[str], tuple[Rule, ...]] = field(compare=False, repr=False, default_factory=dict)

    def rules_for(self, cues: frozenset[str]) -> list[Rule]:
        """The rules that share a cue with `cues` (each once, in file order) — the only ones that can fire."""
        if len(cues) == 1:
            return list(self.rules_by_cue.get(next(iter(cues)), ()))
        seen = {id(rule): rule for cue in cues for rule in self.rules_by_cue.get(cue, ())}
        return sorted(seen.values(), key=lambda rule: self.rule_position[rule.id])

    def rules_firing(self, cues: frozenset[str]) -> tuple[Rule, ...]:
        """The rules whose cues are all in `cues` and none of whose `unless` cues are, in file order."""
        cached = self.fired.get(cues)
        if cached is None:
            cached = tuple(r for r in self.rules_for(cues) if r.cues <= cues and r.unless.isdisjoint(cues))
            if len(self.fired) > 100_000:
                self.fired.clear()  # bounded: odd messages cannot grow it without end
            self.fired[cues] = cached
        return cached

    def entry(self, entry_id: str) -> Entry:
        """Return the entry with that id ("threat/kill-you") or raise KeyError."""
        for entry in self.entries:
            if entry.id == entry_id:
                return entry
        raise KeyError(entry_id)


class _Reader:
    """Typed values out of a parsed TOML table; every problem a LexiconError with the dotted key."""

    def __init__(self, file: str) -> None:
        self.file = file

    def fail(self, key: str, problem: str) -> LexiconError:
        return LexiconError(self.file, key, problem)

    def keys(self, data: Mapping[str, Any], prefix: str, allowed: set[str], required: set[str]) -> None:
        for name in data:
            if name not in allowed:
                # A typo such as "wieght" must not silently fall back to a default.
                raise self.fail(_join(prefix, name), f"unknown key (allowed: {', '.join(sorted(allowed))})")
        for name in sorted(required):
            if name not in data:
                raise self.fail(_join(prefix, name), "missing")

    def string(self, data: Mapping[str, Any], key: str, choices: Sequence[str] = ()) -> str:
        value = data[_last(key)]
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, f"must be a non-empty string (got {value!r})")
        if choices and value not in choices:
            raise self.fail(key, f"must be one of {', '.join(choices)} (got {value!r})")
        return value

    def strings(self, data: Mapping[str, Any], key: str) -> tuple[str, ...]:
        value = data[_last(key)]
        if (
            not isinstance(value, list)
            or not value
            or not all(isinstance(v, str) and v.strip() for v in value)
        ):
            raise self.fail(key, f"must be a non-empty list of strings (got {value!r})")
        return tuple(value)

    def weight(self, data: Mapping[str, Any], key: str) -> float:
        value = data[_last(key)]
        # bool is an int in Python; "weight = true" is a mistake, not 1.
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
            raise self.fail(key, f"must be a number from 0 to 1 (got {value!r})")
        return float(value)

    def identifier(self, data: Mapping[str, Any], key: str, prefix: str, seen: set[str]) -> str:
        """The `id` of an entry or rule as "<prefix>/<id>", checked for its form and uniqueness."""
        local = self.string(data, f"{key}.id")
        if not _ID.match(local):
            raise self.fail(f"{key}.id", f"must be lowercase letters, digits, - and _ (got {local!r})")
        full = f"{prefix}/{local}"
        if full in seen:
            raise self.fail(f"{key}.id", f"{full!r} is defined twice")
        seen.add(full)
        return full

    def weights(self, data: Mapping[str, Any], key: str) -> tuple[float, float]:
        """`weight` and `weight_calm` (default: the weight); calm context lowers, never raises."""
        weight = self.weight(data, f"{key}.weight")
        calm = self.weight(data, f"{key}.weight_calm") if "weight_calm" in data else weight
        if calm > weight:
            raise self.fail(
                f"{key}.weight_calm", f"must not exceed weight ({weight}): calm context lowers, never raises"
            )
        return weight, calm

    def integer(self, data: Mapping[str, Any], key: str) -> int:
        value = data[_last(key)]
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise self.fail(key, f"must be a positive integer (got {value!r})")
        return value

    def boolean(self, data: Mapping[str, Any], key: str) -> bool:
        value = data.get(_last(key), False)
        if not isinstance(value, bool):
            raise self.fail(key, f"must be true or false (got {value!r})")
        return value

    def clock(self, data: Mapping[str, Any], key: str) -> time:
        value = data[_last(key)]
        if isinstance(value, str):
            try:
                value = time.fromisoformat(value)
            except ValueError:
                raise self.fail(key, f"must be a time of day such as 22:00 (got {value!r})") from None
        if not isinstance(value, time):
            raise self.fail(key, f"must be a time of day such as 22:00 (got {value!r})")
        return value

    def table(self, data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
        value = data[_last(key)]
        if not isinstance(value, dict):
            raise self.fail(key, f"must be a table (got {value!r})")
        return value

    def array(self, data: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
        value = data.get(_last(key), [])
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise self.fail(key, f"must be an array of tables ([[{key}]])")
        return value


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _last(key: str) -> str:
    return key.rsplit(".", 1)[-1].split("[", 1)[0]


def _parse(path: Path) -> tuple[bytes, dict[str, Any]]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise LexiconError(path.name, "", f"cannot be read ({exc.strerror})") from None
    try:
        return raw, tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise LexiconError(path.name, "", f"is not valid TOML ({exc})") from None


_ENTRY_KEYS = {"id", "lang", "weight", "weight_calm", "terms", "cues", "unless", "pinyin", "example", "note"}
_RULE_KEYS = {"id", "category", "cues", "unless", "at_least", "weight", "weight_calm", "example", "note"}
_RULES_TOP = {"version", "context", "spam", "boosts", "thresholds", "common_cues", "rules"}
_CONTEXT_KEYS = {"review_window_days", "late_night_from", "late_night_until"}
_SPAM_KEYS = {"flood_per_hour", "flood_weight", "repeat_identical", "repeat_weight"}


def pinyin_spellings(term: str) -> list[str]:
    """Toneless pinyin of a Chinese term, whole ("nongsini") and mixed with characters ("弄si你").

    pypinyin picks each character's reading in context (弄 is "nong" here, not "long").
    """
    if not _CJK.match(term):
        return []
    syllables = lazy_pinyin(term, style=Style.NORMAL)
    if len(syllables) != len(term):
        return []
    spellings = ["".join(syllables)]
    if len(term) <= _MAX_MIXED_CHARS:
        for choice in product((False, True), repeat=len(term)):
            if any(choice) and not all(choice):
                spellings.append(
                    "".join(s if c else ch for ch, s, c in zip(term, syllables, choice, strict=True))
                )
    return spellings


def _load_entries(path: Path, data: Mapping[str, Any], seen: set[str]) -> list[Entry]:
    r = _Reader(path.name)
    is_cues = path.name == CUES_FILE
    r.keys(
        data,
        "",
        {"entries"} if is_cues else {"category", "entries"},
        {"entries"} if is_cues else {"category", "entries"},
    )
    category = None if is_cues else r.string(data, "category", LEXICAL_CATEGORIES)
    prefix = "cue" if category is None else category
    if category is not None and path.stem != category:
        raise r.fail("category", f"must match the file name {path.stem!r} (got {category!r})")
    entries: list[Entry] = []
    for i, item in enumerate(r.array(data, "entries")):
        key = f"entries[{i}]"
        required = {"id", "terms", "example"} | ({"cues"} if is_cues else {"weight"})
        allowed = _ENTRY_KEYS - ({"weight", "weight_calm", "pinyin", "unless"} if is_cues else set())
        r.keys(item, key, allowed, required)
        entry_id = r.identifier(item, key, prefix, seen)
        cues = r.strings(item, f"{key}.cues") if "cues" in item else ()
        for cue in cues:
            if not _CUE.match(cue):
                raise r.fail(f"{key}.cues", f"{cue!r} must be lowercase letters, digits and _")
        weight, weight_calm = (0.0, 0.0) if is_cues else r.weights(item, key)
        terms = r.strings(item, f"{key}.terms")
        entry = Entry(
            id=entry_id,
            category=category,
            weight=weight,
            weight_calm=weight_calm,
            terms=terms,
            cues=cues,
            example=r.string(item, f"{key}.example"),
            lang=r.string(item, f"{key}.lang", LANGS) if "lang" in item else "any",
            pinyin=r.boolean(item, f"{key}.pinyin"),
            unless=frozenset(r.strings(item, f"{key}.unless")) if "unless" in item else frozenset(),
        )
        for term in terms:
            if not normalize(term):
                raise r.fail(
                    f"{key}.terms", f"{term!r} is only spaces, punctuation or symbols and can never match"
                )
        if not any(folded in normalize(entry.example) for folded in _folded_terms(entry)):
            raise r.fail(f"{key}.example", f"{entry.example!r} contains none of the entry's terms")
        entries.append(entry)
    return entries


def _folded_terms(entry: Entry) -> list[str]:
    folded = [normalize(t) for t in entry.terms]
    if entry.pinyin:
        folded += [normalize(s) for t in entry.terms for s in pinyin_spellings(t)]
    return [f for f in folded if f]


def _load_rules_file(
    path: Path, data: Mapping[str, Any]
) -> tuple[str, Settings, dict[str, Thresholds], dict[str, Boosts], list[Mapping[str, Any]]]:
    r = _Reader(path.name)
    r.keys(data, "", _RULES_TOP, _RULES_TOP - {"rules", "common_cues"})
    version = r.string(data, "version")
    context = r.table(data, "context")
    r.keys(context, "context", _CONTEXT_KEYS, _CONTEXT_KEYS)
    spam = r.table(data, "spam")
    r.keys(spam, "spam", _SPAM_KEYS, _SPAM_KEYS)
    settings = Settings(
        review_window_days=r.integer(context, "context.review_window_days"),
        late_night_from=r.clock(context, "context.late_night_from"),
        late_night_until=r.clock(context, "context.late_night_until"),
        flood_per_hour=r.integer(spam, "spam.flood_per_hour"),
        flood_weight=r.weight(spam, "spam.flood_weight"),
        repeat_identical=r.integer(spam, "spam.repeat_identical"),
        repeat_weight=r.weight(spam, "spam.repeat_weight"),
    )
    thresholds: dict[str, Thresholds] = {}
    table = r.table(data, "thresholds")
    r.keys(table, "thresholds", set(CATEGORIES), set(CATEGORIES))
    for category in CATEGORIES:
        key = f"thresholds.{category}"
        line = r.table(table, key)
        r.keys(line, key, {"warn", "hold", "block"}, {"warn", "hold", "block"})
        warn, hold, block = (r.weight(line, f"{key}.{a}") for a in ("warn", "hold", "block"))
        if not 0 < warn <= hold <= block:
            raise r.fail(key, f"must rise: 0 < warn <= hold <= block (got {warn}, {hold}, {block})")
        thresholds[category] = Thresholds(warn, hold, block)
    boosts: dict[str, Boosts] = {}
    table = r.table(data, "boosts")
    r.keys(table, "boosts", set(CATEGORIES), set())
    for category in CATEGORIES:
        if category not in table:
            boosts[category] = Boosts()
            continue
        key = f"boosts.{category}"
        line = r.table(table, key)
        r.keys(line, key, set(BOOSTS), set())
        boosts[category] = Boosts(**{name: r.weight(line, f"{key}.{name}") for name in line})
    return version, settings, thresholds, boosts, r.array(data, "rules")


def _load_rules(
    path: Path,
    items: list[Mapping[str, Any]],
    cues_known: set[str],
    matcher: Matcher,
    entries: Sequence[Entry],
) -> list[Rule]:
    r = _Reader(path.name)
    rules: list[Rule] = []
    seen: set[str] = set()
    for i, item in enumerate(items):
        key = f"rules[{i}]"
        r.keys(item, key, _RULE_KEYS, {"id", "category", "cues", "weight", "example"})
        rule_id = r.identifier(item, key, "rule", seen)
        cues = frozenset(r.strings(item, f"{key}.cues"))
        for cue in sorted(cues):
            if cue not in cues_known and cue not in SHAPE_CUES and cue not in KNOWN_CUES:
                raise r.fail(
                    f"{key}.cues",
                    f"{cue!r} is given by no entry and is no shape:/known: cue (known cues: {', '.join(sorted(cues_known))})",
                )
        if "shape:address" in cues and not cues & cues_known:
            # A seller sends their own return address all the time; only words around it make it doxxing.
            raise r.fail(f"{key}.cues", "shape:address needs a word cue too (an address alone is no doxxing)")
        weight, weight_calm = r.weights(item, key)
        at_least = None
        if "at_least" in item:
            table = r.table(item, f"{key}.at_least")
            r.keys(table, f"{key}.at_least", {"cue", "terms"}, {"cue", "terms"})
            count_cue = r.string(table, f"{key}.at_least.cue")
            if count_cue not in cues:
                raise r.fail(f"{key}.at_least.cue", f"{count_cue!r} must be one of the rule's cues")
            at_least = (count_cue, r.integer(table, f"{key}.at_least.terms"))
        rule = Rule(
            id=rule_id,
            category=r.string(item, f"{key}.category", LEXICAL_CATEGORIES),
            cues=cues,
            weight=weight,
            weight_calm=weight_calm,
            example=r.string(item, f"{key}.example"),
            unless=frozenset(r.strings(item, f"{key}.unless")) if "unless" in item else frozenset(),
            at_least=at_least,
        )
        _check_unless(r, f"{key}.unless", rule.unless, cues_known)
        word_cues = rule.cues & cues_known
        if word_cues - example_cues(rule.example, matcher, entries):
            missing = ", ".join(sorted(word_cues - example_cues(rule.example, matcher, entries)))
            raise r.fail(f"{key}.example", f"{rule.example!r} lacks the cue(s) {missing}")
        rules.append(rule)
    return rules


def _common_cues(path: Path, data: Mapping[str, Any], cues_known: set[str]) -> frozenset[str]:
    r = _Reader(path.name)
    if "common_cues" not in data:
        return frozenset()
    common = frozenset(r.strings(data, "common_cues"))
    for cue in sorted(common - cues_known):
        raise r.fail("common_cues", f"{cue!r} is given by no entry")
    return common


def _check_unless(r: _Reader, key: str, unless: frozenset[str], cues_known: set[str]) -> None:
    for cue in sorted(unless):
        if cue not in cues_known:
            raise r.fail(key, f"{cue!r} is given by no entry (known cues: {', '.join(sorted(cues_known))})")


def example_cues(text: str, matcher: Matcher, entries: Sequence[Entry]) -> set[str]:
    """The word cues one text gives (shapes and known data aside)."""
    view = normalize(text)
    raw = matcher.find(view)
    hits = matcher.resolve(text, view, offsets(text), raw)
    return {cue for hit in hits for cue in entries[hit.entry].cues}


def load(folder: Path | None = None) -> Lexicon:
    """Read and validate every lexicon file in `folder` (the shipped one by default).

    Raises LexiconError naming the file, the key and the problem.
    """
    folder = Path(folder) if folder is not None else SHIPPED_DIR
    if not folder.is_dir():
        raise LexiconError(str(folder), "", "is not a folder of lexicon files")
    paths = tuple(sorted(folder.glob("*.toml")))
    names = {p.name for p in paths}
    if RULES_FILE not in names:
        raise LexiconError(str(folder), "", f"has no {RULES_FILE}")
    digest = hashlib.sha256()
    entries: list[Entry] = []
    seen: set[str] = set()
    rules_data: tuple[Path, dict[str, Any]] | None = None
    for path in paths:
        raw, data = _parse(path)
        digest.update(path.name.encode() + b"\x00" + hashlib.sha256(raw).digest())
        if path.name == RULES_FILE:
            rules_data = (path, data)
        else:
            entries.extend(_load_entries(path, data, seen))
    assert rules_data is not None
    rules_path, data = rules_data
    version, settings, thresholds, boosts, rule_items = _load_rules_file(rules_path, data)
    cues_known = {cue for e in entries for cue in e.cues}
    common = _common_cues(rules_path, data, cues_known)

    def triggers(owners: Sequence[int]) -> bool:
        return any(entries[e].category is not None or not set(entries[e].cues) <= common for e in owners)

    matcher = Matcher([(folded, i) for i, e in enumerate(entries) for folded in _folded_terms(e)], triggers)
    for entry in entries:
        if entry.unless:
            file, _, local = entry.id.partition("/")
            _check_unless(
                _Reader(f"{'cues' if file == 'cue' else file}.toml"),
                f"entries[id={local}].unless",
                entry.unless,
                cues_known,
            )
    rules = _load_rules(rules_path, rule_items, cues_known, matcher, entries)
    for i, rule in enumerate(rules):
        if rule.cues <= common:
            raise LexiconError(
                rules_path.name,
                f"rules[{i}].cues",
                "all its cues are in common_cues, so no message would ever be looked at for it",
            )
    return Lexicon(
        version=version,
        content_hash="sha256:" + digest.hexdigest(),
        settings=settings,
        entries=tuple(entries),
        rules=tuple(rules),
        thresholds=MappingProxyType(thresholds),
        boosts=MappingProxyType(boosts),
        paths=paths,
        matcher=matcher,
        bounded_terms=frozenset(t for t in range(len(matcher.terms)) if matcher.bounded(t)),
        rules_by_cue=MappingProxyType(
            {cue: tuple(r for r in rules if cue in r.cues) for cue in {c for r in rules for c in r.cues}}
        ),
        rule_position=MappingProxyType({rule.id: i for i, rule in enumerate(rules)}),
        boost_table=MappingProxyType(
            {
                c: (
                    ("after_review", b.grievance),
                    ("late_night", b.late_night),
                    ("open_complaint", b.open_complaint),
                    ("repeated", b.repeated),
                )
                for c, b in boosts.items()
            }
        ),
        quick_cues=frozenset(cues_known | set(SHAPE_CUES)),
        address_cues=frozenset(c for r in rules if "shape:address" in r.cues for c in r.cues & cues_known),
    )
