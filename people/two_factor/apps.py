"""Two-factor sign-in is also an app (in INSTALLED_APPS) only to note at each login whether
the person has an authenticator app, so that pages need no query to know it."""

from django.apps import AppConfig
from django.contrib.auth.signals import user_logged_in
from django.utils.translation import gettext_lazy

from people.two_factor.requirement import note_enrolment


class TwoFactorConfig(AppConfig):
    name = "people.two_factor"
    label = "two_factor"
    verbose_name = gettext_lazy("Two-factor sign-in")

    def ready(self):
        user_logged_in.connect(note_enrolment, dispatch_uid="people.two_factor.note_enrolment")
