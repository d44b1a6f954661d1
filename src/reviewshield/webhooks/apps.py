from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebhooksConfig(AppConfig):
    name = "reviewshield.webhooks"
    label = "webhooks"
    verbose_name = _("Webhooks")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from reviewshield.deadlines.worker import periodic
        from reviewshield.webhooks.delivery import webhooks_tick

        # Every worker (and the worker thread of `serve`) sends due deliveries every few seconds;
        # claims keep two workers off the same delivery. A backlog is sent round after round for
        # at most TICK_BUDGET_SECONDS, then the deadlines get the loop back.
        periodic("webhooks.deliver", 2)(lambda now: webhooks_tick())
