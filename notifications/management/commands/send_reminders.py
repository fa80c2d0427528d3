from django.core.management.base import BaseCommand

from notifications import webhooks
from notifications.services import send_due


class Command(BaseCommand):
    help = (
        "Send the reminders and outgoing webhook deliveries that are due now (beat asks a "
        "worker to do this every minute)."
    )

    def handle(self, *args, **options):
        result = send_due()
        self.stdout.write(
            f"{result.sent} sent ({result.digests} digest(s), {result.by_chat} by chat), "
            f"{result.retrying} to retry, {result.failed} failed, {result.cancelled} cancelled"
            f"{f', {result.fell_back} by email after chat failed' if result.fell_back else ''}."
        )
        hooks = webhooks.send_due()
        self.stdout.write(
            f"Webhooks: {hooks.sent} delivered, {hooks.retrying} to retry, {hooks.failed} failed, "
            f"{hooks.cancelled} cancelled."
        )
