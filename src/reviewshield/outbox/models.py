"""The outbox: messages to the outside world (email, SMS, webhooks), written in the same
transaction as the change they announce, delivered later by the worker."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    IN_APP = "in_app", _("In-app")
    EMAIL = "email", _("Email")
    SMS = "sms", _("SMS")
    WEBHOOK = "webhook", _("Webhook")


class Notification(models.Model):
    """An in-app notification a person sees in their portal."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications", db_index=False
    )  # indexed first in the (recipient, -created_at) index
    case = models.ForeignKey("cases.Case", null=True, blank=True, on_delete=models.CASCADE)
    kind = models.CharField(max_length=64)
    params = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [
            models.Index(fields=["recipient", "-created_at"]),
            # the header's unread count on every page: only the unread rows are indexed
            models.Index(
                fields=["recipient"], condition=Q(read_at__isnull=True), name="outbox_notification_unread"
            ),
        ]


class OutboxMessage(models.Model):
    """A message for an outside channel; the delivery adapters pick up rows not yet sent."""

    channel = models.CharField(max_length=16, choices=Channel.choices)
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    topic = models.CharField(max_length=64)
    payload = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        verbose_name = _("outbox message")
        verbose_name_plural = _("outbox messages")
        indexes = [
            models.Index(fields=["created_at"], condition=Q(sent_at__isnull=True), name="outbox_unsent")
        ]
