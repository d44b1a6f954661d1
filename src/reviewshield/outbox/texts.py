"""What an in-app notification says, and where it leads, in the reader's language.

A notification row keeps a kind and plain parameters (ids, references, times, counts — never a
buyer's personal data, see `services.notify`); the sentence is written when it is shown, so the
portal and the API speak the language of whoever reads it, and a change of wording reaches old rows
too. A kind this module does not know still gets a sentence (with its case, if any).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from reviewshield.accounts.models import Role
from reviewshield.localtime import format_local

Params = Mapping[str, Any]


def _when(value: Any) -> str:
    """A stored ISO time as the pages show times; what cannot be read is shown as it is."""
    try:
        return format_local(datetime.fromisoformat(str(value)))
    except ValueError:
        return str(value)


def _case(case: str | None) -> str:
    return case or _("a complaint")


def _case_decided(p: Params, case: str | None) -> str:
    if p.get("outcome") == "uphold":
        return _("The platform upheld complaint %(case)s.") % {"case": _case(case)}
    return _("The platform rejected complaint %(case)s.") % {"case": _case(case)}


def _appeal_decided(p: Params, case: str | None) -> str:
    outcome = p.get("outcome")
    if outcome == "overturned":
        return _("The appeal on complaint %(case)s was decided: the decision was overturned.") % {
            "case": _case(case)
        }
    if outcome == "tier_changed":
        return _("The appeal on complaint %(case)s was decided: the severity was changed.") % {
            "case": _case(case)
        }
    return _("The appeal on complaint %(case)s was decided: the decision stands.") % {"case": _case(case)}


def _extortion_decided(p: Params, case: str | None) -> str:
    if p.get("outcome") == "uphold":
        return _("The platform upheld extortion report %(report)s.") % {"report": p.get("report", "")}
    return _("The platform rejected extortion report %(report)s.") % {"report": p.get("report", "")}


def _sanctions_changed(p: Params, case: str | None) -> str:
    applied, lifted = int(p.get("applied") or 0), int(p.get("lifted") or 0)
    parts = []
    if applied:
        parts.append(ngettext("%(n)d penalty applied", "%(n)d penalties applied", applied) % {"n": applied})
    if lifted:
        parts.append(ngettext("%(n)d penalty lifted", "%(n)d penalties lifted", lifted) % {"n": lifted})
    return _("Your shop's penalties changed: %(what)s.") % {"what": _(", ").join(parts) or _("see the shop")}


def _forensics(p: Params, case: str | None) -> str:
    n = int(p.get("findings") or 0)
    return ngettext(
        "Your phone export for complaint %(case)s was analysed: %(n)d finding.",
        "Your phone export for complaint %(case)s was analysed: %(n)d findings.",
        n,
    ) % {"case": _case(case), "n": n}


# kind -> the sentence, from the notification's parameters and its case's reference.
_TEXTS: dict[str, Callable[[Params, str | None], str]] = {
    "case.filed": lambda p, c: (
        _("A buyer filed harassment complaint %(case)s against your shop. Answer by %(by)s.")
        % {"case": _case(c), "by": _when(p.get("respond_by", ""))}
    ),
    "case.answered_settlement": lambda p, c: (
        _("The seller proposed a settlement on complaint %(case)s. Accept or decline it.")
        % {"case": _case(c)}
    ),
    "case.answered_defence": lambda p, c: (
        _("The seller answered complaint %(case)s with an explanation; the platform will decide.")
        % {"case": _case(c)}
    ),
    "case.settlement_accepted": lambda p, c: (
        _("The buyer accepted your settlement on complaint %(case)s; the complaint is withdrawn.")
        % {"case": _case(c)}
    ),
    "case.settlement_declined": lambda p, c: (
        _("The buyer declined your settlement on complaint %(case)s; the platform will decide.")
        % {"case": _case(c)}
    ),
    "case.settlement_lapsed": lambda p, c: (
        _("The settlement on complaint %(case)s was not answered in time; the platform will decide.")
        % {"case": _case(c)}
    ),
    "case.withdrawn": lambda p, c: _("The buyer withdrew complaint %(case)s.") % {"case": _case(c)},
    "case.no_answer": lambda p, c: (
        _("The seller did not answer complaint %(case)s in time; the platform will decide.")
        % {"case": _case(c)}
    ),
    "case.decided": _case_decided,
    "case.forensics_reported": _forensics,
    "assisted_link.issued": lambda p, c: (
        _("An agent opened a filing link for one of your orders. File your complaint by %(by)s.")
        % {"by": _when(p.get("expires_at", ""))}
    ),
    "appeal.filed": lambda p, c: (
        _("An appeal was filed against the decision on complaint %(case)s.") % {"case": _case(c)}
    ),
    "appeal.decided": _appeal_decided,
    "appeal.stale": lambda p, c: (
        _("The appeal on complaint %(case)s was not decided in time.") % {"case": _case(c)}
    ),
    "shop.blacklist_changed": lambda p, c: _("Your shop's place on the seller credit blacklist changed."),
    "shop.sanctions_changed": _sanctions_changed,
    "alert.seller_warned": lambda p, c: (
        _("The platform warned you about your chat messages to a buyer (alert %(alert)s): %(message)s")
        % {"alert": p.get("alert", ""), "message": p.get("message") or _("no further words.")}
    ),
    "alert.chat_muted": lambda p, c: (
        _(
            "The platform muted your shop's chat to a buyer (alert %(alert)s); your messages to them are blocked."
        )
        % {"alert": p.get("alert", "")}
    ),
    "alert.consent_requested": lambda p, c: _(
        "We stopped messages from a seller that may harass you. Do you want a complaint opened for you?"
    ),
    "extortion.filed": lambda p, c: (
        _("A seller reported you for extortion (report %(report)s). Answer by %(by)s.")
        % {"report": p.get("report", ""), "by": _when(p.get("answer_by", ""))}
    ),
    "extortion.answered": lambda p, c: (
        _("The buyer answered your extortion report %(report)s.") % {"report": p.get("report", "")}
    ),
    "extortion.withdrawn": lambda p, c: (
        _("The seller withdrew extortion report %(report)s.") % {"report": p.get("report", "")}
    ),
    "extortion.no_answer": lambda p, c: (
        _("The buyer did not answer extortion report %(report)s in time; the platform will decide.")
        % {"report": p.get("report", "")}
    ),
    "extortion.decided": _extortion_decided,
}


def notification_text(kind: str, params: Params | None, case_reference: str | None) -> str:
    """The notification as one sentence in the active language."""
    params = params or {}
    text = _TEXTS.get(kind)
    if text is not None:
        try:
            return text(params, case_reference)
        except (TypeError, ValueError):  # parameters of an older shape: say what we can
            pass
    if case_reference:
        return _("There is news on complaint %(case)s.") % {"case": case_reference}
    return _("There is news for you.")


def notification_link(
    kind: str, params: Params | None, *, case_id: int | None, role: str, is_agent: bool
) -> str | None:
    """The page a notification leads its recipient to, or None when there is none for them."""
    params = params or {}
    path = params.get("path")
    if kind in ("assisted_link.issued", "alert.consent_requested") and isinstance(path, str):
        return path if path.startswith("/") and not path.startswith("//") else None
    if kind.startswith("shop.") and role == Role.SELLER and params.get("shop"):
        return reverse("web:seller_sanctions", args=[int(params["shop"])])
    if kind.startswith("extortion."):
        if role == Role.SELLER:
            return reverse("web:seller_extortion")
        if role == Role.BUYER:
            return reverse("web:buyer_extortion")
        return reverse("web:agent_extortion") if is_agent else None
    if case_id is None:
        return None
    if role == Role.BUYER:
        return reverse("web:case", args=[case_id])
    if role == Role.SELLER:
        return reverse("web:seller_case", args=[case_id])
    if kind.startswith("appeal.") and is_agent:
        return reverse("web:agent_appeals")
    return reverse("web:agent_case", args=[case_id]) if is_agent else None
