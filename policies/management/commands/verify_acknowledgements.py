from django.core.management.base import BaseCommand, CommandError

from policies.services import verify_chain


class Command(BaseCommand):
    help = (
        "Check the acknowledgement chain: every record intact, none missing. "
        "Exits non-zero and names the first broken record otherwise."
    )

    def handle(self, *args, **options):
        verdict = verify_chain()
        if not verdict.ok:
            # CommandError: the message goes to stderr and the exit status is 1.
            raise CommandError(f"The acknowledgement chain is broken. {verdict.message}")
        self.stdout.write(f"OK: all {verdict.checked} acknowledgements are intact.")
