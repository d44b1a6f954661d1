"""One length limit for each kind of free text a person writes, and the one check every service runs.

The forms take `maxlength` from the same table and the pages show the limit with a live counter
(`web/static/web/counter.js`). Nothing is ever cut: a text over its limit is refused with a sentence
naming the limit and the text's length, on the page and in the API alike.

Lengths count characters after the text is stripped and its line breaks are made `\\n` (a browser
sends `\\r\\n` but counts one character for it, and so does its `maxlength`).
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from reviewshield.errors import ValidationFailed

LIMITS: dict[str, int] = {
    "narrative": 5000,  # what happened: a complaint, an extortion report
    "answer": 5000,  # the seller's answer A/B; the buyer's answer to an extortion report
    "appeal_reasons": 5000,  # why a decision is wrong
    "decision_reasons": 5000,  # an agent's reasons: a complaint, an extortion report, an appeal
    "demand": 500,  # what the buyer demanded (an extortion report)
    "withdrawal_reason": 1000,  # why a complaint or an extortion report is withdrawn
    "assisted_reason": 1000,  # why an agent lets a buyer file outside the window
    "assisted_request": 1000,  # what a buyer past the window tells the agent they ask for help
    "agent_note": 2000,  # an agent's warning to a seller, a mute's reason, an alert's closing note
    "evidence_description": 500,  # what an evidence file shows
}


def normalised(value: str) -> str:
    """The text as it is counted and kept: stripped, line breaks as `\\n`."""
    return value.replace("\r\n", "\n").replace("\r", "\n").strip()


def too_long_message(text: str, count: int) -> str:
    return str(
        _("This text has %(count)d characters; at most %(max)d are allowed. Please shorten it.")
        % {"count": count, "max": LIMITS[text]}
    )


def text_check(value: str, *, text: str, field: str, errors: dict[str, str], required: Any = None) -> str:
    """`value` normalised; a problem noted in `errors[field]` if it is empty (and `required`, the
    sentence to say so) or longer than the limit of `text`."""
    value = normalised(value or "")
    if not value and required is not None:
        errors[field] = str(required)
    elif len(value) > LIMITS[text]:
        errors[field] = too_long_message(text, len(value))
    return value


def text_checked(value: str, *, text: str, field: str, required: Any = None) -> str:
    """`value` normalised, or ValidationFailed naming `field` when it is empty or too long."""
    errors: dict[str, str] = {}
    value = text_check(value, text=text, field=field, errors=errors, required=required)
    if errors:
        raise ValidationFailed(details=errors)
    return value
