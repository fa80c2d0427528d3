"""Two-factor sign-in after a password: required for site admins and HR/Legal (nothing but the
set-up page until they have an app), optional for everyone else, with recovery codes."""

import re
from base64 import b32decode
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from conftest import second_factor_code, with_second_factor
from people import roles, two_factor

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"
MUST = {
    "site_admin": {"is_staff": True, "is_superuser": True},
    "hr": {"group": roles.HR_LEGAL},
}
OPTIONAL = {
    "comms": {"group": roles.COMMS},
    "employee": {},
}
# Pages a person held at the second factor must not reach.
PAGES = [
    reverse("my_tasks"),
    reverse("policies:index"),
    reverse("incidents:index"),
    reverse("notifications:preferences"),
    reverse("two_factor:manage"),
    reverse("admin:index"),
    reverse("admin:people_user_changelist"),
]


def log_in(client, person):
    response = client.post(reverse("login"), {"username": person.email, "password": PASSWORD})
    assert response.status_code == 302, "the password was refused"
    return response


def enter(client, code, *, next_url=None):
    url = reverse("two_factor:verify")
    return client.post(url, {"code": code, "next": next_url or reverse("my_tasks")})


def shown_secret(client) -> bytes:
    page = client.get(reverse("two_factor:setup"))
    assert page.status_code == 200
    secret = re.search(r'id="two-factor-secret">([A-Z2-7 ]+)<', page.text).group(1)
    return b32decode(secret.replace(" ", ""))


def code_for(key: bytes, *, steps: int = 0) -> str:
    return f"{totp(key, drift=steps):06d}"


def wait_out_the_pause(person):
    """As if the wait after wrong codes had passed."""
    long_ago = timezone.now() - timedelta(days=1)
    TOTPDevice.objects.filter(user=person).update(throttling_failure_timestamp=long_ago)
    StaticDevice.objects.filter(user=person).update(throttling_failure_timestamp=long_ago)


def error_of(response) -> str:
    return " ".join(
        re.findall(r'class="invalid-feedback">.*?<strong>([^<]+)</strong>', response.text, re.S)
    )


def assert_held_at(client, url_name):
    for page in PAGES:
        response = client.get(page)
        assert response.status_code == 302, page
        assert response.url.startswith(reverse(url_name) + "?next="), (page, response.url)


# --- Roles that must: nothing but the set-up page until they have an app --------------------


@pytest.mark.parametrize("role", MUST)
def test_a_password_login_of_a_role_that_must_reaches_only_the_set_up_page(
    client, make_person, role
):
    person = make_person(**MUST[role])
    log_in(client, person)
    assert_held_at(client, "two_factor:setup")
    setup = client.get(reverse("two_factor:setup"))
    assert "Two-factor sign-in is required for site admins and HR/Legal" in setup.text
    # Nothing on the page leads anywhere it would be sent back from.
    assert "Reminder preferences" not in setup.text and 'href="/policies/' not in setup.text
    response = client.post(reverse("logout"))
    assert response.status_code == 302 and "_auth_user_id" not in client.session


@pytest.mark.parametrize("role", OPTIONAL)
def test_other_roles_log_in_with_the_password_alone(client, make_person, role):
    log_in(client, make_person(**OPTIONAL[role]))
    assert client.get(reverse("my_tasks")).status_code == 200
    assert client.get(reverse("two_factor:manage")).status_code == 200


@pytest.mark.parametrize("role", MUST)
def test_set_up_refuses_a_wrong_code_and_bad_input_and_changes_nothing(client, make_person, role):
    person = make_person(**MUST[role])
    log_in(client, person)
    key = shown_secret(client)
    wrong = f"{(int(code_for(key)) + 1) % 1_000_000:06d}"
    for code, message in [
        (wrong, "That code is not right"),
        ("12ab56", "Enter the 6 digits your app shows"),
        ("", "This field is required"),
    ]:
        response = client.post(reverse("two_factor:setup"), {"code": code})
        assert response.status_code == 400
        assert message in error_of(response), code
    assert not TOTPDevice.objects.filter(user=person).exists()
    assert not StaticDevice.objects.filter(user=person).exists()
    assert_held_at(client, "two_factor:setup")
    assert shown_secret(client) == key  # the same secret, should the app have it already


@pytest.mark.parametrize("role", MUST)
def test_set_up_with_the_right_code_turns_it_on_and_shows_the_recovery_codes_once(
    client, make_person, role
):
    person = make_person(**MUST[role])
    log_in(client, person)
    client.get(reverse("policies:index"))  # held, and sent back afterwards
    key = shown_secret(client)
    response = client.post(
        reverse("two_factor:setup"), {"code": code_for(key), "next": reverse("policies:index")}
    )
    assert response.status_code == 302
    assert response.url == reverse("two_factor:recovery_codes") + "?next=%2Fpolicies%2F"
    device = TOTPDevice.objects.get(user=person)
    assert device.confirmed and device.name == "Authenticator app"
    page = client.get(response.url).text
    shown = re.findall(r'<span class="user-select-all">([a-z2-7]{8})</span>', page)
    assert len(shown) == 10
    assert sorted(shown) == sorted(
        StaticToken.objects.filter(device__user=person).values_list("token", flat=True)
    )
    assert 'href="/policies/"' in page  # Continue
    again = client.get(response.url).text
    assert not any(code in again for code in shown)
    assert "Recovery codes are shown once" in again
    for page in PAGES[:-2]:
        assert client.get(page).status_code == 200, page


def test_the_code_that_set_up_the_app_does_not_sign_in_again(client, make_person):
    person = make_person(group=roles.HR_LEGAL)
    log_in(client, person)
    key = shown_secret(client)
    code = code_for(key)
    client.post(reverse("two_factor:setup"), {"code": code})
    client.post(reverse("logout"))
    log_in(client, person)
    wait_out_the_pause(person)
    response = enter(client, code)
    assert response.status_code == 400 and "That code is not right" in error_of(response)


# --- The next login asks for the code --------------------------------------------------------


@pytest.mark.parametrize("role", [*MUST, *OPTIONAL])
def test_with_an_app_the_next_login_asks_for_the_code(client, make_person, role):
    person = with_second_factor(make_person(**{**MUST, **OPTIONAL}[role]), passed=False)
    log_in(client, person)
    assert_held_at(client, "two_factor:verify")
    page = client.get(reverse("two_factor:verify")).text
    assert "enter the 6-digit code" in page and "Reminder preferences" not in page

    response = enter(client, "000000" if second_factor_code(person) != "000000" else "111111")
    assert response.status_code == 400
    assert "That code is not right" in error_of(response)
    assert_held_at(client, "two_factor:verify")

    wait_out_the_pause(person)
    response = enter(client, second_factor_code(person), next_url=reverse("incidents:index"))
    assert response.status_code == 302 and response.url == reverse("incidents:index")
    assert client.get(reverse("my_tasks")).status_code == 200


def test_bad_input_at_the_code_page_gets_a_message(client, make_person):
    person = with_second_factor(make_person(group=roles.HR_LEGAL), passed=False)
    log_in(client, person)
    for code in ["12345", "1234567", "not a code!", "１２３４５６"]:
        response = enter(client, code)
        assert response.status_code == 400
        assert "Enter the 6 digits from your app, or a recovery code" in error_of(response)
    device = TOTPDevice.objects.get(user=person)
    assert device.throttling_failure_count == 0  # nothing was tried
    assert_held_at(client, "two_factor:verify")


def test_the_page_after_the_code_stays_on_this_site(client, make_person):
    person = with_second_factor(make_person(group=roles.HR_LEGAL), passed=False)
    log_in(client, person)
    response = enter(client, second_factor_code(person), next_url="https://evil.example.com/")
    assert response.url == reverse("my_tasks")


def test_wrong_codes_make_the_next_try_wait_longer_each_time(client, make_person):
    person = with_second_factor(make_person(group=roles.HR_LEGAL), passed=False)
    log_in(client, person)
    right = second_factor_code(person)
    wrong = "000000" if right != "000000" else "111111"
    assert "That code is not right" in error_of(enter(client, wrong))
    # Even the right code waits for the pause after a wrong one.
    response = enter(client, right)
    assert response.status_code == 400
    assert "Too many wrong codes. Wait 1 second before trying again." in error_of(response)
    for _ in range(6):
        wait_out_the_pause(person)
        enter(client, wrong)
    assert "Wait 64 seconds" in error_of(enter(client, right))
    wait_out_the_pause(person)
    enter(client, wrong)
    assert "Wait 3 minutes" in error_of(enter(client, right))
    assert_held_at(client, "two_factor:verify")
    wait_out_the_pause(person)
    assert enter(client, second_factor_code(person)).status_code == 302
    assert TOTPDevice.objects.get(user=person).throttling_failure_count == 0


# --- Recovery codes ----------------------------------------------------------------------------


def _enrol(person) -> list[str]:
    key = two_factor.new_secret()
    _device, codes = two_factor.enrol(person=person, key_hex=key, code=code_for(bytes.fromhex(key)))
    return codes


def test_a_recovery_code_signs_in_once(client, make_person):
    person = make_person(group=roles.HR_LEGAL)
    codes = _enrol(person)
    log_in(client, person)
    response = enter(client, codes[3].upper()[:4] + "-" + codes[3][4:])
    assert response.status_code == 302
    page = client.get(response.url).text
    assert "You used a recovery code; 9 left." in page
    assert not StaticToken.objects.filter(token=codes[3]).exists()

    client.post(reverse("logout"))
    log_in(client, person)
    response = enter(client, codes[3])
    assert response.status_code == 400 and "That code is not right" in error_of(response)
    wait_out_the_pause(person)
    assert enter(client, codes[4]).status_code == 302


def test_new_recovery_codes_replace_the_old_ones(client, make_person):
    person = make_person(group=roles.HR_LEGAL)
    old = _enrol(person)
    log_in(client, person)
    enter(client, second_factor_code(person))

    response = client.post(reverse("two_factor:renew_codes"), {"renew-code": "000000"})
    assert response.status_code == 400 and "That code is not right" in error_of(response)
    assert sorted(StaticToken.objects.values_list("token", flat=True)) == sorted(old)

    wait_out_the_pause(person)
    response = client.post(
        reverse("two_factor:renew_codes"), {"renew-code": second_factor_code(person)}
    )
    assert response.url == reverse("two_factor:recovery_codes")
    new = re.findall(
        r'<span class="user-select-all">([a-z2-7]{8})</span>', client.get(response.url).text
    )
    assert len(new) == 10 and not set(new) & set(old)

    client.post(reverse("logout"))
    log_in(client, person)
    assert "That code is not right" in error_of(enter(client, old[0]))
    wait_out_the_pause(person)
    assert enter(client, new[0]).status_code == 302


def test_the_two_factor_page_says_how_many_recovery_codes_are_left(client, hr):
    client.force_login(hr)
    page = client.get(reverse("two_factor:manage")).text
    assert "Two-factor sign-in is on" in page and "Recovery codes left: <strong>0</strong>" in page
    assert "it cannot be turned off" in page
    assert "Turn off two-factor sign-in</button>" not in page


# --- Optional for everyone else ------------------------------------------------------------


def test_an_employee_turns_it_on_and_then_off_with_a_code(client, employee):
    log_in(client, employee)
    manage = client.get(reverse("two_factor:manage")).text
    assert "Two-factor sign-in is off" in manage and "Turn on two-factor sign-in" in manage
    key = shown_secret(client)
    response = client.post(reverse("two_factor:setup"), {"code": code_for(key)})
    assert response.status_code == 302
    assert "Two-factor sign-in is on" in client.get(reverse("two_factor:manage")).text

    client.post(reverse("logout"))
    log_in(client, employee)
    assert_held_at(client, "two_factor:verify")
    enter(client, second_factor_code(employee))
    assert client.get(reverse("my_tasks")).status_code == 200

    response = client.post(reverse("two_factor:turn_off"), {"off-code": "12-34"})
    assert response.status_code == 400 and "Enter the 6 digits" in error_of(response)
    response = client.post(reverse("two_factor:turn_off"), {"off-code": "000000"})
    assert response.status_code == 400 and "That code is not right" in error_of(response)
    assert TOTPDevice.objects.filter(user=employee).exists()

    wait_out_the_pause(employee)
    response = client.post(
        reverse("two_factor:turn_off"), {"off-code": second_factor_code(employee)}
    )
    assert response.url == reverse("two_factor:manage")
    assert not TOTPDevice.objects.filter(user=employee).exists()
    assert not StaticDevice.objects.filter(user=employee).exists()
    client.post(reverse("logout"))
    log_in(client, employee)
    assert client.get(reverse("my_tasks")).status_code == 200


def test_a_role_that_must_cannot_turn_it_off(client, hr):
    client.force_login(hr)
    response = client.post(
        reverse("two_factor:turn_off"), {"off-code": second_factor_code(hr)}, follow=True
    )
    assert "required for site admins and HR/Legal: it cannot be turned off" in response.text
    assert TOTPDevice.objects.filter(user=hr).exists()


def test_only_a_person_who_passed_the_code_may_swap_the_app(client, make_person):
    person = with_second_factor(make_person(), passed=False)
    before = TOTPDevice.objects.get(user=person)
    log_in(client, person)
    for response in (
        client.get(reverse("two_factor:setup")),
        client.post(reverse("two_factor:setup"), {"code": "123456"}),
    ):
        assert response.status_code == 302
        assert response.url.startswith(reverse("two_factor:verify"))
    assert list(TOTPDevice.objects.filter(user=person)) == [before]


def test_a_new_app_replaces_the_old_one(client, hr):
    client.force_login(hr)
    old = TOTPDevice.objects.get(user=hr)
    key = shown_secret(client)
    assert client.post(reverse("two_factor:setup"), {"code": code_for(key)}).status_code == 302
    (device,) = TOTPDevice.objects.filter(user=hr)
    assert device.pk != old.pk and device.bin_key == key
    assert client.get(reverse("my_tasks")).status_code == 200  # passed with the new app


def test_the_user_menu_leads_to_two_factor_sign_in(client, employee):
    client.force_login(employee)
    page = client.get(reverse("my_tasks")).text
    assert f'href="{reverse("two_factor:manage")}">Two-factor sign-in</a>' in page


# --- The Django admin -------------------------------------------------------------------------


def test_the_django_admin_asks_a_site_admin_for_the_code(client, make_person):
    admin = with_second_factor(make_person(**MUST["site_admin"]), passed=False)
    response = client.post(
        reverse("admin:login"), {"username": admin.email, "password": PASSWORD, "next": "/admin/"}
    )
    assert response.status_code == 302
    response = client.get(reverse("admin:index"))
    assert response.url == reverse("two_factor:verify") + "?next=%2Fadmin%2F"
    assert client.get(reverse("admin:people_user_changelist")).status_code == 302
    assert enter(client, second_factor_code(admin), next_url="/admin/").url == "/admin/"
    assert client.get(reverse("admin:index")).status_code == 200


def test_staff_who_are_no_site_admins_must_set_it_up_for_the_admin_only_when_configured(
    client, make_person, settings
):
    staff = make_person(is_staff=True)
    log_in(client, staff)
    assert client.get(reverse("admin:index")).status_code == 200
    settings.TWO_FACTOR_REQUIRED_ROLES = ["site_admin", "hr_legal", "staff"]
    assert client.get(reverse("admin:index")).url.startswith(reverse("two_factor:setup"))


def test_people_held_at_the_second_factor_are_held_at_the_admin_too(client, make_person):
    person = with_second_factor(make_person(), passed=False)  # not staff: no admin anyway
    log_in(client, person)
    assert client.get(reverse("admin:index")).url.startswith(reverse("two_factor:verify"))
    enter(client, second_factor_code(person))
    assert client.get(reverse("admin:index")).url.startswith(reverse("admin:login"))


def test_a_site_admin_resets_a_lost_phone_and_the_admin_history_says_so(
    client, site_admin, make_person
):
    from django.contrib.admin.models import LogEntry

    person = make_person(group=roles.HR_LEGAL)
    _enrol(person)
    theirs = type(client)()
    log_in(theirs, person)
    enter(theirs, second_factor_code(person))
    assert theirs.get(reverse("my_tasks")).status_code == 200

    client.force_login(site_admin)
    url = reverse("admin:people_user_change", args=[person.pk])
    page = client.get(url).text
    assert "On since" in page and "10 recovery codes left" in page
    joined = timezone.localtime(person.date_joined)
    data = {
        "email": person.email,
        "full_name": person.full_name,
        "is_active": "on",
        "groups": [group.pk for group in person.groups.all()],
        "date_joined_0": joined.strftime("%d/%m/%Y"),
        "date_joined_1": joined.strftime("%H:%M:%S"),
        "reset_two_factor": "on",
    }
    response = client.post(url, data, follow=True)
    assert "Two-factor sign-in reset" in response.text
    assert not TOTPDevice.objects.filter(user=person).exists()
    assert not StaticDevice.objects.filter(user=person).exists()
    entry = LogEntry.objects.filter(object_id=str(person.pk), user=site_admin).first()
    assert "Reset two-factor sign-in" in entry.get_change_message()
    # Their open session no longer counts as passed: back to set-up.
    assert theirs.get(reverse("my_tasks")).url.startswith(reverse("two_factor:setup"))


def test_the_people_list_resets_two_factor_sign_in_for_the_chosen(client, site_admin, make_person):
    from django.contrib.admin.models import LogEntry

    chosen = [make_person(), make_person(group=roles.HR_LEGAL)]
    for person in chosen:
        _enrol(person)
    kept = make_person()
    _enrol(kept)
    client.force_login(site_admin)
    response = client.post(
        reverse("admin:people_user_changelist"),
        {"action": "reset_two_factor_sign_in", "_selected_action": [p.pk for p in chosen]},
        follow=True,
    )
    assert "Two-factor sign-in reset for 2 people" in response.text
    assert set(TOTPDevice.objects.values_list("user", flat=True)) == {kept.pk, site_admin.pk}
    messages = LogEntry.objects.filter(user=site_admin).values_list("change_message", flat=True)
    assert sum("Reset two-factor sign-in" in message for message in messages) == 2


def test_people_who_are_not_site_admins_cannot_reset_it(client, hr, make_person):
    person = make_person()
    _enrol(person)
    client.force_login(hr)
    response = client.post(
        reverse("admin:people_user_changelist"),
        {"action": "reset_two_factor_sign_in", "_selected_action": [person.pk]},
    )
    assert response.status_code == 302 and reverse("admin:login") in response.url
    assert TOTPDevice.objects.filter(user=person).exists()


# --- What the gate costs -----------------------------------------------------------------------


def test_the_gate_costs_an_employee_no_query_on_a_page(employee, settings):
    """The gate reads what it needs from the session and from the roles the page's navigation
    reads anyway: an employee's page takes as many queries with it as without it."""

    def queries_for_my_tasks() -> int:
        client = Client()  # a new client loads the middleware as the settings now say
        client.force_login(employee)
        client.get(reverse("my_tasks"))
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("my_tasks")).status_code == 200
        return len(captured.captured_queries)

    with_gate = queries_for_my_tasks()
    settings.MIDDLEWARE = [
        name for name in settings.MIDDLEWARE if name != "people.two_factor.SecondFactorMiddleware"
    ]
    assert queries_for_my_tasks() == with_gate
