"""The labelled evaluation set (`eval/messages.jsonl`) and per-category precision and recall. PURE.

One JSON object per line:

    {"id": "zh-threat-003", "lang": "zh", "sender": "seller", "text": "…",
     "context": {"hours_since_review": 5, "late_night": true, "open_complaint": false,
                 "known": {"phone": ["13812345678"]}, "recent_seller_messages": 0, "recent_texts": []},
     "expected": ["threat", "doxxing"], "note": "…"}

Every context key is optional. `hours_since_review` null (or absent) means no bad review; the
message is sent on a fixed afternoon, or at 23:20 Beijing time when `late_night`. `expected`
lists the categories a person would flag — empty for a harmless message. A category counts as
predicted when the verdict lists it (its score reached the warn line).

How the set was made, and why it has slices: the lexicon was tuned on rounds 1–3 (ids without
"-ho-"), each round written after the previous tuning and then used for the next; round 4 (ids
with "-ho-") was written last and never used to tune anything. Only round 4 says how the
lexicon does on wording it has not seen — `held_out()` picks it.

Labelling guideline, threat against doxxing: stating or asking the buyer's data plainly ("你女儿
叫陈朵朵吧", "your number is …, right?") or exposing it (online, in a group) is doxxing; claiming
to have found it ("我查到/I found/I have your …"), a menacing remark ("记住了", "nice building"),
or a consequence (the employer, a visit) makes it a threat as well. Retaliation for a review
("you'll regret this review") is a threat, not review pressure; pressure asks for a change.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from reviewshield.policy.calendar import BUSINESS_TZ
from reviewshield.screening.engine import Context, Message, Verdict, screen
from reviewshield.screening.lexicon import CATEGORIES, PERSONAL_KINDS, Lexicon

EVAL_FILE = Path(__file__).resolve().parent / "eval" / "messages.jsonl"
_AFTERNOON = datetime(2026, 4, 15, 15, 10, tzinfo=BUSINESS_TZ)
_LATE = datetime(2026, 4, 15, 23, 20, tzinfo=BUSINESS_TZ)
_CONTEXT_KEYS = {
    "hours_since_review",
    "late_night",
    "open_complaint",
    "known",
    "recent_seller_messages",
    "recent_texts",
}
_LINE_KEYS = {"id", "lang", "sender", "text", "context", "expected", "note"}


class EvalSetError(ValueError):
    """A line of the evaluation set is broken; names the line and the problem."""


@dataclass(frozen=True)
class Case:
    id: str
    lang: str
    message: Message
    context: Context
    expected: frozenset[str]
    note: str = ""


@dataclass
class Tally:
    true_positive: int = 0
    false_positive: int = 0
    false_negative: int = 0
    misses: list[str] = field(default_factory=list)
    false_alarms: list[str] = field(default_factory=list)

    @property
    def precision(self) -> float:
        flagged = self.true_positive + self.false_positive
        return self.true_positive / flagged if flagged else 1.0

    @property
    def recall(self) -> float:
        expected = self.true_positive + self.false_negative
        return self.true_positive / expected if expected else 1.0


def load_cases(path: Path = EVAL_FILE) -> list[Case]:
    """Read the evaluation set; raise EvalSetError naming the line for anything malformed."""
    cases: list[Case] = []
    seen: set[str] = set()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise EvalSetError(f"{path.name}:{number}: not JSON ({exc.msg})") from None
        case = _case(data, f"{path.name}:{number}")
        if case.id in seen:
            raise EvalSetError(f"{path.name}:{number}: id {case.id!r} appears twice")
        seen.add(case.id)
        cases.append(case)
    return cases


def _case(data: Any, where: str) -> Case:
    if (
        not isinstance(data, dict)
        or set(data) - _LINE_KEYS
        or not {"id", "lang", "text", "expected"} <= set(data)
    ):
        raise EvalSetError(
            f"{where}: needs id, lang, text, expected (and only {', '.join(sorted(_LINE_KEYS))})"
        )
    expected = data["expected"]
    if not isinstance(expected, list) or any(c not in CATEGORIES for c in expected):
        raise EvalSetError(f"{where}: expected must list categories among {', '.join(CATEGORIES)}")
    raw = data.get("context", {})
    if not isinstance(raw, dict) or set(raw) - _CONTEXT_KEYS:
        raise EvalSetError(f"{where}: context keys are {', '.join(sorted(_CONTEXT_KEYS))}")
    known = raw.get("known", {})
    if not isinstance(known, dict) or any(
        k not in PERSONAL_KINDS or not isinstance(v, list) for k, v in known.items()
    ):
        raise EvalSetError(f"{where}: known maps {', '.join(PERSONAL_KINDS)} to lists of strings")
    sent_at = _LATE if raw.get("late_night") else _AFTERNOON
    hours = raw.get("hours_since_review")
    context = Context(
        bad_review_at=None if hours is None else sent_at - timedelta(hours=float(hours)),
        recent_seller_messages=int(raw.get("recent_seller_messages", 0)),
        recent_texts=tuple(raw.get("recent_texts", ())),
        open_complaint=bool(raw.get("open_complaint", False)),
        buyer_known={kind: tuple(values) for kind, values in known.items()},
    )
    return Case(
        id=str(data["id"]),
        lang=str(data["lang"]),
        message=Message(str(data["text"]), str(data.get("sender", "seller")), sent_at),
        context=context,
        expected=frozenset(expected),
        note=str(data.get("note", "")),
    )


def evaluate(cases: Sequence[Case], lexicon: Lexicon | None = None) -> dict[str, Tally]:
    """Screen every case (each with its own context) and tally each category."""
    verdicts = screen([c.message for c in cases], [c.context for c in cases], lexicon=lexicon)
    return tally(cases, verdicts)


def tally(cases: Iterable[Case], verdicts: Iterable[Verdict]) -> dict[str, Tally]:
    tallies = {category: Tally() for category in CATEGORIES}
    for case, verdict in zip(cases, verdicts, strict=True):
        predicted = set(verdict.categories)
        for category, t in tallies.items():
            if category in case.expected and category in predicted:
                t.true_positive += 1
            elif category in predicted:
                t.false_positive += 1
                t.false_alarms.append(case.id)
            elif category in case.expected:
                t.false_negative += 1
                t.misses.append(case.id)
    return tallies


def held_out(cases: Iterable[Case]) -> list[Case]:
    """The cases written after all tuning (round 4), never used to tune the lexicon."""
    return [case for case in cases if "-ho-" in case.id]


def summary(tallies: Mapping[str, Tally], prefix: str = "screen") -> dict[str, tuple[float, str]]:
    """`<prefix>_precision_<category>` / `<prefix>_recall_<category>` figures, as ratios."""
    figures: dict[str, tuple[float, str]] = {}
    for category, t in tallies.items():
        figures[f"{prefix}_precision_{category}"] = (round(t.precision, 3), "ratio")
        figures[f"{prefix}_recall_{category}"] = (round(t.recall, 3), "ratio")
    return figures
