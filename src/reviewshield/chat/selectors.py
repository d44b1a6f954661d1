"""Reads of the chat capability, always through who may see what.

A chat evidence number is seen by agents, by the buyer who made it, and by a seller of the
conversation's shop once it is cited in one of their complaints (the API masks the buyer's personal
data for them). Everyone else gets "not found". An agent reads a complaint's chat only while its
buyer's permission is in force.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from reviewshield.cases import access
from reviewshield.cases.models import Case, Side
from reviewshield.cases.selectors import case_get_for_user
from reviewshield.chat.digest import excerpt_sha256, lines_of
from reviewshield.chat.models import ChatCitation, ChatConversation, ChatEvidence, ChatMessage, ChatPermission
from reviewshield.errors import NotFound, PermissionDenied


def chat_evidence_viewer(evidence: ChatEvidence, user: Any) -> str | None:
    """The side from which `user` sees this number: agent, buyer, seller, or None (an outsider)."""
    if not user.is_authenticated:
        return None
    if access.is_agent(user):
        return Side.AGENT
    if evidence.buyer_id == user.pk:
        return Side.BUYER
    if _cited_against_seller(evidence, user):
        return Side.SELLER
    return None


def chat_evidence_side_for_user(user: Any, evidence_id: int) -> str:
    """The side from which `user` sees chat evidence `evidence_id`; NotFound for outsiders (no hint it exists)."""
    evidence = ChatEvidence.objects.select_related("conversation").filter(pk=evidence_id).first()
    viewer = chat_evidence_viewer(evidence, user) if evidence else None
    if viewer is None:
        raise NotFound()
    return viewer


def _cited_against_seller(evidence: ChatEvidence, user: Any) -> bool:
    # Until it is cited the stretch is the buyer's draft; once cited in a complaint against the
    # seller's shop, the seller may answer it.
    return bool(
        access.is_seller_of_shop(user, evidence.conversation.shop_id)
        and ChatCitation.objects.filter(
            evidence=evidence, case__shop_id=evidence.conversation.shop_id
        ).exists()
    )


@dataclass(frozen=True)
class Excerpt:
    evidence: ChatEvidence
    messages: list[ChatMessage]
    intact: bool  # the messages still hash to what was recorded when the number was made
    viewer: str


def chat_evidence_get_for_user(user: Any, number: str) -> Excerpt:
    """The number's messages from the platform's own log, and the side the user sees them from."""
    evidence = (
        ChatEvidence.objects.select_related("conversation__shop", "conversation__buyer", "buyer")
        .filter(number=number.strip().upper())
        .first()
    )
    viewer = chat_evidence_viewer(evidence, user) if evidence else None
    if evidence is None or viewer is None:
        raise NotFound()
    messages = list(evidence.messages.order_by("sent_at", "pk"))
    recomputed = excerpt_sha256(evidence.conversation.key, lines_of(messages))
    return Excerpt(evidence=evidence, messages=messages, intact=recomputed == evidence.sha256, viewer=viewer)


def chat_permission_current(case: Case) -> ChatPermission | None:
    return ChatPermission.objects.filter(case=case, revoked_at__isnull=True).first()


def chat_permissions_for_user(user: Any, case_id: int) -> tuple[Case, list[ChatPermission]]:
    """A complaint's permissions, newest first, for its buyer and agents (the seller has no need of them)."""
    case, side = case_get_for_user(user, case_id)
    if side == Side.SELLER:
        raise PermissionDenied(_("Only the buyer and the platform's agents can see this."))
    return case, list(ChatPermission.objects.filter(case=case).order_by("-granted_at", "-id"))


@dataclass(frozen=True)
class CaseChat:
    case: Case
    permission: ChatPermission
    start: datetime
    end: datetime
    messages: QuerySet[ChatMessage]


def case_chat_for_agent(user: Any, case_id: int) -> CaseChat:
    """The chat between the case's buyer and shop that the buyer's permission opens, oldest first.

    Only conversations of this buyer with this shop (none with the seller's other shops), only
    messages sent in the permission's window (`ChatPermission.window`).
    """
    case, side = case_get_for_user(user, case_id)
    if side != Side.AGENT:
        raise PermissionDenied(_("Only the platform's agents can read a complaint's chat."))
    permission = chat_permission_current(case)
    if permission is None:
        raise PermissionDenied(
            _(
                "The buyer has not allowed agents to read their chat for this complaint, or has taken "
                "the permission back."
            ),
            details={"reason": "no_chat_permission"},
        )
    start, end = permission.window
    messages = (
        ChatMessage.objects.filter(
            conversation__buyer_id=case.buyer_id,
            conversation__shop_id=case.shop_id,
            sent_at__gte=start,
            sent_at__lte=end,
        )
        .select_related("conversation")
        .order_by("sent_at", "pk")
    )
    return CaseChat(case=case, permission=permission, start=start, end=end, messages=messages)


def case_conversations(case: Case, *, limit: int = 300) -> list[tuple[ChatConversation, list[ChatMessage]]]:
    """The buyer's conversations with the case's shop and their latest messages, oldest first
    (what the buyer picks a stretch from)."""
    result = []
    for conversation in ChatConversation.objects.filter(
        buyer_id=case.buyer_id, shop_id=case.shop_id
    ).order_by("-created_at", "-pk"):
        latest = list(conversation.messages.order_by("-sent_at", "-pk")[:limit])
        result.append((conversation, latest[::-1]))
    return result


def case_citations(case: Case) -> list[Excerpt]:
    """The chat evidence numbers cited in this case with their messages from the platform's log."""
    out = []
    for citation in (
        ChatCitation.objects.filter(case=case).select_related("evidence__conversation").order_by("at", "pk")
    ):
        evidence = citation.evidence
        messages = list(evidence.messages.order_by("sent_at", "pk"))
        intact = excerpt_sha256(evidence.conversation.key, lines_of(messages)) == evidence.sha256
        out.append(Excerpt(evidence=evidence, messages=messages, intact=intact, viewer=citation.side))
    return out
