"""A seller's report that a buyer extorted them (差评师), its audit trail and evidence, and what an upheld
report leaves behind: the review marked as extortion and the buyer's strike.

`ExtortionReport.status` has one writer: `reviewshield.extortion.transitions.report_transition`. It
checks the move against `TRANSITIONS`, bumps `version` (optimistic concurrency) and appends an
`ExtortionEvent` (also queued for the tamper-evident log) in the same transaction.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from reviewshield.cases.models import Side, StatusEvent
from reviewshield.evidence.models import EvidenceItem


class ReportStatus(models.TextChoices):
    FILED = "filed", pgettext_lazy("extortion report status", "Filed")
    AWAITING_BUYER = "awaiting_buyer", _("Waiting for the buyer's answer")
    AWAITING_DECISION = "awaiting_decision", _("With the platform")
    UPHELD = "upheld", pgettext_lazy("extortion report status", "Upheld")
    REJECTED = "rejected", pgettext_lazy("extortion report status", "Rejected")
    WITHDRAWN = "withdrawn", pgettext_lazy("extortion report status", "Withdrawn")


OPEN_STATUSES = (ReportStatus.FILED, ReportStatus.AWAITING_BUYER, ReportStatus.AWAITING_DECISION)


class Threat(models.TextChoices):
    """What the buyer threatened to do unless paid."""

    BAD_REVIEW = "bad_review", _("A bad review")
    COMPLAINT = "complaint", _("A complaint to the platform")
    OTHER = "other", _("Other")


class ExtortionReport(models.Model):
    reference = models.CharField(_("report number"), max_length=32, unique=True)
    order = models.ForeignKey("marketplace.Order", on_delete=models.PROTECT, related_name="extortion_reports")
    shop = models.ForeignKey("marketplace.Shop", on_delete=models.PROTECT, related_name="extortion_reports")
    platform = models.ForeignKey("marketplace.Platform", on_delete=models.PROTECT, related_name="+")
    # The order's buyer, whom the report is about; their personal data never reaches the seller.
    buyer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="extortion_reports"
    )
    filed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    ruleset_id = models.CharField(_("ruleset"), max_length=64)
    ruleset_hash = models.CharField(max_length=80)

    status = models.CharField(_("status"), max_length=24, choices=ReportStatus.choices)
    version = models.PositiveIntegerField(default=1)

    threat = models.CharField(_("what the buyer threatened"), max_length=16, choices=Threat.choices)
    demand = models.CharField(_("what the buyer demanded"), max_length=500)
    demand_amount = models.DecimalField(
        _("amount demanded"), max_digits=10, decimal_places=2, null=True, blank=True
    )
    occurred_at = models.DateTimeField(_("when it happened"))
    narrative = models.TextField(_("what happened"))
    filed_at = models.DateTimeField(_("filed at"))
    notified_at = models.DateTimeField(_("buyer notified at"), null=True, blank=True)

    answer_by = models.DateTimeField(_("buyer answers by"))
    decide_by = models.DateTimeField(_("platform decides by"))
    provisional_deadlines = models.JSONField(default=list, blank=True)
    # The next deadline that matters in the current state; the agent queue orders by it.
    next_deadline_at = models.DateTimeField(null=True, blank=True)

    answer_text = models.TextField(_("buyer's answer"), blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    no_answer = models.BooleanField(default=False)  # the answer window passed without an answer

    assigned_agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    escalated = models.BooleanField(default=False)
    decision_reasons = models.TextField(blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("extortion report")
        verbose_name_plural = _("extortion reports")
        indexes = [
            models.Index(
                fields=["next_deadline_at", "id"],
                condition=Q(next_deadline_at__isnull=False),
                name="extortion_queue",
            ),
            models.Index(fields=["buyer", "-filed_at"], name="extortion_buyer"),
            models.Index(fields=["shop", "-filed_at"], name="extortion_shop"),
        ]
        constraints = [
            # One open report per order, even when two requests race past the service's check.
            models.UniqueConstraint(
                fields=["order"],
                condition=Q(status__in=["filed", "awaiting_buyer", "awaiting_decision"]),
                name="extortion_one_open_per_order",
            )
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class ExtortionEvent(StatusEvent):
    """The audit trail of a report (see `cases.models.StatusEvent`)."""

    report = models.ForeignKey(ExtortionReport, on_delete=models.CASCADE, related_name="events")

    class Meta:
        verbose_name = _("extortion report event")
        verbose_name_plural = _("extortion report events")
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["report", "at"], name="extortionevent_report_at")]


class ExtortionEvidence(EvidenceItem):
    """A file the seller or the buyer submitted, kept in the same vault as a complaint's evidence."""

    report = models.ForeignKey(ExtortionReport, on_delete=models.CASCADE, related_name="evidence")
    side = models.CharField(max_length=10, choices=Side.choices)

    class Meta:
        verbose_name = _("extortion report evidence")
        verbose_name_plural = _("extortion report evidence")


class ReviewMark(models.Model):
    """The order's review, found to be extortion. The law forbids deleting reviews: it is kept, shown
    folded, and left out of the shop's rating (`marketplace.selectors.shop_rating`)."""

    review = models.OneToOneField(
        "marketplace.Review", on_delete=models.PROTECT, related_name="extortion_mark"
    )
    report = models.OneToOneField(ExtortionReport, on_delete=models.PROTECT, related_name="review_mark")
    marked_at = models.DateTimeField()

    class Meta:
        verbose_name = _("review marked as extortion")
        verbose_name_plural = _("reviews marked as extortion")


class BuyerStrike(models.Model):
    """One upheld extortion report against a buyer; agents see them on the buyer's later complaints."""

    buyer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="extortion_strikes"
    )
    report = models.OneToOneField(ExtortionReport, on_delete=models.PROTECT, related_name="strike")
    at = models.DateTimeField()

    class Meta:
        verbose_name = _("buyer strike")
        verbose_name_plural = _("buyer strikes")
        indexes = [models.Index(fields=["buyer", "at"], name="strike_buyer_at")]
