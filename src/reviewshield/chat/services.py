"""Writes of the chat capability: messages pushed by the marketplace, chat evidence numbers, their
citation in complaints, and the buyer's permission for agents to read the chat.

Each function is one transaction: it checks who may act and writes — with the case event, where a
complaint is concerned — or raises a `ReviewShieldError` and leaves nothing behind.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from reviewshield.accounts.models import User
from reviewshield.cases.audit import event_append
from reviewshield.cases.models import Side
from reviewshield.cases.services import case_lock_for
from reviewshield.chat.digest import excerpt_sha256, lines_of
from reviewshield.chat.models import (
    ChatCitation,
    ChatConversation,
    ChatEvidence,
    ChatMessage,
    ChatPermission,
    Sender,
)
from reviewshield.errors import Conflict, InvalidTransition, NotFound, ValidationFailed
from reviewshield.evidence.log import log_enqueue
from reviewshield.localtime import to_local
from reviewshield.marketplace.models import Order, Platform, Shop
from reviewshield.marketplace.services import implausible_time, member_key

logger = logging.getLogger(__name__)

MAX_EXCERPT_MESSAGES = 500
MAX_TEXT = 20_000
MAX_ATTACHMENTS = 20
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


# --- the marketplace pushes its chat -------------------------------------------------------------


@dataclass(frozen=True)
class IncomingMessage:
    message_id: str
    sender: str
    sent_at: datetime
    text: str = ""
    attachment_hashes: Sequence[str] = ()


@dataclass
class PushResult:
    """What happened to one conversation's messages. `conflicts` maps a message id to why it was kept."""

    created: int = 0
    unchanged: int = 0
    conflicts: dict[str, str] = field(default_factory=dict)


def _problem(errors: list[dict[str, str]], field_name: str, reason: Any) -> None:
    errors.append({"field": field_name, "reason": str(reason)})


def _clean_messages(
    messages: Sequence[IncomingMessage], errors: list[dict[str, str]], now: datetime
) -> list[IncomingMessage]:
    cleaned = []
    for n, m in enumerate(messages):
        where = f"messages.{n}"
        message_id = m.message_id.strip()
        if not message_id or len(message_id) > 100:
            _problem(errors, f"{where}.message_id", _("A message id has 1 to 100 characters."))
        if m.sender not in Sender.values:
            _problem(
                errors,
                f"{where}.sender",
                _("Unknown sender “%(sender)s”; use one of: %(choices)s.")
                % {"sender": m.sender, "choices": ", ".join(Sender.values)},
            )
        if m.sent_at.tzinfo is None or m.sent_at.utcoffset() is None:
            _problem(
                errors,
                f"{where}.sent_at",
                _("Give the time with its UTC offset, for example 2026-09-25T10:00:00+08:00."),
            )
        elif reason := implausible_time(m.sent_at, now):
            _problem(errors, f"{where}.sent_at", reason)
        if len(m.text) > MAX_TEXT:
            _problem(errors, f"{where}.text", _("At most %(limit)d characters.") % {"limit": MAX_TEXT})
        hashes = [h.strip().lower() for h in m.attachment_hashes]
        if len(hashes) > MAX_ATTACHMENTS or not all(_SHA256_HEX.fullmatch(h) for h in hashes):
            _problem(
                errors,
                f"{where}.attachment_hashes",
                _("Give at most %(max)d attachment hashes, each a SHA-256 in 64 hexadecimal digits.")
                % {"max": MAX_ATTACHMENTS},
            )
        cleaned.append(
            IncomingMessage(
                message_id=message_id,
                sender=m.sender,
                sent_at=m.sent_at,
                text=m.text,
                attachment_hashes=hashes,
            )
        )
    return cleaned


def _parties(
    *, platform: str, shop_id: str, buyer_id: str, order_id: str | None, errors: list[dict[str, str]]
) -> tuple[Platform, Shop, User, Order | None] | None:
    """The platform, shop, buyer and order a push names, or None with the problems recorded."""
    found = Platform.objects.filter(code=platform).first()
    if found is None:
        _problem(errors, "platform", _("Unknown platform “%(code)s”.") % {"code": platform})
        return None
    shop = Shop.objects.filter(platform=found, external_id=shop_id.strip()).first()
    if shop is None:
        # Chat does not create shops or people: they come with the orders, which carry their names.
        _problem(errors, "shop_id", _("Unknown shop “%(shop)s”; push its orders first.") % {"shop": shop_id})
    buyer = User.objects.filter(external_id=member_key(found, buyer_id.strip())).first()
    if buyer is None:
        _problem(
            errors, "buyer_id", _("Unknown buyer “%(buyer)s”; push their orders first.") % {"buyer": buyer_id}
        )
    if shop is None or buyer is None:
        return None
    order = None
    if order_id:
        order = Order.objects.filter(platform=found, external_id=order_id.strip()).first()
        if order is None or order.shop_id != shop.pk or order.buyer_id != buyer.pk:
            _problem(
                errors,
                "order_id",
                _("The order “%(order)s” is unknown or not between this buyer and this shop.")
                % {"order": order_id},
            )
            return None
    return found, shop, buyer, order


def _same(stored: ChatMessage, incoming: IncomingMessage) -> bool:
    return (
        stored.sender == incoming.sender
        and stored.sent_at == incoming.sent_at
        and stored.text == incoming.text
        and list(stored.attachment_hashes) == list(incoming.attachment_hashes)
    )


def chat_messages_push(
    *,
    platform: str,
    conversation_id: str,
    shop_id: str,
    buyer_id: str,
    messages: Sequence[IncomingMessage],
    now: datetime,
    order_id: str | None = None,
) -> PushResult:
    """Store one conversation's messages as the marketplace pushed them; idempotent on message ids.

    The whole conversation is refused (ValidationFailed, `details["errors"]`) when its shop, buyer
    or order is unknown, when it was stored with other parties, or when any message is malformed —
    nothing of it is written. A message id stored before with other content is a conflict: the
    stored message stays, the push reports it, the rest of the conversation is stored.
    """
    errors: list[dict[str, str]] = []
    conversation_id = conversation_id.strip()
    if not conversation_id or len(conversation_id) > 100:
        _problem(errors, "conversation_id", _("A conversation id has 1 to 100 characters."))
    cleaned = _clean_messages(messages, errors, now)
    parties = _parties(
        platform=platform, shop_id=shop_id, buyer_id=buyer_id, order_id=order_id, errors=errors
    )
    if errors or parties is None:
        raise ValidationFailed(
            errors[0]["reason"] if len(errors) == 1 else _("Some fields are not valid."),
            details={"field": errors[0]["field"], "errors": errors},
        )
    found, shop, buyer, order = parties
    with transaction.atomic():
        conversation = _conversation_locked(
            platform=found, external_id=conversation_id, shop=shop, buyer=buyer, order=order, now=now
        )
        ids = list({m.message_id for m in cleaned})
        stored: dict[str, ChatMessage] = {}
        for start in range(0, len(ids), 900):  # SQLite's limit on query parameters
            stored.update(
                (m.external_id, m)
                for m in conversation.messages.filter(external_id__in=ids[start : start + 900])
            )
        result = PushResult()
        new: list[ChatMessage] = []
        for m in cleaned:
            existing = stored.get(m.message_id)
            if existing is None:
                row = ChatMessage(
                    conversation=conversation,
                    external_id=m.message_id,
                    sender=m.sender,
                    sent_at=m.sent_at,
                    text=m.text,
                    attachment_hashes=list(m.attachment_hashes),
                    received_at=now,
                )
                stored[m.message_id] = row  # a repeat within this push compares against it
                new.append(row)
                result.created += 1
            elif _same(existing, m):
                result.unchanged += 1
            else:
                result.conflicts[m.message_id] = str(
                    _("This message id is already stored with other content; the stored message is kept.")
                )
        ChatMessage.objects.bulk_create(new)
    if result.conflicts:
        # Ids only: the texts may hold the buyer's phone or address and logs are read by many.
        logger.warning(
            "Chat push conflicts in %s:%s for message ids %s",
            found.code,
            conversation_id,
            ", ".join(result.conflicts),
        )
    return result


def _conversation_locked(
    *, platform: Platform, external_id: str, shop: Shop, buyer: User, order: Order | None, now: datetime
) -> ChatConversation:
    """The conversation, created if new and locked, so two pushes of it store each message once."""
    qs = ChatConversation.objects.select_for_update()
    conversation = qs.filter(platform=platform, external_id=external_id).first()
    if conversation is None:
        try:
            with transaction.atomic():
                return ChatConversation.objects.create(
                    platform=platform,
                    external_id=external_id,
                    shop=shop,
                    buyer=buyer,
                    order=order,
                    created_at=now,
                )
        except IntegrityError:  # pushed twice at once: the other push created it
            conversation = qs.get(platform=platform, external_id=external_id)
    errors: list[dict[str, str]] = []
    if conversation.shop_id != shop.pk or conversation.buyer_id != buyer.pk:
        # Who chatted with whom decides who may read it; a push that says otherwise is a data error.
        _problem(
            errors,
            "conversation_id",
            _("This conversation is stored between another buyer and shop; they cannot change."),
        )
    elif order is not None and conversation.order_id not in (None, order.pk):
        _problem(
            errors,
            "order_id",
            _("This conversation is already linked to another order; the link cannot change."),
        )
    if errors:
        raise ValidationFailed(errors[0]["reason"], details={"field": errors[0]["field"], "errors": errors})
    if order is not None and conversation.order_id is None:
        conversation.order = order
        conversation.save(update_fields=["order"])
    return conversation


# --- chat evidence numbers -----------------------------------------------------------------------


def _new_number(now: datetime) -> str:
    # 举证号: "JZ", the local date, eight random hex digits — unguessable, so a number is its own key.
    return f"JZ{to_local(now):%Y%m%d}{secrets.token_hex(4).upper()}"


def _in_range(first: ChatMessage, last: ChatMessage) -> Q:
    """Messages from `first` to `last` inclusive, in conversation order (sent time, then arrival)."""
    after_first = Q(sent_at__gt=first.sent_at) | Q(sent_at=first.sent_at, pk__gte=first.pk)
    before_last = Q(sent_at__lt=last.sent_at) | Q(sent_at=last.sent_at, pk__lte=last.pk)
    return after_first & before_last


def chat_evidence_create(
    *,
    buyer: User,
    platform: str,
    conversation_id: str,
    first_message_id: str,
    last_message_id: str,
    now: datetime,
) -> ChatEvidence:
    """The buyer turns a stretch of their conversation into a chat evidence number.

    Side effect: the number's hash is queued for the tamper-evident log, so it is fixed from now on.
    """
    with transaction.atomic():
        conversation = (
            ChatConversation.objects.filter(platform_id=platform, external_id=conversation_id.strip())
            .select_related("platform")
            .first()
        )
        if conversation is None or conversation.buyer_id != buyer.pk:
            # Someone else's conversation is "not found": no hint that it exists.
            raise NotFound(_("There is no such conversation of yours."))
        ends = {
            m.external_id: m
            for m in conversation.messages.filter(external_id__in=[first_message_id, last_message_id])
        }
        errors = {
            name: str(_("There is no message “%(id)s” in this conversation.") % {"id": value})
            for name, value in (("first_message_id", first_message_id), ("last_message_id", last_message_id))
            if value not in ends
        }
        if errors:
            raise ValidationFailed(details=errors)
        first, last = ends[first_message_id], ends[last_message_id]
        if (first.sent_at, first.pk) > (last.sent_at, last.pk):
            raise ValidationFailed(
                _("The first message comes after the last one; choose them the other way round."),
                details={"last_message_id": last_message_id},
            )
        selected = conversation.messages.filter(_in_range(first, last))
        count = selected.count()
        if count > MAX_EXCERPT_MESSAGES:
            raise ValidationFailed(
                _("A chat evidence number covers at most %(max)d messages; this stretch has %(count)d.")
                % {"max": MAX_EXCERPT_MESSAGES, "count": count},
                details={"max": MAX_EXCERPT_MESSAGES, "count": count},
            )
        messages = list(selected.order_by("sent_at", "pk"))
        evidence = _evidence_insert(
            conversation=conversation, first=first, last=last, messages=messages, buyer=buyer, now=now
        )
        log_enqueue(
            ref=f"chat_evidence:{evidence.pk}",
            record={
                "type": "chat_evidence",
                "id": evidence.pk,
                "number": evidence.number,
                "conversation": conversation.key,
                "messages": evidence.message_count,
                "sha256": evidence.sha256,
            },
            now=now,
        )
        return evidence


def _evidence_insert(
    *,
    conversation: ChatConversation,
    first: ChatMessage,
    last: ChatMessage,
    messages: list[ChatMessage],
    buyer: User,
    now: datetime,
) -> ChatEvidence:
    digest = excerpt_sha256(conversation.key, lines_of(messages))
    for attempt in range(5):
        try:
            with transaction.atomic():  # a savepoint: a number drawn twice is drawn again
                evidence = ChatEvidence.objects.create(
                    number=_new_number(now),
                    conversation=conversation,
                    first_message=first,
                    last_message=last,
                    message_count=len(messages),
                    buyer=buyer,
                    sha256=digest,
                    created_at=now,
                )
                break
        except IntegrityError:
            if attempt == 4:
                raise
    evidence.messages.set(messages)
    return evidence


# --- citing a number in a complaint --------------------------------------------------------------


def chat_evidence_cite(*, case_id: int, user: User, number: str, now: datetime) -> ChatCitation:
    """The buyer or the seller of a complaint cites a chat evidence number in it.

    Side effects: a `chat_cited` case event with the number and its messages' hash, queued for the log.
    """
    number = number.strip().upper()
    with transaction.atomic():
        case, side = case_lock_for(case_id, user, Side.BUYER, Side.SELLER)
        if not case.is_open:
            raise InvalidTransition(_("Chat evidence can be cited only while the complaint is open."))
        evidence = ChatEvidence.objects.select_related("conversation").filter(number=number).first()
        if evidence is None:
            raise NotFound(
                _("There is no chat evidence number %(number)s.") % {"number": number},
                details={"number": number},
            )
        conversation = evidence.conversation
        if conversation.buyer_id != case.buyer_id or conversation.shop_id != case.shop_id:
            raise ValidationFailed(
                _(
                    "The chat evidence number %(number)s is from another conversation, not one between "
                    "this complaint's buyer and shop."
                )
                % {"number": number},
                details={"number": number, "reason": "other_conversation"},
            )
        if ChatCitation.objects.filter(case=case, evidence=evidence).exists():
            raise Conflict(
                _("The chat evidence number %(number)s is already cited in this complaint.")
                % {"number": number},
                code="already_cited",
                details={"number": number},
            )
        citation = ChatCitation.objects.create(case=case, evidence=evidence, side=side, cited_by=user, at=now)
        event_append(
            case=case,
            kind="chat_cited",
            actor=user,
            actor_role=side,
            at=now,
            from_status=case.status,
            to_status=case.status,
            data={
                "number": evidence.number,
                "sha256": evidence.sha256,
                "messages": evidence.message_count,
                "side": side,
            },
        )
        return citation


# --- the buyer's permission to read the chat -----------------------------------------------------


def _utc_iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat()


def chat_permission_grant(*, case_id: int, buyer: User, now: datetime) -> tuple[ChatPermission, bool]:
    """The case's buyer lets agents read their chat with the case's shop; returns (permission, created).

    Granting while a permission is in force changes nothing and returns that one. Side effect: a
    `chat_permission_granted` case event, queued for the log.
    """
    with transaction.atomic():
        case, _side = case_lock_for(case_id, buyer, Side.BUYER)
        current = ChatPermission.objects.filter(case=case, revoked_at__isnull=True).first()
        if current is not None:
            return current, False
        if not case.is_open:
            raise InvalidTransition(
                _("Permission to read the chat can be given only while the complaint is open.")
            )
        permission = ChatPermission.objects.create(case=case, buyer=buyer, granted_at=now)
        start, end = permission.window
        event_append(
            case=case,
            kind="chat_permission_granted",
            actor=buyer,
            actor_role=Side.BUYER,
            at=now,
            from_status=case.status,
            to_status=case.status,
            data={"days": permission.days, "from": _utc_iso(start), "to": _utc_iso(end)},
        )
        return permission, True


def chat_permission_revoke(*, case_id: int, buyer: User, now: datetime) -> ChatPermission:
    """The case's buyer withdraws the permission; it stays recorded with its revocation time.

    Allowed whatever the case's state: a buyer can always take back access to their chat. Side
    effect: a `chat_permission_revoked` case event, queued for the log.
    """
    with transaction.atomic():
        case, _side = case_lock_for(case_id, buyer, Side.BUYER)
        permission = (
            ChatPermission.objects.select_for_update().filter(case=case, revoked_at__isnull=True).first()
        )
        if permission is None:
            raise InvalidTransition(
                _(
                    "Agents have no permission to read your chat for this complaint, so there is nothing to revoke."
                ),
                details={"reason": "no_chat_permission"},
            )
        permission.revoked_at = now
        permission.save(update_fields=["revoked_at"])
        event_append(
            case=case,
            kind="chat_permission_revoked",
            actor=buyer,
            actor_role=Side.BUYER,
            at=now,
            from_status=case.status,
            to_status=case.status,
            data={"granted_at": _utc_iso(permission.granted_at)},
        )
        return permission


# --- who read it ---------------------------------------------------------------------------------


def chat_read_record(*, chat: Any, agent: User, via: str, now: datetime) -> bool:
    """Record that an agent opened the buyer's chat under the buyer's permission (`chat` from
    `selectors.case_chat_for_agent`): a `chat_read` case event the buyer sees on the complaint's
    timeline, queued for the tamper-evident log. Once per agent, complaint and Beijing day (a
    reader paging through a long chat is one read); returns whether an event was written.
    """
    from reviewshield.cases.models import CaseEvent

    case = chat.case
    day_start = to_local(now).replace(hour=0, minute=0, second=0, microsecond=0)
    with transaction.atomic():
        if CaseEvent.objects.filter(case=case, kind="chat_read", actor=agent, at__gte=day_start).exists():
            return False
        event_append(
            case=case,
            kind="chat_read",
            actor=agent,
            actor_role=Side.AGENT,
            at=now,
            from_status=case.status,
            to_status=case.status,
            data={"via": via, "from": _utc_iso(chat.start), "to": _utc_iso(chat.end)},
        )
        return True
