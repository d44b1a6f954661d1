from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class Config(AppConfig):
    name = "reviewshield.limits"
    label = "limits"
    verbose_name = _("Limits against floods and guessing")
    default_auto_field = "django.db.models.BigAutoField"
