from django.apps import AppConfig


class Config(AppConfig):
    name = "reviewshield.marketplace"
    label = "marketplace"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from reviewshield.marketplace import handlers  # noqa: F401  (registers the deadline handlers)
