from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EvidenceConfig(AppConfig):
    name = "reviewshield.evidence"
    label = "evidence"
    verbose_name = _("Evidence vault")

    def ready(self) -> None:
        from reviewshield.deadlines.worker import periodic
        from reviewshield.evidence import checks  # noqa: F401  (registers the system checks)
        from reviewshield.evidence.log import checkpoint_tick
        from reviewshield.evidence.timestamps import Backoff, timestamp_tick

        # Sequence the queue every few seconds; sign when the log grew and the last checkpoint is
        # older than REVIEWSHIELD_CHECKPOINT_SECONDS.
        periodic("log.checkpoint", 5)(lambda now: checkpoint_tick(now=now))
        # Registered after "log.checkpoint", so it runs right after it on the same pass: a new
        # checkpoint is timestamped at once when REVIEWSHIELD_TSA_URL is set. Missing ones are asked
        # for again later, after a pause that grows while the TSA keeps failing.
        tsa_backoff = Backoff()
        periodic("log.timestamp", 5)(lambda now: timestamp_tick(backoff=tsa_backoff))
        # Files kept from refused forms that nobody came back for (`kept`).
        from reviewshield.evidence.kept import kept_purge

        periodic("evidence.kept_purge", 600)(lambda now: kept_purge(now=now))
