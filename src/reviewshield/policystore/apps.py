from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class Config(AppConfig):
    """Stores what admins change about policy: holiday overrides; serves rulesets and the calendar."""

    name = "reviewshield.policystore"
    label = "policystore"
    verbose_name = _("Policy")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from reviewshield.policystore import checks  # noqa: F401  (registers the system checks)
