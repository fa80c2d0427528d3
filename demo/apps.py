from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo: `manage.py seed_demo`, its story (the JSON files here) and the players
    that tell it through the services (demo/players/). No models, never in production."""

    name = "demo"
    verbose_name = "Demo data"
