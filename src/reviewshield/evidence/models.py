"""The tamper-evident log: a queue of records waiting to be sequenced, the leaves, the stored subtree
hashes, and the signed checkpoints. Append-only: nothing here is ever updated or deleted, except
queue rows once their leaf exists, and a checkpoint's empty timestamp, filled in once.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

NODE_INDEX_BITS = 48  # a node's id is (level << 48) | index: one integer key, up to 2**48 leaves


def node_id(level: int, index: int) -> int:
    return (level << NODE_INDEX_BITS) | index


class LogQueue(models.Model):
    """A record written in the same transaction as the change it records, waiting for the sequencer."""

    ref = models.CharField(max_length=64)
    case_id = models.BigIntegerField(null=True, blank=True)
    record = models.BinaryField()
    created_at = models.DateTimeField()


class LogLeaf(models.Model):
    index = models.BigIntegerField(primary_key=True)
    ref = models.CharField(max_length=64, db_index=True)  # "event:17", "evidence:4"
    case_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    record = models.BinaryField()  # the canonical JSON the leaf hash is computed from
    sequenced_at = models.DateTimeField()

    class Meta:
        verbose_name = _("log leaf")
        verbose_name_plural = _("log leaves")


class LogNode(models.Model):
    """The hash of one perfect subtree (see `proofs.merkle`)."""

    id = models.BigIntegerField(primary_key=True)
    hash = models.BinaryField(max_length=32)


class LogState(models.Model):
    """One row: the log's size. Sequencers lock it, so leaves get their indexes one batch at a time."""

    id = models.SmallIntegerField(primary_key=True, default=1)
    size = models.BigIntegerField(default=0)


class LogCheckpoint(models.Model):
    size = models.BigIntegerField(db_index=True)
    root = models.BinaryField(max_length=32)
    note = models.TextField(_("signed checkpoint"))
    issued_at = models.DateTimeField()
    # An RFC 3161 timestamp over SHA-256 of `note`, from the TSA in REVIEWSHIELD_TSA_URL (see
    # `timestamps`): the DER TimeStampResp, and its genTime. Attached once, by a conditional update
    # while still empty — the one change a checkpoint ever sees.
    timestamp_response = models.BinaryField(_("timestamp response"), null=True, blank=True)
    timestamped_at = models.DateTimeField(_("timestamped at"), null=True, blank=True)

    class Meta:
        verbose_name = _("checkpoint")
        verbose_name_plural = _("checkpoints")
        ordering = ["-size", "-id"]


class EvidenceKind(models.TextChoices):
    """The kinds of evidence the rules name; their types, limits and visibility are in `kinds.py`."""

    CHAT_SCREENSHOT = "chat_screenshot", _("Chat screenshot")
    SITE_MESSAGE = "site_message", _("Site message")
    SMS_PHOTO = "sms_photo", _("Photo of SMS messages")
    CARRIER_BILL = "carrier_bill", _("Carrier's itemised bill")
    CALL_RECORDS = "call_records", _("Call detail records")
    WAYBILL = "waybill", _("Courier waybill and photo of the item mailed")
    AUDIO = "audio", _("Audio recording")
    UNBOXING_VIDEO = "unboxing_video", _("Unboxing video")
    STATEMENT = "statement", _("Written statement")
    PHONE_EXPORT = "phone_export", _("Phone export (SMS and call log)")
    # Written by ReviewShield, never uploaded (it is not in `kinds.KINDS`, so intake refuses it).
    FORENSIC_REPORT = "forensic_report", _("Forensic report of the phone exports")


class Blob(models.Model):
    """One stored file, named by its SHA-256: the same bytes uploaded twice are stored once."""

    sha256 = models.CharField(max_length=64, primary_key=True)
    key = models.CharField(max_length=200)  # the name in the evidence storage
    size = models.PositiveBigIntegerField()
    mime = models.CharField(max_length=100)  # as libmagic sniffed it, or as we wrote it (clean copies)
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("stored file")
        verbose_name_plural = _("stored files")


class EvidenceItem(models.Model):
    """A file one side submitted: the sealed original and, where the kind allows, a clean copy.

    The other side sees only `clean_blob` (a re-encoded image, or a buyer's text with their personal
    data masked); agents see both. No `clean_blob` means the kind is for agents only. Concrete
    models (`cases.CaseEvidence`, `extortion.ExtortionEvidence`) add what it belongs to and `side`.
    """

    kind = models.CharField(_("kind"), max_length=30, choices=EvidenceKind.choices)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    blob = models.ForeignKey(Blob, on_delete=models.PROTECT, related_name="+")
    clean_blob = models.ForeignKey(Blob, on_delete=models.PROTECT, related_name="+", null=True, blank=True)
    original_name = models.CharField(max_length=255)  # shown only, never a path
    content_type = models.CharField(max_length=100)  # sniffed from the bytes
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    reference = models.CharField(_("waybill number"), max_length=64, blank=True)
    description = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        abstract = True


class KeptUpload(models.Model):
    """A file a person sent with a form that was refused, kept so they need not send it again.

    The bytes wait in the evidence storage under `key` (shared by every web process, local or S3),
    tied to their owner and the form they came with (`purpose`); the form carries `token` back in a
    hidden field, and the next submission of that form attaches the file like a fresh upload (checked
    again by intake). Unclaimed ones are removed once `expires_at` has passed (`kept.kept_purge`).
    """

    token = models.CharField(max_length=64, unique=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    purpose = models.CharField(max_length=80)  # "complaint:order:12", "answer:case:3", …
    key = models.CharField(max_length=200)
    name = models.CharField(max_length=255)  # fit for display; never a path
    size = models.PositiveBigIntegerField()
    kind = models.CharField(max_length=30, choices=EvidenceKind.choices, blank=True)  # empty: no kind yet
    reference = models.CharField(max_length=64, blank=True)
    description = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = _("kept upload")
        verbose_name_plural = _("kept uploads")
        indexes = [models.Index(fields=["owner", "purpose"], name="keptupload_owner_purpose")]
