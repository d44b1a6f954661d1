"""The lexicon files load, every entry's example is caught, and a broken file says what is wrong."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from reviewshield.screening import CATEGORIES, LexiconError, load
from reviewshield.screening.lexicon import LEXICAL_CATEGORIES, SHIPPED_DIR, pinyin_spellings
from reviewshield.screening.normalize import normalize


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A copy of the shipped lexicons that a test may break."""
    target = tmp_path / "lexicons"
    shutil.copytree(SHIPPED_DIR, target)
    return target


def edit(folder: Path, name: str, old: str, new: str) -> None:
    path = folder / name
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} is not in {name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_the_shipped_lexicon_loads_with_a_version_a_hash_and_every_category() -> None:
    lexicon = load()

    assert lexicon.version
    assert lexicon.content_hash.startswith("sha256:") and len(lexicon.content_hash) == 71
    assert {e.category for e in lexicon.entries} >= set(LEXICAL_CATEGORIES)
    assert set(lexicon.thresholds) == set(CATEGORIES)
    assert {e.lang for e in lexicon.entries} >= {"zh", "en"}


def test_every_entry_has_an_example_that_contains_one_of_its_terms() -> None:
    for entry in load().entries:
        example = normalize(entry.example)
        assert any(normalize(term) in example for term in entry.terms) or entry.pinyin, entry.id


def test_pinyin_spellings_cover_whole_and_mixed_forms() -> None:
    spellings = pinyin_spellings("弄死你")

    assert "nongsini" in spellings
    assert "弄si你" in spellings and "nong死你" in spellings
    assert pinyin_spellings("kill") == []


def test_changing_a_file_changes_the_content_hash(folder: Path) -> None:
    before = load(folder)
    edit(folder, "insult.toml", '"脑残", ', '"脑残", "二货", ')

    after = load(folder)

    assert after.content_hash != before.content_hash
    assert "二货" in after.entry("insult/mid-zh").terms


@pytest.mark.parametrize(
    ("name", "old", "new", "message"),
    [
        (
            "threat.toml",
            'category = "threat"',
            'category = "threat"\nwieght = 1',
            "threat.toml: wieght: unknown key",
        ),
        (
            "threat.toml",
            'id = "kill-zh"',
            'id = "kill-zh"\nwieght = 0.5',
            "threat.toml: entries[0].wieght: unknown key",
        ),
        (
            "threat.toml",
            "weight = 0.9",
            "weight = 1.5",
            "threat.toml: entries[0].weight: must be a number from 0 to 1 (got 1.5)",
        ),
        (
            "threat.toml",
            "weight = 0.9",
            "weight = true",
            "entries[0].weight: must be a number from 0 to 1 (got True)",
        ),
        (
            "threat.toml",
            "weight = 0.55\nweight_calm = 0.0",
            "weight = 0.2\nweight_calm = 0.5",
            "weight_calm: must not exceed weight",
        ),
        (
            "threat.toml",
            'id = "injure-zh"',
            'id = "kill-zh"',
            "entries[1].id: 'threat/kill-zh' is defined twice",
        ),
        ("threat.toml", 'id = "kill-zh"', 'id = "Kill Zh"', "entries[0].id: must be lowercase letters"),
        (
            "threat.toml",
            'example = "再不删评我弄死你"',
            'example = "你好"',
            "entries[0].example: '你好' contains none of the entry's terms",
        ),
        (
            "threat.toml",
            '"弄死你", "杀了你"',
            '"！！", "杀了你"',
            "entries[0].terms: '！！' is only spaces, punctuation or symbols",
        ),
        (
            "threat.toml",
            'category = "threat"',
            'category = "insult"',
            "category: must match the file name 'threat'",
        ),
        (
            "threat.toml",
            'category = "threat"',
            'category = "rudeness"',
            "category: must be one of threat, doxxing",
        ),
        ("threat.toml", 'category = "threat"', 'category = "threat"\n[[entries', "is not valid TOML"),
        (
            "cues.toml",
            'cues = ["review_ref"]',
            "cues = []",
            "cues.toml: entries[0].cues: must be a non-empty list of strings",
        ),
        (
            "rules.toml",
            'cues = ["review_ref", "review_act", "pay"]',
            'cues = ["review_ref", "revew_act"]',
            "rules[0].cues: 'revew_act' is given by no entry",
        ),
        ("rules.toml", 'unless = ["courier"]', 'unless = ["curier"]', "'curier' is given by no entry"),
        ("rules.toml", 'version = "', 'version = 3\nold = "', "rules.toml: old: unknown key"),
        (
            "rules.toml",
            "review_window_days = 7",
            "review_window_days = 0",
            "context.review_window_days: must be a positive integer (got 0)",
        ),
        (
            "rules.toml",
            'late_night_from = "22:00"',
            'late_night_from = "late"',
            "context.late_night_from: must be a time of day",
        ),
        (
            "rules.toml",
            "threat = { warn = 0.35, hold = 0.6, block = 0.85 }",
            "threat = { warn = 0.7, hold = 0.6, block = 0.85 }",
            "thresholds.threat: must rise",
        ),
        (
            "rules.toml",
            'at_least = { cue = "menace_word", terms = 2 }',
            'at_least = { cue = "money", terms = 2 }',
            "at_least.cue: 'money' must be one of the rule's cues",
        ),
        (
            "rules.toml",
            'example = "删差评给你返20"',
            'example = "删差评"',
            "rules[0].example: '删差评' lacks the cue(s) pay",
        ),
        (
            "rules.toml",
            'common_cues = ["review_ref",',
            'common_cues = ["reviews",',
            "common_cues: 'reviews' is given by no entry",
        ),
        (
            "rules.toml",
            'common_cues = ["review_ref",',
            'common_cues = ["review_act", "pay", "review_ref",',
            "rules[0].cues: all its cues are in common_cues, so no message would ever be looked at for it",
        ),
    ],
)
def test_a_broken_file_is_refused_naming_file_key_and_problem(
    folder: Path, name: str, old: str, new: str, message: str
) -> None:
    edit(folder, name, old, new)

    with pytest.raises(LexiconError) as caught:
        load(folder)

    assert message in str(caught.value)


def test_an_address_shape_alone_is_refused_as_a_rule(folder: Path) -> None:
    # given a rule that would call every return address doxxing
    (folder / "rules.toml").write_text(
        (folder / "rules.toml").read_text(encoding="utf-8")
        + '\n[[rules]]\nid = "any-address"\ncategory = "doxxing"\ncues = ["shape:address"]\nweight = 0.5\nexample = "x"\n',
        encoding="utf-8",
    )

    with pytest.raises(LexiconError, match="shape:address needs a word cue too"):
        load(folder)


def test_a_folder_without_rules_or_that_does_not_exist_is_refused(folder: Path, tmp_path: Path) -> None:
    (folder / "rules.toml").unlink()

    with pytest.raises(LexiconError, match=r"has no rules\.toml"):
        load(folder)
    with pytest.raises(LexiconError, match="is not a folder of lexicon files"):
        load(tmp_path / "missing")
