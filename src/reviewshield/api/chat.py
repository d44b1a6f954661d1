"""Chat endpoints: the marketplace pushes its chat; buyers make chat evidence numbers (举证号); either
side of a complaint cites them; the buyer lets agents read the last 90 days of chat, and revokes it.

Thin: parse, call one service or selector, render. A seller reads a number's messages with the
buyer's name, phone, address and ID numbers masked (`_excerpt_out`), and never the buyer's username.
"""

from __future__ import annotations

from typing import Any, Literal

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status

from reviewshield.accounts.models import Role
from reviewshield.api.bounds import BatchInstant, Id, PageNumber, PageSize
from reviewshield.api.core import ErrorOut, paginate, require_roles
from reviewshield.cases.models import Side
from reviewshield.chat import selectors, services
from reviewshield.chat.models import ChatPermission
from reviewshield.errors import ValidationFailed
from reviewshield.limits.edges import limit_request
from reviewshield.localtime import iso_local
from reviewshield.privacy.selectors import mask_for_seller

router = Router(tags=["chat"])
MAX_PUSH = 1000  # messages per push, and conversations per push
ERRORS: dict[int, Any] = {s: ErrorOut for s in (401, 403, 404, 409, 422, 429)}


# --- the marketplace pushes its chat -------------------------------------------------------------


class MessageIn(Schema):
    message_id: str
    sender: str  # buyer / seller / system
    sent_at: BatchInstant
    text: str = ""
    attachment_hashes: list[str] = []


class ConversationIn(Schema):
    platform: str
    conversation_id: str
    shop_id: str  # the marketplace's shop id
    buyer_id: str  # the buyer's marketplace member id
    order_id: str | None = None
    messages: list[MessageIn]


class PushIn(Schema):
    conversations: list[ConversationIn]


class ItemError(Schema):
    field: str
    reason: str


class MessageConflict(Schema):
    message_id: str
    reason: str


class ConversationResult(Schema):
    platform: str
    conversation_id: str
    status: Literal["accepted", "rejected"]
    created: int
    unchanged: int
    conflicts: list[MessageConflict]
    errors: list[ItemError]


class PushOut(Schema):
    created: int
    unchanged: int
    conflicts: int
    rejected: int  # messages of rejected conversations
    conversations_rejected: int
    items: list[ConversationResult]


def _check_size(payload: PushIn) -> None:
    messages = sum(len(c.messages) for c in payload.conversations)
    if messages > MAX_PUSH or len(payload.conversations) > MAX_PUSH:
        raise ValidationFailed(
            _(
                "A push holds at most %(max)d messages and %(max)d conversations; this one has %(messages)d messages in %(conversations)d conversations."
            )
            % {"max": MAX_PUSH, "messages": messages, "conversations": len(payload.conversations)},
            details={"max": MAX_PUSH, "messages": messages, "conversations": len(payload.conversations)},
        )


@router.post(
    "/chat/messages", response={200: PushOut, **ERRORS}, summary="Push chat conversations and their messages"
)
def chat_messages_push(request: HttpRequest, payload: PushIn) -> dict[str, Any]:
    """Store up to 1000 messages; idempotent on message ids; each conversation accepted or rejected whole."""
    require_roles(request, Role.SYSTEM, Role.ADMIN)
    _check_size(payload)
    now = timezone.now()
    totals = {"created": 0, "unchanged": 0, "conflicts": 0, "rejected": 0, "conversations_rejected": 0}
    items = []
    for c in payload.conversations:
        row: dict[str, Any] = {
            "platform": c.platform,
            "conversation_id": c.conversation_id,
            "status": "accepted",
            "created": 0,
            "unchanged": 0,
            "conflicts": [],
            "errors": [],
        }
        try:
            result = services.chat_messages_push(
                platform=c.platform,
                conversation_id=c.conversation_id,
                shop_id=c.shop_id,
                buyer_id=c.buyer_id,
                order_id=c.order_id,
                messages=[
                    services.IncomingMessage(
                        message_id=m.message_id,
                        sender=m.sender,
                        sent_at=m.sent_at,
                        text=m.text,
                        attachment_hashes=m.attachment_hashes,
                    )
                    for m in c.messages
                ],
                now=now,
            )
        except ValidationFailed as exc:
            row["status"] = "rejected"
            row["errors"] = [
                {"field": str(e["field"]), "reason": str(e["reason"])} for e in exc.details.get("errors", [])
            ]
            totals["rejected"] += len(c.messages)
            totals["conversations_rejected"] += 1
        else:
            row["created"], row["unchanged"] = result.created, result.unchanged
            row["conflicts"] = [{"message_id": k, "reason": v} for k, v in result.conflicts.items()]
            totals["created"] += result.created
            totals["unchanged"] += result.unchanged
            totals["conflicts"] += len(result.conflicts)
        items.append(row)
    return {**totals, "items": items}


# --- chat evidence numbers -----------------------------------------------------------------------


class EvidenceIn(Schema):
    platform: str
    conversation_id: str
    first_message_id: str
    last_message_id: str


class ChatMessageOut(Schema):
    message_id: str
    sender: str
    sent_at: str
    text: str
    attachment_hashes: list[str]


class ShopRef(Schema):
    id: int
    name: str


class ChatEvidenceOut(Schema):
    number: str
    platform: str
    conversation_id: str
    shop: ShopRef
    buyer_alias: str
    created_at: str
    sha256: str
    intact: bool  # False: a message changed since the number was made (report it to the platform)
    messages: list[ChatMessageOut]
    viewer_side: str


def _message_out(m: Any, shown: Any) -> dict[str, Any]:
    return {
        "message_id": m.external_id,
        "sender": m.sender,
        "sent_at": iso_local(m.sent_at),
        "text": shown(m.text),
        "attachment_hashes": list(m.attachment_hashes),
    }


def _excerpt_out(excerpt: selectors.Excerpt) -> dict[str, Any]:
    evidence, conversation = excerpt.evidence, excerpt.evidence.conversation
    buyer = conversation.buyer
    seller_view = excerpt.viewer == Side.SELLER

    def shown(text: str) -> str:
        return mask_for_seller(text, buyer) if seller_view else text

    return {
        "number": evidence.number,
        "platform": conversation.platform_id,
        "conversation_id": conversation.external_id,
        "shop": {"id": conversation.shop_id, "name": conversation.shop.name},
        "buyer_alias": buyer.public_alias if seller_view else buyer.username,
        "created_at": iso_local(evidence.created_at),
        "sha256": evidence.sha256,
        "intact": excerpt.intact,
        "messages": [_message_out(m, shown) for m in excerpt.messages],
        "viewer_side": excerpt.viewer,
    }


@router.post(
    "/chat/evidence",
    response={201: ChatEvidenceOut, **ERRORS},
    summary="Buyer: make a chat evidence number from a stretch of your conversation",
)
def chat_evidence_create(request: HttpRequest, payload: EvidenceIn) -> Any:
    user = request.auth  # type: ignore[attr-defined]
    limit_request(request, "chat_evidence")
    evidence = services.chat_evidence_create(
        buyer=user,
        platform=payload.platform,
        conversation_id=payload.conversation_id,
        first_message_id=payload.first_message_id,
        last_message_id=payload.last_message_id,
        now=timezone.now(),
    )
    return Status(201, _excerpt_out(selectors.chat_evidence_get_for_user(user, evidence.number)))


@router.get(
    "/chat/evidence/{number}",
    response={200: ChatEvidenceOut, **ERRORS},
    summary="The messages behind a chat evidence number, from the platform's own log",
)
def chat_evidence_get(request: HttpRequest, number: str) -> Any:
    return _excerpt_out(selectors.chat_evidence_get_for_user(request.auth, number))  # type: ignore[attr-defined]


class CitationIn(Schema):
    number: str


class CitationOut(Schema):
    number: str
    side: str
    at: str
    sha256: str
    messages: int


@router.post(
    "/cases/{case_id}/chat-citations",
    response={201: CitationOut, **ERRORS},
    summary="Buyer or seller: cite a chat evidence number in a complaint",
)
def chat_evidence_cite(request: HttpRequest, case_id: Id, payload: CitationIn) -> Any:
    citation = services.chat_evidence_cite(
        case_id=case_id,
        user=request.auth,  # type: ignore[attr-defined]
        number=payload.number,
        now=timezone.now(),
    )
    evidence = citation.evidence
    return Status(
        201,
        {
            "number": evidence.number,
            "side": citation.side,
            "at": iso_local(citation.at),
            "sha256": evidence.sha256,
            "messages": evidence.message_count,
        },
    )


# --- the buyer's permission to read the chat -----------------------------------------------------


class PermissionOut(Schema):
    days: int
    granted_at: str
    revoked_at: str | None
    active: bool
    window_from: str
    window_to: str


def _permission_out(p: ChatPermission) -> dict[str, Any]:
    start, end = p.window
    return {
        "days": p.days,
        "granted_at": iso_local(p.granted_at),
        "revoked_at": iso_local(p.revoked_at) if p.revoked_at else None,
        "active": p.active,
        "window_from": iso_local(start),
        "window_to": iso_local(end),
    }


@router.get(
    "/cases/{case_id}/chat-permission",
    response={200: list[PermissionOut], **ERRORS},
    summary="Buyer or agent: the chat permissions of a complaint, newest first",
)
def chat_permission_list(request: HttpRequest, case_id: Id) -> Any:
    _case, permissions = selectors.chat_permissions_for_user(request.auth, case_id)  # type: ignore[attr-defined]
    return [_permission_out(p) for p in permissions]


@router.post(
    "/cases/{case_id}/chat-permission",
    response={201: PermissionOut, 200: PermissionOut, **ERRORS},
    summary="Buyer: let agents read your chat with this shop from the 90 days before now",
)
def chat_permission_grant(request: HttpRequest, case_id: Id) -> Any:
    permission, created = services.chat_permission_grant(
        case_id=case_id,
        buyer=request.auth,  # type: ignore[attr-defined]
        now=timezone.now(),
    )
    return Status(201 if created else 200, _permission_out(permission))


@router.delete(
    "/cases/{case_id}/chat-permission",
    response={200: PermissionOut, **ERRORS},
    summary="Buyer: take back the permission to read your chat (it stays recorded as revoked)",
)
def chat_permission_revoke(request: HttpRequest, case_id: Id) -> Any:
    permission = services.chat_permission_revoke(
        case_id=case_id,
        buyer=request.auth,  # type: ignore[attr-defined]
        now=timezone.now(),
    )
    return _permission_out(permission)


class CaseChatMessageOut(ChatMessageOut):
    conversation_id: str


class CaseChatOut(Schema):
    window_from: str
    window_to: str
    items: list[CaseChatMessageOut]
    count: int
    page: int
    page_size: int


@router.get(
    "/cases/{case_id}/chat",
    response={200: CaseChatOut, **ERRORS},
    summary="Agent: the buyer's chat with the case's shop that the buyer's permission opens",
)
def case_chat(request: HttpRequest, case_id: Id, page: PageNumber = 1, page_size: PageSize = 100) -> Any:
    require_roles(request, Role.AGENT, Role.SENIOR_AGENT, Role.ADMIN)
    chat = selectors.case_chat_for_agent(request.auth, case_id)  # type: ignore[attr-defined]
    services.chat_read_record(chat=chat, agent=request.auth, via="api", now=timezone.now())  # type: ignore[arg-type]
    items, count, page, page_size = paginate(chat.messages, page=page, page_size=page_size)
    return {
        "window_from": iso_local(chat.start),
        "window_to": iso_local(chat.end),
        "items": [
            {**_message_out(m, lambda text: text), "conversation_id": m.conversation.external_id}
            for m in items
        ],
        "count": count,
        "page": page,
        "page_size": page_size,
    }
