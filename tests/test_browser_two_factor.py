"""Two-factor sign-in in the system Chromium: HR sets up an authenticator app at the first
login, then signs in with a code."""

from base64 import b32decode

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from conftest import second_factor_code
from people import roles
from tests.conftest import ARTIFACTS

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PASSWORD = "correct-horse-battery"


def set_up_second_factor(page) -> list[str]:
    """On "Set up two-factor sign-in": type the code of the shown key, as an app would show
    it, and return the recovery codes then shown (the page after them is still to continue)."""
    page.get_by_role("heading", name="Set up two-factor sign-in").wait_for()
    secret = page.locator("#two-factor-secret").inner_text()
    code = f"{totp(b32decode(secret.replace(' ', ''))):06d}"
    page.get_by_label("Code from your app").fill(code)
    page.get_by_role("button", name="Turn on two-factor sign-in").click()
    page.get_by_role("heading", name="Your recovery codes").wait_for()
    return page.get_by_role("list", name="Recovery codes").locator("li").all_inner_texts()


def enter_second_factor(page, person) -> None:
    """On "Two-factor sign-in" after the password: the code the person's app shows now."""
    page.get_by_role("heading", name="Two-factor sign-in").wait_for()
    page.get_by_label("Code").fill(second_factor_code(person))
    page.get_by_role("button", name="Verify").click()


def _log_in(page, base_url, email):
    page.context.clear_cookies()
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_hr_sets_up_an_authenticator_app_at_the_first_login_then_signs_in_with_a_code(
    live_server, browser_page, make_person
):
    hr = make_person(full_name="Hannah Brooks", email="hr@example.com", group=roles.HR_LEGAL)
    page = browser_page
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    _log_in(page, live_server.url, hr.email)
    page.get_by_role("heading", name="Set up two-factor sign-in").wait_for()
    page.get_by_text("Two-factor sign-in is required for site admins and HR/Legal.").wait_for()
    # Nothing else opens until it is set up, and the page offers no way there.
    navigation = page.get_by_role("navigation", name="Main")
    assert navigation.get_by_role("link", name="Incidents").count() == 0
    page.goto(f"{live_server.url}/incidents/")
    page.get_by_role("heading", name="Set up two-factor sign-in").wait_for()
    page.goto(f"{live_server.url}/")
    page.get_by_role("heading", name="Set up two-factor sign-in").wait_for()
    page.screenshot(path=str(ARTIFACTS / "two-factor-set-up.png"), full_page=True)

    page.get_by_label("Code from your app").fill("000000")
    page.get_by_role("button", name="Turn on two-factor sign-in").click()
    page.get_by_text("That code is not right.").wait_for()
    assert not TOTPDevice.objects.filter(user=hr).exists()

    codes = set_up_second_factor(page)
    assert len(codes) == 10
    assert set(codes) == set(
        StaticToken.objects.filter(device__user=hr).values_list("token", flat=True)
    )
    page.screenshot(path=str(ARTIFACTS / "two-factor-recovery-codes.png"), full_page=True)
    page.get_by_role("link", name="Continue").click()
    page.get_by_role("heading", name="My tasks").wait_for()

    # The next login asks for the code.
    _log_in(page, live_server.url, hr.email)
    page.get_by_role("heading", name="Two-factor sign-in").wait_for()
    page.screenshot(path=str(ARTIFACTS / "two-factor-code.png"), full_page=True)
    enter_second_factor(page, hr)
    page.get_by_role("heading", name="My tasks").wait_for()
    page.get_by_role("button", name=hr.full_name).click()
    page.get_by_role("link", name="Two-factor sign-in").click()
    page.get_by_role("heading", name="Two-factor sign-in is on").wait_for()
