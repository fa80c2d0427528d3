from django.apps import AppConfig


class PreventionConfig(AppConfig):
    name = "prevention"

    def ready(self):
        # Register the intake tasks with Celery in every process, so that a service can
        # ask for one by name ("Fetch now") without importing the tasks module above it.
        from prevention import tasks  # noqa: F401
