from django.apps import AppConfig


class Config(AppConfig):
    name = "reviewshield.chat"
    label = "chat"
    default_auto_field = "django.db.models.BigAutoField"
