from django.apps import AppConfig


class Config(AppConfig):
    name = "reviewshield.deadlines"
    label = "deadlines"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Handlers register themselves on import; every process (web, worker, tests) needs the
        # same registry, so extra modules named in the environment are loaded here too.
        from reviewshield.deadlines.scheduling import load_handler_modules

        load_handler_modules()
