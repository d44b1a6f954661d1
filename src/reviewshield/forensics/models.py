"""The forensic report of a case's phone exports: requested when a buyer uploads one, filled in by
the worker (`handlers`), shown to agents in full and to the buyer as a summary — never to the seller.

One report covers every phone export of the case at the time it runs (sms.xml and calls.xml are
read together: a number that calls at night and texts at night is one pattern). A new export
requests a new report unless one is still waiting, which will include it anyway.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

# The case events of forensic reports. The seller's timeline leaves them out: the report is built
# from the buyer's phone, and even that one was asked for is none of the seller's business.
FORENSIC_EVENTS = ("forensics_requested", "forensics_reported", "forensics_failed")


class ReportStatus(models.TextChoices):
    PENDING = "pending", _("Analysing")
    DONE = "done", _("Analysed")
    FAILED = "failed", _("Could not be read")


class ForensicReport(models.Model):
    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="forensic_reports")
    status = models.CharField(
        _("status"), max_length=10, choices=ReportStatus.choices, default=ReportStatus.PENDING
    )
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField()
    analysed_at = models.DateTimeField(null=True, blank=True)
    # The phone-export evidence items read (ids of cases.CaseEvidence), in upload order.
    exports = models.JSONField(default=list, blank=True)
    # What the report says, as `forensics.report.build` made it (the summary as codes + params, so
    # it renders in the reader's language), and the parts pages and alerts read without parsing it.
    summary = models.JSONField(default=list, blank=True)
    findings = models.JSONField(default=list, blank=True)
    correlations = models.JSONField(default=list, blank=True)
    counts = models.JSONField(default=dict, blank=True)
    charts = models.JSONField(default=dict, blank=True)  # language → our own escaped SVG
    suggested_tier = models.CharField(_("suggested tier"), max_length=24, blank=True)
    suggested_rule = models.CharField(max_length=40, blank=True)
    rules_version = models.CharField(max_length=40, blank=True)
    rules_hash = models.CharField(max_length=80, blank=True)
    error_code = models.CharField(max_length=40, blank=True)
    error_params = models.JSONField(default=dict, blank=True)
    # The report itself as evidence (canonical JSON, SHA-256 in the tamper-evident log).
    evidence = models.OneToOneField(
        "cases.CaseEvidence", null=True, blank=True, on_delete=models.PROTECT, related_name="forensic_report"
    )

    class Meta:
        verbose_name = _("forensic report")
        verbose_name_plural = _("forensic reports")
        ordering = ["-requested_at", "-id"]
        indexes = [models.Index(fields=["case", "status"], name="forensicreport_case_status")]

    def __str__(self) -> str:
        return f"forensic report {self.pk} ({self.status})"
