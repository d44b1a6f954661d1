"""Words for what the pages show: one translated sentence per event kind and per penalty measure."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

EVENT_LABELS = {
    "filed": _("Complaint filed; the seller was notified"),
    "answered_settlement": _("The seller proposed a settlement"),
    "answered_defence": _("The seller answered with an explanation"),
    "no_answer": _("The seller did not answer in time; the case went to the platform"),
    "settlement_accepted": _("The buyer accepted the settlement; the complaint is withdrawn"),
    "settlement_declined": _("The buyer declined the settlement; the platform will decide"),
    "settlement_lapsed": _("The settlement was not answered in time; the platform will decide"),
    "withdrawn": _("The buyer withdrew the complaint"),
    "assigned": _("An agent took the case"),
    "sla_breached": _("The platform's deadline passed; the case was escalated"),
    "decided": _("The platform decided"),
    "evidence_added": _("Evidence added"),
    "chat_cited": _("Chat evidence number cited"),
    "chat_permission_granted": _("Buyer let agents read 90 days of chat"),
    "chat_permission_revoked": _("Buyer took back the chat permission"),
    "chat_read": _("An agent read the chat under the buyer's permission"),
    "appeal_filed": _("An appeal against the decision was filed"),
    "appeal_decided": _("A senior agent decided the appeal"),
    "appeal_stale": _("The appeal was not decided in time; senior agents were alerted"),
    "forensics_requested": _("A phone export was sent for analysis"),
    "forensics_reported": _("The forensic report of the phone export is ready"),
    "forensics_failed": _("The phone export could not be read"),
}

# The audit events of a buyer-extortion report (`extortion.services`).
EXTORTION_EVENT_LABELS = {
    "filed": _("The seller reported the buyer for extortion"),
    "buyer_notified": _("The buyer was told and asked to answer"),
    "answered": _("The buyer answered"),
    "no_answer": _("The buyer did not answer in time; the report went to the platform"),
    "evidence_added": _("Evidence added"),
    "withdrawn": _("The seller withdrew the report"),
    "assigned": _("An agent took the report"),
    "sla_breached": _("The platform's deadline passed; the report was escalated"),
    "decided": _("The platform decided"),
    "review_marked": _("The review was marked as extortion: kept, folded and left out of the rating"),
}

# What each node-penalty measure (`policy.ruleset.MEASURES`) means for the seller.
MEASURE_LABELS = {
    "hidden": _("The shop is left out of search results"),
    "no_new_listings": _("No new items may be listed"),
    "listing_restricted": _("Listing new items is restricted"),
    "no_new_shop": _("No new shop may be opened"),
    "no_site_messages": _("No messages may be sent on the site"),
    "community_restricted": _("Community features are restricted"),
    "public_warning": _("A public warning is shown on the shop"),
    "closed": _("The shop is closed"),
    "sealed": _("The account is sealed"),
}

ACTOR_LABELS = {
    "buyer": _("buyer"),
    "seller": _("seller"),
    "agent": _("agent"),
    "system": _("system"),
}


def ruleset_label(ruleset_id: str) -> str:
    """A ruleset's name in the reader's language (淘宝骚扰他人规则（2021-12-28 起）), never its id.

    A ruleset file removed since still has a name: “the rules the case was judged by”.
    """
    from django.utils.translation import get_language

    from reviewshield.policy import UnknownRuleset
    from reviewshield.policystore.services import ruleset_registry

    try:
        title = ruleset_registry().get(ruleset_id).title
    except UnknownRuleset:
        return str(_("the rules in force when the case was filed"))
    lang = "zh-hans" if (get_language() or "").startswith("zh") else "en"
    return title.get(lang) or title["en"]
