from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from reviewshield.policy.ruleset import SHIPPED_DIR

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command("policy", *args, stdout=out)
    return out.getvalue()


def deadlines(*extra: str) -> dict[str, object]:
    base = ["deadlines", "--ruleset", "taobao-2013", "--trade-success", "2026-09-25T10:00+08:00"]
    return json.loads(run(*base, *extra, "--json"))  # type: ignore[no-any-return]


def test_json_output_for_an_eligible_complaint() -> None:
    result = deadlines("--filed", "2026-09-30T15:00+08:00")

    assert result == {
        "ruleset": "taobao-2013",
        "eligible": True,
        "reason": None,
        "deadlines": {
            "filing_window_ends": "2026-10-10T10:00:00+08:00",
            "respond_by": "2026-10-03T15:00:00+08:00",
            "handle_by": "2026-10-11T00:00:00+08:00",
            "decide_by": "2026-10-14T00:00:00+08:00",
        },
        "provisional": [],
    }


def test_json_output_for_a_late_complaint_in_chinese() -> None:
    result = deadlines("--filed", "2026-10-10T02:01Z", "--lang", "zh-hans")

    assert result["eligible"] is False
    assert (
        result["reason"] == "15天的投诉期已于 2026-10-10 10:00（北京时间）结束。请联系客服小二协助发起投诉。"
    )


def test_json_output_flags_provisional_deadlines_and_uses_the_notification_time() -> None:
    result = deadlines(
        "--trade-success",
        "2026-12-20T10:00+08:00",
        "--filed",
        "2026-12-28T15:00+08:00",
        "--notified",
        "2026-12-29T09:00+08:00",
    )

    assert result["provisional"] == ["decide_by"]
    assert result["deadlines"]["respond_by"] == "2027-01-01T09:00:00+08:00"  # type: ignore[index]


def test_channel_and_status_options() -> None:
    assert deadlines("--filed", "2026-09-30T15:00+08:00", "--channel", "tmall")["reason"] == (
        "Complaints about Tmall orders are not handled under this ruleset."
    )
    assert deadlines("--filed", "2026-09-30T15:00+08:00", "--status", "shipped")["eligible"] is False


def test_the_table_is_readable() -> None:
    out = run(
        "deadlines",
        "--ruleset",
        "taobao-2013",
        "--trade-success",
        "2026-12-20T10:00+08:00",
        "--filed",
        "2026-12-28T15:00+08:00",
    )

    assert "Eligible  yes" in out
    assert "handle_by           2027-01-01 00:00\n" in out
    assert "decide_by           2027-01-05 00:00  provisional" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--ruleset", "taobao-1999", "--filed", "2026-09-30T15:00+08:00"], "taobao-1999: unknown ruleset"),
        (["--ruleset", "taobao-2013", "--filed", "yesterday"], "'yesterday' is not an ISO-8601 date-time"),
        (["--ruleset", "taobao-2013", "--filed", "2026-09-30T15:00"], "has no UTC offset"),
    ],
)
def test_bad_input_is_a_command_error(args: list[str], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        run("deadlines", "--trade-success", "2026-09-25T10:00+08:00", *args)


def test_rulesets_lists_id_platform_date_and_hash() -> None:
    out = run("rulesets")

    line = next(line for line in out.splitlines() if line.startswith("taobao-2021"))
    assert "taobao" in line and "2021-12-28T00:00:00+08:00" in line and "sha256:" in line
    assert len(out.splitlines()) == 5


def test_check_accepts_a_valid_file() -> None:
    assert run("check", str(SHIPPED_DIR / "jd-2023.toml")).startswith("ok: jd-2023 (sha256:")


def test_check_names_the_problem_in_a_broken_file(tmp_path: Path) -> None:
    path = tmp_path / "taobao-2013.toml"
    path.write_text((SHIPPED_DIR / "taobao-2013.toml").read_text().replace("amount = 72", "amount = -3"))

    with pytest.raises(
        CommandError,
        match=r"taobao-2013\.toml: windows\.respond\.amount: must be a positive integer \(got -3\)",
    ):
        run("check", str(path))
