"""The single sign-on settings as the environment sets them, read in a fresh process."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PRODUCTION = {
    "SECRET_KEY": "k" * 20 + "Zq8#vN2$mP5&xR7!tL9@wB4^hJ6*cF1(dG3)sA0-" + "u" * 10,
    "DEBUG": "false",
    "SITE_URL": "https://policyhub.example.com",
    "ALLOWED_HOSTS": "policyhub.example.com",
}
# Port 9 (discard) on loopback: nothing answers, so any fetch at start-up would fail loudly.
OIDC = {
    "OIDC_ISSUER": "http://127.0.0.1:9/tenant/v2.0",
    "OIDC_CLIENT_ID": "policyhub",
    "OIDC_CLIENT_SECRET": "s3cret-from-the-provider",
}


def _run(args, **env):
    base = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("OIDC_") and key not in {*PRODUCTION, "DATABASE_URL", "REDIS_URL"}
    }
    base["DJANGO_SETTINGS_MODULE"] = "policyhub.settings"
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def _settings_with(**env) -> dict:
    code = (
        "import django, json; django.setup(); from django.conf import settings as s; "
        "print(json.dumps({'enabled': s.OIDC_ENABLED, 'only': s.OIDC_ONLY, "
        "'backends': s.AUTHENTICATION_BACKENDS, "
        "'processors': s.TEMPLATES[0]['OPTIONS']['context_processors'], "
        "'name': getattr(s, 'OIDC_PROVIDER_NAME', None), "
        "'verified': getattr(s, 'OIDC_EMAIL_VERIFIED_CLAIM', 'unset'), "
        "'basic': getattr(s, 'OIDC_TOKEN_USE_BASIC_AUTH', None), "
        "'token': getattr(s, 'OIDC_OP_TOKEN_ENDPOINT', 'unset')}))"
    )
    result = _run(["-c", code], **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_without_an_issuer_only_passwords():
    values = _settings_with()
    assert values["enabled"] is False and values["only"] is False
    assert values["backends"] == [
        "axes.backends.AxesStandaloneBackend",
        "django.contrib.auth.backends.ModelBackend",
    ]
    assert "people.sso.sign_in_options" not in values["processors"]


def test_an_issuer_adds_the_backend_after_axes_and_passwords():
    values = _settings_with(**OIDC, OIDC_PROVIDER_NAME="Microsoft")
    assert values["enabled"] is True and values["only"] is False
    assert values["backends"] == [
        "axes.backends.AxesStandaloneBackend",
        "django.contrib.auth.backends.ModelBackend",
        "people.sso.SignInBackend",
    ]
    assert values["processors"][-1] == "people.sso.sign_in_options"
    assert values["name"] == "Microsoft"
    assert values["verified"] == "email_verified"
    assert values["basic"] is False
    assert values["token"] is None  # from discovery, on first use


def test_passwords_off_swaps_in_the_site_admin_only_password_backend():
    values = _settings_with(**OIDC, OIDC_ONLY="true")
    assert values["only"] is True
    assert values["backends"] == [
        "axes.backends.AxesStandaloneBackend",
        "people.sso.PasswordBackend",
        "people.sso.SignInBackend",
    ]


def test_provider_specific_choices_come_from_the_environment():
    values = _settings_with(
        **OIDC,
        OIDC_EMAIL_VERIFIED_CLAIM="xms_edov",
        OIDC_CLIENT_AUTH_METHOD="client_secret_basic",
        OIDC_TOKEN_ENDPOINT="https://idp.example.com/token",
    )
    assert values["verified"] == "xms_edov"
    assert values["basic"] is True
    assert values["token"] == "https://idp.example.com/token"
    assert _settings_with(**OIDC, OIDC_EMAIL_VERIFIED_CLAIM="none")["verified"] is None


def _admins_may_sso(**env):
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(getattr(s, 'OIDC_ADMINS_MAY_SSO', 'unset'))"
    )
    result = _run(["-c", code], **env)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_site_admins_and_staff_sign_in_with_the_provider_only_when_allowed():
    assert _admins_may_sso(**OIDC) == "False"
    assert _admins_may_sso(**OIDC, OIDC_ADMINS_MAY_SSO="true") == "True"


@pytest.mark.parametrize(
    "env, message",
    [
        ({"OIDC_ONLY": "true"}, "OIDC_ONLY=true needs OIDC_ISSUER"),
        ({**OIDC, "OIDC_ONLY": "sometimes"}, "OIDC_ONLY must be a boolean"),
        ({**OIDC, "OIDC_CLIENT_ID": ""}, "OIDC_CLIENT_ID must be set when OIDC_ISSUER is"),
        ({**OIDC, "OIDC_CLIENT_SECRET": ""}, "OIDC_CLIENT_SECRET must be set"),
        ({**OIDC, "OIDC_ISSUER": "http://login.example.com"}, "OIDC_ISSUER must be an https"),
        ({**OIDC, "OIDC_ISSUER": "login.example.com"}, "OIDC_ISSUER must be an https"),
        ({**OIDC, "OIDC_SIGN_ALGO": "HS256"}, "OIDC_SIGN_ALGO must be one of"),
        ({**OIDC, "OIDC_SCOPES": "email profile"}, "OIDC_SCOPES must include openid"),
        ({**OIDC, "OIDC_CLIENT_AUTH_METHOD": "jwt"}, "OIDC_CLIENT_AUTH_METHOD must be"),
        ({**OIDC, "OIDC_TIMEOUT_SECONDS": "0"}, "OIDC_TIMEOUT_SECONDS must be at least 1"),
        ({**OIDC, "OIDC_ADMINS_MAY_SSO": "maybe"}, "OIDC_ADMINS_MAY_SSO must be a boolean"),
    ],
)
def test_malformed_single_sign_on_settings_stop_the_app_naming_the_variable(env, message):
    result = _run(["manage.py", "check"], **env)
    assert result.returncode != 0
    assert message in result.stderr


def test_check_deploy_stays_clean_with_single_sign_on_and_fetches_nothing():
    env = {
        **PRODUCTION,
        **OIDC,
        "OIDC_ISSUER": "https://login.microsoftonline.com/00000000-0000-0000-0000-000000000000/v2.0",
        "OIDC_ONLY": "true",
        # Any attempt to reach the provider while starting would fail at once.
        "HTTPS_PROXY": "http://127.0.0.1:9",
        "https_proxy": "http://127.0.0.1:9",
    }
    result = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], **env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_the_login_page_renders_with_single_sign_on_without_reaching_the_provider():
    code = (
        "import django; django.setup(); from django.test import Client; "
        "page = Client().get('/accounts/login/', HTTP_HOST='127.0.0.1').content.decode(); "
        "print('Sign in with Microsoft' in page)"
    )
    result = _run(["-c", code], **OIDC, OIDC_PROVIDER_NAME="Microsoft")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "True"
