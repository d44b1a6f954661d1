"""Business-time helpers at the edges: instants are stored in UTC and shown in Asia/Shanghai."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

BUSINESS_TZ = ZoneInfo("Asia/Shanghai")


def to_local(at: datetime) -> datetime:
    return at.astimezone(BUSINESS_TZ)


def format_local(at: datetime) -> str:
    """`2026-10-10 10:00 (UTC+8)` — unambiguous in both languages."""
    return to_local(at).strftime("%Y-%m-%d %H:%M") + " (UTC+8)"


def iso_local(at: datetime) -> str:
    return to_local(at).isoformat(timespec="seconds")
