"""One record of a phone export — an SMS or a call — and the few facts about numbers the analysis needs.

PURE: no Django, no clock. A `Record` is a NamedTuple: a 1,000,000-record export builds a million
of them, and a named tuple costs a third of a frozen dataclass to make.
"""

from __future__ import annotations

import re
from typing import Final, NamedTuple

SMS: Final = "sms"
CALL: Final = "call"
KINDS: Final = (SMS, CALL)

IN: Final = "in"
OUT: Final = "out"

# Call types, named after Android's CallLog.Calls.TYPE values that SMS Backup & Restore writes
# (1 incoming, 2 outgoing, 3 missed, 4 voicemail, 5 rejected, 6 blocked). An SMS has "".
CALL_TYPES: Final = ("incoming", "outgoing", "missed", "voicemail", "rejected", "blocked", "other")
UNWANTED_CALL_TYPES: Final = frozenset({"rejected", "blocked"})  # the buyer turned it away


class Record(NamedTuple):
    """An SMS or call as the phone recorded it.

    `at_ms` is the instant in milliseconds since the epoch (UTC); `direction` is "in" (received,
    or a call that came in — answered, missed, rejected …) or "out"; `contact` is the name in the
    buyer's address book, "" when the number is not in it.
    """

    kind: str
    at_ms: int
    number: str
    direction: str
    call_type: str
    duration_s: int
    body: str
    contact: str


_UNKNOWN_CONTACTS: Final = frozenset({"", "(unknown)", "null", "unknown", "(未知)", "未知"})
_NOT_DIGITS = re.compile(r"[^0-9]")


def contact_or_blank(name: str | None) -> str:
    """The contact name, or "" when the export marks the number as not in the address book."""
    if name is None:
        return ""
    stripped = name.strip()
    return "" if stripped.lower() in _UNKNOWN_CONTACTS else stripped


def number_key(number: str) -> str:
    """The number as the analysis groups it: digits only, China's +86 / 0086 prefix dropped.

    "+86 138-0013-8000", "008613800138000" and "13800138000" are one sender; a short code such as
    "1069 0000 1234" stays itself; a sender with no digits (an alphanumeric sender id) keeps its text.
    """
    digits = _NOT_DIGITS.sub("", number)
    if not digits:
        return number.strip().lower()
    if digits.startswith("0086") and len(digits) > 4:
        return digits[4:]
    if digits.startswith("86") and len(digits) == 13:
        return digits[2:]
    return digits
