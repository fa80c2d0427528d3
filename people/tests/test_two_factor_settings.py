"""Who must use two-factor sign-in, as the environment says, read in a fresh process."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

from people import roles, two_factor

ROOT = Path(__file__).resolve().parents[2]


def _settings_with(**env) -> subprocess.CompletedProcess:
    base = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TWO_FACTOR_", "OIDC_"))
    }
    code = (
        "import django, json; django.setup(); from django.conf import settings as s; "
        "print(json.dumps({'roles': s.TWO_FACTOR_REQUIRED_ROLES, 'issuer': s.OTP_TOTP_ISSUER, "
        "'amr': s.OIDC_MFA_AMR_VALUES, 'acr': s.OIDC_MFA_ACR_VALUES, "
        "'throttle': s.OTP_TOTP_THROTTLE_FACTOR, 'middleware': s.MIDDLEWARE}))"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**base, "DJANGO_SETTINGS_MODULE": "policyhub.settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def _read(**env) -> dict:
    result = _settings_with(**env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_by_default_site_admins_and_hr_must_and_single_sign_on_counts_mfa():
    found = _read()
    assert found["roles"] == ["site_admin", "hr_legal"]
    assert found["issuer"] == "PolicyHub"
    assert found["amr"] == ["mfa"] and found["acr"] == []
    assert found["throttle"] == 1
    middleware = found["middleware"]
    login = middleware.index("django.contrib.auth.middleware.AuthenticationMiddleware")
    assert middleware[login + 1 : login + 3] == [
        "people.two_factor.middleware.OTPMiddleware",
        "people.two_factor.SecondFactorMiddleware",
    ]


def test_the_environment_chooses_roles_issuer_and_claims():
    found = _read(
        TWO_FACTOR_REQUIRED_ROLES="site_admin, policy_admin,comms",
        TWO_FACTOR_ISSUER="Acme PolicyHub",
        OIDC_MFA_AMR_VALUES="mfa,hwk",
        OIDC_MFA_ACR_VALUES="urn:example:loa:2",
        TWO_FACTOR_THROTTLE_SECONDS="5",
    )
    assert found["roles"] == ["site_admin", "policy_admin", "comms"]
    assert found["issuer"] == "Acme PolicyHub"
    assert found["amr"] == ["mfa", "hwk"] and found["acr"] == ["urn:example:loa:2"]
    assert found["throttle"] == 5
    assert _read(TWO_FACTOR_REQUIRED_ROLES="none")["roles"] == []


@pytest.mark.parametrize(
    "env, words",
    [
        ({"TWO_FACTOR_REQUIRED_ROLES": "site_admin,hr"}, "TWO_FACTOR_REQUIRED_ROLES takes"),
        ({"TWO_FACTOR_THROTTLE_SECONDS": "0"}, "TWO_FACTOR_THROTTLE_SECONDS must be at least 1"),
    ],
)
def test_a_bad_value_stops_the_start(env, words):
    result = _settings_with(**env)
    assert result.returncode != 0 and words in result.stderr


def test_every_role_the_settings_accept_is_known_here():
    source = (ROOT / "policyhub" / "settings.py").read_text()
    block = source[source.index("_unknown_roles = set(") :]
    block = block[: block.index("}")]
    assert {name for name in two_factor.REQUIRED_ROLE_CHECKS if f'"{name}"' in block} == set(
        two_factor.REQUIRED_ROLE_CHECKS
    )


@pytest.mark.django_db
def test_the_roles_that_must_follow_the_setting(client, make_person, settings):
    comms = make_person(group=roles.COMMS)
    hr = make_person(group=roles.HR_LEGAL)
    settings.TWO_FACTOR_REQUIRED_ROLES = ["comms"]
    assert two_factor.required_for(comms) and not two_factor.required_for(hr)
    client.force_login(comms)
    assert client.get(reverse("my_tasks")).url.startswith(reverse("two_factor:setup"))
    client.force_login(hr)
    assert client.get(reverse("my_tasks")).status_code == 200
    settings.TWO_FACTOR_REQUIRED_ROLES = ["everyone"]
    assert client.get(reverse("my_tasks")).url.startswith(reverse("two_factor:setup"))
