"""Single sign-on in the system Chromium against a real OpenID Connect provider process
(panva/oidc-provider on Node, started by the test): sign in, refusal, logout of both."""

import pytest
from django.contrib.auth import get_user_model

from conftest import needs
from tests.conftest import ARTIFACTS
from tests.oidc.node_provider import NodeProvider, missing
from tests.oidc.switch import sso_settings

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

IDP_PASSWORD = "provider-password"
ACCOUNTS = [
    {
        "login": "emily",
        "password": IDP_PASSWORD,
        "sub": "emily-at-the-provider",
        # Spelt differently from the directory: emails match without regard to case.
        "claims": {"email": "Employee@Example.com", "email_verified": True, "name": "Em"},
    },
    {
        "login": "stranger",
        "password": IDP_PASSWORD,
        "sub": "stranger-at-the-provider",
        "claims": {"email": "stranger@example.com", "email_verified": True},
    },
]


@pytest.fixture
def provider(live_server):
    needs(missing() is None, missing() or "")
    with (
        NodeProvider(site_url=live_server.url, accounts=ACCOUNTS) as running,
        sso_settings(issuer=running.issuer),
    ):
        yield running


def _sign_in_at_provider(page, login):
    page.get_by_role("button", name="Sign in with Test ID").click()
    page.get_by_label("Username").fill(login)
    page.get_by_label("Password").fill(IDP_PASSWORD)
    page.get_by_role("button", name="Continue").click()


def test_sign_in_with_the_provider_refusal_and_logout_of_both(
    live_server, provider, browser_page, employee
):
    page = browser_page
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.goto(f"{live_server.url}/")
    assert "/accounts/login/" in page.url
    page.screenshot(path=str(ARTIFACTS / "sso-login-page.png"), full_page=True)

    # Signed in at the provider: lands on My tasks as the directory's person.
    _sign_in_at_provider(page, "emily")
    page.get_by_role("heading", name="My tasks").wait_for()
    assert page.url == f"{live_server.url}/"
    navigation = page.get_by_role("navigation", name="Main")
    assert navigation.get_by_role("button", name="Emily Carter").is_visible()
    page.screenshot(path=str(ARTIFACTS / "sso-my-tasks.png"), full_page=True)

    # Logout ends PolicyHub's session, then the provider's, and comes back to log in.
    navigation.get_by_role("button", name="Emily Carter").click()
    page.get_by_role("button", name="Log out").click()
    page.get_by_role("button", name="Sign out", exact=True).click()
    page.get_by_role("heading", name="Log in to PolicyHub").wait_for()
    page.goto(f"{live_server.url}/policies/")
    assert "/accounts/login/" in page.url

    # The provider asks again who it is: its session ended too. Someone it knows but the
    # directory does not is refused, and no account is made for them.
    with page.expect_response(lambda response: "/accounts/sso/callback/" in response.url) as sent:
        _sign_in_at_provider(page, "stranger")
    assert sent.value.status == 403
    page.get_by_role("heading", name="You cannot sign in to PolicyHub").wait_for()
    assert "stranger@example.com" in page.content()
    assert page.get_by_text("contact your administrator").is_visible()
    page.screenshot(path=str(ARTIFACTS / "sso-refused.png"), full_page=True)
    assert not get_user_model().objects.filter(email="stranger@example.com").exists()
    page.goto(f"{live_server.url}/")
    assert "/accounts/login/" in page.url
