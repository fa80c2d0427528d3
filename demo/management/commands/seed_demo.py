from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from demo.players.incidents import seed_demo_incidents
from demo.players.people import DEMO_ACCOUNTS, DEMO_PASSWORD, seed_demo_organisation
from demo.players.policies import seed_demo_policies
from demo.players.prevention import seed_demo_prevention
from demo.players.training import seed_demo_training
from notifications.services import one_send_for_all
from policyhub.history import ACKNOWLEDGEMENTS, TRAINING, changed_past


class Command(BaseCommand):
    help = "Create or refresh the demo organisation and demo accounts (never in production)."

    def handle(self, *args, **options):
        if settings.SITE_IS_HTTPS:
            raise CommandError(
                "seed_demo refuses to run on a site served over https: demo accounts have a "
                "published password."
            )
        # The demo's history plans hundreds of reminders: one send afterwards, not one
        # queued per event ahead of the worker's heartbeat.
        with one_send_for_all():
            self._seed()

    def _seed(self):
        counts = seed_demo_organisation()
        self.stdout.write(
            f"Demo organisation ready: {counts['people']} people ({counts['created']} new) "
            f"in {counts['departments']} departments."
        )
        policies = seed_demo_policies()
        self.stdout.write(
            f"Demo policies ready: {policies['policies']} policies ({policies['created']} new), "
            f"{policies['acknowledgements']} acknowledgements, {policies['outstanding']} "
            f"outstanding ({policies['overdue']} overdue)."
        )
        training = seed_demo_training()
        self.stdout.write(
            f"Demo training ready: {training['sessions']} briefings ({training['created']} new, "
            f"{training['upcoming']} upcoming), {training['bookings']} bookings, "
            f"{training['required']} of {training['audience']} people still required."
        )
        incidents = seed_demo_incidents()
        self.stdout.write(
            f"Demo incidents ready: {incidents['incidents']} incidents ({incidents['created']} "
            f"new), {incidents['open']} open, {incidents['overdue_actions']} overdue actions, "
            f"{incidents['lessons']} published lessons."
        )
        prevention = seed_demo_prevention()
        self.stdout.write(
            f"Demo prevention ready: {prevention['terms']} watch-list entries "
            f"({prevention['terms_created']} new), {prevention['reviews']} post reviews "
            f"({prevention['reviews_created']} new, {prevention['waiting']} waiting, "
            f"{prevention['late']} late), {prevention['examples']} kept as examples, "
            f"{prevention['intake_incidents']} incidents opened by intake "
            f"({prevention['intake_created']} new)."
        )
        # The demo writes its history straight into months that are over: whatever the
        # dashboards kept of those months is counted again.
        changed_past(kind=ACKNOWLEDGEMENTS)
        changed_past(kind=TRAINING)
        self.stdout.write(f"Demo accounts (password {DEMO_PASSWORD}):")
        for email, name, *_rest in DEMO_ACCOUNTS:
            self.stdout.write(f"  {email:<26} {name}")
