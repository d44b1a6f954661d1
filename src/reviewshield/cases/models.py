"""A case (维权) and everything that happens to it.

`Case.status` has one writer: `reviewshield.cases.transitions.case_transition`. It checks the move
against `TRANSITIONS`, bumps `version` (optimistic concurrency) and appends a `CaseEvent` in the
same transaction.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from reviewshield.evidence.models import EvidenceItem


class CaseStatus(models.TextChoices):
    AWAITING_RESPONSE = "awaiting_response", _("Waiting for the seller")
    SETTLEMENT_PROPOSED = "settlement_proposed", _("Settlement proposed")
    AWAITING_DECISION = "awaiting_decision", _("With the platform")
    UPHELD = "upheld", pgettext_lazy("case status", "Upheld")
    REJECTED = "rejected", pgettext_lazy("case status", "Rejected")
    WITHDRAWN = "withdrawn", pgettext_lazy("case status", "Withdrawn")


OPEN_STATUSES = (CaseStatus.AWAITING_RESPONSE, CaseStatus.SETTLEMENT_PROPOSED, CaseStatus.AWAITING_DECISION)
DECIDED_STATUSES = (CaseStatus.UPHELD, CaseStatus.REJECTED)


class HarassmentType(models.TextChoices):
    PHONE_SMS_BOMBING = "phone_sms_bombing", _("Phone or SMS bombing")
    SOCIAL_DOXXING = "social_doxxing", _("Found and harassed on social accounts")
    ITEMS_MAILED = "items_mailed", _("Scary items mailed")
    THREATS_INSULTS = "threats_insults", _("Threats or insults")
    REVIEW_PRESSURE = "review_pressure", _("Pressure to change or delete a review")
    VISITS_IN_PERSON = "visits_in_person", _("Visits in person")
    PERSONAL_DATA_LEAKED = "personal_data_leaked", _("Personal data leaked")
    OTHER = "other", _("Other")


class ResponseKind(models.TextChoices):
    SETTLEMENT = "settlement", _("A: settle with the buyer")
    DEFENCE = "defence", _("B: defend with an explanation")
    NO_ANSWER = "no_answer", _("No answer in time")


class DecisionOutcome(models.TextChoices):
    """What an agent decides on a complaint (and on an extortion report)."""

    UPHOLD = "uphold", _("Uphold")
    REJECT = "reject", _("Reject")


class Tier(models.TextChoices):
    ORDINARY = "ordinary", _("Ordinary")
    SERIOUS = "serious", _("Serious")
    ESPECIALLY_SERIOUS = "especially_serious", _("Especially serious")


class Side(models.TextChoices):
    BUYER = "buyer", _("Buyer")
    SELLER = "seller", _("Seller")
    AGENT = "agent", _("Agent")


class AssistedLink(models.Model):
    """A single-use filing link an agent issues to a buyer outside the filing window."""

    token_hash = models.CharField(max_length=64, unique=True)
    order = models.ForeignKey("marketplace.Order", on_delete=models.CASCADE, related_name="assisted_links")
    buyer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField(_("why the agent allows it"))
    issued_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("assisted filing link")
        verbose_name_plural = _("assisted filing links")


class Case(models.Model):
    reference = models.CharField(_("case number"), max_length=32, unique=True)
    # No index of their own for order, buyer and shop: each leads a composite index below
    # (`case_order_status`, `case_buyer`, `case_shop`), which serves the same lookups; a second
    # index would only be written again by every filing.
    order = models.ForeignKey(
        "marketplace.Order", on_delete=models.PROTECT, related_name="cases", db_index=False
    )
    buyer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="cases_filed", db_index=False
    )
    shop = models.ForeignKey(
        "marketplace.Shop", on_delete=models.PROTECT, related_name="cases", db_index=False
    )
    platform = models.ForeignKey("marketplace.Platform", on_delete=models.PROTECT, related_name="cases")
    ruleset_id = models.CharField(_("ruleset"), max_length=64)
    ruleset_hash = models.CharField(max_length=80)

    status = models.CharField(_("status"), max_length=24, choices=CaseStatus.choices)
    version = models.PositiveIntegerField(default=1)

    harassment_types = models.JSONField(_("harassment types"), default=list)
    occurred_at = models.DateTimeField(_("when it happened"))
    narrative = models.TextField(_("what happened"))
    filed_at = models.DateTimeField(_("filed at"))
    notified_at = models.DateTimeField(_("seller notified at"))
    assisted_link = models.OneToOneField(AssistedLink, null=True, blank=True, on_delete=models.PROTECT)

    respond_by = models.DateTimeField(_("seller answers by"))
    handle_by = models.DateTimeField(_("platform handles by"))
    decide_by = models.DateTimeField(_("platform decides by"))
    settlement_reply_by = models.DateTimeField(null=True, blank=True)
    provisional_deadlines = models.JSONField(default=list, blank=True)
    # The next deadline that matters in the current state; the agent queue orders by it.
    next_deadline_at = models.DateTimeField(null=True, blank=True)

    response = models.CharField(_("seller's answer"), max_length=16, choices=ResponseKind.choices, blank=True)
    response_text = models.TextField(blank=True)
    responded_at = models.DateTimeField(null=True, blank=True)

    assigned_agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="cases_assigned",
    )
    handled_at = models.DateTimeField(null=True, blank=True)
    escalated = models.BooleanField(default=False)

    tier = models.CharField(_("severity"), max_length=24, choices=Tier.choices, blank=True)
    points = models.PositiveIntegerField(null=True, blank=True)
    points_class = models.CharField(max_length=1, blank=True)
    money_to_buyer = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    decision_reasons = models.TextField(blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="cases_decided",
    )
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        indexes = [
            models.Index(
                fields=["next_deadline_at", "id"],
                condition=Q(next_deadline_at__isnull=False),
                name="case_queue",
            ),
            models.Index(fields=["buyer", "-filed_at"], name="case_buyer"),
            models.Index(fields=["shop", "-filed_at"], name="case_shop"),
            models.Index(fields=["order", "status"], name="case_order_status"),
            # A shop's standing decisions in the order they were made: the sanctions sync's reads
            # (the latest decision, those of a year, the last few final ones) walk it, not the shop.
            # It also holds what the sync reads of all of them (the fingerprint's sums of id,
            # version, points and money; the rulesets they were judged under), so those reads take
            # the index alone, not every case row (`id` is in every SQLite index anyway).
            models.Index(
                fields=[
                    "shop",
                    "status",
                    "decided_at",
                    "version",
                    "points",
                    "money_to_buyer",
                    "ruleset_id",
                    "id",
                ],
                name="case_shop_decided_v2",
            ),
        ]
        constraints = [
            # One open complaint per order, even when two requests race past the service's check.
            models.UniqueConstraint(
                fields=["order"],
                condition=Q(status__in=["awaiting_response", "settlement_proposed", "awaiting_decision"]),
                name="case_one_open_per_order",
            )
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class StatusEvent(models.Model):
    """An audit event: who did what, when, and the state before and after (concrete: `CaseEvent`,
    `extortion.ExtortionEvent`)."""

    kind = models.CharField(max_length=48)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    actor_role = models.CharField(max_length=20)  # buyer / seller / agent / system
    at = models.DateTimeField()
    from_status = models.CharField(max_length=24, blank=True)
    to_status = models.CharField(max_length=24, blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        abstract = True


class CaseEvent(StatusEvent):
    """The audit trail of a case."""

    case = models.ForeignKey(
        Case, on_delete=models.CASCADE, related_name="events", db_index=False
    )  # indexed first in `caseevent_case_at`

    class Meta:
        verbose_name = _("case event")
        verbose_name_plural = _("case events")
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["case", "at"], name="caseevent_case_at")]


class CaseEvidence(EvidenceItem):
    """A file either side of a case submitted (see `evidence.models.EvidenceItem`)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="evidence")
    side = models.CharField(max_length=10, choices=Side.choices)

    class Meta:
        verbose_name = _("evidence")
        verbose_name_plural = _("evidence")


class AssistedRequestStatus(models.TextChoices):
    OPEN = "open", _("Waiting for an agent")
    LINK_ISSUED = "link_issued", _("An agent sent you a filing link")


class AssistedRequest(models.Model):
    """A buyer past the filing window asks an agent to open an assisted complaint (`cases.assisted`).

    It waits in the agents' assisted-filing list until an agent issues a filing link from it
    (`assisted_link_issue`, the existing flow); its events are the audit trail, also in the log.
    """

    reference = models.CharField(_("request number"), max_length=32, unique=True)
    order = models.ForeignKey("marketplace.Order", on_delete=models.CASCADE, related_name="assisted_requests")
    buyer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    description = models.TextField(_("what happened, in the buyer's words"))
    status = models.CharField(
        _("status"), max_length=16, choices=AssistedRequestStatus.choices, default=AssistedRequestStatus.OPEN
    )
    created_at = models.DateTimeField()
    link = models.OneToOneField(
        AssistedLink, null=True, blank=True, on_delete=models.SET_NULL, related_name="request"
    )
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    handled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("request for assisted filing")
        verbose_name_plural = _("requests for assisted filing")
        indexes = [models.Index(fields=["status", "created_at"], name="assistedrequest_queue")]
        constraints = [
            # One waiting request per order, even when two posts race past the service's check.
            models.UniqueConstraint(
                fields=["order"], condition=Q(status="open"), name="assistedrequest_one_open"
            )
        ]

    def __str__(self) -> str:
        return self.reference


class AssistedRequestEvent(StatusEvent):
    """The audit trail of a request for assisted filing."""

    request = models.ForeignKey(AssistedRequest, on_delete=models.CASCADE, related_name="events")

    class Meta:
        ordering = ["at", "id"]
