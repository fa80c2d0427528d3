"""Project-wide test fixtures: one per role, and the rule that CI never skips."""

import itertools
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.contrib.auth.signals import user_logged_in
from django.utils import translation

from people import roles

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}

_counter = itertools.count(1)


def needs(condition: bool, reason: str) -> None:
    """Skip a test whose service or browser is missing; under CI that is a failure."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"CI must provide this: {reason}")
    pytest.skip(reason)


def pytest_configure(config):
    """Tests send their Celery messages to a broker folder of their own, never to the
    one `make run` uses: a worker started later would otherwise work through thousands
    of test messages before its own. Worker subprocesses inherit BROKER_DIR."""
    from django.conf import settings

    if settings.CELERY_BROKER_URL != "filesystem://":
        return
    from policyhub.celery import app

    folder = tempfile.mkdtemp(prefix="policyhub-test-broker-")
    config._policyhub_broker_dir = folder
    os.environ["BROKER_DIR"] = folder
    options = {
        **settings.CELERY_BROKER_TRANSPORT_OPTIONS,
        "data_folder_in": os.path.join(folder, "queue"),
        "data_folder_out": os.path.join(folder, "queue"),
        "control_folder": os.path.join(folder, "control"),
    }
    for name in ("queue", "control"):
        os.makedirs(os.path.join(folder, name))
    settings.BROKER_DIR = Path(folder)
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = options
    app.conf.broker_transport_options = options


def pytest_unconfigure(config):
    folder = getattr(config, "_policyhub_broker_dir", None)
    if folder:
        shutil.rmtree(folder, ignore_errors=True)


def pytest_sessionfinish(session, exitstatus):
    # Belt and braces: under CI no test may be skipped, whatever skipped it.
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if IN_CI and reporter is not None and reporter.stats.get("skipped"):
        reporter.write_line(
            f"CI=true: {len(reporter.stats['skipped'])} skipped test(s) count as a failure.",
            red=True,
        )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(autouse=True)
def _site_language():
    """Each test starts and ends in the site's language. A request by a German or French
    reader leaves their language active in this thread (in a server, every request
    chooses again), and a test after it must not inherit it."""
    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def computed_pages(settings):
    """Every page computed for every request, never served kept (policyhub/kept.py): for
    tests that read what the view computed (response.context) or count its queries;
    kept pages have their own tests (policyhub/tests/test_kept.py)."""
    settings.KEPT_PAGES = False


@pytest.fixture
def make_person(db):
    from people.models import User

    def make(*, group: str | None = None, password: str = "correct-horse-battery", **fields):
        number = next(_counter)
        fields.setdefault("email", f"person{number}@example.com")
        fields.setdefault("full_name", f"Person {number}")
        user = User.objects.create_user(password=password, **fields)
        if group:
            # get_or_create: a transactional test before this one may have flushed the groups.
            user.groups.add(Group.objects.get_or_create(name=group)[0])
        return user

    return make


@pytest.fixture
def manager(make_person):
    return make_person(full_name="Marcus Reid", email="manager@example.com")


@pytest.fixture
def employee(make_person, manager):
    return make_person(full_name="Emily Carter", email="employee@example.com", manager=manager)


@pytest.fixture
def outsider(make_person):
    """A plain employee with no reports and no role, outside the employee's team."""
    return make_person(full_name="Olivia Hughes", email="olivia.hughes@example.com")


@pytest.fixture
def comms(make_person):
    return make_person(full_name="Chloe Summers", email="comms@example.com", group=roles.COMMS)


@pytest.fixture
def hr(make_person):
    person = make_person(full_name="Hannah Brooks", email="hr@example.com", group=roles.HR_LEGAL)
    return with_second_factor(person)


@pytest.fixture
def policy_admin(make_person):
    return make_person(
        full_name="Priya Shah", email="policyadmin@example.com", group=roles.POLICY_ADMIN
    )


@pytest.fixture
def leader(make_person):
    return make_person(full_name="Leo Fischer", email="leader@example.com", group=roles.LEADERSHIP)


@pytest.fixture
def site_admin(make_person):
    person = make_person(
        full_name="Adam Mills", email="admin@example.com", is_staff=True, is_superuser=True
    )
    return with_second_factor(person)


# --- Two-factor sign-in (people/two_factor/) -------------------------------------------------
# Site admins and HR/Legal must pass a second factor before any page opens to them. The `hr` and
# `site_admin` fixtures have an authenticator app and carry it as `otp_device`, django-otp's mark
# of a person who has just passed it: `client.force_login(hr)`, which skips the password page,
# then also skips the code page, and the session is verified exactly as after a right code. The
# gate itself stays on: anyone else (e.g. `make_person(group=roles.HR_LEGAL)`, or the fixture
# fetched again from the database) is sent to the code or set-up page, which the tests of
# people/tests/test_two_factor*.py go through with `second_factor_code`.


def with_second_factor(person, *, passed: bool = True):
    """Give `person` a confirmed authenticator app; with `passed`, force_login verifies them."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.create(user=person, name="Authenticator app", confirmed=True)
    if passed:
        person.otp_device = device
    return person


def second_factor_code(person) -> str:
    """The code the person's authenticator app shows, as the server will next accept it: a
    code from the app is accepted once, so a second sign-in within 30 seconds takes the next
    step's code (one step either side of the server's clock is accepted)."""
    from django_otp.oath import TOTP
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.get(user=person, confirmed=True)
    clock = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    clock.drift += max(0, device.last_t + 1 - clock.t())
    return f"{clock.token():0{device.digits}d}"


def _force_login_keeps_the_second_factor(sender, request, user, **kwargs):
    # django-otp records `user.otp_device` at login through `request.user`, which the bare
    # request of Client.force_login lacks; this does the same for it.
    from django_otp import DEVICE_ID_SESSION_KEY

    device = getattr(user, "otp_device", None)
    session = getattr(request, "session", None)
    if device is not None and device.user_id == user.pk and session is not None:
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id


user_logged_in.connect(_force_login_keeps_the_second_factor, dispatch_uid="conftest-otp-device")
