"""The loop: lessons and incidents show the watch list they fed or tripped."""

import pytest
from django.urls import reverse

from incidents import services
from incidents.tests import factories
from prevention.tests.factories import watch_term

pytestmark = pytest.mark.django_db


@pytest.fixture
def lesson(comms, outsider):
    incident = factories.reported(outsider)
    return services.publish_lesson(
        incident=incident,
        by=comms,
        title="Code names stay inside",
        text="A code name went out in a conference photo caption.",
    )


def _brand_mentions():
    """A feed source for intake to take posts in from."""
    from django.utils import timezone

    from prevention.models import Source
    from prevention.tests.factories import keeper

    return Source.objects.create(
        name="Brand mentions",
        slug="brand-mentions",
        kind=Source.Kind.FEED,
        feed_url="file://feed.xml",
        created_by=keeper(),
        created_at=timezone.now(),
    )


def test_a_lesson_page_lists_its_watch_terms_for_those_who_keep_the_list(
    client, comms, policy_admin, lesson
):
    watch_term(text="Project Atlas", lesson=lesson)
    add = reverse("prevention:watchlist_from_lesson", args=[lesson.pk])
    for keeper in (comms, policy_admin):
        client.force_login(keeper)
        html = client.get(reverse("incidents:lesson", args=[lesson.pk])).content.decode()
        assert "Project Atlas" in html and add in html


def test_a_lesson_page_never_shows_the_watch_list_to_everyone_else(
    client, employee, manager, hr, leader, lesson
):
    watch_term(text="Project Atlas", lesson=lesson)
    for person in (employee, manager, hr, leader):
        client.force_login(person)
        response = client.get(reverse("incidents:lesson", args=[lesson.pk]))
        html = response.content.decode()
        assert response.status_code == 200 and "Code names stay inside" in html
        assert "Project Atlas" not in html and "Add a term to the watch list" not in html


def _example(**fields):
    from django.utils import timezone

    from prevention.models import ReviewExample
    from prevention.tests.factories import keeper

    fields.setdefault("decision", "advised_against")
    return ReviewExample.objects.create(created_by=keeper(), created_at=timezone.now(), **fields)


def test_a_policy_page_shows_the_examples_kept_on_it(client, employee, policy_admin, comms):
    from policies.tests import factories as policy_factories

    policy, _version = policy_factories.published_policy(
        title="Social media policy", owner=policy_admin, approver=comms
    )
    _example(
        text="We are about to sign a big bank as a customer!",
        reason="A customer is named before the contract is public.",
        policy=policy,
        policy_section="Customers",
    )
    client.force_login(employee)
    html = client.get(reverse("policies:detail", args=[policy.slug])).content.decode()
    assert "Examples from comms" in html and "about to sign a big bank" in html
    assert "Customers" in html and "Advised against" in html


def test_a_presenters_roster_shows_the_examples_kept_for_the_topic(client, policy_admin):
    from training.tests import factories as training_factories

    session = training_factories.upcoming_session(
        training_factories.topic("Posting safely"), policy_admin
    )
    _example(text="Our new phone ships in May, I saw the box.", topic=session.topic)
    client.force_login(policy_admin)
    html = client.get(reverse("training:roster", args=[session.pk])).content.decode()
    assert "examples from comms" in html and "ships in May" in html


def test_an_incident_opened_by_intake_shows_its_source_terms_and_hash(client, comms, manager):
    from django.utils import timezone

    from incidents.models import Incident
    from prevention import intake
    from prevention.matching import forget_current_watch_list

    forget_current_watch_list()
    watch_term(text="Project Atlas")
    source = _brand_mentions()
    post = intake.PublicPost(
        url="https://social.example.net/@sam/1",
        title="",
        text="Busy week: #ProjectAtlas ships soon.",
        handle="@sam",
        posted_at=None,
    )
    intake.ingest(source=source, items=[post], now=timezone.now())
    forget_current_watch_list()
    incident = Incident.objects.get()

    client.force_login(comms)
    html = client.get(reverse("incidents:detail", args=[incident.pk])).content.decode()
    assert "Noticed by intake from Brand mentions" in html
    assert "Project Atlas" in html and "#ProjectAtlas" in html
    assert incident.intake.text_sha256 in html
    assert incident.severity == "high"  # the term's severity, set when it was reported


def test_an_incident_opened_by_a_pattern_names_it_never_shows_the_expression(client, comms):
    from django.utils import timezone

    from incidents.models import Incident
    from prevention import intake
    from prevention.matching import forget_current_watch_list

    forget_current_watch_list()
    watch_term(
        kind="pattern",
        text=r"\b(?:Globex|Initech)\b (?:deal|contract)",
        name="A customer under a non-disclosure agreement",
    )
    source = _brand_mentions()
    post = intake.PublicPost(url="https://social.example.net/@sam/3", text="The Globex deal!")
    intake.ingest(source=source, items=[post], now=timezone.now())
    forget_current_watch_list()
    incident = Incident.objects.get()
    assert "A customer under a non-disclosure agreement" in incident.what_happened

    client.force_login(comms)
    for page in (
        reverse("incidents:detail", args=[incident.pk]),
        reverse("prevention:source_detail", args=[source.pk]),
    ):
        html = client.get(page).content.decode()
        assert "A customer under a non-disclosure agreement" in html
        assert "Globex deal" in html
        assert "Initech" not in html


def test_an_incident_reported_by_a_person_has_no_intake_panel(client, comms, outsider):
    incident = factories.reported(outsider)
    client.force_login(comms)
    html = client.get(reverse("incidents:detail", args=[incident.pk])).content.decode()
    assert "Noticed by intake" not in html


def test_comms_hear_at_once_when_intake_opens_an_incident(comms, employee):
    from django.utils import timezone

    from notifications.models import Notification
    from prevention import intake
    from prevention.matching import forget_current_watch_list
    from prevention.tests.factories import keeper

    forget_current_watch_list()
    watch_term(text="Falcon X2")
    source = _brand_mentions()
    post = intake.PublicPost(
        url="https://social.example.net/@sam/2",
        title="",
        text="The Falcon X2 is out next week!",
        handle="@sam",
        posted_at=None,
    )
    intake.ingest(source=source, items=[post], now=timezone.now())
    intake.ingest(source=source, items=[post], now=timezone.now())  # fetched again
    forget_current_watch_list()
    told = Notification.objects.filter(kind="intake-opened-incident")
    # The comms fixture and the watch list's keeper are comms; the employee is not.
    assert set(told.values_list("recipient__email", flat=True)) == {
        comms.email,
        keeper().email,
    }
    assert all(not row.digest for row in told)

    from django.core import mail

    from notifications.services import send_due

    send_due()
    subjects = {message.subject for message in mail.outbox}
    reference = told.first().subject.reference
    # Email and chat leave PolicyHub: they say a watched term was found, never which
    # (the incident page names it), nor the post.
    assert subjects == {f"{reference}: intake found a watched term in a public post"}
    for message in mail.outbox:
        html = message.alternatives[0][0]
        for text in (message.subject, message.body, html):
            assert "Falcon" not in text and "The Falcon X2 is out" not in text
        assert "a watched term" in message.body and "a watched term" in html

    from notifications import chat
    from notifications.models import Channel
    from notifications.registry import get_kind

    row = told.first()
    kind = get_kind("intake-opened-incident")
    context = {**kind.context(row), "recipient": row.recipient, "url": "https://x/i"}
    for channel in (Channel.SLACK, Channel.TEAMS):
        text = chat.render("emails/intake-opened-incident", context, channel)
        assert "a watched term in a public post" in text and "Falcon" not in text
