"""Deadlines are rows: a due time, claimed by workers atomically, each fired exactly once.

`available_at` is the one column the worker scans: the due time while pending, the end of the
lease while claimed (so a crashed worker's claims fall due again by themselves), the retry time
after a failure. A partial index over the rows not yet done keeps the scan cost independent of
how many deadlines have already fired.
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Outcome(models.TextChoices):
    FIRED = "fired", _("Fired")
    CANCELLED = "cancelled", _("Cancelled")
    OBSOLETE = "obsolete", _("No longer needed")
    FAILED = "failed", _("Failed")


class Deadline(models.Model):
    kind = models.CharField(max_length=64)
    case = models.ForeignKey(
        "cases.Case",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="deadlines",
        db_index=False,
    )  # indexed first in `deadline_case_kind`
    order = models.ForeignKey(
        "marketplace.Order", null=True, blank=True, on_delete=models.CASCADE, related_name="deadlines"
    )
    due_at = models.DateTimeField()
    available_at = models.DateTimeField()
    provisional = models.BooleanField(default=False)
    payload = models.JSONField(default=dict, blank=True)
    claimed_by = models.CharField(max_length=100, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("deadline")
        verbose_name_plural = _("deadlines")
        indexes = [
            models.Index(
                fields=["available_at"], condition=Q(done_at__isnull=True), name="deadline_open_available"
            ),
            models.Index(fields=["case", "kind"], name="deadline_case_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} @ {self.due_at:%Y-%m-%d %H:%M}Z"


class DeadlineRun(models.Model):
    """One successful firing of a deadline, written in the same transaction as its effects.

    Exactly-once means: one run row per fired deadline, however many workers crashed on the way.
    """

    deadline = models.ForeignKey(Deadline, on_delete=models.CASCADE, related_name="runs")
    worker = models.CharField(max_length=100)
    fired_at = models.DateTimeField()

    class Meta:
        verbose_name = _("deadline run")
        verbose_name_plural = _("deadline runs")
