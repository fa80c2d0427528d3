"""Two-factor sign-in pages, under accounts/two-factor/ (people/two_factor/views.py)."""

from django.urls import path

from people import two_factor

app_name = "two_factor"
urlpatterns = [
    path("", two_factor.manage_page, name="manage"),
    path("code/", two_factor.verify_page, name="verify"),
    path("set-up/", two_factor.setup_page, name="setup"),
    path("recovery-codes/", two_factor.recovery_codes_page, name="recovery_codes"),
    path("recovery-codes/new/", two_factor.renew_codes_page, name="renew_codes"),
    path("turn-off/", two_factor.turn_off_page, name="turn_off"),
]
