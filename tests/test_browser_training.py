"""Training journeys in the system Chromium (Playwright)."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from demo.players.training import BASICS, MISTAKES, REQUIREMENT, ROOM, SOCIAL_MEDIA_POLICY
from people.models import User
from policies.models import Policy
from tests.conftest import ARTIFACTS
from training import services
from training.compliance import status_for
from training.models import Booking, Session, Topic

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def demo(transactional_db):
    call_command("seed_demo", stdout=StringIO())


@pytest.fixture
def starting_soon(demo) -> Session:
    """A briefing that starts in five minutes: check-in is open (from 15 minutes before)
    and booking too (until the start)."""
    starts = timezone.now() + timedelta(minutes=5)
    return services.create_session(
        by=User.objects.get(email="policyadmin@example.com"),
        title="Social media basics: quick refresher",
        topic=Topic.objects.get(name=BASICS),
        presenter=User.objects.get(email="comms@example.com"),
        starts_at=starts,
        ends_at=starts + timedelta(minutes=45),
        time_zone="Europe/London",
        capacity=12,
        room=ROOM,
        policies=Policy.objects.filter(title=SOCIAL_MEDIA_POLICY),
    )


def _log_in(page, base_url, email):
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill("policyhub-demo")
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="My tasks").wait_for()


def _open_training(page):
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Training").click()
    page.get_by_role("heading", name="Training").first.wait_for()


def _open_session(page, session: Session):
    page.locator(f'a[href="/training/sessions/{session.pk}/"]').first.click()
    page.get_by_role("heading", name=session.title).first.wait_for()


def test_demo_employee_books_then_checks_in_during_the_session_and_meets_the_requirement(
    live_server, starting_soon, browser_page
):
    employee = User.objects.get(email="employee@example.com")
    (before,) = status_for(employee)
    assert before.requirement.name == REQUIREMENT and not before.compliant
    later = Session.objects.filter(
        title=MISTAKES, status=Session.Status.SCHEDULED, starts_at__gt=timezone.now()
    ).get()
    page = browser_page
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    _log_in(page, live_server.url, employee.email)
    _open_training(page)
    requirements = page.get_by_role("region", name="Your training requirements")
    requirements.get_by_text(REQUIREMENT).wait_for()
    requirements.get_by_text("Still required").wait_for()
    page.screenshot(path=str(ARTIFACTS / "training-required.png"), full_page=True)

    # An upcoming briefing with seats: book it, and it can be cancelled again.
    _open_session(page, later)
    page.get_by_role("button", name="Book", exact=True).click()
    page.get_by_role("button", name="Cancel booking").wait_for()
    assert page.get_by_role("button", name="Book", exact=True).count() == 0
    page.screenshot(path=str(ARTIFACTS / "training-booked.png"), full_page=True)
    booking = Booking.objects.get(session=later, person=employee)
    assert booking.status == Booking.Status.BOOKED and booking.booked_by == employee

    # The briefing starting in five minutes: book it, then check in with the code shown
    # in the room (typed in lower case, as people do).
    _open_training(page)
    _open_session(page, starting_soon)
    page.get_by_role("button", name="Book", exact=True).click()
    page.get_by_role("button", name="Cancel booking").wait_for()
    page.get_by_label("Check-in code").fill(starting_soon.checkin_code.lower())
    page.get_by_role("button", name="Check in").click()
    page.get_by_text("You are checked in").first.wait_for()
    assert page.get_by_role("button", name="Check in").count() == 0
    page.screenshot(path=str(ARTIFACTS / "training-checked-in.png"), full_page=True)
    booking = Booking.objects.get(session=starting_soon, person=employee)
    assert booking.status == Booking.Status.ATTENDED and booking.checked_in_at

    # The requirement is met on the Training page, and for compliance.
    _open_training(page)
    requirements.get_by_text(REQUIREMENT).wait_for()
    requirements.get_by_text("Met", exact=True).wait_for()
    assert requirements.get_by_text("Still required").count() == 0
    page.screenshot(path=str(ARTIFACTS / "training-requirement-met.png"), full_page=True)
    (after,) = status_for(employee)
    assert after.compliant and after.valid_until > timezone.localdate() + timedelta(days=360)
