from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from reviewshield.policy import (
    BUSINESS_TZ,
    REQUIRED_WINDOWS,
    RulesetError,
    RulesetRegistry,
    UnknownRuleset,
    Window,
    load_ruleset,
)
from reviewshield.policy.ruleset import SHIPPED_DIR

VALID = (SHIPPED_DIR / "taobao-2013.toml").read_text(encoding="utf-8")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / f"{name}.toml"
    path.write_text(text.replace('id = "taobao-2013"', f'id = "{name}"'), encoding="utf-8")
    return path


def test_every_shipped_ruleset_loads_with_all_required_windows() -> None:
    registry = RulesetRegistry.load()

    assert {rs.id for rs in registry.all()} == {"taobao-2013", "taobao-2021", "tmall-2020", "jd-2023"}
    for ruleset in registry.all():
        assert set(REQUIRED_WINDOWS) <= set(ruleset.windows)
        assert ruleset.effective_from.tzinfo is not None
        assert ruleset.title["zh-hans"] and ruleset.title["en"]


def test_taobao_2013_holds_the_seed_numbers() -> None:
    rs = RulesetRegistry.load().get("taobao-2013")

    assert rs.excluded_channels == ("tmall",)
    assert rs.required_order_status == "trade_success"
    assert rs.windows["filing"] == Window("calendar", 15, "days")
    assert rs.windows["respond"] == Window("calendar", 72, "hours")
    assert rs.windows["handle"] == Window("working_days", 3, "days")
    assert rs.windows["decide"] == Window("working_days", 5, "days")
    assert [(t.tier, t.points, t.points_class) for t in rs.tiers.values()] == [
        ("ordinary", 12, "A"),
        ("serious", 48, "B"),
    ]


def test_later_rulesets_hold_their_numbers() -> None:
    registry = RulesetRegistry.load()
    taobao, tmall, jd = registry.get("taobao-2021"), registry.get("tmall-2020"), registry.get("jd-2023")

    assert list(taobao.tiers) == ["ordinary", "serious", "especially_serious"]
    assert [(t.points, t.points_class, t.money_to_buyer) for t in taobao.tiers.values()] == [
        (2, "A", Decimal(300)),
        (12, "A", Decimal(300)),
        (48, "B", Decimal(0)),
    ]
    assert tmall.applies_by == "paid_at"
    ordinary = tmall.tiers["ordinary"]
    assert (ordinary.money_to_buyer, ordinary.extra_points_from_nth_case, ordinary.extra_points) == (
        Decimal(1000),
        3,
        12,
    )
    assert ordinary.extra_points_class == "A"
    assert tmall.tiers["serious"].points == 48
    assert jd.windows["respond"] == Window("calendar", 48, "hours")
    assert jd.windows["evidence"].kind == "working_hours"
    assert jd.windows["appeal"].amount == 7
    assert jd.contract_end_points == 100


def test_content_hash_is_the_sha256_of_the_file_bytes() -> None:
    path = SHIPPED_DIR / "taobao-2021.toml"

    assert load_ruleset(path).content_hash == "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize(
    ("platform", "filed", "paid", "expected"),
    [
        ("taobao", "2026-10-01T10:00+08:00", None, "taobao-2021"),
        ("taobao", "2021-12-28T00:00+08:00", None, "taobao-2021"),  # the first instant counts
        ("taobao", "2021-12-27T23:59+08:00", None, "taobao-2013"),
        ("taobao", "2015-06-01T10:00+08:00", None, "taobao-2013"),
        # Tmall chooses by payment time: paid before 2020-05-06 means no Tmall ruleset applies, see below.
        ("tmall", "2020-05-10T10:00+08:00", "2020-05-06T00:00+08:00", "tmall-2020"),
        ("jd", "2026-01-01T00:00Z", None, "jd-2023"),
    ],
)
def test_in_force_picks_the_latest_version_started_by_the_named_instant(
    platform: str, filed: str, paid: str | None, expected: str
) -> None:
    registry = RulesetRegistry.load()

    chosen = registry.in_force(platform=platform, filed_at=at(filed), paid_at=at(paid) if paid else None)

    assert chosen.id == expected


def test_in_force_for_a_paid_at_ruleset_looks_at_the_payment_not_the_filing() -> None:
    registry = RulesetRegistry.load()

    with pytest.raises(UnknownRuleset, match="tmall"):
        registry.in_force(
            platform="tmall", filed_at=at("2020-05-10T10:00+08:00"), paid_at=at("2020-05-05T23:59+08:00")
        )


def test_get_of_an_unknown_id_is_a_key_error_naming_the_id() -> None:
    with pytest.raises(KeyError) as info:
        RulesetRegistry.load().get("taobao-1999")

    assert isinstance(info.value, RulesetError)
    assert "taobao-1999" in str(info.value) and "unknown ruleset" in str(info.value)


def test_extra_folders_add_rulesets(tmp_path: Path) -> None:
    write(tmp_path, "taobao-2030", VALID.replace("2013-01-01T00:00:00+08:00", "2030-01-01"))

    registry = RulesetRegistry.load([tmp_path])

    extra = registry.get("taobao-2030")
    assert extra.effective_from == datetime(2030, 1, 1, tzinfo=BUSINESS_TZ)  # a bare date is Beijing midnight
    assert registry.in_force(platform="taobao", filed_at=at("2030-01-01T00:00+08:00"), paid_at=None) is extra


def test_two_files_with_the_same_id_are_refused(tmp_path: Path) -> None:
    (tmp_path / "taobao-2013.toml").write_text(VALID, encoding="utf-8")

    with pytest.raises(RulesetError, match="already defined"):
        RulesetRegistry.load([tmp_path])


def test_two_versions_of_a_platform_starting_together_are_refused(tmp_path: Path) -> None:
    write(tmp_path, "taobao-copy", VALID)

    with pytest.raises(RulesetError, match=r"taobao-copy\.toml: effective_from: same as 'taobao-2013'"):
        RulesetRegistry.load([tmp_path])


def _drop_table(text: str, header: str) -> str:
    start = text.index(header)
    end = text.index("\n[", start + 1)
    return text[:start] + text[end + 1 :]


BROKEN = [
    # (what, edit, key, problem)
    ("missing window", lambda t: _drop_table(t, "[windows.decide]"), "windows.decide", "missing"),
    (
        "negative amount",
        lambda t: t.replace("amount = 72", "amount = -3"),
        "windows.respond.amount",
        "must be a positive integer (got -3)",
    ),
    (
        "zero amount",
        lambda t: t.replace("amount = 72", "amount = 0"),
        "windows.respond.amount",
        "positive integer",
    ),
    (
        "boolean amount",
        lambda t: t.replace("amount = 72", "amount = true"),
        "windows.respond.amount",
        "positive integer",
    ),
    (
        "unknown kind",
        lambda t: t.replace('kind = "working_days"\namount = 3', 'kind = "business_days"\namount = 3'),
        "windows.handle.kind",
        "must be one of calendar, working_days, working_hours (got 'business_days')",
    ),
    (
        "bad date",
        lambda t: t.replace("2013-01-01T00:00:00+08:00", '"2013-13-01"'),
        "effective_from",
        "must be a date or an offset date-time (got '2013-13-01')",
    ),
    (
        "naive date-time",
        lambda t: t.replace("2013-01-01T00:00:00+08:00", "2013-01-01T00:00:00"),
        "effective_from",
        "must carry a UTC offset",
    ),
    (
        "unknown tier",
        lambda t: t.replace("[tiers.serious]", "[tiers.severe]"),
        "tiers.severe",
        "unknown key",
    ),
    (
        "unknown window",
        lambda t: t.replace("[windows.review]", "[windows.reveiw]"),
        "windows.reveiw",
        "unknown key",
    ),
    (
        "misspelt key",
        lambda t: t.replace("amount = 15\nunit", "ammount = 15\nunit", 1),
        "windows.filing.ammount",
        "unknown key",
    ),
    (
        "bad class",
        lambda t: t.replace('points_class = "B"', 'points_class = "C"'),
        "tiers.serious.points_class",
        "one of A, B",
    ),
    (
        "negative points",
        lambda t: t.replace("points = 48", "points = -48"),
        "tiers.serious.points",
        "integer >= 0",
    ),
    (
        "unit on working days",
        lambda t: t.replace("amount = 3\n", 'amount = 3\nunit = "hours"\n', 1),
        "windows.handle.unit",
        "counts in days",
    ),
    (
        "calendar without unit",
        lambda t: t.replace('amount = 72\nunit = "hours"', "amount = 72"),
        "windows.respond.unit",
        "missing",
    ),
    (
        "bad applies_by",
        lambda t: t.replace('applies_by = "filed_at"', 'applies_by = "shipped_at"'),
        "applies_by",
        "one of filed_at, paid_at",
    ),
    (
        "float money",
        lambda t: t.replace("[tiers.serious]", "[tiers.serious]\nmoney_to_buyer = 0.1", 1),
        "tiers.serious.money_to_buyer",
        "amount in yuan",
    ),
    (
        "node without measures",
        lambda t: t.replace(
            'measures = ["sealed", "closed", "no_new_shop", "no_site_messages", "community_restricted", "public_warning"]',
            "measures = []",
            1,
        ),
        "sanctions.nodes[3].measures",
        "non-empty list",
    ),
    (
        "node with at and every",
        lambda t: t.replace("every = 12", "every = 12\nat = 12", 1),
        "sanctions.nodes[4]",
        "exactly one of at",
    ),
    (
        "unknown measure",
        lambda t: t.replace('"sealed",', '"jailed",', 1),
        "sanctions.nodes[3].measures",
        "non-empty list",
    ),
    (
        "missing title",
        lambda t: t.replace('en = "Taobao harassment rule (2013 seed version)"\n', ""),
        "title.en",
        "missing",
    ),
    (
        "id not the file name",
        lambda t: t.replace('id = "taobao-2013"', 'id = "taobao-2099"'),
        "id",
        "must match the file name",
    ),
    ("missing ordinary tier", lambda t: _drop_table(t, "[tiers.ordinary]"), "tiers.ordinary", "missing"),
]


@pytest.mark.parametrize(("edit", "key", "problem"), [b[1:] for b in BROKEN], ids=[b[0] for b in BROKEN])
def test_a_broken_ruleset_names_file_key_and_problem(
    tmp_path: Path, edit: Callable[[str], str], key: str, problem: str
) -> None:
    path = write(tmp_path, "broken", edit(VALID))

    with pytest.raises(RulesetError) as info:
        load_ruleset(path)

    assert (info.value.file, info.value.key) == ("broken.toml", key)
    assert problem in info.value.problem
    assert str(info.value).startswith(f"broken.toml: {key}: ")


def test_invalid_toml_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "syntax.toml"
    path.write_text("id = \n", encoding="utf-8")

    with pytest.raises(RulesetError, match=r"^syntax\.toml: is not valid TOML"):
        load_ruleset(path)


def test_working_hours_window_reads_its_day(tmp_path: Path) -> None:
    text = (
        VALID
        + '\n[windows.evidence]\nkind = "working_hours"\namount = 4\nday_start = "08:30"\nday_end = 17:30:00\n'
    )
    path = write(tmp_path, "hours", text)

    window = load_ruleset(path).windows["evidence"]

    assert (window.unit, window.day_start.isoformat(), window.day_end.isoformat()) == (
        "hours",
        "08:30:00",
        "17:30:00",
    )


def test_working_hours_day_must_end_after_it_starts(tmp_path: Path) -> None:
    text = (
        VALID
        + '\n[windows.evidence]\nkind = "working_hours"\namount = 4\nday_start = 18:00:00\nday_end = 09:00:00\n'
    )

    with pytest.raises(RulesetError, match=r"windows\.evidence\.day_end: must be later than day_start"):
        load_ruleset(write(tmp_path, "hours", text))
