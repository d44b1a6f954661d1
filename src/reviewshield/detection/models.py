"""What screening flagged and what it raised.

`ScreenedMessage` keeps every message the engine did not simply allow (warn, hold, block), with the
verdict and the lexicon version that gave it; allowed messages are not stored. A held or blocked
message raises an `Alert` for its seller–buyer pair, or joins the pair's alert still being worked.
`Alert.status` has one writer, `detection.services._transition`, which bumps `version` and appends
an `AlertEvent` (queued for the tamper-evident log) in the same transaction. `ChatMute` is an agent's
mute of a seller's chat to one buyer: while it stands, every seller message to that buyer is blocked.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from reviewshield.cases.models import StatusEvent


class Action(models.TextChoices):
    ALLOW = "allow", pgettext_lazy("screening action", "Allow")
    WARN = "warn", pgettext_lazy("screening action", "Warn")
    HOLD = "hold", pgettext_lazy("screening action", "Hold for review")
    BLOCK = "block", pgettext_lazy("screening action", "Block")


class Source(models.TextChoices):
    CHAT = "chat", _("Chat screening")
    FORENSICS = "forensics", _("Phone-export forensics")


class AlertStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("alert status", "Open")
    AWAITING_BUYER = "awaiting_buyer", _("Waiting for the buyer's consent")
    COMPLAINT_FILED = "complaint_filed", _("Complaint opened")
    CLOSED = "closed", pgettext_lazy("alert status", "Closed")


OPEN_ALERT_STATUSES = (AlertStatus.OPEN, AlertStatus.AWAITING_BUYER)


class Outcome(models.TextChoices):
    HANDLED = "handled", _("Handled")
    FALSE_ALARM = "false_alarm", _("False alarm")
    BUYER_DECLINED = "buyer_declined", _("The buyer declined a complaint")
    COMPLAINT = "complaint", _("A complaint was opened")


class Alert(models.Model):
    reference = models.CharField(_("alert number"), max_length=32, unique=True)
    source = models.CharField(_("source"), max_length=12, choices=Source.choices)
    platform = models.ForeignKey("marketplace.Platform", on_delete=models.PROTECT, related_name="+")
    shop = models.ForeignKey(
        "marketplace.Shop", on_delete=models.PROTECT, related_name="alerts", db_index=False
    )  # indexed first in `alert_pair_status`
    buyer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="alerts")
    order = models.ForeignKey(
        "marketplace.Order", null=True, blank=True, on_delete=models.PROTECT, related_name="alerts"
    )
    review = models.ForeignKey(
        "marketplace.Review", null=True, blank=True, on_delete=models.SET_NULL, related_name="alerts"
    )
    case = models.ForeignKey(
        "cases.Case", null=True, blank=True, on_delete=models.SET_NULL, related_name="alerts"
    )
    status = models.CharField(_("status"), max_length=20, choices=AlertStatus.choices)
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices, blank=True)
    version = models.PositiveIntegerField(default=1)
    # The worst action behind the alert ("hold" or "block") and every category found, worst first.
    action = models.CharField(_("action"), max_length=8, choices=Action.choices)
    categories = models.JSONField(default=list, blank=True)
    message_count = models.PositiveIntegerField(default=0)
    first_at = models.DateTimeField(_("first seen"))
    last_at = models.DateTimeField(_("last seen"))
    raised_at = models.DateTimeField(_("raised at"))
    # What a forensic report found (kind, count, range), for alerts of that source.
    findings = models.JSONField(default=list, blank=True)
    forensic_ref = models.CharField(max_length=64, blank=True)
    assigned_agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    seller_warned_at = models.DateTimeField(_("seller warned at"), null=True, blank=True)
    consent_requested_at = models.DateTimeField(null=True, blank=True)
    consent_answered_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(_("note"), blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        indexes = [
            models.Index(fields=["status", "-last_at"], name="alert_status_last"),
            models.Index(fields=["shop", "buyer", "status"], name="alert_pair_status"),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_ALERT_STATUSES


class AlertEvent(StatusEvent):
    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="events")

    class Meta:
        verbose_name = _("alert event")
        verbose_name_plural = _("alert events")
        ordering = ["at", "id"]


class ScreenedMessage(models.Model):
    # platform and shop lead the unique (platform, message_id) and `screened_pair_sent`: no index
    # of their own, which every screened batch would write again for each message it stores
    platform = models.ForeignKey(
        "marketplace.Platform", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    message_id = models.CharField(_("marketplace message id"), max_length=100)
    conversation_id = models.CharField(_("marketplace conversation id"), max_length=100, blank=True)
    shop = models.ForeignKey(
        "marketplace.Shop", null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    buyer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    order = models.ForeignKey(
        "marketplace.Order", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    sender = models.CharField(max_length=10)
    sent_at = models.DateTimeField(_("sent at"))
    text = models.TextField(_("text"))
    action = models.CharField(_("action"), max_length=8, choices=Action.choices)
    categories = models.JSONField(default=list)
    scores = models.JSONField(default=dict)
    spans = models.JSONField(default=list)  # [[start, end, category, entry], …] in `text`
    reason_code = models.CharField(max_length=40)
    reason_params = models.JSONField(default=dict)
    factors = models.JSONField(default=list)
    muted = models.BooleanField(default=False)  # blocked because an agent muted the pair's chat
    lexicon_version = models.CharField(max_length=40)
    lexicon_hash = models.CharField(max_length=80)
    screened_at = models.DateTimeField()
    alert = models.ForeignKey(
        Alert, null=True, blank=True, on_delete=models.SET_NULL, related_name="messages"
    )

    class Meta:
        verbose_name = _("screened message")
        verbose_name_plural = _("screened messages")
        constraints = [
            models.UniqueConstraint(fields=["platform", "message_id"], name="screened_unique_message")
        ]
        indexes = [models.Index(fields=["shop", "buyer", "sent_at"], name="screened_pair_sent")]


class ChatMute(models.Model):
    shop = models.ForeignKey("marketplace.Shop", on_delete=models.PROTECT, related_name="+")
    buyer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    alert = models.ForeignKey(Alert, null=True, blank=True, on_delete=models.SET_NULL, related_name="mutes")
    muted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    muted_at = models.DateTimeField()
    reason = models.TextField(blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    lifted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("chat mute")
        verbose_name_plural = _("chat mutes")
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "buyer"], condition=Q(lifted_at__isnull=True), name="chatmute_one_standing"
            )
        ]
