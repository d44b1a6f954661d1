"""Words for what the timeline shows: one translated sentence per event kind."""

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
}

ACTOR_LABELS = {
    "buyer": _("buyer"),
    "seller": _("seller"),
    "agent": _("agent"),
    "system": _("system"),
}
