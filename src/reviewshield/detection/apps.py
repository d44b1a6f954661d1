from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class Config(AppConfig):
    name = "reviewshield.detection"
    label = "detection"
    verbose_name = _("Detection and alerts")
    default_auto_field = "django.db.models.BigAutoField"
