"""Evidence moves into the content-addressed store: each file becomes a Blob named by its SHA-256.

Files stored before this migration are copied from the media folder into the evidence store under
their hash; they get a kind guessed from their type and no clean copy, so they stay for agents only
until a person re-submits them.
"""

from django.core.files.storage import default_storage, storages

import django.db.models.deletion
from django.db import migrations, models


def _guess_kind(content_type):
    if content_type.startswith("image/"):
        return "chat_screenshot"
    if content_type.startswith("audio/"):
        return "audio"
    if content_type.startswith("video/"):
        return "unboxing_video"
    return "statement"


def adopt_files(apps, schema_editor):
    CaseEvidence = apps.get_model("cases", "CaseEvidence")
    Blob = apps.get_model("evidence", "Blob")
    store = storages["evidence"]
    for item in CaseEvidence.objects.all().iterator():
        key = f"blobs/{item.sha256[:2]}/{item.sha256[2:4]}/{item.sha256}"
        if not store.exists(key) and default_storage.exists(item.file.name):
            with default_storage.open(item.file.name, "rb") as fh:
                store.save(key, fh)
        blob, _ = Blob.objects.get_or_create(
            sha256=item.sha256,
            defaults={
                "key": key,
                "size": item.size,
                "mime": item.content_type,
                "created_at": item.created_at,
            },
        )
        item.blob = blob
        item.kind = _guess_kind(item.content_type)
        item.save(update_fields=["blob", "kind"])


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0001_initial"),
        ("evidence", "0002_evidence_vault"),
    ]

    operations = [
        migrations.AddField(
            model_name="caseevidence",
            name="blob",
            field=models.ForeignKey(
                null=True, on_delete=django.db.models.deletion.PROTECT, related_name="+", to="evidence.blob"
            ),
        ),
        migrations.AddField(
            model_name="caseevidence",
            name="clean_blob",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="evidence.blob",
            ),
        ),
        migrations.AddField(
            model_name="caseevidence",
            name="kind",
            field=models.CharField(
                choices=[
                    ("chat_screenshot", "Chat screenshot"),
                    ("site_message", "Site message"),
                    ("sms_photo", "Photo of SMS messages"),
                    ("carrier_bill", "Carrier's itemised bill"),
                    ("call_records", "Call detail records"),
                    ("waybill", "Courier waybill and photo of the item mailed"),
                    ("audio", "Audio recording"),
                    ("unboxing_video", "Unboxing video"),
                    ("statement", "Written statement"),
                ],
                default="statement",
                max_length=30,
                verbose_name="kind",
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="caseevidence",
            name="reference",
            field=models.CharField(blank=True, max_length=64, verbose_name="waybill number"),
        ),
        migrations.RunPython(adopt_files, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="caseevidence",
            name="blob",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="+", to="evidence.blob"
            ),
        ),
        migrations.RemoveField(model_name="caseevidence", name="file"),
    ]
