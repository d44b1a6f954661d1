from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EvidenceConfig(AppConfig):
    name = "reviewshield.evidence"
    label = "evidence"
    verbose_name = _("Evidence vault")

    def ready(self) -> None:
        from reviewshield.deadlines.worker import periodic
        from reviewshield.evidence.log import checkpoint_tick

        # Sequence the queue every few seconds; sign when the log grew and the last checkpoint is
        # older than REVIEWSHIELD_CHECKPOINT_SECONDS.
        periodic("log.checkpoint", 5)(lambda now: checkpoint_tick(now=now))
