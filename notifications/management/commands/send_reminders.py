from django.core.management.base import BaseCommand

from notifications.services import send_due


class Command(BaseCommand):
    help = "Send the reminders that are due now (beat asks a worker to do this every minute)."

    def handle(self, *args, **options):
        result = send_due()
        self.stdout.write(
            f"{result.sent} sent ({result.digests} digest(s)), {result.retrying} to retry, "
            f"{result.failed} failed, {result.cancelled} cancelled."
        )
