from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "Reminders"

    def ready(self):
        # Each domain app declares its reminder kinds in a `reminders` module.
        from django.utils.module_loading import autodiscover_modules

        autodiscover_modules("reminders")
        # The send tasks register with notifications.wakeup, so that every process
        # (web, worker, commands) can ask for a send once the models are loaded.
        from notifications import tasks  # noqa: F401
