"""Signing in with single sign-on: the directory's person, matched by verified email, and
nobody else; against a provider in this process whose answers each test chooses."""

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import get_user_model
from django.urls import reverse

from people import sso
from tests.oidc.local_provider import LocalProvider
from tests.oidc.switch import CLIENT_ID, CLIENT_SECRET, sso_settings

pytestmark = pytest.mark.django_db


@pytest.fixture
def idp():
    with LocalProvider() as provider, sso_settings(issuer=provider.issuer):
        yield provider


def start(client, **params) -> dict:
    """Press "Sign in with Test ID": the query PolicyHub sends the browser to the provider with."""
    response = client.get(reverse("sso_login"), params)
    assert response.status_code == 302, response.content.decode()
    return {name: values[0] for name, values in parse_qs(urlsplit(response.url).query).items()}


def finish(client, started: dict, **params):
    """The provider sends the browser back with a code for this sign-in."""
    return client.get(
        reverse("sso_callback"), {"code": "code-1", "state": started["state"], **params}
    )


def sign_in(client, idp, *, start_params=None, userinfo=None, **claims):
    started = start(client, **(start_params or {}))
    idp.answer_with(idp.sign(idp.claims(nonce=started["nonce"], **claims)), userinfo=userinfo)
    return finish(client, started)


def signed_in_id(client):
    return client.session.get("_auth_user_id")


def test_person_in_the_directory_signs_in_and_lands_on_my_tasks(client, idp, employee):
    response = sign_in(client, idp, email="employee@example.com")
    assert response.status_code == 302
    assert response.url == reverse("my_tasks")
    assert signed_in_id(client) == str(employee.pk)
    page = client.get(reverse("my_tasks")).content.decode()
    assert "My tasks" in page and employee.full_name in page
    assert client.session["_auth_user_backend"] == "people.sso.SignInBackend"


def test_the_authorisation_request_carries_state_nonce_and_pkce(client, idp):
    started = start(client)
    assert started["client_id"] == CLIENT_ID
    assert started["response_type"] == "code"
    assert started["scope"] == "openid email profile"
    assert started["redirect_uri"] == "http://testserver/accounts/sso/callback/"
    assert started["code_challenge_method"] == "S256"
    assert len(started["state"]) >= 32 and len(started["nonce"]) >= 32
    assert started["code_challenge"]


def test_the_code_is_exchanged_with_the_client_secret_and_pkce_verifier(client, idp, employee):
    sign_in(client, idp)
    (exchange,) = idp.requests_to("/token")
    assert exchange["grant_type"] == "authorization_code"
    assert exchange["code"] == "code-1"
    assert exchange["client_id"] == CLIENT_ID and exchange["client_secret"] == CLIENT_SECRET
    assert exchange["redirect_uri"] == "http://testserver/accounts/sso/callback/"
    assert len(exchange["code_verifier"]) >= 43


def test_the_session_records_how_the_provider_authenticated_the_person(client, idp, employee):
    sign_in(client, idp, amr=["pwd", "mfa"], acr="urn:test:mfa")
    assert client.session[sso.SESSION_AMR] == ["pwd", "mfa"]
    assert client.session[sso.SESSION_ACR] == "urn:test:mfa"
    assert client.session[sso.SESSION_ID_TOKEN].count(".") == 2


def test_without_amr_or_acr_the_session_says_so(client, idp, employee):
    sign_in(client, idp, amr=None, acr=None)
    assert client.session[sso.SESSION_AMR] == []
    assert client.session[sso.SESSION_ACR] == ""


def test_a_password_login_leaves_no_single_sign_on_marks(client, idp, employee):
    client.post(reverse("login"), {"username": employee.email, "password": "correct-horse-battery"})
    assert signed_in_id(client) == str(employee.pk)
    assert sso.SESSION_AMR not in client.session and sso.SESSION_ID_TOKEN not in client.session


def test_email_matches_the_directory_without_regard_to_case(client, idp, employee):
    sign_in(client, idp, email="  Employee@EXAMPLE.com ")
    assert signed_in_id(client) == str(employee.pk)


def test_email_and_its_verification_may_come_from_userinfo(client, idp, employee):
    response = sign_in(
        client,
        idp,
        email=None,
        email_verified=None,
        sub="subject-1",
        userinfo={"sub": "subject-1", "email": "employee@example.com", "email_verified": True},
    )
    assert response.status_code == 302
    assert signed_in_id(client) == str(employee.pk)


def test_the_page_asked_for_before_signing_in_opens_afterwards(client, idp, employee):
    response = sign_in(client, idp, start_params={"next": "/policies/"})
    assert response.url == "/policies/"


def test_a_next_page_on_another_site_is_ignored(client, idp, employee):
    response = sign_in(client, idp, start_params={"next": "https://evil.example.com/"})
    assert response.url == reverse("my_tasks")


def test_signing_in_changes_nothing_in_the_directory(client, idp, employee):
    before = get_user_model().objects.values().get(pk=employee.pk)
    sign_in(client, idp, name="Somebody Else")
    after = get_user_model().objects.values().get(pk=employee.pk)
    assert {k: v for k, v in after.items() if k != "last_login"} == {
        k: v for k, v in before.items() if k != "last_login"
    }
    assert get_user_model().objects.count() == 2  # employee and their manager


# --- Refused: nobody is created, nobody is signed in -------------------------------------


def assert_refused(response, *words):
    page = response.content.decode()
    assert response.status_code == 403
    assert "You cannot sign in to PolicyHub" in page
    assert "contact your administrator" in page
    for word in words:
        assert word in page


def test_an_unknown_person_is_refused_and_no_account_is_created(client, idp, employee):
    people = get_user_model().objects.count()
    response = sign_in(client, idp, email="stranger@example.com")
    assert_refused(response, "stranger@example.com", "has no account")
    assert get_user_model().objects.count() == people
    assert signed_in_id(client) is None
    assert client.get(reverse("my_tasks")).status_code == 302


def test_an_inactive_person_is_refused(client, idp, employee):
    employee.is_active = False
    employee.save()
    response = sign_in(client, idp, email="employee@example.com")
    assert_refused(response, "is not active")
    assert signed_in_id(client) is None


@pytest.mark.parametrize("verified", [False, "false", None, "yes please"])
def test_an_unverified_email_is_refused(client, idp, employee, verified):
    response = sign_in(client, idp, email_verified=verified)
    assert_refused(response, "has not confirmed that this address is yours")
    assert signed_in_id(client) is None


def test_a_verified_email_may_arrive_as_the_string_true(client, idp, employee):
    sign_in(client, idp, email_verified="true")
    assert signed_in_id(client) == str(employee.pk)


def test_no_email_at_all_is_refused(client, idp, employee):
    response = sign_in(client, idp, email=None)
    assert_refused(response, "did not tell PolicyHub your email address")


def test_entra_verifies_emails_with_its_own_claim(client, employee):
    with (
        LocalProvider() as idp,
        sso_settings(issuer=idp.issuer, OIDC_EMAIL_VERIFIED_CLAIM="xms_edov"),
    ):
        # email_verified means nothing here: only xms_edov counts.
        assert_refused(sign_in(client, idp, email_verified=True))
        sign_in(client, idp, email_verified=None, xms_edov=True)
        assert signed_in_id(client) == str(employee.pk)


def test_a_provider_trusted_for_every_email_needs_no_verified_claim(client, employee):
    with LocalProvider() as idp, sso_settings(issuer=idp.issuer, OIDC_EMAIL_VERIFIED_CLAIM=None):
        sign_in(client, idp, email_verified=None)
        assert signed_in_id(client) == str(employee.pk)


def test_a_person_deactivated_after_signing_in_is_signed_out(client, idp, employee):
    sign_in(client, idp)
    assert client.get(reverse("my_tasks")).status_code == 200
    get_user_model().objects.filter(pk=employee.pk).update(is_active=False)
    response = client.get(reverse("my_tasks"))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


# --- Site admins and staff: a password, not the provider's email claim ---------------------


def _alert(response) -> str:
    return re.search(
        r'<div class="alert[^"]*" role="alert">.*?</div>', response.content.decode(), re.S
    )[0]


@pytest.mark.parametrize(
    "flags",
    [
        {"is_superuser": True, "is_staff": True},
        {"is_staff": True},
        {"is_superuser": True},
    ],
    ids=["site admin", "staff", "superuser"],
)
def test_a_site_admin_or_staff_member_is_refused_single_sign_on(client, idp, make_person, flags):
    person = make_person(email="boss@example.com", **flags)
    response = sign_in(client, idp, email="boss@example.com")
    assert_refused(response, "boss@example.com")
    assert signed_in_id(client) is None
    assert client.get(reverse("my_tasks")).status_code == 302
    person.refresh_from_db()
    assert person.last_login is None


def test_the_refusal_of_a_site_admin_says_no_more_than_that_of_an_inactive_person(
    client, idp, make_person
):
    make_person(email="boss@example.com", is_superuser=True, is_staff=True)
    make_person(email="gone@example.com", is_active=False)
    admin = _alert(sign_in(client, idp, email="boss@example.com"))
    inactive = _alert(sign_in(client, idp, email="gone@example.com"))
    assert admin.replace("boss@", "gone@") == inactive
    assert "site admin" not in admin.lower() and "staff" not in admin.lower()


def test_site_admins_may_sign_in_with_the_provider_when_the_settings_say_so(client, make_person):
    person = make_person(email="boss@example.com", is_superuser=True, is_staff=True)
    with LocalProvider() as idp, sso_settings(issuer=idp.issuer, OIDC_ADMINS_MAY_SSO=True):
        response = sign_in(client, idp, email="boss@example.com")
        assert response.status_code == 302
        assert signed_in_id(client) == str(person.pk)


def test_a_person_made_staff_after_signing_in_is_signed_out(client, idp, employee):
    sign_in(client, idp)
    assert client.get(reverse("my_tasks")).status_code == 200
    get_user_model().objects.filter(pk=employee.pk).update(is_staff=True)
    response = client.get(reverse("my_tasks"))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


# --- Login throttling -----------------------------------------------------------------------


def _fail_password_logins(client, emails):
    for email in emails:
        client.post(reverse("login"), {"username": email, "password": "wrong"})


def test_a_throttled_address_can_still_sign_in_with_single_sign_on(client, idp, employee, settings):
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 6
    _fail_password_logins(client, [f"guess{n}@example.com" for n in range(6)])
    locked = client.post(
        reverse("login"), {"username": employee.email, "password": "correct-horse-battery"}
    )
    assert locked.status_code == 429
    response = sign_in(client, idp)
    assert response.status_code == 302
    assert signed_in_id(client) == str(employee.pk)


def test_refused_sign_ins_do_not_count_as_failed_logins(client, idp, employee):
    for _ in range(6):
        assert sign_in(client, idp, email="stranger@example.com").status_code == 403
    assert not AccessAttempt.objects.exists()
    login = client.post(
        reverse("login"), {"username": employee.email, "password": "correct-horse-battery"}
    )
    assert login.status_code == 302


def test_throttling_never_lets_an_inactive_person_in(client, idp, employee):
    employee.is_active = False
    employee.save()
    assert sign_in(client, idp).status_code == 403
    assert signed_in_id(client) is None


def test_signing_in_clears_the_persons_failed_password_logins(client, idp, employee):
    _fail_password_logins(client, [employee.email] * 5)
    assert AccessAttempt.objects.filter(username=employee.email).exists()
    sign_in(client, idp)
    assert not AccessAttempt.objects.filter(username=employee.email).exists()


# --- The provider's endpoints: read lazily, once --------------------------------------------


def test_nothing_is_fetched_from_the_provider_until_someone_signs_in(client, idp, employee):
    assert client.get(reverse("login")).status_code == 200
    client.post(reverse("login"), {"username": employee.email, "password": "correct-horse-battery"})
    assert client.get(reverse("my_tasks")).status_code == 200
    assert idp.requests == []


def test_the_discovery_document_is_read_once_for_many_sign_ins(client, idp, employee):
    for _ in range(3):
        sign_in(client, idp)
        client.post(reverse("logout"))
    assert len(idp.requests_to("/.well-known/openid-configuration")) == 1


def test_a_provider_that_cannot_be_reached_gets_a_clear_page(client, idp):
    idp.fail_discovery = True
    response = client.get(reverse("sso_login"))
    assert response.status_code == 502
    page = response.content.decode()
    assert "PolicyHub could not reach Test ID" in page
    assert "log in with your PolicyHub password" in page
    assert "oidc_states" not in client.session


def test_a_provider_naming_another_issuer_is_not_used(client, idp):
    idp.discovery_overrides = {"issuer": "https://elsewhere.example.com"}
    response = client.get(reverse("sso_login"))
    assert response.status_code == 502


def test_endpoints_set_explicitly_need_no_discovery(client, employee):
    with LocalProvider() as idp:
        endpoints = {
            "OIDC_OP_AUTHORIZATION_ENDPOINT": f"{idp.issuer}/authorize",
            "OIDC_OP_TOKEN_ENDPOINT": f"{idp.issuer}/token",
            "OIDC_OP_JWKS_ENDPOINT": f"{idp.issuer}/jwks",
        }
        with sso_settings(issuer=idp.issuer, **endpoints):
            sign_in(client, idp)
            assert signed_in_id(client) == str(employee.pk)
            assert idp.requests_to("/.well-known/openid-configuration") == []
            assert idp.requests_to("/userinfo") == []
