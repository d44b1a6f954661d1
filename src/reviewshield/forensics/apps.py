from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ForensicsConfig(AppConfig):
    name = "reviewshield.forensics"
    label = "forensics"
    verbose_name = _("Phone-export forensics")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from reviewshield.forensics import handlers  # noqa: F401  (registers the deadline handler)
