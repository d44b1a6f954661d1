from django.apps import AppConfig


class Config(AppConfig):
    """Holds the project-wide management commands; no models."""

    name = "reviewshield"
    label = "reviewshield"
