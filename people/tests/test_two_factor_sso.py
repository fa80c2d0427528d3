"""Two-factor sign-in after single sign-on: the provider's multi-factor sign-in counts (its ID
token's amr or acr claim says so); without it, the code is asked for as after a password."""

import pytest
from django.contrib.auth import BACKEND_SESSION_KEY
from django.urls import reverse

from conftest import second_factor_code, with_second_factor
from people import roles, sso, two_factor
from people.tests.test_sso_sign_in import sign_in
from tests.oidc.local_provider import LocalProvider
from tests.oidc.switch import sso_settings

pytestmark = pytest.mark.django_db


@pytest.fixture
def idp():
    with LocalProvider() as provider, sso_settings(issuer=provider.issuer):
        yield provider


@pytest.fixture
def hr_without_app(make_person):
    return make_person(email="hannah@example.com", group=roles.HR_LEGAL)


@pytest.mark.parametrize("amr", [["mfa"], ["pwd", "mfa"], "mfa"])
def test_a_provider_that_says_mfa_is_enough_for_hr(client, idp, hr_without_app, amr):
    response = sign_in(client, idp, email=hr_without_app.email, amr=amr, acr=None)
    assert response.url == reverse("my_tasks")
    assert client.get(reverse("my_tasks")).status_code == 200
    assert client.get(reverse("incidents:index")).status_code == 200
    page = client.get(reverse("two_factor:manage")).text
    assert "counts as two-factor sign-in here" in page


@pytest.mark.parametrize("amr", [None, ["pwd"], ["pwd", "otp"], ["hwk"], "pwd mfa"])
def test_without_mfa_in_amr_hr_is_sent_to_set_up_an_app(client, idp, hr_without_app, amr):
    sign_in(client, idp, email=hr_without_app.email, amr=amr, acr=None)
    response = client.get(reverse("my_tasks"))
    assert response.url == reverse("two_factor:setup") + "?next=%2F"
    assert client.get(reverse("incidents:index")).url.startswith(reverse("two_factor:setup"))


def test_without_mfa_hr_with_an_app_is_asked_for_the_code(client, idp, hr_without_app):
    person = with_second_factor(hr_without_app, passed=False)
    sign_in(client, idp, email=person.email, amr=["pwd"], acr=None)
    assert client.get(reverse("my_tasks")).url == reverse("two_factor:verify") + "?next=%2F"
    response = client.post(
        reverse("two_factor:verify"), {"code": second_factor_code(person), "next": "/"}
    )
    assert response.url == "/"
    assert client.get(reverse("my_tasks")).status_code == 200


def test_an_employee_with_an_app_signed_in_with_mfa_is_not_asked_again(client, idp, employee):
    with_second_factor(employee, passed=False)
    sign_in(client, idp, email=employee.email, amr=["pwd", "mfa"])
    assert client.get(reverse("my_tasks")).status_code == 200


def test_an_employee_with_an_app_signed_in_without_mfa_is_asked_for_the_code(client, idp, employee):
    with_second_factor(employee, passed=False)
    sign_in(client, idp, email=employee.email, amr=["pwd"], acr=None)
    assert client.get(reverse("my_tasks")).url.startswith(reverse("two_factor:verify"))


def test_an_employee_without_an_app_needs_nothing_more(client, idp, employee):
    sign_in(client, idp, email=employee.email, amr=None, acr=None)
    assert client.get(reverse("my_tasks")).status_code == 200


def test_an_acr_value_counts_only_when_configured(client, hr_without_app, settings):
    with LocalProvider() as idp, sso_settings(issuer=idp.issuer):
        sign_in(client, idp, email=hr_without_app.email, amr=["pwd"], acr="urn:example:loa:2")
        assert client.get(reverse("my_tasks")).status_code == 302
        settings.OIDC_MFA_ACR_VALUES = ["urn:example:loa:2", "urn:example:loa:3"]
        assert client.get(reverse("my_tasks")).status_code == 200


def test_the_amr_values_that_count_come_from_the_settings(client, idp, hr_without_app, settings):
    settings.OIDC_MFA_AMR_VALUES = ["mfa", "hwk"]
    sign_in(client, idp, email=hr_without_app.email, amr=["hwk"], acr=None)
    assert client.get(reverse("my_tasks")).status_code == 200


def test_a_password_login_never_borrows_a_single_sign_on_claim(settings):
    session = {
        BACKEND_SESSION_KEY: "django.contrib.auth.backends.ModelBackend",
        sso.SESSION_AMR: ["mfa"],
        sso.SESSION_ACR: "urn:test:mfa",
    }
    settings.OIDC_MFA_ACR_VALUES = ["urn:test:mfa"]
    assert not two_factor.sso_vouches_for_mfa(session)
    session[BACKEND_SESSION_KEY] = sso.BACKEND
    assert two_factor.sso_vouches_for_mfa(session)
