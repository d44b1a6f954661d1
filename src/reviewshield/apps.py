from django.apps import AppConfig


class Config(AppConfig):
    """Holds the project-wide management commands and deployment checks; no models."""

    name = "reviewshield"
    label = "reviewshield"

    def ready(self) -> None:
        from reviewshield import checks  # noqa: F401  (registers the deployment checks)
