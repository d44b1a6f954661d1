"""What sanctions keep: the append-only points ledger, the node penalties applied, rules exams,
flags for a person, compensation orders, appeals, and the shop's own audit trail.

The ledger and the penalties are written by `services.sanctions_sync` only: it computes what they
should be (`engine`) and appends the difference, so every row says which decision or appeal made it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class LedgerEntry(models.Model):
    """One line of a shop's points ledger. Never updated or deleted: a correction is a new line with
    the opposite sign and the same `key`, tied to the appeal that made it."""

    class Kind(models.TextChoices):
        DEDUCTION = "deduction", _("Points for an upheld complaint")
        EXTRA = "extra", _("Extra points for repeated upheld complaints")
        CARRY = "carry", _("Serious-violation points kept at the year end")

    class Reason(models.TextChoices):
        DECISION = "decision", _("Decision")
        APPEAL = "appeal", _("Appeal decision")
        YEAR_END = "year_end", _("Year-end reset")

    shop = models.ForeignKey(
        "marketplace.Shop", on_delete=models.PROTECT, related_name="ledger", db_index=False
    )  # indexed first in `ledger_shop_year_points`
    key = models.CharField(max_length=80)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    reason = models.CharField(max_length=16, choices=Reason.choices)
    case = models.ForeignKey("cases.Case", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    appeal = models.ForeignKey("Appeal", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField()
    points_class = models.CharField(max_length=1)
    points = models.IntegerField()
    effective_at = models.DateTimeField()
    recorded_at = models.DateTimeField()

    class Meta:
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        # With the points: a shop's tally for a year (every decision's sync reads it) from the
        # index alone, not from each line of the year.
        indexes = [
            models.Index(fields=["shop", "year", "points_class", "points"], name="ledger_shop_year_points")
        ]


class PenaltyState(models.TextChoices):
    IN_FORCE = "in_force", _("In force")
    AWAITING_EXAM = "awaiting_exam", _("Period over, waiting for the rules exam")
    LIFTED = "lifted", _("Lifted")
    SUPERSEDED = "superseded", _("Replaced by a heavier penalty")
    ABSORBED = "absorbed", _("Absorbed by a heavier running penalty")
    REVERSED = "reversed", _("Reversed on appeal")


ACTIVE_STATES = (PenaltyState.IN_FORCE, PenaltyState.AWAITING_EXAM)


class Penalty(models.Model):
    shop = models.ForeignKey(
        "marketplace.Shop", on_delete=models.PROTECT, related_name="penalties", db_index=False
    )  # indexed first in `penalty_shop_key`
    key = models.CharField(max_length=120)
    node = models.CharField(max_length=20)
    points_class = models.CharField(max_length=1)
    measures = models.JSONField(default=list)
    year = models.PositiveSmallIntegerField()
    points_after = models.PositiveIntegerField()
    case = models.ForeignKey("cases.Case", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    ruleset_id = models.CharField(max_length=64)
    state = models.CharField(max_length=16, choices=PenaltyState.choices)
    started_at = models.DateTimeField()
    ends_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)  # lifted, superseded or reversed
    absorbed_by = models.CharField(max_length=120, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        verbose_name = _("penalty")
        verbose_name_plural = _("penalties")
        constraints = [models.UniqueConstraint(fields=["shop", "key"], name="penalty_shop_key")]
        indexes = [
            models.Index(
                fields=["state", "started_at"],
                condition=Q(state__in=["in_force", "awaiting_exam"]),
                name="penalty_active",
            )
        ]


class ExamPass(models.Model):
    """The seller passed the platform's rules exam (recorded by an agent or by the marketplace)."""

    shop = models.ForeignKey("marketplace.Shop", on_delete=models.PROTECT, related_name="exams")
    passed_at = models.DateTimeField()
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()
    reference = models.CharField(max_length=100, blank=True)  # the marketplace's exam id, if any

    class Meta:
        verbose_name = _("rules exam passed")
        verbose_name_plural = _("rules exams passed")


class Flag(models.Model):
    """Something the rules leave to a person, e.g. JD may end the contract at 100 points a year."""

    shop = models.ForeignKey("marketplace.Shop", on_delete=models.PROTECT, related_name="sanction_flags")
    key = models.CharField(max_length=80)
    kind = models.CharField(max_length=32)
    year = models.PositiveSmallIntegerField()
    points = models.PositiveIntegerField()
    raised_at = models.DateTimeField()
    withdrawn_at = models.DateTimeField(null=True, blank=True)  # the points behind it were reversed

    class Meta:
        verbose_name = _("flag for a person")
        verbose_name_plural = _("flags for a person")
        constraints = [models.UniqueConstraint(fields=["shop", "key"], name="flag_shop_key")]


class CompensationStatus(models.TextChoices):
    DUE = "due", pgettext_lazy("compensation", "Due")
    PAID = "paid", pgettext_lazy("compensation", "Paid")
    REVERSED = "reversed", pgettext_lazy("compensation", "Reversed")


class Compensation(models.Model):
    """Money the ruleset gives the buyer for an upheld complaint, paid by the marketplace."""

    case = models.OneToOneField("cases.Case", on_delete=models.PROTECT, related_name="compensation")
    shop = models.ForeignKey("marketplace.Shop", on_delete=models.PROTECT, related_name="compensations")
    buyer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    amount = models.DecimalField(max_digits=10, decimal_places=2)
    currency = models.CharField(max_length=3, default="CNY")
    status = models.CharField(max_length=10, choices=CompensationStatus.choices)
    created_at = models.DateTimeField()
    paid_at = models.DateTimeField(null=True, blank=True)
    payment_reference = models.CharField(max_length=100, blank=True)
    reversed_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("compensation")
        verbose_name_plural = _("compensations")
        indexes = [models.Index(fields=["status", "-created_at"], name="compensation_status")]


class AppealStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for a senior agent")
    DECIDED = "decided", pgettext_lazy("appeal status", "Decided")


class AppealOutcome(models.TextChoices):
    STANDS = "stands", _("The decision stands")
    OVERTURNED = "overturned", _("Overturned")
    TIER_CHANGED = "tier_changed", _("Severity changed")


class Appeal(models.Model):
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="appeals")
    side = models.CharField(max_length=10)  # buyer or seller
    filed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reasons = models.TextField()
    filed_at = models.DateTimeField()
    decide_by = models.DateTimeField()
    decide_by_provisional = models.BooleanField(default=False)
    status = models.CharField(max_length=10, choices=AppealStatus.choices, default=AppealStatus.PENDING)
    outcome = models.CharField(max_length=16, choices=AppealOutcome.choices, blank=True)
    new_tier = models.CharField(max_length=24, blank=True)
    decision_reasons = models.TextField(blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    stale_alerted_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("appeal")
        verbose_name_plural = _("appeals")
        indexes = [
            models.Index(fields=["decide_by"], condition=Q(status="pending"), name="appeal_pending_queue")
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["case"], condition=Q(status="pending"), name="appeal_one_pending_per_case"
            )
        ]


class ShopEvent(models.Model):
    """The shop's audit trail: every sanctions change, who or what made it, and why."""

    shop = models.ForeignKey(
        "marketplace.Shop", on_delete=models.PROTECT, related_name="sanction_events", db_index=False
    )  # indexed first in `shop_event_recent`
    kind = models.CharField(max_length=40)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField()
    case = models.ForeignKey("cases.Case", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("shop sanctions event")
        verbose_name_plural = _("shop sanctions events")
        indexes = [models.Index(fields=["shop", "-at"], name="shop_event_recent")]


class YearEnd(models.Model):
    """The year-end reset of `year` ran (done_at set) — once, whichever worker got there first."""

    year = models.PositiveSmallIntegerField(unique=True)
    started_at = models.DateTimeField()
    done_at = models.DateTimeField(null=True, blank=True)
    shops = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("year-end reset")
        verbose_name_plural = _("year-end resets")


class BlacklistReason(models.TextChoices):
    SERIOUS = "serious", _("An upheld complaint of serious harassment")
    REPEATED = "repeated", _("Repeated upheld complaints within 12 months")


class BlacklistEntry(models.Model):
    """One ground on which a shop is on the seller credit blacklist (`listing.Ground`), kept as the
    sync last computed it. `listed_from` may lie ahead (the decisions become final then);
    `withdrawn_at` is set when the ground no longer holds (an appeal was filed or overturned it)."""

    shop = models.ForeignKey(
        "marketplace.Shop", on_delete=models.PROTECT, related_name="blacklist", db_index=False
    )  # indexed first in `blacklist_shop_key`
    key = models.CharField(max_length=80)
    reason = models.CharField(max_length=16, choices=BlacklistReason.choices)
    cases = models.JSONField(default=list)  # case ids, oldest first
    listed_from = models.DateTimeField()
    until = models.DateTimeField()
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        verbose_name = _("blacklist entry")
        verbose_name_plural = _("blacklist entries")
        constraints = [models.UniqueConstraint(fields=["shop", "key"], name="blacklist_shop_key")]
        indexes = [
            models.Index(
                fields=["until", "listed_from"], condition=Q(withdrawn_at__isnull=True), name="blacklist_live"
            )
        ]


class SyncState(models.Model):
    """What a shop's last `sanctions_sync` started from: a fingerprint of its inputs (the standing
    upheld decisions, exams, appeals, the rulesets and the holiday overrides) and the first moment
    after it at which time alone changes something (a period ends, a penalty lifts, the year ends).
    A sync that finds the same fingerprint before that moment has nothing to do."""

    shop = models.OneToOneField(
        "marketplace.Shop", on_delete=models.CASCADE, primary_key=True, related_name="sanctions_sync_state"
    )
    inputs = models.CharField(max_length=64)
    synced_at = models.DateTimeField()
    valid_until = models.DateTimeField()

    class Meta:
        verbose_name = _("sanctions sync state")
        verbose_name_plural = _("sanctions sync states")
