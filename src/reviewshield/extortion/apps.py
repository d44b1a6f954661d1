from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class Config(AppConfig):
    name = "reviewshield.extortion"
    label = "extortion"
    verbose_name = _("Buyer extortion reports")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from reviewshield.extortion import handlers  # noqa: F401  (registers the deadline handlers)
