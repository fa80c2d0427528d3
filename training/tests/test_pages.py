"""The training pages: who may open what, the words on the screen, booking, waitlist,
check-in, feedback, the presenter's roster, catering and check-in sheet, the organiser's
pages, and query counts that hold as rows grow."""

from datetime import timedelta
from html import unescape

import pytest
from django.urls import reverse
from django.utils import timezone

from notifications.models import Notification
from training import services
from training.models import Booking, Feedback, Requirement, Series, Session, Topic
from training.tests import factories

pytestmark = pytest.mark.django_db

BOOKED = Booking.Status.BOOKED
WAITLISTED = Booking.Status.WAITLISTED
ATTENDED = Booking.Status.ATTENDED


@pytest.fixture
def presenter(make_person):
    return make_person(full_name="Pat Presenter", email="presenter@example.com")


@pytest.fixture
def session(policy_admin, presenter):
    return factories.schedule(policy_admin, presenter=presenter, capacity=2)


def page(client, url_name, *args, **query) -> str:
    response = client.get(reverse(url_name, args=args), query)
    assert response.status_code == 200, response.status_code
    return unescape(response.content.decode())


def post(client, url_name, *args, follow=True, **data):
    return client.post(reverse(url_name, args=args), data, follow=follow)


def text(response) -> str:
    return unescape(response.content.decode())


def people(make_person, count):
    return [make_person() for _ in range(count)]


# --- who may open what ------------------------------------------------------------

SESSION_PAGES = ["session", "session_ics", "roster", "catering", "checkin_sheet"]
RUN_PAGES = ["roster", "catering", "checkin_sheet"]
MANAGE_PAGES = [
    "manage_index",
    "manage_session_new",
    "manage_series_new",
    "manage_requirements",
    "manage_requirement_new",
    "manage_topics",
]
POSTS = ["book", "book_for", "cancel_booking", "check_in", "feedback", "complete_session"]


def test_anonymous_people_are_sent_to_log_in_from_every_page(client, session):
    urls = [reverse("training:index")]
    urls += [reverse(f"training:{name}", args=[session.pk]) for name in SESSION_PAGES]
    urls += [reverse(f"training:{name}") for name in MANAGE_PAGES]
    urls += [reverse("training:manage_session_edit", args=[session.pk])]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"], url
    for name in POSTS:
        response = client.post(reverse(f"training:{name}", args=[session.pk]))
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert not Booking.objects.exists()


@pytest.mark.parametrize("role", ["employee", "manager", "comms", "hr", "leader", "site_admin"])
def test_only_the_presenter_and_policy_admins_see_roster_catering_and_check_in_sheet(
    client, session, role, request
):
    client.force_login(request.getfixturevalue(role))
    assert client.get(reverse("training:session", args=[session.pk])).status_code == 200
    for name in RUN_PAGES:
        assert client.get(reverse(f"training:{name}", args=[session.pk])).status_code == 403
    response = client.post(reverse("training:roster", args=[session.pk]), {})
    assert response.status_code == 403
    response = client.post(reverse("training:complete_session", args=[session.pk]))
    assert response.status_code == 403
    session_page = page(client, "training:session", session.pk)
    assert session.checkin_code not in session_page
    assert reverse("training:roster", args=[session.pk]) not in session_page


def test_a_presenter_sees_only_their_own_sessions_rosters(
    client, policy_admin, presenter, session, make_person
):
    others = factories.schedule(policy_admin, presenter=make_person(), title="Another briefing")
    client.force_login(presenter)
    for name in RUN_PAGES:
        assert client.get(reverse(f"training:{name}", args=[session.pk])).status_code == 200
        assert client.get(reverse(f"training:{name}", args=[others.pk])).status_code == 403
    assert reverse("training:roster", args=[session.pk]) in page(
        client, "training:session", session.pk
    )
    # A presenter is not an organiser.
    assert client.get(reverse("training:manage_index")).status_code == 403


def test_policy_admins_open_every_page(client, policy_admin, session):
    client.force_login(policy_admin)
    for name in SESSION_PAGES:
        assert client.get(reverse(f"training:{name}", args=[session.pk])).status_code == 200
    for name in MANAGE_PAGES:
        assert client.get(reverse(f"training:{name}")).status_code == 200
    assert client.get(reverse("training:manage_session_edit", args=[session.pk])).status_code == 200
    assert "Manage training" in page(client, "training:index")


@pytest.mark.parametrize("role", ["employee", "manager", "comms", "hr", "leader", "site_admin"])
def test_organiser_pages_are_for_policy_admins_only(client, session, role, request):
    client.force_login(request.getfixturevalue(role))
    for name in MANAGE_PAGES:
        assert client.get(reverse(f"training:{name}")).status_code == 403
    for name in ("manage_session_edit", "manage_session_cancel"):
        response = client.post(reverse(f"training:{name}", args=[session.pk]), {"reason": "x"})
        assert response.status_code == 403
    response = client.post(reverse("training:manage_topics"), {"name": "Sneaky"})
    assert response.status_code == 403 and not Topic.objects.filter(name="Sneaky").exists()
    session.refresh_from_db()
    assert session.status == Session.Status.SCHEDULED
    assert "Manage training" not in page(client, "training:index")


def test_a_missing_session_is_not_found(client, employee):
    client.force_login(employee)
    assert client.get(reverse("training:session", args=[9999])).status_code == 404


# --- the Training page --------------------------------------------------------------


def test_training_page_has_honest_empty_states(client, employee):
    client.force_login(employee)
    html = page(client, "training:index")
    assert "<h1" in html and "Training" in html
    assert "No briefings with free seats are scheduled right now." in html
    assert "You have no upcoming bookings." in html
    assert "No briefing is required of you at the moment." in html


def test_training_page_lists_sessions_with_seats_and_my_bookings(
    client, policy_admin, employee, make_person
):
    open_session = factories.schedule(policy_admin, title="Open briefing", capacity=5)
    full = factories.schedule(policy_admin, title="Full briefing", capacity=1)
    factories.book_all(full, [make_person()])
    services.book(session=full, person=employee)  # waitlisted, number 1
    factories.schedule(policy_admin, title="Past briefing", starts_in=-timedelta(days=2))
    client.force_login(employee)
    html = page(client, "training:index")
    upcoming = html.split('id="upcoming"')[1]
    assert "Open briefing" in upcoming and "5 of 5" in upcoming
    assert "Full briefing" not in upcoming.split('id="full"')[0] and "Past briefing" not in upcoming
    assert "Full briefing" in upcoming.split('id="full"')[1]  # its waitlist can be joined
    mine = html.split('id="my-bookings"')[1].split('id="upcoming"')[0]
    assert "Full briefing" in mine and "On the waitlist" in mine and "number 1" in mine
    services.book(session=open_session, person=employee)
    mine = page(client, "training:index").split('id="my-bookings"')[1].split('id="upcoming"')[0]
    assert "Open briefing" in mine and "Booked" in mine


def test_training_page_shows_my_requirement_status(client, policy_admin, employee):
    requirement = Requirement.objects.create(name="Social media lunch briefing, yearly")
    requirement.accepted_topics.add(factories.topic())
    client.force_login(employee)
    requirements = page(client, "training:index").split('id="requirements"')[1]
    assert "Social media lunch briefing, yearly" in requirements
    assert "Still required" in requirements and "due now" in requirements

    employee.start_date = timezone.localdate() - timedelta(days=5)
    employee.save()
    requirement.new_joiners_within_days = 30
    requirement.save()
    due = employee.start_date + timedelta(days=30)
    requirements = page(client, "training:index").split('id="requirements"')[1]
    assert f"due by {due:%-d %B %Y}" in requirements

    past = factories.schedule(policy_admin, starts_in=-timedelta(days=3))
    factories.attend(past, employee)
    requirements = page(client, "training:index").split('id="requirements"')[1]
    assert "Met" in requirements and "Still required" not in requirements
    assert f"{timezone.localdate() + timedelta(days=365 - 3):%Y}" in requirements


# --- the session page ----------------------------------------------------------------


def test_session_page_shows_what_people_need_to_know(
    client, policy_admin, leader, employee, make_person
):
    from policies.models import Policy
    from policies.tests.factories import published_policy

    policy, _ = published_policy(title="Social media", owner=policy_admin, approver=leader)
    # A policy the reader may not open is not named on the page.
    sales_only = Policy.objects.create(title="Sales playbook", slug="sales", owner=policy_admin)
    starts = timezone.now() + timedelta(days=3)
    session = factories.schedule(
        policy_admin,
        presenter=make_person(full_name="Pat Presenter"),
        starts_at=starts,
        time_zone="America/New_York",
        online_url="https://meet.example.com/briefing",
        lunch_cutoff=starts - timedelta(days=1),
        policies=[policy, sales_only],
        capacity=12,
    )
    employee.time_zone = "Europe/Berlin"
    employee.save()
    client.force_login(employee)
    html = page(client, "training:session", session.pk)
    assert "Social media lunch briefing" in html and "Social media basics" in html
    assert "Pat Presenter" in html and "Room 4.01" in html
    assert "https://meet.example.com/briefing" in html
    assert "12 of 12 seats left" in html
    berlin = timezone.localtime(starts, timezone=__import__("zoneinfo").ZoneInfo("Europe/Berlin"))
    new_york = timezone.localtime(
        starts, timezone=__import__("zoneinfo").ZoneInfo("America/New_York")
    )
    assert f"{berlin:%H:%M}" in html and "Europe/Berlin" in html
    assert f"{new_york:%H:%M}" in html and "America/New_York" in html
    assert reverse("policies:detail", args=["social-media"]) in html
    assert "Sales playbook" not in html
    assert "Book by" in html  # the lunch cut-off
    assert reverse("training:session_ics", args=[session.pk]) in html
    assert '<button type="submit" class="btn btn-primary">Book</button>' in html
    assert 'for="id_dietary_needs"' in html and "Dietary needs" in html


def test_booking_through_the_page_books_and_queues_the_confirmation(client, session, employee):
    client.force_login(employee)
    response = post(client, "training:book", session.pk, lunch="vegetarian", dietary_needs="Nuts")
    booking = Booking.objects.get(session=session, person=employee)
    assert (booking.status, booking.lunch, booking.dietary_needs) == (BOOKED, "vegetarian", "Nuts")
    assert booking.booked_by == employee
    assert Notification.objects.filter(
        kind="training-booking-confirmed", recipient=employee, subject_id=booking.pk
    ).exists()
    html = text(response)
    assert "You are booked on Social media lunch briefing" in html
    assert "Cancel booking" in html and ">Book</button>" not in html


def test_a_full_session_puts_the_booker_on_the_waitlist_with_their_place(
    client, session, employee, make_person
):
    factories.book_all(session, people(make_person, 3))  # two seats, one waiting
    client.force_login(employee)
    html = page(client, "training:session", session.pk)
    assert "The session is full: booking puts you on the waitlist." in html
    html = text(post(client, "training:book", session.pk, lunch="standard"))
    booking = Booking.objects.get(session=session, person=employee)
    assert booking.status == WAITLISTED
    assert "number 2 on the waitlist" in html
    assert "Cancel booking" in html
    assert not Notification.objects.filter(
        kind="training-booking-confirmed", recipient=employee
    ).exists()


def test_booking_after_the_lunch_cut_off_says_lunch_is_not_guaranteed(
    client, policy_admin, employee
):
    starts = timezone.now() + timedelta(days=1)
    late = factories.schedule(
        policy_admin, starts_at=starts, lunch_cutoff=timezone.now() - timedelta(hours=1)
    )
    client.force_login(employee)
    html = text(post(client, "training:book", late.pk, lunch="standard"))
    assert Booking.objects.get(session=late, person=employee).lunch_not_guaranteed
    assert "lunch is not guaranteed" in html and "lunch not guaranteed" in html


def test_cancelling_through_the_page_promotes_the_first_waiting(
    client, session, employee, make_person
):
    first_waiting, second_waiting = make_person(), make_person()
    services.book(session=session, person=employee)
    factories.book_all(session, [make_person(), first_waiting, second_waiting])
    client.force_login(employee)
    html = text(post(client, "training:cancel_booking", session.pk))
    assert "Your booking is cancelled" in html
    statuses = dict(Booking.objects.filter(session=session).values_list("person", "status"))
    assert statuses[employee.pk] == Booking.Status.CANCELLED
    assert statuses[first_waiting.pk] == BOOKED
    assert statuses[second_waiting.pk] == WAITLISTED
    assert Notification.objects.filter(
        kind="training-booking-promoted", recipient=first_waiting
    ).exists()
    client.force_login(second_waiting)
    assert "number 1 on the waitlist" in page(client, "training:session", session.pk)
    # Booking again is possible after cancelling.
    client.force_login(employee)
    assert ">Book</button>" in page(client, "training:session", session.pk)


def test_booking_is_refused_once_the_session_has_started(client, policy_admin, employee):
    started = factories.schedule(policy_admin, starts_in=-timedelta(minutes=5))
    client.force_login(employee)
    assert ">Book</button>" not in page(client, "training:session", started.pk)
    html = text(post(client, "training:book", started.pk, lunch="standard"))
    assert "already started" in html
    assert not Booking.objects.exists()


def test_a_cancelled_session_says_so_and_offers_no_booking(client, policy_admin, employee):
    session = factories.schedule(policy_admin)
    services.cancel_session(session=session, by=policy_admin, reason="The presenter is ill.")
    client.force_login(employee)
    html = page(client, "training:session", session.pk)
    assert "This session is cancelled. The presenter is ill." in html
    assert ">Book</button>" not in html


# --- check-in ----------------------------------------------------------------------


def test_check_in_through_the_page_inside_the_window(client, policy_admin, employee):
    soon = factories.schedule(policy_admin, starts_in=timedelta(minutes=10))
    services.book(session=soon, person=employee)
    client.force_login(employee)
    html = page(client, "training:session", soon.pk)
    assert 'for="id_code"' in html and "Check-in code" in html
    assert ">Check in</button>" in html
    html = text(post(client, "training:check_in", soon.pk, code="WRONG1"))
    assert "That is not this session's check-in code" in html
    assert Booking.objects.get(session=soon, person=employee).status == BOOKED
    html = text(post(client, "training:check_in", soon.pk, code=soon.checkin_code.lower()))
    assert "You are checked in" in html and ">Check in</button>" not in html
    assert ">Book</button>" not in html and "Cancel booking" not in html
    booking = Booking.objects.get(session=soon, person=employee)
    assert booking.status == ATTENDED and booking.checked_in_at


def test_check_in_is_not_offered_and_refused_outside_the_window(client, policy_admin, employee):
    later = factories.schedule(policy_admin, starts_in=timedelta(hours=1))
    services.book(session=later, person=employee)
    client.force_login(employee)
    html = page(client, "training:session", later.pk)
    assert ">Check in</button>" not in html and "Check-in opens at" in html
    html = text(post(client, "training:check_in", later.pk, code=later.checkin_code))
    assert "Check-in opens 15 minutes before the start" in html
    assert Booking.objects.get(session=later, person=employee).status == BOOKED


def test_a_walk_in_checks_in_without_a_booking(client, policy_admin, employee):
    running = factories.schedule(policy_admin, starts_in=-timedelta(minutes=10))
    client.force_login(employee)
    html = text(post(client, "training:check_in", running.pk, code=running.checkin_code))
    assert "You are checked in as a walk-in" in html
    assert ">Check in</button>" not in html and "You attended" in html
    assert Booking.objects.get(session=running, person=employee).walk_in


def test_an_empty_code_is_a_field_error(client, policy_admin, employee):
    soon = factories.schedule(policy_admin, starts_in=timedelta(minutes=10))
    client.force_login(employee)
    response = post(client, "training:check_in", soon.pk, follow=False, code="  ")
    assert response.status_code == 200
    assert "Type the code shown in the room." in text(response)


def test_the_qr_link_pre_fills_the_check_in_code(client, policy_admin, employee):
    soon = factories.schedule(policy_admin, starts_in=timedelta(minutes=10))
    client.force_login(employee)
    html = page(client, "training:session", soon.pk, code=soon.checkin_code)
    assert f'name="code" value="{soon.checkin_code}"' in html


# --- feedback ----------------------------------------------------------------------


def test_attendees_give_feedback_after_the_session(client, policy_admin, employee, outsider):
    past = factories.schedule(policy_admin, starts_in=-timedelta(hours=3))
    factories.attend(past, employee)
    client.force_login(employee)
    html = page(client, "training:session", past.pk)
    assert "How was it?" in html and "Send feedback" in html
    html = text(post(client, "training:feedback", past.pk, rating="4", comment="Useful."))
    assert "Thank you for your feedback." in html and "You rated it 4/5" in html
    feedback = Feedback.objects.get(booking__person=employee)
    assert (feedback.rating, feedback.comment) == (4, "Useful.")
    # Someone who did not attend is neither offered the form nor able to send it.
    client.force_login(outsider)
    assert "How was it?" not in page(client, "training:session", past.pk)
    html = text(post(client, "training:feedback", past.pk, rating="1"))
    assert "Feedback comes after attending" in html
    assert Feedback.objects.count() == 1


# --- the calendar file ----------------------------------------------------------------


def test_the_session_offers_an_ics_download(client, session, employee):
    client.force_login(employee)
    response = client.get(reverse("training:session_ics", args=[session.pk]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    assert "attachment" in response["Content-Disposition"]
    body = response.content.decode()
    assert body.startswith("BEGIN:VCALENDAR") and "BEGIN:VEVENT" in body


# --- booking on behalf -----------------------------------------------------------------


def test_a_line_manager_books_for_their_report(client, session, manager, employee):
    client.force_login(manager)
    html = page(client, "training:session", session.pk)
    assert "Book for one of your reports" in html and employee.full_name in html
    html = text(
        post(
            client,
            "training:book_for",
            session.pk,
            **{"for-person": employee.pk, "for-lunch": "vegan"},
        )
    )
    booking = Booking.objects.get(session=session, person=employee)
    assert booking.booked_by == manager and booking.lunch == "vegan"
    assert "Emily Carter is booked" in html
    html = text(
        post(
            client,
            "training:book_for",
            session.pk,
            **{"for-person": employee.pk, "for-lunch": "vegan"},
        )
    )
    assert "Emily Carter is already booked" in html


def test_a_manager_cannot_book_someone_elses_report(
    client, session, manager, employee, make_person
):
    other_manager = make_person()
    someone_else = make_person(manager=other_manager)
    client.force_login(manager)
    html = page(client, "training:session", session.pk)
    assert someone_else.full_name not in html
    response = post(
        client,
        "training:book_for",
        session.pk,
        follow=False,
        **{"for-person": someone_else.pk, "for-lunch": "none"},
    )
    assert "You can book for your direct reports only." in text(response)
    assert not Booking.objects.filter(person=someone_else).exists()


def test_people_without_reports_cannot_book_for_others(client, session, employee, outsider):
    client.force_login(outsider)
    assert "Book for" not in page(client, "training:session", session.pk)
    response = client.post(
        reverse("training:book_for", args=[session.pk]),
        {"for-person": employee.pk, "for-lunch": "none"},
    )
    assert response.status_code == 403
    assert not Booking.objects.exists()


def test_a_policy_admin_books_anyone_by_email(client, session, policy_admin, outsider):
    client.force_login(policy_admin)
    html = page(client, "training:session", session.pk)
    assert "Book for someone" in html and "Person's email" in html
    html = text(
        post(
            client,
            "training:book_for",
            session.pk,
            **{"for-person": "  OLIVIA.HUGHES@example.com ", "for-lunch": "standard"},
        )
    )
    assert Booking.objects.get(session=session, person=outsider).booked_by == policy_admin
    assert "Olivia Hughes is booked" in html
    response = post(
        client,
        "training:book_for",
        session.pk,
        follow=False,
        **{"for-person": "nobody@example.com"},
    )
    assert "No active person has that email address." in text(response)


# --- the presenter's pages ---------------------------------------------------------------


def test_roster_marks_attendance_in_bulk_with_one_submit(client, session, presenter, make_person):
    session.capacity = 5
    session.save()
    late, absent, others = make_person(), make_person(), people(make_person, 2)
    waiting = make_person()
    bookings = factories.book_all(session, [late, absent, *others])
    session.capacity = 4
    session.save()
    factories.book_all(session, [waiting])
    _begin(session)  # attendance is taken once the session is under way
    client.force_login(presenter)
    html = page(client, "training:roster", session.pk)
    for person in [late, absent, *others, waiting]:
        assert person.full_name in html
    assert "Waitlist" in html
    marks = {f"mark_{bookings[0].pk}": "late", f"mark_{bookings[1].pk}": "absent"}
    html = text(post(client, "training:roster", session.pk, everyone_else="attended", **marks))
    assert "Attendance saved for 4 people." in html
    statuses = dict(Booking.objects.filter(session=session).values_list("person", "status"))
    assert statuses[late.pk] == "late" and statuses[absent.pk] == "absent"
    assert statuses[others[0].pk] == statuses[others[1].pk] == "attended"
    assert statuses[waiting.pk] == WAITLISTED
    # A second save changes one mark and leaves the rest alone.
    html = text(
        post(client, "training:roster", session.pk, **{f"mark_{bookings[1].pk}": "excused"})
    )
    assert "Attendance saved for 1 person." in html
    assert Booking.objects.get(pk=bookings[1].pk).status == "excused"
    assert Booking.objects.get(pk=bookings[0].pk).status == "late"


def _begin(session):
    """Move a booked session to have started five minutes ago."""
    from datetime import timedelta

    from django.utils import timezone

    now = timezone.now()
    type(session).objects.filter(pk=session.pk).update(
        starts_at=now - timedelta(minutes=5), ends_at=now + timedelta(minutes=55)
    )
    session.refresh_from_db()


def test_attendance_cannot_be_taken_before_check_in_opens(client, session, presenter, employee):
    booking = services.book(session=session, person=employee)
    client.force_login(presenter)
    response = post(client, "training:roster", session.pk, **{f"mark_{booking.pk}": "attended"})
    assert "Attendance can be taken from 15 minutes before the start" in text(response)
    assert Booking.objects.get(pk=booking.pk).status == "booked"


def test_the_roster_refuses_an_unknown_mark(client, session, presenter, employee):
    booking = services.book(session=session, person=employee)
    client.force_login(presenter)
    html = text(post(client, "training:roster", session.pk, **{f"mark_{booking.pk}": "asleep"}))
    assert "Choose attended, late, absent or excused." in html
    assert Booking.objects.get(pk=booking.pk).status == BOOKED


def test_completing_a_session_marks_no_shows_absent(client, policy_admin, presenter, make_person):
    running = factories.schedule(policy_admin, presenter=presenter, starts_in=timedelta(minutes=10))
    came, stayed_away = make_person(), make_person()
    factories.book_all(running, [came, stayed_away])
    Session.objects.filter(pk=running.pk).update(
        starts_at=timezone.now() - timedelta(minutes=50), ends_at=timezone.now()
    )
    factories.attend(Session.objects.get(pk=running.pk), came)
    client.force_login(presenter)
    assert "Complete session" in page(client, "training:roster", running.pk)
    html = text(post(client, "training:complete_session", running.pk))
    assert "1 person who did not come is marked absent" in html
    running.refresh_from_db()
    assert running.status == Session.Status.COMPLETED
    assert Booking.objects.get(session=running, person=stayed_away).status == "absent"
    assert Notification.objects.filter(kind="training-makeup-offer", recipient=stayed_away).exists()


def test_a_session_cannot_be_completed_before_it_starts(client, session, presenter):
    client.force_login(presenter)
    assert "Complete session" not in page(client, "training:roster", session.pk)
    html = text(post(client, "training:complete_session", session.pk))
    assert "once it has started" in html
    session.refresh_from_db()
    assert session.status == Session.Status.SCHEDULED


def test_catering_counts_lunches_lists_dietary_needs_and_late_bookers(
    client, policy_admin, presenter, make_person
):
    starts = timezone.now() + timedelta(days=2)
    session = factories.schedule(
        policy_admin,
        presenter=presenter,
        starts_at=starts,
        capacity=6,
        lunch_cutoff=starts - timedelta(days=1),
    )
    veggies = people(make_person, 2)
    factories.book_all(session, veggies, lunch="vegetarian")
    services.book(session=session, person=make_person(full_name="Nut Free"), dietary_needs="Nuts")
    services.book(session=session, person=make_person(), lunch="vegan")
    services.book(session=session, person=make_person(), lunch="none")
    late = make_person(full_name="Late Larry")
    services.book(session=session, person=late, lunch="standard", now=starts - timedelta(hours=2))
    cancelled = services.book(session=session, person=make_person(), lunch="vegan")
    services.cancel_booking(booking=cancelled, by=cancelled.person)
    client.force_login(presenter)
    html = page(client, "training:catering", session.pk)
    assert 'data-lunch="standard">2<' in html
    assert 'data-lunch="vegetarian">2<' in html
    assert 'data-lunch="vegan">1<' in html
    assert 'data-lunch="none">1<' in html
    assert 'id="lunch-total">5<' in html
    dietary = html.split('id="dietary"')[1].split("</ul>")[0]
    assert "Nuts" in dietary and "Nut Free" in dietary
    after = html.split('id="after-cutoff"')[1].split("</ul>")[0]
    assert "Late Larry" in after and "Nut Free" not in after


def test_the_check_in_sheet_shows_the_code_and_a_qr_code_of_the_link(
    client, session, presenter, settings
):
    client.force_login(presenter)
    html = page(client, "training:checkin_sheet", session.pk)
    assert "<svg" in html and session.checkin_code in html
    link = f"{settings.SITE_URL}/training/sessions/{session.pk}/?code={session.checkin_code}"
    assert link in html


# --- the organiser's pages -----------------------------------------------------------------


def test_an_organiser_creates_a_series_of_three_fortnightly_sessions(
    client, policy_admin, presenter
):
    factories.topic()
    client.force_login(policy_admin)
    first = (timezone.now() + timedelta(days=10)).replace(hour=12, minute=30)
    data = {
        "title": "Social media lunch briefing",
        "topic": Topic.objects.get().pk,
        "presenter": presenter.email,
        "starts": first.strftime("%Y-%m-%dT%H:%M"),
        "length_minutes": "45",
        "time_zone": "Europe/London",
        "pattern": "fortnightly",
        "count": "3",
        "room": "Room 4.01",
        "online_url": "",
        "capacity": "15",
        "lunch_cutoff_hours": "48",
    }
    html = text(post(client, "training:manage_series_new", **data))
    assert "3 sessions of “Social media lunch briefing” are scheduled" in html
    series = Series.objects.get()
    assert (series.pattern, series.count) == ("fortnightly", 3)
    sessions = list(Session.objects.order_by("starts_at"))
    assert len(sessions) == 3
    from zoneinfo import ZoneInfo

    london = ZoneInfo("Europe/London")
    local = [s.starts_at.astimezone(london) for s in sessions]
    assert all((t.hour, t.minute) == (12, 30) for t in local)
    assert [(b.date() - a.date()).days for a, b in zip(local, local[1:], strict=False)] == [14, 14]
    assert all(s.ends_at - s.starts_at == timedelta(minutes=45) for s in sessions)
    assert all(s.starts_at - s.lunch_cutoff == timedelta(hours=48) for s in sessions)
    assert all(s.presenter == presenter and s.capacity == 15 for s in sessions)


def test_an_organiser_creates_one_session_in_its_own_time_zone(client, policy_admin, presenter):
    factories.topic()
    client.force_login(policy_admin)
    html = page(client, "training:manage_session_new")
    assert 'value="UTC" selected' in html  # the site's zone, as the organiser has none
    day = timezone.localdate() + timedelta(days=20)
    response = post(
        client,
        "training:manage_session_new",
        title="Briefing in New York",
        topic=Topic.objects.get().pk,
        presenter=presenter.email,
        starts=f"{day:%Y-%m-%d}T12:00",
        length_minutes="60",
        time_zone="America/New_York",
        online_url="https://meet.example.com/ny",
        capacity="8",
    )
    session = Session.objects.get()
    assert response.redirect_chain[-1][0] == reverse("training:session", args=[session.pk])
    from zoneinfo import ZoneInfo

    local = session.starts_at.astimezone(ZoneInfo("America/New_York"))
    assert (local.date(), local.hour) == (day, 12)
    assert session.time_zone == "America/New_York" and session.lunch_cutoff is None
    assert session.organiser == policy_admin


def test_the_session_form_refuses_a_past_time_and_a_session_without_a_place(client, policy_admin):
    factories.topic()
    client.force_login(policy_admin)
    response = post(
        client,
        "training:manage_session_new",
        follow=False,
        title="x",
        topic=Topic.objects.get().pk,
        presenter=policy_admin.email,
        starts="2020-01-01T12:00",
        length_minutes="60",
        time_zone="Europe/London",
        capacity="8",
    )
    html = text(response)
    assert "Choose a time in the future." in html
    assert "Give a room, an online link, or both." in html
    assert not Session.objects.exists()


def test_the_session_form_refuses_a_time_the_clocks_skip(client, policy_admin):
    factories.topic()
    client.force_login(policy_admin)
    year = timezone.localdate().year + 1
    # The last Sunday of March: clocks in London go from 01:00 to 02:00.
    from datetime import date

    day = max(date(year, 3, d) for d in range(25, 32) if date(year, 3, d).weekday() == 6)
    response = post(
        client,
        "training:manage_session_new",
        follow=False,
        title="x",
        topic=Topic.objects.get().pk,
        presenter=policy_admin.email,
        starts=f"{day:%Y-%m-%d}T01:30",
        length_minutes="60",
        time_zone="Europe/London",
        room="Room 1",
        capacity="8",
    )
    assert "the clocks go forward then" in text(response)


def test_new_session_asks_for_a_topic_first(client, policy_admin):
    client.force_login(policy_admin)
    response = client.get(reverse("training:manage_session_new"))
    assert response.status_code == 302 and response["Location"] == reverse("training:manage_topics")


def test_an_organiser_moves_a_session_and_everyone_booked_is_told(
    client, policy_admin, session, employee
):
    services.book(session=session, person=employee)
    client.force_login(policy_admin)
    html = page(client, "training:manage_session_edit", session.pk)
    assert "1 person is booked" in html
    new_day = timezone.localdate() + timedelta(days=9)
    html = text(
        post(
            client,
            "training:manage_session_edit",
            session.pk,
            starts=f"{new_day:%Y-%m-%d}T13:00",
            length_minutes="30",
            time_zone="Europe/London",
            room="Room 5.02",
            online_url="",
        )
    )
    assert "updated calendar invite" in html
    session.refresh_from_db()
    assert session.room == "Room 5.02" and session.sequence == 1
    assert session.ends_at - session.starts_at == timedelta(minutes=30)
    assert Notification.objects.filter(kind="training-session-changed", recipient=employee).exists()


def test_an_organiser_cancels_a_session_with_a_reason(client, policy_admin, session, employee):
    services.book(session=session, person=employee)
    client.force_login(policy_admin)
    html = text(post(client, "training:manage_session_cancel", session.pk, reason=""))
    assert "Say why the session is cancelled." in html
    session.refresh_from_db()
    assert session.status == Session.Status.SCHEDULED
    html = text(post(client, "training:manage_session_cancel", session.pk, reason="Room flooded."))
    assert "is cancelled" in html
    session.refresh_from_db()
    assert session.status == Session.Status.CANCELLED
    assert session.cancelled_reason == "Room flooded."
    assert Booking.objects.get(person=employee).status == Booking.Status.CANCELLED
    assert Notification.objects.filter(
        kind="training-session-cancelled", recipient=employee
    ).exists()


def test_an_organiser_adds_topics_and_requirements(client, policy_admin):
    from people.models import Department

    sales = Department.objects.create(name="Sales")
    client.force_login(policy_admin)
    html = text(post(client, "training:manage_topics", name="Social media basics"))
    assert "The topic “Social media basics” is added." in html
    topic = Topic.objects.get()
    response = post(
        client,
        "training:manage_requirement_new",
        follow=False,
        name="Sales briefing",
        audience="departments",
        accepted_topics=[topic.pk],
        every_months="12",
    )
    assert "Choose at least one department." in text(response)
    html = text(
        post(
            client,
            "training:manage_requirement_new",
            name="Sales briefing",
            audience="departments",
            audience_departments=[sales.pk],
            accepted_topics=[topic.pk],
            every_months="12",
            new_joiners_within_days="30",
            active="on",
        )
    )
    requirement = Requirement.objects.get()
    assert list(requirement.audience_departments.all()) == [sales]
    assert requirement.new_joiners_within_days == 30 and requirement.active
    assert "Sales briefing" in html and "Within 30 days" in html
    post(
        client,
        "training:manage_requirement_edit",
        requirement.pk,
        name="Sales briefing",
        audience="everyone",
        accepted_topics=[topic.pk],
        every_months="24",
    )
    requirement.refresh_from_db()
    assert (requirement.audience, requirement.every_months, requirement.active) == (
        "everyone",
        24,
        False,
    )


# --- query counts ----------------------------------------------------------------------


def _fill(policy_admin, make_person, employee, *, sessions: int, people_per_session: int):
    for number in range(sessions):
        session = factories.schedule(
            policy_admin,
            title=f"Briefing {number}",
            starts_in=timedelta(days=3 + number),
            capacity=people_per_session + 5,
        )
        factories.book_all(session, people(make_person, people_per_session))
        services.book(session=session, person=employee)


def test_training_page_query_count_does_not_grow(
    client, policy_admin, employee, make_person, django_assert_max_num_queries
):
    requirement = Requirement.objects.create(name="Yearly")
    requirement.accepted_topics.add(factories.topic())
    _fill(policy_admin, make_person, employee, sessions=2, people_per_session=2)
    client.force_login(employee)
    url = reverse("training:index")
    client.get(url)  # the session and user caches warm up
    with django_assert_max_num_queries(20) as few:
        client.get(url)
    _fill(policy_admin, make_person, employee, sessions=25, people_per_session=4)
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = text(client.get(url))
    assert "Page 1 of 2" in html and html.count("Booked</span>") >= 27


def test_manage_index_query_count_does_not_grow(
    client, policy_admin, employee, make_person, django_assert_max_num_queries
):
    _fill(policy_admin, make_person, employee, sessions=2, people_per_session=2)
    client.force_login(policy_admin)
    url = reverse("training:manage_index")
    with django_assert_max_num_queries(15) as few:
        client.get(url)
    _fill(policy_admin, make_person, employee, sessions=30, people_per_session=3)
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = text(client.get(url))
    assert "1–25 of 32 sessions" in html and "4 / 8" in html


def test_manage_index_lists_past_sessions_with_attendance(client, policy_admin, make_person):
    past = factories.schedule(policy_admin, title="Last week's briefing", starts_in=-timedelta(7))
    for person in people(make_person, 3):
        factories.attend(past, person)
    factories.schedule(policy_admin, title="Next week's briefing")
    client.force_login(policy_admin)
    upcoming = page(client, "training:manage_index")
    assert "Next week's briefing" in upcoming and "Last week's briefing" not in upcoming
    html = page(client, "training:manage_index", show="past")
    assert "Last week's briefing" in html and "Next week's briefing" not in html
    assert "Attended</th>" in html and '<td class="text-end">3</td>' in html


def test_roster_query_count_does_not_grow(
    client, policy_admin, presenter, make_person, django_assert_max_num_queries
):
    session = factories.schedule(policy_admin, presenter=presenter, capacity=60)
    factories.book_all(session, people(make_person, 2))
    client.force_login(presenter)
    url = reverse("training:roster", args=[session.pk])
    with django_assert_max_num_queries(15) as few:
        client.get(url)
    booked = factories.book_all(session, people(make_person, 50))
    _begin(session)
    services.mark_attendance(
        session=session, by=presenter, marks={b.pk: "attended" for b in booked[:10]}
    )
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = text(client.get(url))
    assert html.count('name="mark_') == 52


# --- compliance of the policies a session covered ---------------------------------------


def test_policy_compliance_shows_who_attended_the_briefings_that_covered_it(
    client, policy_admin, make_person, django_assert_max_num_queries
):
    from people import roles
    from policies.tests.factories import published_policy

    approver = make_person(group=roles.POLICY_ADMIN)
    policy, version = published_policy(
        title="Social media policy", owner=policy_admin, approver=approver
    )

    def held_briefings(count, *, attendees, days_ago=1):
        for number in range(count):
            past = factories.schedule(
                policy_admin,
                title=f"Covering briefing {days_ago}-{number}",
                starts_in=-timedelta(days=days_ago, hours=number),
                policies=[policy],
            )
            for person in people(make_person, attendees):
                factories.attend(past, person)

    came = make_person(full_name="Cora Came")
    covering = factories.schedule(
        policy_admin, title="Covering briefing", starts_in=-timedelta(hours=3), policies=[policy]
    )
    factories.attend(covering, came)
    factories.book_all(
        factories.schedule(policy_admin, title="Upcoming covering", policies=[policy]),
        [make_person(full_name="Not Yet")],
    )
    factories.schedule(policy_admin, title="Unrelated briefing", starts_in=-timedelta(days=1))
    client.force_login(policy_admin)
    url = reverse("policies:manage_compliance", args=[version.pk])
    with django_assert_max_num_queries(30) as few:
        html = text(client.get(url))
    briefings = html.split('id="briefings"')[1].split("</section>")[0]
    assert "Covering briefing" in briefings and "Cora Came" in briefings
    assert "Upcoming covering" not in briefings and "Not Yet" not in briefings
    assert "Unrelated briefing" not in briefings

    held_briefings(12, attendees=3, days_ago=5)
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = text(client.get(url))
    briefings = html.split('id="briefings"')[1].split("</section>")[0]
    assert "The latest 10 of 13 briefings." in briefings
    assert "Cora Came" in briefings


def test_policy_compliance_says_when_no_briefing_covered_it(client, policy_admin, make_person):
    from people import roles
    from policies.tests.factories import published_policy

    approver = make_person(group=roles.POLICY_ADMIN)
    _, version = published_policy(title="Quiet policy", owner=policy_admin, approver=approver)
    client.force_login(policy_admin)
    html = page(client, "policies:manage_compliance", version.pk)
    assert "No briefing covering this policy has taken place yet." in html
