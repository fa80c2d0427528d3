from django.core.management.base import BaseCommand

from notifications.services import plan_due


class Command(BaseCommand):
    help = "Plan due reminders into the outbox now (beat does this every 15 minutes)."

    def handle(self, *args, **options):
        result = plan_due()
        for kind, count in sorted(result.planned.items()):
            self.stdout.write(f"{kind}: {count} planned")
        self.stdout.write(f"{result.total} reminder(s) planned.")
