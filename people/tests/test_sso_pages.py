"""The login page with and without single sign-on, logout, and OIDC_ONLY=true (passwords for
site admins only)."""

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core import mail
from django.urls import NoReverseMatch, reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from people.tests.test_sso_sign_in import sign_in
from tests.oidc.local_provider import LocalProvider
from tests.oidc.switch import CLIENT_ID, sso_settings

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"


@pytest.fixture
def idp():
    with LocalProvider() as provider, sso_settings(issuer=provider.issuer):
        yield provider


@pytest.fixture
def idp_only():
    with LocalProvider() as provider, sso_settings(issuer=provider.issuer, only=True):
        yield provider


def password_login(client, person):
    return client.post(reverse("login"), {"username": person.email, "password": PASSWORD})


# --- Without OIDC_ISSUER: as before --------------------------------------------------------


def test_without_an_issuer_nothing_of_single_sign_on_is_active(client, employee):
    assert settings.OIDC_ENABLED is False and settings.OIDC_ONLY is False
    assert not any("people.sso" in backend for backend in settings.AUTHENTICATION_BACKENDS)
    processors = settings.TEMPLATES[0]["OPTIONS"]["context_processors"]
    assert "people.sso.sign_in_options" not in processors
    with pytest.raises(NoReverseMatch):
        reverse("sso_login")
    assert client.get("/accounts/sso/login/").status_code == 404
    assert client.get("/accounts/sso/callback/?code=x&state=y").status_code == 404
    page = client.get(reverse("login")).content.decode()
    assert "Sign in with" not in page
    assert 'value="Log in"' in page
    assert password_login(client, employee).status_code == 302
    response = client.post(reverse("logout"))
    assert response.url == reverse("login")


# --- The login page ---------------------------------------------------------------------


def test_the_login_page_offers_the_provider_next_to_the_password_form(client, idp):
    page = client.get(reverse("login")).content.decode()
    assert re.search(r"<button[^>]*>\s*Sign in with Test ID\s*</button>", page)
    assert re.search(r"<label[^>]*>\s*Email", page)
    assert re.search(r"<label[^>]*>\s*Password", page)
    assert 'value="Log in"' in page
    assert "Forgotten your password, or never set one?" in page
    assert "<details" not in page


def test_the_page_asked_for_goes_along_to_the_provider(client, idp):
    page = client.get(reverse("login"), {"next": "/training/"}).content.decode()
    form = re.search(r'<form method="get" action="/accounts/sso/login/">.*?</form>', page, re.S)
    assert '<input type="hidden" name="next" value="/training/">' in form.group(0)


def test_password_logins_still_work_beside_single_sign_on(client, idp, employee):
    assert password_login(client, employee).url == reverse("my_tasks")


# --- Logout ---------------------------------------------------------------------------------


def test_logout_after_single_sign_on_ends_the_providers_session_too(client, idp, employee):
    sign_in(client, idp)
    id_token = client.session["sso_id_token"]
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    target = urlsplit(response.url)
    assert f"{target.scheme}://{target.netloc}{target.path}" == f"{idp.issuer}/logout"
    query = {name: values[0] for name, values in parse_qs(target.query).items()}
    assert query == {
        "id_token_hint": id_token,
        "post_logout_redirect_uri": "http://testserver/accounts/login/",
        "client_id": CLIENT_ID,
    }
    assert "_auth_user_id" not in client.session
    assert client.get(reverse("my_tasks")).status_code == 302


def test_logout_after_a_password_login_stays_here(client, idp, employee):
    password_login(client, employee)
    response = client.post(reverse("logout"))
    assert response.url == reverse("login")
    assert idp.requests == []


def test_a_provider_without_logout_ends_only_our_session(client, idp, employee):
    idp.discovery_overrides = {"end_session_endpoint": None}
    sign_in(client, idp)
    response = client.post(reverse("logout"))
    assert response.url == reverse("login")
    assert client.get(reverse("my_tasks")).status_code == 302


def test_logout_still_needs_post(client, idp, employee):
    sign_in(client, idp)
    assert client.get(reverse("logout")).status_code == 405
    assert client.get(reverse("my_tasks")).status_code == 200


# --- OIDC_ONLY=true -------------------------------------------------------------------------


def test_with_passwords_off_the_login_page_leads_with_the_provider(client, idp_only):
    page = client.get(reverse("login")).content.decode()
    assert re.search(r"<button[^>]*>\s*Sign in with Test ID\s*</button>", page)
    assert "Passwords are for site admins only" in page
    details = re.search(r"<details[^>]*>.*?</details>", page, re.S).group(0)
    assert "Site admin: log in with a password" in details
    assert 'value="Log in"' in details and "Password" in details
    assert '<details class="mt-3">' in page  # closed


def test_with_passwords_off_everyone_signs_in_with_the_provider(client, idp_only, employee):
    sign_in(client, idp_only)
    assert client.session["_auth_user_id"] == str(employee.pk)


def test_with_passwords_off_a_correct_password_is_refused(client, idp_only, employee):
    response = password_login(client, employee)
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert '<details class="mt-3" open>' in response.content.decode()


def test_with_passwords_off_a_site_admin_still_logs_in_with_a_password(
    client, idp_only, site_admin
):
    assert password_login(client, site_admin).url == reverse("my_tasks")
    assert client.session["_auth_user_id"] == str(site_admin.pk)


def test_with_passwords_off_a_staff_member_keeps_a_password_while_refused_the_provider(
    client, idp_only, make_person
):
    # Staff cannot sign in with the provider (OIDC_ADMINS_MAY_SSO is off): a password is
    # their one way in.
    staff = make_person(is_staff=True)
    assert sign_in(client, idp_only, email=staff.email).status_code == 403
    assert password_login(client, staff).status_code == 302
    assert client.session["_auth_user_id"] == str(staff.pk)


def test_with_passwords_off_a_staff_member_who_may_use_the_provider_has_no_password(
    client, make_person
):
    staff = make_person(is_staff=True)
    with (
        LocalProvider() as provider,
        sso_settings(issuer=provider.issuer, only=True, OIDC_ADMINS_MAY_SSO=True),
    ):
        assert password_login(client, staff).status_code == 200
        admin_login = client.post(
            "/admin/login/", {"username": staff.email, "password": PASSWORD, "next": "/admin/"}
        )
        assert admin_login.status_code == 200
        assert "_auth_user_id" not in client.session
        sign_in(client, provider, email=staff.email)
        assert client.session["_auth_user_id"] == str(staff.pk)


def test_turning_passwords_off_ends_open_password_sessions(client, employee):
    password_login(client, employee)
    assert client.get(reverse("my_tasks")).status_code == 200
    with LocalProvider() as idp, sso_settings(issuer=idp.issuer, only=True):
        assert client.get(reverse("my_tasks")).status_code == 302


def test_with_passwords_off_only_site_admins_are_sent_a_reset_link(
    client, idp_only, employee, site_admin
):
    page = client.get(reverse("password_reset")).content.decode()
    assert "passwords are for site admins only" in page
    client.post(reverse("password_reset"), {"email": employee.email})
    assert mail.outbox == []
    client.post(reverse("password_reset"), {"email": site_admin.email})
    assert [message.to for message in mail.outbox] == [[site_admin.email]]


def _reset_url(person) -> str:
    uid = urlsafe_base64_encode(force_bytes(person.pk))
    return reverse(
        "password_reset_confirm",
        kwargs={"uidb64": uid, "token": default_token_generator.make_token(person)},
    )


def test_with_passwords_off_an_old_reset_link_sets_no_password(client, employee):
    link = _reset_url(employee)  # sent before passwords were turned off
    with LocalProvider() as idp, sso_settings(issuer=idp.issuer, only=True):
        response = client.get(link, follow=True)
        assert response.status_code == 403
        assert "Passwords are turned off" in response.content.decode()
        set_password = link.rsplit("/", 2)[0] + "/set-password/"
        response = client.post(
            set_password, {"new_password1": "a-new-long-pass", "new_password2": "a-new-long-pass"}
        )
        assert response.status_code == 403
    employee.refresh_from_db()
    assert employee.check_password(PASSWORD)


def test_with_passwords_off_a_site_admin_can_still_reset(client, idp_only, site_admin):
    response = client.get(_reset_url(site_admin), follow=True)
    assert response.status_code == 200
    set_password = response.redirect_chain[-1][0]
    client.post(
        set_password, {"new_password1": "a-new-long-pass", "new_password2": "a-new-long-pass"}
    )
    site_admin.refresh_from_db()
    assert site_admin.check_password("a-new-long-pass")


def test_with_single_sign_on_but_passwords_on_anyone_may_reset(client, idp, employee):
    client.post(reverse("password_reset"), {"email": employee.email})
    assert [message.to for message in mail.outbox] == [[employee.email]]
