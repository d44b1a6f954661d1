"""The words people read for screening categories, circumstances and verdict reasons, in their language."""

from __future__ import annotations

from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from reviewshield.screening import Reason, reason_text

CATEGORY_LABELS = {
    "threat": _("Threat"),
    "doxxing": _("Doxxing"),
    "funeral": _("Funeral items or curses"),
    "insult": _("Insult or curse"),
    "review_pressure": _("Review pressure"),
    "spam": _("Flooding"),
    "sms_bombing": _("Verification-code SMS bombing"),
    "call_flood": _("Call flood"),
    "late_night": _("Repeated late-night contact"),
}
FACTOR_LABELS = {
    "after_review": _("after the buyer's bad review"),
    "late_night": _("late at night"),
    "open_complaint": _("while a complaint is open"),
    "repeated": _("repeated"),
}
MUTED_TEXT = _("Blocked: an agent has muted this seller's chat to this buyer.")


def category_label(code: str) -> str:
    return str(CATEGORY_LABELS.get(code, code))


def categories_out(codes: list[str]) -> list[dict[str, str]]:
    return [{"code": c, "label": category_label(c)} for c in codes]


def reason_for(code: str, params: dict[str, str]) -> str:
    """A stored or fresh verdict's reason, in the current request's language."""
    if code == "muted":
        return str(MUTED_TEXT)
    return reason_text(Reason(code, params), get_language() or "en")


EVENT_LABELS = {
    "raised": _("Alert raised"),
    "messages_added": _("More messages held"),
    "seller_warned": _("Seller warned"),
    "chat_muted": _("Chat muted"),
    "chat_unmuted": _("Mute lifted"),
    "consent_requested": _("Buyer asked"),
    "consent_declined": _("Buyer declined"),
    "complaint_opened": _("Complaint opened"),
    "closed": _("Closed"),
    "forensic_finding": _("Forensic finding"),
}


def event_label(kind: str) -> str:
    return str(EVENT_LABELS.get(kind, kind))
