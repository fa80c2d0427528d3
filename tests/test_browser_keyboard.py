"""Everything works by keyboard: the employee's journeys with Tab, Shift+Tab, Enter, Space and
typing only (no clicks, no filling of fields by the test), in the system Chromium.

At every stop of the focus the element that has it must show it: an outline or a box-shadow
(WCAG 2.4.7 Focus Visible). The first Tab of a page reaches "Skip to main content".
"""

from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from demo.players.training import MISTAKES
from people.models import User
from policies.models import Acknowledgement, Policy
from tests.a11y_support import DEMO_PASSWORD, KeyboardUser, focus_style, shows_focus
from training.models import Booking, Session

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def demo(transactional_db):
    call_command("seed_demo", stdout=StringIO())


def _wait_for_page(page):
    page.wait_for_load_state("load")


def _log_in_by_keyboard(keys: KeyboardUser, base_url: str, email: str) -> None:
    page = keys.page
    page.goto(f"{base_url}{reverse('login')}")
    # The login page puts the focus in "Email" (autofocus); otherwise Tab to it.
    if page.evaluate("document.activeElement.name") != "username":
        keys.tab_to_field("Email")
    keys.type(email)
    keys.tab_to_field("Password")
    keys.type(DEMO_PASSWORD)
    keys.press("Enter")
    page.get_by_role("heading", name="My tasks").wait_for()
    # The first stop of a page is the skip link, shown while it has the focus.
    page.keyboard.press("Tab")
    first = focus_style(page)
    assert first["label"] == "Skip to main content", first
    assert page.locator(".skip-link").is_visible() and shows_focus(first)


def _follow(keys: KeyboardUser, *, label: str | None = None, path: str | None = None) -> None:
    if path is not None:
        keys.tab_to_link(path)
    else:
        keys.tab_to_label(label, tag="a")
    keys.press("Enter")
    _wait_for_page(keys.page)


def test_employee_acknowledges_the_social_media_policy_by_keyboard_alone(
    live_server, demo, browser_page
):
    page = browser_page
    employee = User.objects.get(email="employee@example.com")
    policy = Policy.objects.get(title="Social media policy")
    current = policy.versions.get(status="published")
    assert not Acknowledgement.objects.filter(person=employee, version=current).exists()
    keys = KeyboardUser(page)

    _log_in_by_keyboard(keys, live_server.url, employee.email)
    _follow(keys, label="Policies")
    page.get_by_role("heading", name="Policies").first.wait_for()
    _follow(keys, path=reverse("policies:detail", args=[policy.slug]))
    page.get_by_role("button", name="Acknowledge").wait_for()

    keys.tab_to_field("I have read and understood this policy")
    keys.press("Space")
    assert page.get_by_label("I have read and understood this policy").is_checked()
    keys.tab_to_field("Full name")
    keys.type("Emily Carter")
    keys.tab_to_label("Acknowledge", tag="button")
    keys.press("Enter")
    page.get_by_text("SHA-256").first.wait_for()

    acknowledgement = Acknowledgement.objects.get(person=employee, version=current)
    assert acknowledgement.typed_name == "Emily Carter"
    assert acknowledgement.method == "web"
    assert keys.stops > 5
    assert keys.unfocused == [], "focus not visible on:\n" + "\n".join(keys.unfocused)


def test_employee_books_a_future_briefing_by_keyboard_alone(live_server, demo, browser_page):
    page = browser_page
    employee = User.objects.get(email="employee@example.com")
    session = Session.objects.get(
        title=MISTAKES, status=Session.Status.SCHEDULED, starts_at__gt=timezone.now()
    )
    assert not Booking.objects.filter(session=session, person=employee).exists()
    keys = KeyboardUser(page)

    _log_in_by_keyboard(keys, live_server.url, employee.email)
    _follow(keys, label="Training")
    page.get_by_role("heading", name="Training").first.wait_for()
    _follow(keys, path=reverse("training:session", args=[session.pk]))
    page.get_by_role("heading", name=session.title).first.wait_for()

    keys.tab_to_label("Book", tag="button")
    keys.press("Enter")
    page.get_by_role("button", name="Cancel booking").wait_for()

    booking = Booking.objects.get(session=session, person=employee)
    assert booking.status == Booking.Status.BOOKED and booking.booked_by == employee
    # Back up the page with Shift+Tab: the focus still shows on the way.
    keys.tab_to_label("Training", tag="a", backwards=True)
    assert keys.unfocused == [], "focus not visible on:\n" + "\n".join(keys.unfocused)
