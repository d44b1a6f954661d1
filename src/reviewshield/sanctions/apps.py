from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SanctionsConfig(AppConfig):
    name = "reviewshield.sanctions"
    label = "sanctions"
    verbose_name = _("Sanctions")

    def ready(self) -> None:
        from reviewshield.deadlines.worker import periodic
        from reviewshield.sanctions import appeals, handlers  # noqa: F401  (register deadline handlers)

        # The year-end reset runs on the first worker pass after 24:00 on 31 December, local.
        periodic("sanctions.year_end", 60)(handlers.year_end_tick)
