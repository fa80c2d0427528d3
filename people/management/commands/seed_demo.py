from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from people.demo import DEMO_ACCOUNTS, DEMO_PASSWORD, seed_demo_organisation


class Command(BaseCommand):
    help = "Create or refresh the demo organisation and demo accounts (never in production)."

    def handle(self, *args, **options):
        if settings.SITE_IS_HTTPS:
            raise CommandError(
                "seed_demo refuses to run on a site served over https: demo accounts have a "
                "published password."
            )
        counts = seed_demo_organisation()
        self.stdout.write(
            f"Demo organisation ready: {counts['people']} people ({counts['created']} new) "
            f"in {counts['departments']} departments."
        )
        self.stdout.write(f"Demo accounts (password {DEMO_PASSWORD}):")
        for email, name, *_rest in DEMO_ACCOUNTS:
            self.stdout.write(f"  {email:<26} {name}")
