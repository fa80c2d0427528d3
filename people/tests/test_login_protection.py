"""Login protection (django-axes): failed password logins are counted per account and
per address, an address with a higher limit; past the limit, logins wait (tries while
waiting do not count), and the page never says whether an account exists."""

import json
import os
import re
import subprocess
import sys
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from axes.models import AccessAttempt
from django.core import mail
from django.core.management import call_command
from django.db.models import F
from django.test import Client
from django.urls import reverse
from django.utils import timezone

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"
LIMIT = 3
ADDRESS_LIMIT = 7


@pytest.fixture(autouse=True)
def _protection(settings):
    # The tests say their own numbers, whatever LOGIN_FAILURE_LIMIT the machine has.
    settings.AXES_FAILURE_LIMIT = LIMIT
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = ADDRESS_LIMIT
    settings.AXES_COOLOFF_TIME = timedelta(minutes=15)
    settings.LOGIN_TRUST_X_FORWARDED_FOR = False


def _log_in(email, password, *, address="192.0.2.10", client=None, **headers):
    client = client or Client()
    response = client.post(
        reverse("login"), {"username": email, "password": password}, REMOTE_ADDR=address, **headers
    )
    response.logged_in = "_auth_user_id" in client.session
    return response


def _is_lockout(response) -> bool:
    return response.status_code == 429 and "Too many attempts to log in" in response.text


def _fail(email, times, *, address="192.0.2.10", **headers):
    return [_log_in(email, "wrong-password", address=address, **headers) for _ in range(times)]


def test_an_account_is_locked_after_the_limit_of_failures_from_several_addresses(employee):
    first, second = _fail("employee@example.com", 2, address="192.0.2.1")
    assert first.status_code == second.status_code == 200
    assert "Please enter a correct email and password" in second.text
    third = _log_in("employee@example.com", "wrong-password", address="198.51.100.7")
    assert _is_lockout(third)
    # Now even the right password waits, from an address that has never failed.
    right = _log_in("employee@example.com", PASSWORD, address="203.0.113.50")
    assert _is_lockout(right) and not right.logged_in
    # Other people log in as usual from anywhere.
    assert _log_in("manager@example.com", PASSWORD, address="203.0.113.52").logged_in


def _fail_as_many_people(count, *, address, **headers):
    """`count` failures from `address`, each for another account (colleagues' typos)."""
    for number in range(count):
        _fail(f"colleague{number}@example.com", 1, address=address, **headers)


def test_an_address_is_locked_after_its_own_limit_of_failures_across_accounts(employee, outsider):
    _fail("employee@example.com", LIMIT - 1, address="192.0.2.99")
    _fail_as_many_people(ADDRESS_LIMIT - LIMIT, address="192.0.2.99")
    # One short of the address's limit: everyone behind it still logs in.
    assert _log_in("olivia.hughes@example.com", PASSWORD, address="192.0.2.99").logged_in
    _fail("nobody@example.com", 1, address="192.0.2.99")
    from_there = _log_in("manager@example.com", PASSWORD, address="192.0.2.99")
    assert _is_lockout(from_there) and not from_there.logged_in
    # The accounts themselves are not locked: from elsewhere they log in.
    assert _log_in("employee@example.com", PASSWORD, address="192.0.2.100").logged_in


def test_lockout_page_is_the_same_for_a_real_account_an_unknown_one_and_an_address(employee):
    real = _fail("employee@example.com", LIMIT, address="192.0.2.1")[-1]
    unknown = _fail("nobody@example.com", LIMIT, address="192.0.2.2")[-1]
    _fail_as_many_people(ADDRESS_LIMIT - 1, address="192.0.2.3")
    address_locked = _log_in("last@example.com", "wrong-password", address="192.0.2.3")
    for response in (real, unknown, address_locked):
        assert _is_lockout(response)
        assert response.content == real.content
        assert response["Retry-After"] == real["Retry-After"]
    assert "example.com" not in real.text, "the page does not repeat the email"


def test_before_the_limit_a_real_and_an_unknown_account_get_the_same_refusal(employee):
    real = _log_in("employee@example.com", "wrong-password")
    unknown = _log_in("nobody@example.com", "wrong-password")
    assert real.status_code == unknown.status_code == 200

    def page(response, email):
        text = response.text.replace(email, "EMAIL")
        return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", text)

    assert page(real, "employee@example.com") == page(unknown, "nobody@example.com")


def test_lockout_page_says_how_long_to_wait(employee, settings):
    response = _fail("employee@example.com", LIMIT)[-1]
    assert response.status_code == 429
    assert "Please wait 15 minutes before trying again." in response.text
    assert response["Retry-After"] == "900"
    # It is a PolicyHub page, with one heading and a way to choose a new password.
    assert "<title>Too many attempts to log in · PolicyHub</title>" in response.text
    assert len(re.findall(r"<h1\b", response.text)) == 1
    assert reverse("password_reset") in response.text

    settings.AXES_COOLOFF_TIME = timedelta(minutes=1)
    again = _log_in("employee@example.com", PASSWORD)
    assert "Please wait 1 minute before trying again." in again.text
    assert again["Retry-After"] == "60"


def test_the_lock_ends_once_the_wait_is_over(employee):
    _fail("employee@example.com", LIMIT)
    assert _is_lockout(_log_in("employee@example.com", PASSWORD))
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))
    assert _log_in("employee@example.com", PASSWORD).logged_in


def _minutes_pass(minutes):
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - timedelta(minutes=minutes))


def test_tries_while_an_account_is_locked_do_not_make_the_wait_longer(employee):
    # Someone failing once every few minutes cannot keep a colleague's account locked.
    _fail("employee@example.com", LIMIT, address="198.51.100.66")
    for _ in range(3):
        _minutes_pass(4)
        assert _is_lockout(
            _log_in("employee@example.com", "wrong-password", address="198.51.100.66")
        )
        assert _is_lockout(_log_in("employee@example.com", PASSWORD))
    assert AccessAttempt.objects.get().failures_since_start == LIMIT
    _minutes_pass(4)  # 16 minutes after the failure that locked it
    assert _log_in("employee@example.com", PASSWORD).logged_in


def test_tries_while_an_address_is_locked_do_not_make_the_wait_longer(employee):
    _fail_as_many_people(ADDRESS_LIMIT, address="192.0.2.88")
    _minutes_pass(10)
    for number in range(ADDRESS_LIMIT):
        locked = _log_in(f"other{number}@example.com", "wrong-password", address="192.0.2.88")
        assert _is_lockout(locked)
    _minutes_pass(6)
    assert _log_in("employee@example.com", PASSWORD, address="192.0.2.88").logged_in


def test_a_locked_address_does_not_lock_the_accounts_tried_from_it(employee):
    _fail_as_many_people(ADDRESS_LIMIT, address="192.0.2.89")
    assert _is_lockout(_log_in("employee@example.com", PASSWORD, address="192.0.2.89"))
    assert _log_in("employee@example.com", PASSWORD, address="192.0.2.90").logged_in


def test_a_successful_login_before_the_limit_starts_the_count_again(employee):
    _fail("employee@example.com", LIMIT - 1)
    assert _log_in("employee@example.com", PASSWORD).logged_in
    after = _fail("employee@example.com", LIMIT - 1)
    assert all(response.status_code == 200 for response in after)
    assert _is_lockout(_log_in("employee@example.com", "wrong-password"))


def test_logging_in_as_oneself_does_not_clear_failures_against_a_colleague(employee, outsider):
    # Same office address: Olivia guessing Emily's password cannot clear the count by
    # logging in as herself between guesses.
    _fail("employee@example.com", LIMIT - 1, address="192.0.2.40")
    assert _log_in("olivia.hughes@example.com", PASSWORD, address="192.0.2.40").logged_in
    guess = _log_in("employee@example.com", "another-guess", address="192.0.2.40")
    assert _is_lockout(guess)


def test_email_case_and_spaces_do_not_make_another_account(employee):
    _log_in("Employee@Example.com", "wrong-password", address="192.0.2.1")
    _log_in(" EMPLOYEE@example.com ", "wrong-password", address="192.0.2.2")
    # The admin's login form does not clean the email; it still counts for the account.
    Client().post(
        reverse("admin:login"),
        {"username": "employee@EXAMPLE.com", "password": "wrong-password"},
        REMOTE_ADDR="192.0.2.3",
    )
    assert set(AccessAttempt.objects.values_list("username", flat=True)) == {"employee@example.com"}
    assert _is_lockout(_log_in("employee@example.com", PASSWORD, address="192.0.2.4"))


def test_a_site_admin_lifts_the_lock_from_the_people_list(employee, site_admin):
    _fail("employee@example.com", LIMIT)
    admin = Client()
    admin.force_login(site_admin)
    page = admin.get(reverse("admin:people_user_change", args=[employee.pk])).text
    assert "Account locked: 3 failed logins in the last 15 minutes." in page
    assert "Lift login lock" in page
    response = admin.post(
        reverse("admin:people_user_changelist"),
        {"action": "lift_login_locks", "_selected_action": [employee.pk]},
        follow=True,
    )
    assert "Login lock lifted for 1 person" in response.text
    assert _log_in("employee@example.com", PASSWORD).logged_in


def test_a_site_admin_lifts_the_lock_from_the_persons_page(employee, site_admin):
    _fail("employee@example.com", LIMIT)
    admin = Client()
    admin.force_login(site_admin)
    joined = timezone.localtime(employee.date_joined)
    data = {
        "email": employee.email,
        "full_name": employee.full_name,
        "manager": employee.manager_id,
        "is_active": "on",
        "date_joined_0": joined.strftime("%d/%m/%Y"),
        "date_joined_1": joined.strftime("%H:%M:%S"),
        "lift_login_lock": "on",
    }
    url = reverse("admin:people_user_change", args=[employee.pk])
    response = admin.post(url, data, follow=True)
    assert "Login lock lifted: employee@example.com can log in again now." in response.text
    assert "Account not locked: 0 failed logins" in admin.get(url).text
    assert _log_in("employee@example.com", PASSWORD).logged_in


def test_people_who_are_not_site_admins_cannot_lift_a_lock(employee, policy_admin, outsider):
    _fail("employee@example.com", LIMIT)
    for person in (policy_admin, outsider):
        client = Client()
        client.force_login(person)
        response = client.post(
            reverse("admin:people_user_changelist"),
            {"action": "lift_login_locks", "_selected_action": [employee.pk]},
        )
        assert response.status_code == 302 and reverse("admin:login") in response["Location"]
    assert _is_lockout(_log_in("employee@example.com", PASSWORD))


def test_a_site_admin_lifts_an_address_lock_in_access_attempts(employee, site_admin):
    _fail_as_many_people(ADDRESS_LIMIT, address="192.0.2.77")
    assert _is_lockout(_log_in("employee@example.com", PASSWORD, address="192.0.2.77"))
    admin = Client()
    admin.force_login(site_admin)
    changelist = reverse("admin:axes_accessattempt_changelist")
    assert "192.0.2.77" in admin.get(changelist, {"q": "192.0.2.77"}).text
    attempts = AccessAttempt.objects.filter(ip_address="192.0.2.77")
    admin.post(
        changelist,
        {
            "action": "delete_selected",
            "_selected_action": list(attempts.values_list("pk", flat=True)),
            "post": "yes",
        },
    )
    assert not attempts.exists()
    assert _log_in("employee@example.com", PASSWORD, address="192.0.2.77").logged_in


def test_a_site_admin_cleans_up_expired_attempts(employee, site_admin):
    admin = Client()
    admin.force_login(site_admin)
    _fail("old@example.com", 1, address="192.0.2.1")
    _fail("new@example.com", 1, address="192.0.2.2")
    AccessAttempt.objects.filter(username="old@example.com").update(
        attempt_time=timezone.now() - timedelta(minutes=16)
    )
    response = admin.post(
        reverse("admin:axes_accessattempt_changelist"),
        {
            "action": "cleanup_expired_attempts",
            "_selected_action": list(AccessAttempt.objects.values_list("pk", flat=True)),
        },
        follow=True,
    )
    assert response.status_code == 200
    assert "Cleaned up 1 expired access attempts." in response.text
    assert list(AccessAttempt.objects.values_list("username", flat=True)) == ["new@example.com"]


def test_the_command_line_lifts_an_account_lock_whatever_the_case(employee):
    _fail("employee@example.com", LIMIT)
    call_command("axes_reset_username", "Employee@Example.com", stdout=StringIO())
    assert _log_in("employee@example.com", PASSWORD).logged_in


def test_setting_a_new_password_by_the_emailed_link_ends_the_wait(employee):
    _fail("employee@example.com", LIMIT)
    client = Client()
    # The reset pages work while the account waits.
    assert client.post(reverse("password_reset"), {"email": "employee@example.com"}).status_code
    link = re.search(r"(/accounts/reset/\S+/)", mail.outbox[0].body).group(1)
    set_url = client.get(link, follow=True).redirect_chain[-1][0]
    done = client.post(
        set_url, {"new_password1": "a-brand-new-pass-42", "new_password2": "a-brand-new-pass-42"}
    )
    assert done.status_code == 302
    assert _log_in("employee@example.com", "a-brand-new-pass-42").logged_in


def test_forwarded_for_is_ignored_without_a_trusted_proxy(employee, outsider):
    # A client cannot dodge the address count by making up X-Forwarded-For.
    for number in range(ADDRESS_LIMIT):
        _log_in(
            f"colleague{number}@example.com",
            "wrong-password",
            address="192.0.2.5",
            HTTP_X_FORWARDED_FOR=f"10.0.0.{number}",
        )
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"192.0.2.5"}
    assert _is_lockout(_log_in("employee@example.com", PASSWORD, address="192.0.2.5"))


def test_behind_a_trusted_proxy_the_client_address_is_counted(employee, outsider, settings):
    settings.LOGIN_TRUST_X_FORWARDED_FOR = True
    proxy = "10.0.0.2"
    # The proxy appends the address it saw; what the client put before it is not trusted.
    for number in range(ADDRESS_LIMIT):
        _log_in(
            f"colleague{number}@example.com",
            "wrong-password",
            address=proxy,
            HTTP_X_FORWARDED_FOR=f"198.51.100.{number}, 203.0.113.9",
        )
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"203.0.113.9"}
    locked = _log_in(
        "employee@example.com", PASSWORD, address=proxy, HTTP_X_FORWARDED_FOR="203.0.113.9"
    )
    assert _is_lockout(locked)
    # Everyone else behind the same proxy logs in as usual.
    other = _log_in(
        "olivia.hughes@example.com", PASSWORD, address=proxy, HTTP_X_FORWARDED_FOR="203.0.113.10"
    )
    assert other.logged_in
    # A header the proxy did not fill in properly falls back to the connection's address.
    _log_in("a@example.com", "wrong-password", address=proxy, HTTP_X_FORWARDED_FOR="unknown")
    assert AccessAttempt.objects.filter(ip_address=proxy).exists()


ROOT = Path(__file__).resolve().parents[2]


def _settings_from_environment(**env) -> dict:
    names = (
        "LOGIN_FAILURE_LIMIT",
        "LOGIN_ADDRESS_FAILURE_LIMIT",
        "LOGIN_COOLOFF_MINUTES",
        "TRUST_X_FORWARDED_PROTO",
    )
    base = {key: value for key, value in os.environ.items() if key not in names}
    code = (
        "import django, json; django.setup(); from django.conf import settings as s; "
        "print(json.dumps({'limit': s.AXES_FAILURE_LIMIT, "
        "'address_limit': s.LOGIN_ADDRESS_FAILURE_LIMIT, "
        "'tries_while_locked_count': s.AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT, "
        "'minutes': s.AXES_COOLOFF_TIME.total_seconds() / 60, "
        "'trust': s.LOGIN_TRUST_X_FORWARDED_FOR}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**base, "DJANGO_SETTINGS_MODULE": "policyhub.settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_limits_and_proxy_trust_come_from_the_environment():
    assert _settings_from_environment() == {
        "limit": 5,
        "address_limit": 50,
        "tries_while_locked_count": False,
        "minutes": 15,
        "trust": False,
    }
    assert _settings_from_environment(
        LOGIN_FAILURE_LIMIT="8",
        LOGIN_ADDRESS_FAILURE_LIMIT="200",
        LOGIN_COOLOFF_MINUTES="30",
        TRUST_X_FORWARDED_PROTO="true",
    ) == {
        "limit": 8,
        "address_limit": 200,
        "tries_while_locked_count": False,
        "minutes": 30,
        "trust": True,
    }
