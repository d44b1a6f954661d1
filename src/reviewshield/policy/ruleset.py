"""Rulesets: one TOML file per platform rule version, loaded into frozen, validated objects.

A ruleset is data, never code: a case records the id and content hash of the ruleset it was
judged by, so a changed file can never silently change an old decision.
"""

from __future__ import annotations

import hashlib
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, cast

from reviewshield.policy.calendar import BUSINESS_TZ

SHIPPED_DIR = Path(__file__).resolve().parent / "rulesets"

WindowKind = Literal["calendar", "working_days", "working_hours"]
PointsClass = Literal["A", "B"]

REQUIRED_WINDOWS = (
    "filing",  # from trade success
    "respond",  # from the seller's notification
    "handle",  # from filing
    "decide",  # from filing
    "settlement_reply",  # from a settlement proposal
    "assisted_link",  # from the issue of an agent's filing link
    "appeal",  # from the decision
    "review",  # automatic review, from trade success
)
OPTIONAL_WINDOWS = ("evidence", "appeal_decide")  # JD: evidence once the platform steps in; appeal SLA
TIER_ORDER = ("ordinary", "serious", "especially_serious")
# What a node penalty can do to a shop; the marketplace enforces them from /api/shops/{id}/status.
MEASURES = (
    "hidden",  # 店铺屏蔽: the shop is left out of search
    "no_new_listings",  # 限制发布商品
    "listing_restricted",  # 限制发布商品 (A class wording)
    "no_new_shop",  # 限制创建店铺
    "no_site_messages",  # 限制发送站内信
    "community_restricted",  # 限制社区功能
    "public_warning",  # 公示警告
    "closed",  # 关闭店铺
    "sealed",  # 查封账户
)


class RulesetError(Exception):
    """A ruleset file is broken or a ruleset cannot be found; names the file, the key and the problem."""

    def __init__(self, file: str, key: str, problem: str) -> None:
        self.file = file
        self.key = key
        self.problem = problem
        super().__init__(file, key, problem)  # args that rebuild it, so it survives pickling

    def __str__(self) -> str:
        return f"{self.file}: {self.key}: {self.problem}" if self.key else f"{self.file}: {self.problem}"


class UnknownRuleset(RulesetError, KeyError):
    """No ruleset has that id, or none is in force for that platform and instant."""

    def __str__(self) -> str:
        return RulesetError.__str__(self)


@dataclass(frozen=True)
class Window:
    kind: WindowKind
    amount: int
    unit: Literal["days", "hours"]
    day_start: time = time(9)
    day_end: time = time(18)


@dataclass(frozen=True)
class TierOutcome:
    tier: str
    points: int
    points_class: PointsClass
    money_to_buyer: Decimal
    # tmall-2020: from the nth upheld case of a calendar year the seller also gets extra points.
    extra_points_from_nth_case: int | None = None
    extra_points: int = 0
    extra_points_class: PointsClass | None = None


@dataclass(frozen=True)
class Node:
    """A node penalty (节点处罚): reaching `at` points of a class in a year (or every `at` points when
    `repeats`) applies `measures` for `days` (None: until a person lifts it, e.g. a sealed account)."""

    points_class: PointsClass
    at: int
    measures: tuple[str, ...]
    days: int | None
    repeats: bool = False

    @property
    def key(self) -> str:
        return f"{self.points_class}{'every' if self.repeats else ''}{self.at}"

    @property
    def severity(self) -> tuple[int, int, int]:
        """Heavier first by permanence, then length, then how much it restricts."""
        return (1 if self.days is None else 0, self.days or 0, len(self.measures))


@dataclass(frozen=True)
class Sanctions:
    nodes: tuple[Node, ...] = ()
    # A penalty lifts when its period ends and the seller has passed the rules exam [C].
    exam_required: bool = True
    # Year-end reset: class A is cleared; class B is cleared below this and kept at or above it [C].
    keep_b_from: int = 48
    # The seller credit blacklist: how long a listing lasts, and which tiers count as serious.
    blacklist_days: int = 365
    blacklist_serious_tiers: tuple[str, ...] = ("serious", "especially_serious")


@dataclass(frozen=True)
class Ruleset:
    id: str
    platform: str
    effective_from: datetime
    applies_by: Literal["filed_at", "paid_at"]
    content_hash: str
    title: dict[str, str]
    source: str
    confidence: str
    required_order_status: str
    excluded_channels: tuple[str, ...]
    windows: Mapping[str, Window]
    tiers: Mapping[str, TierOutcome]
    blacklist_upheld_threshold: int = 2
    # JD may end the contract when a seller's yearly points reach this; None where the rule has no such node.
    contract_end_points: int | None = None
    # Taobao [S]: once upheld, a later settlement with the buyer no longer takes the points back.
    settlement_reverses_upheld: bool = False
    sanctions: Sanctions = field(default_factory=Sanctions)
    path: Path | None = field(default=None, compare=False)


class _Reader:
    """Read typed values out of a parsed TOML table, raising RulesetError with the dotted key."""

    def __init__(self, file: str) -> None:
        self.file = file

    def fail(self, key: str, problem: str) -> RulesetError:
        return RulesetError(self.file, key, problem)

    def table(self, data: Mapping[str, Any], key: str, allowed: set[str]) -> Mapping[str, Any]:
        value = self._get(data, key)
        if not isinstance(value, dict):
            raise self.fail(key, f"must be a table (got {value!r})")
        self.no_unknown_keys(value, key, allowed)
        return value

    def no_unknown_keys(self, data: Mapping[str, Any], prefix: str, allowed: set[str]) -> None:
        # A typo such as "ammount" must not silently fall back to a default.
        for name in data:
            if name not in allowed:
                raise self.fail(_join(prefix, name), f"unknown key (allowed: {', '.join(sorted(allowed))})")

    def string(self, data: Mapping[str, Any], key: str, choices: Sequence[str] = ()) -> str:
        value = self._get(data, key)
        if not isinstance(value, str) or not value:
            raise self.fail(key, f"must be a non-empty string (got {value!r})")
        if choices and value not in choices:
            raise self.fail(key, f"must be one of {', '.join(choices)} (got {value!r})")
        return value

    def integer(self, data: Mapping[str, Any], key: str, *, minimum: int = 1) -> int:
        value = self._get(data, key)
        # bool is an int in Python; "amount = true" is a mistake, not 1.
        if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
            kind = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
            raise self.fail(key, f"must be {kind} (got {value!r})")
        return value

    def money(self, data: Mapping[str, Any], key: str) -> Decimal:
        value = self._get(data, key)
        try:
            # Floats are refused: 0.1 yuan must not become 0.1000000000000000055511151231257827.
            if isinstance(value, (bool, float)):
                raise InvalidOperation
            amount = Decimal(str(value))
        except InvalidOperation:
            raise self.fail(
                key, f"must be an amount in yuan as an integer or a string (got {value!r})"
            ) from None
        if not amount.is_finite() or amount < 0:
            raise self.fail(key, f"must be an amount >= 0 (got {value!r})")
        return amount

    def instant(self, data: Mapping[str, Any], key: str) -> datetime:
        value = self._get(data, key)
        if isinstance(value, str):
            try:
                value = datetime.fromisoformat(value)
            except ValueError:
                raise self.fail(key, f"must be a date or an offset date-time (got {value!r})") from None
        if isinstance(value, datetime):
            if value.tzinfo is None:
                raise self.fail(key, f"must carry a UTC offset, e.g. +08:00 (got {value.isoformat()})")
            return value
        if isinstance(value, date):
            # A bare date means the start of that day in Beijing time, as the platforms announce it.
            return datetime.combine(value, time(0), tzinfo=BUSINESS_TZ)
        raise self.fail(key, f"must be a date or an offset date-time (got {value!r})")

    def clock_time(self, data: Mapping[str, Any], key: str, default: time) -> time:
        if _last(key) not in data:
            return default
        value = self._get(data, key)
        if isinstance(value, str):
            try:
                value = time.fromisoformat(value)
            except ValueError:
                raise self.fail(key, f"must be a time of day such as 09:00 (got {value!r})") from None
        if not isinstance(value, time) or value.tzinfo is not None:
            raise self.fail(key, f"must be a local time of day such as 09:00 (got {value!r})")
        return value

    def _get(self, data: Mapping[str, Any], key: str) -> Any:
        name = _last(key)
        if name not in data:
            raise self.fail(key, "missing")
        return data[name]


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _last(key: str) -> str:
    return key.rsplit(".", 1)[-1]


_TOP_KEYS = {
    "id",
    "platform",
    "effective_from",
    "applies_by",
    "title",
    "source",
    "confidence",
    "required_order_status",
    "excluded_channels",
    "windows",
    "tiers",
    "blacklist_upheld_threshold",
    "contract_end_points",
    "settlement_reverses_upheld",
    "sanctions",
}
_SANCTION_KEYS = {"exam_required", "keep_b_from", "blacklist_days", "blacklist_serious_tiers", "nodes"}
_NODE_KEYS = {"class", "at", "every", "days", "measures", "note"}
_WINDOW_KEYS = {"kind", "amount", "unit", "day_start", "day_end", "note"}
_TIER_KEYS = {
    "points",
    "points_class",
    "money_to_buyer",
    "extra_points_from_nth_case",
    "extra_points",
    "extra_points_class",
    "note",
}


def load_ruleset(path: Path) -> Ruleset:
    """Read and validate one ruleset file; raise RulesetError naming the file, key and problem."""
    path = Path(path)
    name = path.name
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise RulesetError(name, "", f"cannot be read ({exc.strerror})") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise RulesetError(name, "", f"is not valid TOML ({exc})") from None

    r = _Reader(name)
    r.no_unknown_keys(data, "", _TOP_KEYS)
    ruleset_id = r.string(data, "id")
    if ruleset_id != path.stem:
        raise r.fail("id", f"must match the file name {path.stem!r} (got {ruleset_id!r})")

    title = r.table(data, "title", {"zh-hans", "en"})
    excluded = data.get("excluded_channels", [])
    if not isinstance(excluded, list) or not all(isinstance(c, str) and c for c in excluded):
        raise r.fail("excluded_channels", f"must be a list of channel names (got {excluded!r})")

    contract_end_points = None
    if "contract_end_points" in data:
        contract_end_points = r.integer(data, "contract_end_points")
    settlement_reverses = data.get("settlement_reverses_upheld", False)
    if not isinstance(settlement_reverses, bool):
        raise r.fail("settlement_reverses_upheld", f"must be true or false (got {settlement_reverses!r})")

    return Ruleset(
        id=ruleset_id,
        platform=r.string(data, "platform"),
        effective_from=r.instant(data, "effective_from"),
        applies_by=cast(
            Literal["filed_at", "paid_at"], r.string(data, "applies_by", ("filed_at", "paid_at"))
        ),
        content_hash="sha256:" + hashlib.sha256(raw).hexdigest(),
        title={lang: r.string(title, f"title.{lang}") for lang in ("zh-hans", "en")},
        source=r.string(data, "source"),
        confidence=r.string(data, "confidence", ("C", "S", "U")),
        required_order_status=r.string(data, "required_order_status"),
        excluded_channels=tuple(excluded),
        windows=_windows(r, data),
        tiers=_tiers(r, data),
        blacklist_upheld_threshold=(
            r.integer(data, "blacklist_upheld_threshold") if "blacklist_upheld_threshold" in data else 2
        ),
        contract_end_points=contract_end_points,
        settlement_reverses_upheld=settlement_reverses,
        sanctions=_sanctions(r, data),
        path=path,
    )


def _windows(r: _Reader, data: Mapping[str, Any]) -> Mapping[str, Window]:
    tables = r.table(data, "windows", set(REQUIRED_WINDOWS + OPTIONAL_WINDOWS))
    for name in REQUIRED_WINDOWS:
        if name not in tables:
            raise r.fail(f"windows.{name}", "missing (every ruleset must define this window)")
    windows: dict[str, Window] = {}
    for name in tables:
        key = f"windows.{name}"
        table = r.table(tables, key, _WINDOW_KEYS)
        kind = cast(WindowKind, r.string(table, f"{key}.kind", ("calendar", "working_days", "working_hours")))
        amount = r.integer(table, f"{key}.amount")
        implied = {"working_days": "days", "working_hours": "hours"}.get(kind)
        if implied is None:
            unit = r.string(table, f"{key}.unit", ("days", "hours"))
        else:
            unit = table.get("unit", implied)
            if unit != implied:
                raise r.fail(f"{key}.unit", f"a {kind} window counts in {implied} (got {unit!r})")
        day_start = r.clock_time(table, f"{key}.day_start", time(9))
        day_end = r.clock_time(table, f"{key}.day_end", time(18))
        if kind != "working_hours" and ("day_start" in table or "day_end" in table):
            raise r.fail(key, "day_start and day_end apply to working_hours windows only")
        if day_start >= day_end:
            raise r.fail(f"{key}.day_end", f"must be later than day_start ({day_start:%H:%M})")
        windows[name] = Window(kind, amount, cast(Literal["days", "hours"], unit), day_start, day_end)
    return MappingProxyType(windows)


def _tiers(r: _Reader, data: Mapping[str, Any]) -> Mapping[str, TierOutcome]:
    tables = r.table(data, "tiers", set(TIER_ORDER))
    if "ordinary" not in tables:
        raise r.fail("tiers.ordinary", "missing (every ruleset must define the ordinary tier)")
    tiers: dict[str, TierOutcome] = {}
    for name in TIER_ORDER:  # the file's order does not matter; callers rely on this one
        if name not in tables:
            continue
        key = f"tiers.{name}"
        table = r.table(tables, key, _TIER_KEYS)
        money = r.money(table, f"{key}.money_to_buyer") if "money_to_buyer" in table else Decimal(0)
        nth = None
        extra_class = None
        extra_points = 0
        if "extra_points_from_nth_case" in table:
            nth = r.integer(table, f"{key}.extra_points_from_nth_case")
            extra_points = r.integer(table, f"{key}.extra_points")
            extra_class = cast(PointsClass, r.string(table, f"{key}.extra_points_class", ("A", "B")))
        elif "extra_points" in table or "extra_points_class" in table:
            raise r.fail(f"{key}.extra_points_from_nth_case", "missing (extra points need the case number)")
        tiers[name] = TierOutcome(
            tier=name,
            points=r.integer(table, f"{key}.points", minimum=0),
            points_class=cast(PointsClass, r.string(table, f"{key}.points_class", ("A", "B"))),
            money_to_buyer=money,
            extra_points_from_nth_case=nth,
            extra_points=extra_points,
            extra_points_class=extra_class,
        )
    return MappingProxyType(tiers)


def _sanctions(r: _Reader, data: Mapping[str, Any]) -> Sanctions:
    if "sanctions" not in data:
        return Sanctions()
    table = r.table(data, "sanctions", _SANCTION_KEYS)
    exam = table.get("exam_required", True)
    if not isinstance(exam, bool):
        raise r.fail("sanctions.exam_required", f"must be true or false (got {exam!r})")
    serious = table.get("blacklist_serious_tiers", ["serious", "especially_serious"])
    if not isinstance(serious, list) or any(t not in TIER_ORDER for t in serious):
        raise r.fail("sanctions.blacklist_serious_tiers", f"must be a list of {', '.join(TIER_ORDER)}")
    raw_nodes = table.get("nodes", [])
    if not isinstance(raw_nodes, list):
        raise r.fail("sanctions.nodes", "must be an array of tables ([[sanctions.nodes]])")
    nodes: list[Node] = []
    for i, item in enumerate(raw_nodes):
        key = f"sanctions.nodes[{i}]"
        if not isinstance(item, dict):
            raise r.fail(key, "must be a table")
        r.no_unknown_keys(item, key, _NODE_KEYS)
        if ("at" in item) == ("every" in item):
            raise r.fail(key, "give exactly one of at (a threshold) or every (each so many points)")
        repeats = "every" in item
        at = r.integer(item, f"{key}.{'every' if repeats else 'at'}")
        measures = item.get("measures")
        if not isinstance(measures, list) or not measures or any(m not in MEASURES for m in measures):
            raise r.fail(f"{key}.measures", f"must be a non-empty list of {', '.join(MEASURES)}")
        node = Node(
            points_class=cast(PointsClass, r.string(item, f"{key}.class", ("A", "B"))),
            at=at,
            measures=tuple(measures),
            days=r.integer(item, f"{key}.days") if "days" in item else None,
            repeats=repeats,
        )
        if any(n.key == node.key for n in nodes):
            raise r.fail(key, f"a second node {node.key}")
        nodes.append(node)
    return Sanctions(
        nodes=tuple(nodes),
        exam_required=exam,
        keep_b_from=r.integer(table, "sanctions.keep_b_from") if "keep_b_from" in table else 48,
        blacklist_days=r.integer(table, "sanctions.blacklist_days") if "blacklist_days" in table else 365,
        blacklist_serious_tiers=tuple(serious),
    )


class RulesetRegistry:
    """All known rulesets, by id; picks the one in force for a platform and instant."""

    def __init__(self, rulesets: Sequence[Ruleset]) -> None:
        self._by_id: dict[str, Ruleset] = {}
        for ruleset in sorted(rulesets, key=lambda rs: (rs.platform, rs.effective_from, rs.id)):
            file = ruleset.path.name if ruleset.path else ruleset.id
            if ruleset.id in self._by_id:
                raise RulesetError(file, "id", f"{ruleset.id!r} is already defined by another file")
            for other in self._by_id.values():
                # Two versions starting at the same instant would make "in force" ambiguous.
                if other.platform == ruleset.platform and other.effective_from == ruleset.effective_from:
                    raise RulesetError(
                        file, "effective_from", f"same as {other.id!r} for {ruleset.platform!r}"
                    )
            self._by_id[ruleset.id] = ruleset

    @classmethod
    def load(cls, dirs: Sequence[Path] = ()) -> RulesetRegistry:
        """Load the shipped rulesets plus every *.toml file in the extra folders."""
        files: list[Path] = []
        for folder in (SHIPPED_DIR, *(Path(d) for d in dirs)):
            if not folder.is_dir():
                raise RulesetError(str(folder), "", "is not a folder of ruleset files")
            files.extend(sorted(folder.glob("*.toml")))
        return cls([load_ruleset(f) for f in files])

    def get(self, ruleset_id: str) -> Ruleset:
        """Return the ruleset with that id or raise UnknownRuleset."""
        try:
            return self._by_id[ruleset_id]
        except KeyError:
            known = ", ".join(sorted(self._by_id))
            raise UnknownRuleset("rulesets", ruleset_id, f"unknown ruleset (known: {known})") from None

    def all(self) -> list[Ruleset]:
        """Return every ruleset, by platform then effective date."""
        return list(self._by_id.values())

    def in_force(self, *, platform: str, filed_at: datetime, paid_at: datetime | None) -> Ruleset:
        """Return the platform's ruleset with the latest effective_from not after the instant it applies by.

        A ruleset that applies by payment time falls back to the filing time when the payment time is
        unknown; the order was paid before the complaint, so this can only pick the same or a later version.
        """
        best: Ruleset | None = None
        for ruleset in self._by_id.values():
            if ruleset.platform != platform:
                continue
            instant = paid_at if ruleset.applies_by == "paid_at" and paid_at is not None else filed_at
            if ruleset.effective_from <= instant and (
                best is None or ruleset.effective_from > best.effective_from
            ):
                best = ruleset
        if best is None:
            raise UnknownRuleset("rulesets", platform, f"no ruleset in force at {filed_at.isoformat()}")
        return best
