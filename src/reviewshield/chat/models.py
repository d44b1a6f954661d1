"""The marketplace's chat log as it pushed it, the chat evidence numbers (举证号) buyers make from it,
their citations in complaints, and the buyer's permission for agents to read the last 90 days.

The messages are the authoritative record: `chat.services` only ever adds to them. A push that
repeats a message id with different content is reported as a conflict and the stored message stays.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from reviewshield.cases.models import Side

PERMISSION_DAYS = 90


class Sender(models.TextChoices):
    BUYER = "buyer", _("Buyer")
    SELLER = "seller", _("Seller")
    SYSTEM = "system", _("Marketplace system")


class ChatConversation(models.Model):
    """One chat thread between a buyer and a shop, under the marketplace's own conversation id."""

    # platform and buyer lead `chat_conversation_unique` and `chat_conversation_parties`
    platform = models.ForeignKey(
        "marketplace.Platform", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    external_id = models.CharField(_("marketplace conversation id"), max_length=100)
    shop = models.ForeignKey("marketplace.Shop", on_delete=models.PROTECT, related_name="conversations")
    buyer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="conversations", db_index=False
    )
    order = models.ForeignKey(
        "marketplace.Order", null=True, blank=True, on_delete=models.PROTECT, related_name="conversations"
    )
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("chat conversation")
        verbose_name_plural = _("chat conversations")
        constraints = [
            models.UniqueConstraint(fields=["platform", "external_id"], name="chat_conversation_unique")
        ]
        # The agent's 90-day read looks conversations up by the case's buyer and shop.
        indexes = [models.Index(fields=["buyer", "shop"], name="chat_conversation_parties")]

    def __str__(self) -> str:
        return self.key

    @property
    def key(self) -> str:
        """ "platform:conversation id", the conversation's name in a chat evidence hash."""
        return f"{self.platform_id}:{self.external_id}"


class ChatMessage(models.Model):
    conversation = models.ForeignKey(
        ChatConversation, on_delete=models.PROTECT, related_name="messages", db_index=False
    )  # indexed first in `chat_message_order` and `chat_message_unique`
    external_id = models.CharField(_("marketplace message id"), max_length=100)
    sender = models.CharField(_("sender"), max_length=10, choices=Sender.choices)
    sent_at = models.DateTimeField(_("sent at"))
    text = models.TextField(_("text"), blank=True)
    attachment_hashes = models.JSONField(default=list, blank=True)  # SHA-256 hex of each attachment
    received_at = models.DateTimeField()

    class Meta:
        verbose_name = _("chat message")
        verbose_name_plural = _("chat messages")
        constraints = [
            models.UniqueConstraint(fields=["conversation", "external_id"], name="chat_message_unique")
        ]
        indexes = [models.Index(fields=["conversation", "sent_at", "id"], name="chat_message_order")]


class ChatEvidence(models.Model):
    """A chat evidence number (举证号): a fixed stretch of one conversation, chosen by its buyer.

    The messages are fixed when the number is made (a message pushed later with a time inside the
    stretch does not join it), and `sha256` covers their canonical encoding (`chat.digest`), so a
    later change to any of them shows.
    """

    number = models.CharField(_("chat evidence number"), max_length=32, unique=True)
    conversation = models.ForeignKey(ChatConversation, on_delete=models.PROTECT, related_name="evidence")
    first_message = models.ForeignKey(ChatMessage, on_delete=models.PROTECT, related_name="+")
    last_message = models.ForeignKey(ChatMessage, on_delete=models.PROTECT, related_name="+")
    messages = models.ManyToManyField(ChatMessage, related_name="evidence")
    message_count = models.PositiveIntegerField()
    buyer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("chat evidence number")
        verbose_name_plural = _("chat evidence numbers")

    def __str__(self) -> str:
        return self.number


class ChatCitation(models.Model):
    """Either side of a complaint cites a chat evidence number in it."""

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="chat_citations")
    evidence = models.ForeignKey(ChatEvidence, on_delete=models.PROTECT, related_name="citations")
    side = models.CharField(max_length=10, choices=[(s.value, s.label) for s in (Side.BUYER, Side.SELLER)])
    cited_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()

    class Meta:
        verbose_name = _("chat citation")
        verbose_name_plural = _("chat citations")
        constraints = [models.UniqueConstraint(fields=["case", "evidence"], name="chat_citation_once")]


class ChatPermission(models.Model):
    """The buyer lets agents read their chat with the case's shop for one complaint (勾选“允许小二查看近90天
    聊天记录”). A revoked permission stays recorded: `revoked_at` is set, the row is kept."""

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="chat_permissions")
    buyer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    days = models.PositiveSmallIntegerField(default=PERMISSION_DAYS)
    granted_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("chat permission")
        verbose_name_plural = _("chat permissions")
        constraints = [
            # One permission in force per case, even when two grants race past the service's check.
            models.UniqueConstraint(
                fields=["case"], condition=Q(revoked_at__isnull=True), name="chat_permission_one_active"
            )
        ]

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    @property
    def window(self) -> tuple[datetime, datetime]:
        """The stretch of chat this permission opens: the `days` before the moment it was granted.

        Fixed at the grant: the buyer agreed to "the last 90 days" as they stood when they ticked
        the box — not to messages sent afterwards, nor to a window that slides with the reading.
        """
        return self.granted_at - timedelta(days=self.days), self.granted_at
