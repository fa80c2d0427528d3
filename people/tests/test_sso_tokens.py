"""Bad answers at the single sign-on callback: forged or expired ID tokens, a wrong audience
or issuer, a replayed state or nonce. Each is refused with a page saying so, and nothing is
created and nobody signed in."""

import time

import jwt
import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from people import sso
from people.tests.test_sso_sign_in import finish, start
from tests.oidc.local_provider import LocalProvider, new_key
from tests.oidc.switch import CLIENT_SECRET, sso_settings

pytestmark = pytest.mark.django_db


@pytest.fixture
def idp():
    with LocalProvider() as provider, sso_settings(issuer=provider.issuer):
        yield provider


@pytest.fixture
def directory(employee):
    return get_user_model().objects.count()


def assert_nobody_signed_in(client, response, directory, status=400):
    assert response.status_code == status, response.content.decode()
    assert "Sign-in did not complete" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert get_user_model().objects.count() == directory
    assert client.get(reverse("my_tasks")).status_code == 302


def answer(client, idp, token=None, **claims):
    started = start(client)
    idp.answer_with(token or idp.sign(idp.claims(nonce=started["nonce"], **claims)))
    return finish(client, started)


def test_a_token_signed_with_another_key_is_refused(client, idp, directory):
    started = start(client)
    forged = idp.sign(idp.claims(nonce=started["nonce"]), key=new_key())
    idp.answer_with(forged)
    assert_nobody_signed_in(client, finish(client, started), directory)


def test_a_token_naming_a_key_the_provider_does_not_publish_is_refused(client, idp, directory):
    started = start(client)
    idp.answer_with(idp.sign(idp.claims(nonce=started["nonce"]), key=new_key(), kid="other"))
    assert_nobody_signed_in(client, finish(client, started), directory)


def test_a_token_with_a_changed_payload_is_refused(client, idp, directory):
    started = start(client)
    header, _, signature = idp.sign(idp.claims(nonce=started["nonce"])).split(".")
    tampered = idp.sign(idp.claims(nonce=started["nonce"], email="hr@example.com"))
    tampered_payload = tampered.split(".")[1]
    idp.answer_with(f"{header}.{tampered_payload}.{signature}")
    assert_nobody_signed_in(client, finish(client, started), directory)


def test_an_unsigned_token_is_refused(client, idp, directory):
    started = start(client)
    unsigned = jwt.encode(idp.claims(nonce=started["nonce"]), None, algorithm="none")
    idp.answer_with(unsigned)
    assert_nobody_signed_in(client, finish(client, started), directory)


def test_a_token_signed_with_the_client_secret_is_refused(client, idp, directory):
    started = start(client)
    hs256 = jwt.encode(
        idp.claims(nonce=started["nonce"]),
        CLIENT_SECRET,
        algorithm="HS256",
        headers={"kid": idp.kid},
    )
    idp.answer_with(hs256)
    assert_nobody_signed_in(client, finish(client, started), directory)


def test_garbage_instead_of_a_token_is_refused(client, idp, directory):
    started = start(client)
    idp.token_response = {"access_token": "a", "id_token": "not-a-token"}
    assert_nobody_signed_in(client, finish(client, started), directory)


def test_a_token_response_without_an_id_token_is_refused(client, idp, directory):
    started = start(client)
    idp.token_response = {"access_token": "a", "token_type": "Bearer"}
    assert_nobody_signed_in(client, finish(client, started), directory)


def test_an_expired_token_is_refused(client, idp, directory):
    an_hour_ago = int(time.time()) - 3600
    response = answer(client, idp, iat=an_hour_ago - 300, exp=an_hour_ago)
    assert_nobody_signed_in(client, response, directory)


def test_a_token_issued_in_the_future_is_refused(client, idp, directory):
    later = int(time.time()) + 3600
    response = answer(client, idp, iat=later, exp=later + 300)
    assert_nobody_signed_in(client, response, directory)


@pytest.mark.parametrize("missing", ["exp", "iat", "aud", "iss", "sub"])
def test_a_token_without_a_required_claim_is_refused(client, idp, directory, missing):
    response = answer(client, idp, **{missing: None})
    assert_nobody_signed_in(client, response, directory)


def test_a_token_for_another_client_is_refused(client, idp, directory):
    assert_nobody_signed_in(client, answer(client, idp, aud="another-app"), directory)


def test_a_token_for_several_clients_must_name_policyhub_as_its_party(client, idp, directory):
    audiences = ["policyhub", "another-app"]
    assert_nobody_signed_in(client, answer(client, idp, aud=audiences), directory)
    response = answer(client, idp, aud=audiences, azp="another-app")
    assert_nobody_signed_in(client, response, directory)
    answer(client, idp, aud=audiences, azp="policyhub")
    assert "_auth_user_id" in client.session


def test_a_token_from_another_issuer_is_refused(client, idp, directory):
    response = answer(client, idp, iss="https://login.elsewhere.example.com")
    assert_nobody_signed_in(client, response, directory)


def test_an_answer_naming_another_issuer_is_refused(client, idp, directory):
    started = start(client)
    idp.answer_with(idp.sign(idp.claims(nonce=started["nonce"])))
    response = finish(client, started, iss="https://login.elsewhere.example.com")
    assert_nobody_signed_in(client, response, directory)
    assert idp.requests_to("/token") == []


def test_userinfo_about_someone_else_is_refused(client, idp, directory):
    started = start(client)
    token = idp.sign(idp.claims(nonce=started["nonce"], email=None, email_verified=None))
    idp.answer_with(
        token,
        userinfo={"sub": "someone-else", "email": "employee@example.com", "email_verified": True},
    )
    assert_nobody_signed_in(client, finish(client, started), directory)


# --- State and nonce ------------------------------------------------------------------------


def test_a_replayed_state_is_refused(client, idp, directory):
    started = start(client)
    idp.answer_with(idp.sign(idp.claims(nonce=started["nonce"])))
    assert finish(client, started).status_code == 302
    client.post(reverse("logout"))
    response = finish(client, started)
    page = response.content.decode()
    assert_nobody_signed_in(client, response, directory)
    assert "already been used or has expired" in page
    assert len(idp.requests_to("/token")) == 1


def test_an_answer_from_another_browser_is_refused(client, idp, directory):
    from django.test import Client

    started = start(Client())
    idp.answer_with(idp.sign(idp.claims(nonce=started["nonce"])))
    assert_nobody_signed_in(client, finish(client, started), directory)
    assert idp.requests_to("/token") == []


def test_an_answer_without_state_or_code_is_refused(client, idp, directory):
    start(client)
    response = client.get(reverse("sso_callback"), {"code": "code-1"})
    assert_nobody_signed_in(client, response, directory)
    started = start(client)
    response = client.get(reverse("sso_callback"), {"state": started["state"]})
    assert_nobody_signed_in(client, response, directory)


def test_a_state_older_than_a_quarter_of_an_hour_is_refused(client, idp, directory):
    started = start(client)
    session = client.session
    session[sso.SESSION_STATES][started["state"]]["added_on"] -= sso.STATE_MAX_AGE_SECONDS + 1
    session.save()
    idp.answer_with(idp.sign(idp.claims(nonce=started["nonce"])))
    assert_nobody_signed_in(client, finish(client, started), directory)


def test_a_replayed_nonce_is_refused(client, idp, directory):
    earlier = start(client)
    old_token = idp.sign(idp.claims(nonce=earlier["nonce"]))
    started = start(client)
    idp.answer_with(old_token)
    assert_nobody_signed_in(client, finish(client, started), directory)


def test_a_token_without_nonce_is_refused(client, idp, directory):
    started = start(client)
    claims = idp.claims(nonce=started["nonce"])
    del claims["nonce"]
    idp.answer_with(idp.sign(claims))
    assert_nobody_signed_in(client, finish(client, started), directory)


def test_a_code_the_provider_refuses_gives_a_clear_page(client, idp, directory):
    started = start(client)
    idp.token_response = None  # the token endpoint answers 400 invalid_grant
    assert_nobody_signed_in(client, finish(client, started), directory)


def test_the_providers_error_is_shown_without_its_words(client, idp, directory):
    started = start(client)
    response = finish(
        client,
        started,
        code="",
        error="access_denied",
        error_description="Call +1 555 0100 to unlock your account",
    )
    assert_nobody_signed_in(client, response, directory)
    page = response.content.decode()
    assert "Test ID did not sign you in" in page
    assert "555 0100" not in page
    # The state is used up.
    idp.answer_with(idp.sign(idp.claims(nonce=started["nonce"])))
    assert_nobody_signed_in(client, finish(client, started), directory)
