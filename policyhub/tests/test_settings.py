import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from policyhub.env import env_bool, env_int, env_list, env_str

ROOT = Path(__file__).resolve().parents[2]

_SETTINGS_VARS = (
    "SECRET_KEY",
    "DEBUG",
    "ALLOWED_HOSTS",
    "SITE_URL",
    "DATABASE_URL",
    "REDIS_URL",
    "EMAIL_HOST",
    "EMAIL_PORT",
    "EMAIL_USE_TLS",
    "EMAIL_USE_SSL",
    "TIME_ZONE",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "TRUST_X_FORWARDED_PROTO",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "VAR_DIR",
    "EMAIL_BACKEND",
    "HEARTBEAT_INTERVAL_SECONDS",
    "DATABASE_JIT",
    "DATABASE_RANDOM_PAGE_COST",
)


def _run(args, **env):
    base = {key: value for key, value in os.environ.items() if key not in _SETTINGS_VARS}
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
        "db = s.DATABASES['default']; print(json.dumps({'engine': db['ENGINE'], "
        "'name': str(db['NAME']), 'host': db.get('HOST'), 'broker': s.CELERY_BROKER_URL, "
        "'email': s.EMAIL_BACKEND, 'debug': s.DEBUG, 'tz': s.TIME_ZONE, 'use_tz': s.USE_TZ, "
        "'hosts': s.ALLOWED_HOSTS, 'ssl': s.SECURE_SSL_REDIRECT, "
        "'options': db.get('OPTIONS', {}).get('options')}))"
    )
    result = _run(["-c", code], **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("true", True),
        ("Yes", True),
        ("1", True),
        ("on", True),
        ("false", False),
        ("NO", False),
        ("0", False),
        ("off", False),
    ],
)
def test_env_bool_reads_the_usual_words(monkeypatch, raw, expected):
    monkeypatch.setenv("FLAG", raw)
    assert env_bool("FLAG", not expected) is expected


def test_env_bool_refuses_anything_else_and_names_the_variable(monkeypatch):
    monkeypatch.setenv("FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="FLAG must be a boolean.*'maybe'"):
        env_bool("FLAG", False)


def test_absent_or_empty_values_take_the_default(monkeypatch):
    monkeypatch.delenv("FLAG", raising=False)
    assert env_bool("FLAG", True) is True
    monkeypatch.setenv("FLAG", "  ")
    assert env_bool("FLAG", False) is False
    assert env_int("FLAG", 7) == 7
    assert env_str("FLAG", "x") == "x"
    assert env_list("FLAG", ["a"]) == ["a"]


def test_env_int_refuses_non_numbers_and_values_below_minimum(monkeypatch):
    monkeypatch.setenv("PORT", "eighty")
    with pytest.raises(ImproperlyConfigured, match="PORT must be a whole number, not 'eighty'"):
        env_int("PORT", 1)
    monkeypatch.setenv("PORT", "-1")
    with pytest.raises(ImproperlyConfigured, match="PORT must be at least 0"):
        env_int("PORT", 1, minimum=0)
    monkeypatch.setenv("PORT", " 25 ")
    assert env_int("PORT", 1) == 25


def test_env_list_splits_on_commas(monkeypatch):
    monkeypatch.setenv("HOSTS", "a.example.com, b.example.com,,")
    assert env_list("HOSTS", []) == ["a.example.com", "b.example.com"]


def test_defaults_are_sqlite_under_var_filesystem_broker_and_file_mail():
    values = _settings_with()
    assert values["engine"] == "django.db.backends.sqlite3"
    assert values["name"] == str(ROOT / "var" / "policyhub.sqlite3")
    assert values["broker"] == "filesystem://"
    assert values["email"] == "django.core.mail.backends.filebased.EmailBackend"
    assert values["debug"] is False and values["use_tz"] is True and values["tz"] == "UTC"
    assert "127.0.0.1" in values["hosts"] and values["ssl"] is False


def test_database_redis_and_smtp_come_from_the_environment():
    values = _settings_with(
        DATABASE_URL="postgres://ph:secret@db.internal:5432/policyhub",
        REDIS_URL="redis://cache.internal:6379/1",
        EMAIL_HOST="smtp.example.com",
        TIME_ZONE="Europe/Berlin",
    )
    assert values["engine"] == "django.db.backends.postgresql"
    assert (values["name"], values["host"]) == ("policyhub", "db.internal")
    assert values["broker"] == "redis://cache.internal:6379/1"
    assert values["email"] == "django.core.mail.backends.smtp.EmailBackend"
    assert values["tz"] == "Europe/Berlin"
    assert values["options"] == "-c jit=off -c random_page_cost=1.1"


@pytest.mark.parametrize(
    "env, options",
    [
        ({}, "-c jit=off -c random_page_cost=1.1"),
        ({"DATABASE_JIT": "on"}, "-c random_page_cost=1.1"),
        ({"DATABASE_JIT": "off"}, "-c jit=off -c random_page_cost=1.1"),
        ({"DATABASE_RANDOM_PAGE_COST": "2"}, "-c jit=off -c random_page_cost=2"),
        ({"DATABASE_RANDOM_PAGE_COST": "Server"}, "-c jit=off"),
        ({"DATABASE_RANDOM_PAGE_COST": " 1.25 "}, "-c jit=off -c random_page_cost=1.25"),
        ({"DATABASE_RANDOM_PAGE_COST": "4."}, "-c jit=off -c random_page_cost=4."),
        ({"DATABASE_JIT": "on", "DATABASE_RANDOM_PAGE_COST": "server"}, None),
        # The address's own options come after, and so win.
        (
            {"DATABASE_URL_OPTIONS": "-c jit=on"},
            "-c jit=off -c random_page_cost=1.1 -c jit=on",
        ),
    ],
)
def test_postgresql_connections_turn_the_jit_compiler_off_unless_asked(env, options):
    url = "postgres://ph:secret@db.internal:5432/policyhub"
    if "DATABASE_URL_OPTIONS" in env:
        url += "?options=" + env.pop("DATABASE_URL_OPTIONS").replace(" ", "%20")
    assert _settings_with(DATABASE_URL=url, **env)["options"] == options


@pytest.mark.parametrize(
    "value", ["0", "-1", "cheap", "1,1", "1_0", "1e2", "1000", "inf", "nan", "1.1 -c jit=on"]
)
def test_a_random_page_cost_that_is_not_a_positive_number_stops_the_app(value):
    result = _run(
        ["-c", "import django; django.setup()"],
        DATABASE_URL="postgres://ph:secret@db.internal:5432/policyhub",
        DATABASE_RANDOM_PAGE_COST=value,
    )
    assert result.returncode != 0
    assert "DATABASE_RANDOM_PAGE_COST must be a number above 0 and below 1000" in result.stderr


def test_sqlite_gets_no_postgresql_options():
    assert _settings_with()["options"] is None


@pytest.mark.django_db
def test_the_connection_in_use_has_the_jit_compiler_off():
    """On PostgreSQL (.ci/run's second pass) the server itself says so; SQLite has no
    such compiler and gets no option."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW jit")
            assert cursor.fetchone()[0] == "off"
            cost = os.environ.get("DATABASE_RANDOM_PAGE_COST", "1.1").strip()
            if cost.lower() != "server":
                cursor.execute("SHOW random_page_cost")
                assert float(cursor.fetchone()[0]) == float(cost)
    else:
        assert "options" not in connection.settings_dict.get("OPTIONS", {})


@pytest.mark.parametrize(
    "name, value, message",
    [
        ("DEBUG", "maybe", "DEBUG must be a boolean"),
        ("EMAIL_PORT", "smtp", "EMAIL_PORT must be a whole number"),
        ("SITE_URL", "policyhub.example.com", "SITE_URL must be an http(s) address"),
    ],
)
def test_malformed_settings_stop_the_app_naming_the_variable(name, value, message):
    env = {name: value}
    if name == "EMAIL_PORT":
        env["EMAIL_HOST"] = "smtp.example.com"
    result = _run(["manage.py", "check"], **env)
    assert result.returncode != 0
    assert message in result.stderr


_PRODUCTION = {
    "SECRET_KEY": "k" * 20 + "Zq8#vN2$mP5&xR7!tL9@wB4^hJ6*cF1(dG3)sA0-" + "u" * 10,
    "DEBUG": "false",
    "SITE_URL": "https://policyhub.example.com",
    "ALLOWED_HOSTS": "policyhub.example.com",
}


def test_check_deploy_has_no_warning_with_production_values():
    # Only what every production site sets: the HSTS choices are the defaults.
    result = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], **_PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def _hsts_header(**env) -> str:
    code = (
        "import django; django.setup(); from django.test import Client; "
        "print(Client().get('/accounts/login/', secure=True, "
        "HTTP_HOST='policyhub.example.com').headers.get('Strict-Transport-Security', ''))"
    )
    result = _run(["-c", code], **env)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_an_https_site_sends_hsts_with_subdomains_and_preload():
    assert _hsts_header(**_PRODUCTION) == "max-age=31536000; includeSubDomains; preload"


@pytest.mark.parametrize(
    "name, warning, left_out",
    [
        ("SECURE_HSTS_INCLUDE_SUBDOMAINS", "security.W005", "includeSubDomains"),
        ("SECURE_HSTS_PRELOAD", "security.W021", "preload"),
    ],
)
def test_each_hsts_extension_can_be_turned_off(name, warning, left_out):
    env = {**_PRODUCTION, name: "false"}
    assert left_out not in _hsts_header(**env)
    result = _run(["manage.py", "check", "--deploy"], **env)
    assert warning in result.stdout + result.stderr


def test_check_deploy_warns_about_the_development_defaults():
    result = _run(["manage.py", "check", "--deploy"])
    for warning in ("security.W009", "security.W004", "security.W008", "security.W012"):
        assert warning in result.stdout + result.stderr


def test_an_https_site_refuses_to_start_with_the_development_key():
    result = _run(["manage.py", "check"], SITE_URL="https://policyhub.example.com")
    assert result.returncode != 0
    assert "SECRET_KEY must be set when SITE_URL is https" in result.stderr


def test_asking_a_worker_while_redis_is_down_fails_at_once():
    """Every ask from a request (here the reminders' one) tries the broker once: with
    nothing listening at REDIS_URL it gives up without Kombu's retry sleeps, and the
    caller carries on (the ask logs and does not raise)."""
    from tests.support import free_port

    code = (
        "import time, django; django.setup(); from kombu.utils import functional; "
        "naps = []; functional.sleep = naps.append; time.sleep = naps.append; "
        "from policyhub.celery import app; import notifications.tasks; "
        "from notifications import wakeup; wakeup.send_reminders_soon(); "
        "print('naps', len(naps))"
    )
    result = _run(["-c", code], REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    assert result.returncode == 0, result.stderr
    assert "Could not reach the broker" in result.stderr
    assert result.stdout.strip().splitlines()[-1] == "naps 0"
