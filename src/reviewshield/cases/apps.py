from django.apps import AppConfig


class Config(AppConfig):
    name = "reviewshield.cases"
    label = "cases"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from reviewshield.cases import handlers  # noqa: F401  (registers the deadline handlers)
