"""Everyone's incident pages: the words on the screen, reporting and self-reporting,
the thank-you page, My reports, the incident list and its filters, My actions, the
lessons library, who may open what, and query counts that hold as rows grow."""

from datetime import timedelta
from html import unescape

import pytest
from django.urls import reverse
from django.utils import timezone

from incidents import services
from incidents.models import ActionItem, Incident, IncidentCounter
from incidents.tests import factories

pytestmark = pytest.mark.django_db

Status = Incident.Status


def text(response) -> str:
    return unescape(response.content.decode())


def page(client, url_name, *args, **query) -> str:
    response = client.get(reverse(url_name, args=args), query)
    assert response.status_code == 200, response.status_code
    return text(response)


def post(client, url_name, *args, follow=False, **data):
    return client.post(reverse(url_name, args=args), data, follow=follow)


def year() -> int:
    return timezone.localdate().year


# --- the words on the screen --------------------------------------------------------


def test_incidents_home_offers_both_reports_to_everyone(client, employee):
    client.force_login(employee)
    html = page(client, "incidents:index")
    # The exact words, as the whole text of each link (browser tests find them so).
    assert ">Report an incident</a>" in html and ">Report my own mistake</a>" in html
    assert reverse("incidents:report") in html and reverse("incidents:report_own") in html
    assert "My reports" in html and "You have not reported anything yet." in html
    assert reverse("incidents:lessons") in html
    # An employee with no role and no actions gets neither the list nor My actions.
    assert reverse("incidents:list") not in html
    assert reverse("incidents:my_actions") not in html


def test_self_report_form_thanks_the_person_up_front(client, employee):
    client.force_login(employee)
    html = page(client, "incidents:report_own")
    assert "Telling us quickly is the best thing you can do" in html
    assert "People involved" not in html  # the reporter is the person involved
    html = page(client, "incidents:report")
    assert "People involved (optional)" in html
    for label in ("What happened", "Platform", "Link to the post", "Account handle"):
        assert label in html
    for label in ("When was it posted?", "When was it noticed?", "What kind of information"):
        assert label in html
    assert "Estimated reach" in html


def test_home_links_the_list_for_the_team_and_my_actions_for_action_owners(client, comms, employee):
    incident = factories.reported(employee)
    client.force_login(comms)
    html = page(client, "incidents:index")
    assert reverse("incidents:list") in html and "1 open" in html

    services.add_action(
        incident=incident,
        by=comms,
        title="Fix the sharing settings",
        owner=employee,
        due_date=timezone.localdate() - timedelta(days=1),
    )
    client.force_login(employee)
    html = page(client, "incidents:index")
    assert reverse("incidents:my_actions") in html and "1 overdue" in html
    assert reverse("incidents:list") not in html
    assert incident.reference in html  # under My reports


# --- reporting ----------------------------------------------------------------------


def report_data(**fields):
    data = {
        "what_happened": "Someone posted a photo of the whiteboard with the Q3 roadmap.",
        "platform": "linkedin",
        "url": "https://www.linkedin.com/posts/123",
        "account_handle": "@someone",
        "posted_at": "",
        "noticed_at": "",
        "information": "product",
        "estimated_reach": "300",
        "people_involved": "",
    }
    data.update(fields)
    return data


def test_reporting_an_incident_gives_sequential_references(client, employee, outsider):
    client.force_login(employee)
    response = post(client, "incidents:report", **report_data(people_involved=outsider.email))
    first = Incident.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("incidents:thanks", args=[first.pk])
    assert first.reference == f"INC-{year()}-0001"
    assert first.reporter == employee and not first.self_reported
    assert first.platform == "linkedin" and first.information == "product"
    assert first.url == "https://www.linkedin.com/posts/123" and first.account_handle == "@someone"
    assert first.estimated_reach == 300
    assert list(first.people_involved.all()) == [outsider]
    assert abs(first.noticed_at - timezone.now()) < timedelta(minutes=1)  # default: now

    post(client, "incidents:report", **report_data(what_happened="Another post."))
    second = Incident.objects.exclude(pk=first.pk).get()
    assert second.reference == f"INC-{year()}-0002"

    html = page(client, "incidents:thanks", first.pk)
    assert first.reference in html and "What happens next" in html
    assert "for telling us" not in html  # the warmer note is for self-reports


def test_people_involved_are_found_by_email_in_any_case_and_separator(
    client, employee, outsider, comms
):
    client.force_login(employee)
    post(
        client,
        "incidents:report",
        **report_data(people_involved=f" {outsider.email.upper()};\n{comms.email}, "),
    )
    incident = Incident.objects.get()
    assert set(incident.people_involved.all()) == {outsider, comms}


def test_reporting_with_times_reads_them_in_the_persons_zone(client, make_person):
    person = make_person(time_zone="Europe/Berlin")
    client.force_login(person)
    post(
        client,
        "incidents:report",
        **report_data(posted_at="2026-01-10T09:30", noticed_at="2026-01-10T11:00"),
    )
    incident = Incident.objects.get()
    assert incident.posted_at.isoformat() == "2026-01-10T08:30:00+00:00"
    assert incident.noticed_at.isoformat() == "2026-01-10T10:00:00+00:00"


def test_self_report_involves_the_reporter_and_thanks_them_warmly(client, employee):
    client.force_login(employee)
    response = post(
        client,
        "incidents:report_own",
        what_happened="I posted our sales figures in a public channel by mistake.",
        platform="x",
        information="financial",
    )
    incident = Incident.objects.get()
    assert response.url == reverse("incidents:thanks", args=[incident.pk])
    assert incident.self_reported and incident.reporter == employee
    assert list(incident.people_involved.all()) == [employee]
    assert incident.reference == f"INC-{year()}-0001"

    html = page(client, "incidents:thanks", incident.pk)
    assert incident.reference in html
    assert "Thank you for telling us" in html
    assert "Telling us quickly is the best thing you can do" in html
    assert "tell you how it ends" in html

    html = page(client, "incidents:index")
    assert incident.reference in html and "Your own mistake" in html and "Reported" in html


def test_thank_you_page_is_only_for_the_reporter(client, employee, outsider, comms):
    incident = factories.reported(employee)
    for other in (outsider, comms):
        client.force_login(other)
        assert client.get(reverse("incidents:thanks", args=[incident.pk])).status_code == 404
    client.force_login(employee)
    assert client.get(reverse("incidents:thanks", args=[incident.pk + 1])).status_code == 404


@pytest.mark.parametrize(
    ("url_name", "fields", "message"),
    [
        ("report", {"what_happened": "   "}, "Tell us what happened, in a sentence or two."),
        ("report", {"people_involved": "nobody@example.com"}, "nobody@example.com"),
        ("report", {"url": "not a link"}, "Enter the full link"),
        ("report", {"estimated_reach": "-5"}, "greater than or equal to 0"),
        ("report", {"platform": "myspace"}, "Select a valid choice"),
        (
            "report",
            {"posted_at": "2026-01-10T12:00", "noticed_at": "2026-01-10T11:00"},
            "It cannot have been noticed before it was posted.",
        ),
        ("report_own", {"noticed_at": "2999-01-01T10:00"}, "That is in the future"),
        ("report_own", {"what_happened": ""}, "Tell us what happened"),
    ],
)
def test_bad_input_is_explained_and_nothing_is_stored(client, employee, url_name, fields, message):
    client.force_login(employee)
    response = post(client, f"incidents:{url_name}", **report_data(**fields))
    assert response.status_code == 200
    html = text(response)
    assert message in html and "Please correct" in html
    assert not Incident.objects.exists()
    assert not IncidentCounter.objects.filter(last__gt=0).exists()
    # What was typed is kept for the person to correct.
    if fields.get("what_happened", "x").strip():
        assert "whiteboard" in html


def test_an_inactive_person_cannot_be_named(client, employee, make_person):
    leaver = make_person(email="leaver@example.com", is_active=False)
    client.force_login(employee)
    html = text(post(client, "incidents:report", **report_data(people_involved=leaver.email)))
    assert "No active person has the email address leaver@example.com." in html
    assert not Incident.objects.exists()


# --- who may open what --------------------------------------------------------------

EVERYONE_PAGES = ["index", "report", "report_own", "my_actions", "lessons"]


@pytest.mark.parametrize("url_name", [*EVERYONE_PAGES, "list"])
def test_anonymous_visitors_are_asked_to_log_in(client, url_name):
    response = client.get(reverse(f"incidents:{url_name}"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_anonymous_visitors_are_asked_to_log_in_for_a_report_and_a_lesson(client, employee):
    incident = factories.reported(employee)
    for url in (
        reverse("incidents:thanks", args=[incident.pk]),
        reverse("incidents:lesson", args=[1]),
    ):
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith(reverse("login"))


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("employee", 403),
        ("manager", 403),
        ("policy_admin", 403),
        ("site_admin", 403),
        ("outsider", 403),
        ("comms", 200),
        ("hr", 200),
        ("leader", 200),
    ],
)
def test_incident_list_is_for_comms_hr_and_leadership(client, request, employee, role, status):
    # `employee` makes `manager` a line manager: managers see their team, not incidents.
    factories.reported(employee)
    client.force_login(request.getfixturevalue(role))
    assert client.get(reverse("incidents:list")).status_code == status


@pytest.mark.parametrize("role", ["employee", "manager", "policy_admin", "site_admin", "leader"])
def test_every_employee_opens_the_everyone_pages(client, request, role):
    client.force_login(request.getfixturevalue(role))
    for url_name in EVERYONE_PAGES:
        assert client.get(reverse(f"incidents:{url_name}")).status_code == 200, url_name


# --- the incident list --------------------------------------------------------------


def test_incident_list_shows_its_columns_and_never_the_people_involved(
    client, comms, employee, outsider
):
    incident = factories.reported(
        employee,
        people_involved=[outsider],
        account_handle="@olivia_h",
        what_happened="Olivia posted the roadmap.",
    )
    services.assign_owner(incident=incident, owner=comms, by=comms)
    client.force_login(comms)
    html = page(client, "incidents:list")
    assert incident.reference in html
    for column in ("Reference", "Reported", "Status", "Severity", "Track", "Owner", "Platform"):
        assert f">{column}</th>" in html
    assert "Chloe Summers" in html  # the owner
    assert "LinkedIn" in html and "Medium" in html and "Not decided" in html
    assert "Olivia" not in html and "@olivia_h" not in html and "roadmap" not in html


def test_incident_list_filters(client, comms, hr, employee):
    today = timezone.localdate()
    plain = factories.reported(employee, what_happened="Plain.")
    urgent = factories.reported(employee, what_happened="Urgent.")
    services.update_details(incident=urgent, by=comms, severity="critical")
    triaged = factories.in_status(Status.TRIAGE, by=comms, reporter=employee)
    learning = factories.in_status(Status.REMEDIATION, by=comms, reporter=employee)
    late = services.add_action(
        incident=plain, by=comms, title="Late", owner=employee, due_date=today - timedelta(1)
    )
    services.add_action(incident=urgent, by=comms, title="Not yet", owner=employee)
    closed_late = services.add_action(
        incident=triaged, by=comms, title="Done late", owner=employee, due_date=today - timedelta(2)
    )
    services.complete_action(action=closed_late, by=employee, status="done", note="Done.")
    assert late.status == ActionItem.Status.OPEN

    client.force_login(hr)

    def shown(**query):
        html = page(client, "incidents:list", **query)
        return {i.reference for i in (plain, urgent, triaged, learning) if i.reference in html}

    assert shown() == {plain.reference, urgent.reference, triaged.reference, learning.reference}
    assert shown(status="triage") == {triaged.reference}
    assert shown(status="reported") == {plain.reference, urgent.reference}
    assert shown(severity="critical") == {urgent.reference}
    assert shown(track="learning") == {learning.reference}
    assert shown(overdue="on") == {plain.reference}
    assert shown(q=urgent.reference.lower()) == {urgent.reference}
    assert shown(q=triaged.reference[-4:]) == {triaged.reference}
    assert shown(status="reported", severity="critical") == {urgent.reference}
    # A bad filter value is ignored, not an error page.
    assert len(shown(status="nonsense")) == 4
    html = page(client, "incidents:list", status="closed")
    assert "No incidents match these filters." in html and "Clear the filters" in html


def test_incident_list_is_paged_by_25(client, leader, comms):
    for number in range(27):
        factories.reported(comms, what_happened=f"Report {number}.")
    client.force_login(leader)
    html = page(client, "incidents:list")
    assert "1–25 of 27 incidents" in html and "Page 1 of 2" in html
    html = page(client, "incidents:list", page=2)
    assert f"INC-{year()}-0001" in html and f"INC-{year()}-0002" in html
    assert f"INC-{year()}-0003" not in html


def test_empty_incident_list_says_so(client, comms):
    client.force_login(comms)
    assert "No incidents have been reported yet." in page(client, "incidents:list")


# --- My actions ---------------------------------------------------------------------


@pytest.fixture
def involved(make_person):
    return make_person(full_name="Ingrid Involved", email="ingrid@example.com")


def test_my_actions_lists_only_my_own_and_names_nobody_involved(
    client, comms, employee, outsider, involved
):
    today = timezone.localdate()
    incident = factories.reported(
        outsider,
        people_involved=[involved],
        account_handle="@ingrid",
        url="https://x.com/ingrid/status/1",
        what_happened="Ingrid Involved posted the roadmap.",
        information="product",
        platform="x",
    )
    mine = services.add_action(
        incident=incident,
        by=comms,
        title="Update the briefing slides",
        owner=employee,
        due_date=today - timedelta(days=3),
    )
    services.add_action(incident=incident, by=comms, title="Someone else's job", owner=outsider)
    client.force_login(employee)
    html = page(client, "incidents:my_actions")
    assert mine.title in html and "Someone else's job" not in html
    assert incident.reference in html and "Overdue" in html
    assert mine.due_date.strftime("%-d %b %Y") in html
    assert "Product or roadmap on X (Twitter)" in html  # the one-line summary
    for secret in ("Ingrid", "@ingrid", "x.com/ingrid", outsider.get_full_name()):
        assert secret not in html
    assert "Waive" not in html  # only the incident team waives


def test_marking_an_action_done_with_a_note(client, comms, employee):
    incident = factories.reported(comms)
    action = services.add_action(incident=incident, by=comms, title="Fix it", owner=employee)
    client.force_login(employee)

    response = post(
        client,
        "incidents:close_action",
        action.pk,
        follow=True,
        **{f"action-{action.pk}-status": "done", f"action-{action.pk}-note": "Slides updated."},
    )
    assert response.redirect_chain[-1][0] == reverse("incidents:my_actions")
    action.refresh_from_db()
    assert action.status == ActionItem.Status.DONE and action.note == "Slides updated."
    assert action.completed_by == employee
    html = text(response)
    assert "“Fix it” is marked done" in html
    assert "Slides updated." in html and "Mark done" not in html  # recent, closed


def test_marking_done_without_a_note_is_refused(client, comms, employee):
    action = services.add_action(
        incident=factories.reported(comms), by=comms, title="Fix it", owner=employee
    )
    client.force_login(employee)
    response = post(
        client,
        "incidents:close_action",
        action.pk,
        **{f"action-{action.pk}-status": "done", f"action-{action.pk}-note": "  "},
    )
    assert response.status_code == 200 and "Say how it was done." in text(response)
    action.refresh_from_db()
    assert action.status == ActionItem.Status.OPEN


def test_only_the_incident_team_waives_and_only_their_own_actions_here(client, comms, hr, employee):
    incident = factories.reported(comms)
    mine = services.add_action(incident=incident, by=comms, title="Mine", owner=employee)
    hrs = services.add_action(incident=incident, by=comms, title="HR's", owner=hr)
    client.force_login(employee)
    waive = {f"action-{mine.pk}-status": "waived", f"action-{mine.pk}-note": "Not needed."}
    response = post(client, "incidents:close_action", mine.pk, **waive)
    assert "Choose done." in text(response)
    mine.refresh_from_db()
    assert mine.status == ActionItem.Status.OPEN
    # Someone else's action is not found from My actions.
    other = {f"action-{hrs.pk}-status": "done", f"action-{hrs.pk}-note": "Done."}
    assert post(client, "incidents:close_action", hrs.pk, **other).status_code == 404
    hrs.refresh_from_db()
    assert hrs.status == ActionItem.Status.OPEN

    client.force_login(hr)
    assert "Waive" in page(client, "incidents:my_actions")
    waive = {f"action-{hrs.pk}-status": "waived", f"action-{hrs.pk}-note": "Covered by legal."}
    assert post(client, "incidents:close_action", hrs.pk, **waive).status_code == 302
    hrs.refresh_from_db()
    assert hrs.status == ActionItem.Status.WAIVED and hrs.note == "Covered by legal."


def test_closing_an_action_needs_a_post(client, comms, employee):
    action = services.add_action(
        incident=factories.reported(comms), by=comms, title="Fix it", owner=employee
    )
    client.force_login(employee)
    assert client.get(reverse("incidents:close_action", args=[action.pk])).status_code == 405


def test_my_actions_empty_state(client, employee):
    client.force_login(employee)
    assert "You have no actions." in page(client, "incidents:my_actions")


# --- the lessons library -------------------------------------------------------------


def test_lessons_library_shows_published_lessons_without_the_incident(
    client, comms, employee, outsider
):
    from incidents.models import Lesson
    from training.tests.factories import topic

    incident = factories.reported(outsider, account_handle="@oh", url="https://x.com/oh/1")
    lesson = services.publish_lesson(
        incident=incident,
        by=comms,
        title="Check the audience before you post",
        text="A draft went to a public channel.\nA preview step now shows the audience.",
    )
    services.add_to_briefing(lesson=lesson, topic=topic("Posting safely"), by=comms)
    Lesson.objects.create(incident=incident, title="Still being written", text="Draft.")

    client.force_login(employee)
    html = page(client, "incidents:lessons")
    assert "Check the audience before you post" in html and "Still being written" not in html
    assert "Posting safely" in html
    html = page(client, "incidents:lesson", lesson.pk)
    assert "A preview step now shows the audience." in html
    assert "Posting safely" in html and lesson.published_at.strftime("%Y") in html
    for secret in (incident.reference, "INC-", "@oh", "x.com/oh", "Olivia", "Chloe Summers"):
        assert secret not in html

    draft = Lesson.objects.get(published=False)
    assert client.get(reverse("incidents:lesson", args=[draft.pk])).status_code == 404


def test_lessons_library_empty_state(client, employee):
    client.force_login(employee)
    assert "No lessons have been published yet." in page(client, "incidents:lessons")


# --- factories -----------------------------------------------------------------------


@pytest.mark.parametrize("status", factories.ORDER)
def test_in_status_walks_an_incident_through_the_services(comms, employee, status):
    incident = factories.in_status(status, by=comms, reporter=employee, self_reported=True)
    incident.refresh_from_db()
    assert incident.status == status
    assert incident.events.filter(what="status").count() == factories.ORDER.index(status) + 1
    if status == Status.CLOSED:
        assert incident.closed_at and incident.review.signed_off_at
        assert incident.track == Incident.Track.LEARNING


# --- query counts ----------------------------------------------------------------------


def _reports(reporter, count):
    return [factories.reported(reporter, what_happened=f"Report {n}.") for n in range(count)]


def test_incident_list_query_count_does_not_grow(
    client, comms, employee, make_person, django_assert_max_num_queries
):
    def fill(count):
        for incident in _reports(employee, count):
            services.assign_owner(incident=incident, owner=comms, by=comms)
            services.add_action(
                incident=incident,
                by=comms,
                title="Late",
                owner=make_person(),
                due_date=timezone.localdate() - timedelta(days=1),
            )

    fill(2)
    client.force_login(comms)
    url = reverse("incidents:list")
    client.get(url)
    with django_assert_max_num_queries(12) as few:
        client.get(url, {"overdue": "on"})
    fill(30)
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = text(client.get(url, {"overdue": "on"}))
    assert "1–25 of 32 incidents" in html and html.count("Overdue actions") == 25


def test_index_query_count_does_not_grow(client, comms, employee, django_assert_max_num_queries):
    def fill(count):
        for incident in _reports(employee, count):
            services.add_action(incident=incident, by=comms, title="Help", owner=employee)

    fill(2)
    client.force_login(employee)
    url = reverse("incidents:index")
    client.get(url)
    with django_assert_max_num_queries(12) as few:
        client.get(url)
    fill(30)
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = text(client.get(url))
    assert "Page 1 of 4" in html and "32 open" in html


def test_my_actions_query_count_does_not_grow(
    client, comms, employee, django_assert_max_num_queries
):
    def fill(count):
        for incident in _reports(comms, count):
            services.add_action(incident=incident, by=comms, title="Help", owner=employee)

    fill(2)
    client.force_login(employee)
    url = reverse("incidents:my_actions")
    client.get(url)
    with django_assert_max_num_queries(12) as few:
        client.get(url)
    fill(30)
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = text(client.get(url))
    assert "Page 1 of 2" in html and html.count("Mark done") == 20


def test_lessons_query_count_does_not_grow(client, comms, employee, django_assert_max_num_queries):
    from training.tests.factories import topic

    def fill(count):
        for n in range(count):
            lesson = services.publish_lesson(
                incident=factories.reported(comms), by=comms, title=f"Lesson {n}", text="Text."
            )
            services.add_to_briefing(lesson=lesson, topic=topic(f"Topic {n}"), by=comms)

    fill(2)
    client.force_login(employee)
    url = reverse("incidents:lessons")
    client.get(url)
    with django_assert_max_num_queries(12) as few:
        client.get(url)
    fill(25)
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = text(client.get(url))
    assert "Page 1 of 2" in html and html.count("Briefing topic:") == 20
