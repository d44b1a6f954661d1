"""The labelled evaluation set: its shape, its floors, and clear errors for a malformed line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from reviewshield.screening import CATEGORIES, screen
from reviewshield.screening.evaluation import EvalSetError, evaluate, held_out, load_cases, tally


@pytest.fixture(scope="module")
def cases() -> list:  # type: ignore[type-arg]
    return load_cases()


def test_the_set_is_large_bilingual_mostly_harmless_and_covers_every_category(cases: list) -> None:  # type: ignore[type-arg]
    assert len(cases) >= 600
    assert {c.lang for c in cases} == {"zh", "en"}
    harmless = [c for c in cases if not c.expected]
    assert len(harmless) > len(cases) / 2
    for category in CATEGORIES:
        for lang in ("zh", "en"):
            assert any(category in c.expected and c.lang == lang for c in cases), (category, lang)
    assert len(held_out(cases)) >= 80


def test_no_harmless_message_is_held_or_blocked(cases: list) -> None:  # type: ignore[type-arg]
    # A false alarm that stops a shipping update costs the buyer their parcel news.
    harmless = [c for c in cases if not c.expected]

    verdicts = screen([c.message for c in harmless], [c.context for c in harmless])

    stopped = [
        (c.id, c.message.text)
        for c, v in zip(harmless, verdicts, strict=True)
        if v.action in ("hold", "block")
    ]
    assert stopped == []


def test_a_message_gets_the_same_verdict_alone_or_in_a_batch(cases: list) -> None:  # type: ignore[type-arg]
    # The chat backend may send one message or a thousand: the verdict must not depend on the neighbours.
    batch = screen([c.message for c in cases], [c.context for c in cases])
    alone = [screen([c.message], c.context)[0] for c in cases]

    differ = [
        (c.id, b.categories, a.categories) for c, b, a in zip(cases, batch, alone, strict=True) if b != a
    ]
    assert differ == []


def test_threat_and_doxxing_keep_their_floors_on_the_tuned_rounds(cases: list) -> None:  # type: ignore[type-arg]
    # The rounds the lexicon was tuned on: a regression here means a lexicon change broke what worked.
    # (The held-out round is reported by `make bench`, not asserted: it measures, it does not gate.)
    tuned = [c for c in cases if c not in held_out(cases)]

    tallies = evaluate(tuned)

    for category in ("threat", "doxxing"):
        assert tallies[category].precision >= 0.9, (category, tallies[category].false_alarms)
        assert tallies[category].recall >= 0.9, (category, tallies[category].misses)


def test_the_tally_counts_hits_misses_and_false_alarms(cases: list) -> None:  # type: ignore[type-arg]
    threat = next(c for c in cases if c.expected == {"threat"})
    harmless = next(c for c in cases if not c.expected)
    verdicts = screen([threat.message, harmless.message], [threat.context, harmless.context])

    tallies = tally([threat, harmless], verdicts)

    assert tallies["threat"].true_positive == 1
    assert tallies["threat"].false_positive == 0
    assert tallies["threat"].precision == 1.0


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("not json", "bad.jsonl:1: not JSON"),
        ('{"id": "a", "lang": "zh", "text": "x"}', "needs id, lang, text, expected"),
        ('{"id": "a", "lang": "zh", "text": "x", "expected": ["rudeness"]}', "expected must list categories"),
        (
            '{"id": "a", "lang": "zh", "text": "x", "expected": [], "context": {"hours": 3}}',
            "context keys are",
        ),
        (
            '{"id": "a", "lang": "zh", "text": "x", "expected": [], "context": {"known": {"shoe": ["x"]}}}',
            "known maps phone",
        ),
    ],
)
def test_a_malformed_line_names_the_line(tmp_path: Path, line: str, problem: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(line + "\n", encoding="utf-8")

    with pytest.raises(EvalSetError, match=problem):
        load_cases(path)


def test_a_repeated_id_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "twice.jsonl"
    line = '{"id": "a", "lang": "zh", "text": "x", "expected": []}\n'
    path.write_text(line * 2, encoding="utf-8")

    with pytest.raises(EvalSetError, match=re.escape("twice.jsonl:2: id 'a' appears twice")):
        load_cases(path)
