"""`reviewshield policy …`: compute deadlines, list rulesets, validate a ruleset file.

    reviewshield policy deadlines --ruleset taobao-2021 --trade-success 2026-09-25T10:00+08:00 \
        --filed 2026-09-30T15:00+08:00 [--notified ISO] [--channel taobao] [--status trade_success] \
        [--assisted] [--json] [--lang en|zh-hans]
    reviewshield policy rulesets
    reviewshield policy check FILE.toml
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError

from reviewshield.policy import (
    BUSINESS_TZ,
    OrderFacts,
    RulesetError,
    WorkCalendar,
    assess_filing,
    load_ruleset,
    local_iso,
    reason_text,
)
from reviewshield.policystore.services import ruleset_registry, work_calendar


def _instant(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise CommandError(f"{value!r} is not an ISO-8601 date-time, e.g. 2026-09-25T10:00+08:00") from None
    if parsed.tzinfo is None:
        # A bare time is ambiguous between UTC storage and Beijing display; make the user say which.
        raise CommandError(f"{value!r} has no UTC offset; add one, e.g. +08:00 or Z")
    return parsed


class Command(BaseCommand):
    help = "Compute complaint deadlines, list the rulesets, or validate a ruleset file."
    # The command reports broken rulesets and provisional deadlines itself; the system checks would
    # refuse to run `policy check` on exactly the broken file it is meant to explain.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)

        deadlines = sub.add_parser(
            "deadlines", help="Judge eligibility and compute the deadlines of a complaint."
        )
        deadlines.add_argument("--ruleset", required=True, help="ruleset id, e.g. taobao-2021")
        deadlines.add_argument("--trade-success", required=True, help="ISO-8601 instant with offset")
        deadlines.add_argument("--filed", required=True, help="ISO-8601 instant with offset")
        deadlines.add_argument("--notified", help="when the seller was notified; default: the filing time")
        deadlines.add_argument("--channel", default="taobao")
        deadlines.add_argument("--status", default="trade_success")
        deadlines.add_argument(
            "--assisted", action="store_true", help="agent-issued link: skip the window check"
        )
        deadlines.add_argument("--json", action="store_true", help="print one JSON object")
        deadlines.add_argument("--lang", choices=["en", "zh-hans"], default="en")

        sub.add_parser("rulesets", help="List the known rulesets.")

        check = sub.add_parser("check", help="Validate a ruleset file.")
        check.add_argument("file", type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        try:
            if action == "deadlines":
                self._deadlines(options)
            elif action == "rulesets":
                self._rulesets()
            else:
                ruleset = load_ruleset(options["file"])
                self.stdout.write(f"ok: {ruleset.id} ({ruleset.content_hash})")
        except RulesetError as exc:
            raise CommandError(str(exc)) from None

    def _deadlines(self, options: dict[str, Any]) -> None:
        ruleset = ruleset_registry().get(options["ruleset"])
        filed_at = _instant(options["filed"])
        order = OrderFacts(
            channel=options["channel"],
            status=options["status"],
            trade_success_at=_instant(options["trade_success"]),
            paid_at=None,
        )
        notified_at = _instant(options["notified"]) if options["notified"] else filed_at
        assessment = assess_filing(
            ruleset,
            order,
            filed_at=filed_at,
            notified_at=notified_at,
            calendar=_calendar_or_official(self.stderr),
            assisted=options["assisted"],
        )
        reason = (
            reason_text(assessment.reason_code, assessment.reason_params, options["lang"])
            if assessment.reason_code
            else None
        )
        deadlines = {name: local_iso(result.at) for name, result in assessment.deadlines.items()}

        if options["json"]:
            payload = {
                "ruleset": ruleset.id,
                "eligible": assessment.eligible,
                "reason": reason,
                "deadlines": deadlines,
                "provisional": assessment.provisional,
            }
            self.stdout.write(json.dumps(payload, ensure_ascii=False))
            return

        self.stdout.write(f"Ruleset   {ruleset.id}  ({ruleset.content_hash[:19]}…)")
        self.stdout.write(f"Eligible  {'yes' if assessment.eligible else 'no'}")
        if reason:
            self.stdout.write(f"Reason    {reason}")
        width = max(len(name) for name in (*deadlines, "Deadline"))
        self.stdout.write("")
        self.stdout.write(f"{'Deadline':<{width}}  Local time (UTC+8)")
        for name, result in assessment.deadlines.items():
            at = result.at.astimezone(BUSINESS_TZ).strftime("%Y-%m-%d %H:%M")
            flag = "  provisional (no official calendar yet)" if result.provisional else ""
            self.stdout.write(f"{name:<{width}}  {at}{flag}")

    def _rulesets(self) -> None:
        rows = [
            (rs.id, rs.platform, local_iso(rs.effective_from), rs.applies_by, rs.content_hash)
            for rs in ruleset_registry().all()
        ]
        header = ("id", "platform", "effective_from", "applies_by", "content_hash")
        widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header) - 1)]
        for row in (header, *rows):
            cells = [cell.ljust(width) for cell, width in zip(row[:-1], widths, strict=True)]
            self.stdout.write("  ".join([*cells, row[-1]]))


def _calendar_or_official(stderr: Any) -> WorkCalendar:
    """The calendar with the admins' overrides; the official one alone where no database is set up yet.

    Policy owners check rulesets on machines that may never have run `migrate`.
    """
    try:
        return work_calendar()
    except DatabaseError:
        stderr.write("note: no database here, so holiday overrides are not applied (official calendar only).")
        return WorkCalendar()
