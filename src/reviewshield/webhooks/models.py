"""Outgoing webhooks: the marketplace's endpoints, the outbox of events, one delivery per endpoint.

`WebhookEvent` rows are written in the transaction of the change they announce
(`services.webhook_emit`), with one `WebhookDelivery` per subscribed endpoint. `next_attempt_at` is
the one column the worker scans, like a deadline's `available_at`: when to send while pending, the
end of the lease while a worker is sending it (so a crashed worker's delivery falls due again by
itself), when to retry after a failure. A partial index over the deliveries neither delivered nor
given up keeps that scan independent of how many were ever sent. Each HTTP try is a
`WebhookAttempt`.
"""

from __future__ import annotations

import secrets
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

EVENTS = (
    "sanction.applied",
    "sanction.lifted",
    "case.decided",
    "appeal.decided",
    "compensation.due",
    "review.extortion_marked",
)
"""Every event ReviewShield announces; `webhook_emit` refuses any other name."""


PROBLEMS = ("status", "timeout", "unreachable", "skipped", "invalid_url", "failed")
"""Why an attempt failed: a non-2xx answer, or the prefix of its error text (see `delivery`)."""


def new_secret() -> str:
    return secrets.token_urlsafe(32)


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    DELIVERED = "delivered", _("Delivered")
    DEAD = "dead", _("Given up")


class WebhookEndpoint(models.Model):
    """A URL of the marketplace that receives our events, signed with its own secret.

    An inactive endpoint is paused: no new deliveries are queued for it, and those already queued
    wait until it is active again.
    """

    name = models.CharField(_("name"), max_length=100)
    url = models.URLField(
        _("URL"), max_length=500, help_text=_("http:// or https:// address that receives POSTs.")
    )
    secret = models.CharField(
        _("secret"),
        max_length=200,
        blank=True,
        default=new_secret,
        help_text=_(
            "Key of the HMAC-SHA256 signature; give it to the receiver. A new one is made when left empty."
        ),
    )
    events = models.JSONField(
        _("events"),
        default=list,
        blank=True,
        help_text=_("List of event names this endpoint receives; empty means every event."),
    )
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if not self.secret:
            self.secret = new_secret()
        if not isinstance(self.events, list) or not all(isinstance(e, str) for e in self.events):
            raise ValidationError({"events": _('Give a list of event names, for example ["case.decided"].')})
        unknown = sorted(set(self.events) - set(EVENTS))
        if unknown:
            raise ValidationError(
                {
                    "events": _("Unknown events: %(unknown)s. Known: %(known)s.")
                    % {"unknown": ", ".join(unknown), "known": ", ".join(EVENTS)}
                }
            )

    def subscribes_to(self, event: str) -> bool:
        return not self.events or event in self.events


class WebhookEvent(models.Model):
    """One announced change; `id` is sent to receivers so they can drop repeats."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    event = models.CharField(_("event"), max_length=64)
    # Ids, references, codes, amounts and times only: never a buyer's personal data (see services).
    payload = models.JSONField(_("payload"), default=dict)
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("webhook event")
        verbose_name_plural = _("webhook events")
        indexes = [models.Index(fields=["event", "created_at"], name="webhook_event_kind_at")]

    def __str__(self) -> str:
        return f"{self.event} {self.id}"


class WebhookDelivery(models.Model):
    """One event for one endpoint, retried until it is delivered or given up."""

    event = models.ForeignKey(WebhookEvent, on_delete=models.CASCADE, related_name="deliveries")
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    created_at = models.DateTimeField(_("created at"))
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"))
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    dead_at = models.DateTimeField(_("given up at"), null=True, blank=True)
    claimed_by = models.CharField(max_length=100, blank=True)
    last_status = models.PositiveSmallIntegerField(_("last status"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    replayed_at = models.DateTimeField(_("replayed at"), null=True, blank=True)
    replayed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        constraints = [models.UniqueConstraint(fields=["event", "endpoint"], name="webhook_delivery_once")]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(delivered_at__isnull=True, dead_at__isnull=True),
                name="webhook_delivery_due",
            ),
            models.Index(fields=["-created_at", "-id"], name="webhook_delivery_newest"),
        ]

    def __str__(self) -> str:
        return f"{self.event_id} → {self.endpoint_id}"

    @property
    def status(self) -> str:
        if self.delivered_at is not None:
            return DeliveryStatus.DELIVERED
        if self.dead_at is not None:
            return DeliveryStatus.DEAD
        return DeliveryStatus.PENDING

    def get_status_display(self) -> str:
        return str(DeliveryStatus(self.status).label)

    @property
    def last_problem(self) -> str:
        """What went wrong last, as a code: "" (nothing yet), or one of PROBLEMS."""
        if self.last_status is not None and not 200 <= self.last_status < 300:
            return "status"
        if not self.last_error:
            return ""
        kind = self.last_error.split(":", 1)[0]
        return kind if kind in PROBLEMS else "failed"


class WebhookAttempt(models.Model):
    """One HTTP try of a delivery (or a try skipped because its endpoint was down that round)."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log")
    n = models.PositiveIntegerField(_("attempt"))
    at = models.DateTimeField(_("attempted at"))
    status_code = models.PositiveSmallIntegerField(_("status code"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), default=0)
    worker = models.CharField(max_length=100, blank=True)

    class Meta:
        verbose_name = _("webhook attempt")
        verbose_name_plural = _("webhook attempts")
        indexes = [models.Index(fields=["delivery", "n"], name="webhook_attempt_delivery")]

    def __str__(self) -> str:
        return f"#{self.n} {self.status_code or self.error[:40]}"
