from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = "API"

    def ready(self):
        # Registers the schema extensions (the token scheme, named choices).
        from api import schema  # noqa: F401
