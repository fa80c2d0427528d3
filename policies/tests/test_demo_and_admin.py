from datetime import datetime, time, timedelta
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from demo.players.policies import ACCEPTABLE_USE, PRESS, SOCIAL_MEDIA
from notifications.models import Notification, Preference
from notifications.services import notify, send_due
from people.models import Department, User
from policies import services
from policies.models import (
    Acknowledgement,
    Assignment,
    Decline,
    Policy,
    PolicyVersion,
    QuizAttempt,
    QuizQuestion,
    VersionEvent,
)

pytestmark = pytest.mark.django_db

SITE = "https://policyhub.example.com"
# Characters a careless template would escape in the plain-text part.
TITLE = "Press & analysts' questions"
REASON = 'I can\'t agree to "never comment" <at all> & would like to talk.'


# --- demo data ------------------------------------------------------------------


def _seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def _snapshot():
    return {
        model.__name__: sorted(model.objects.values_list("pk", flat=True))
        for model in (
            Policy,
            PolicyVersion,
            VersionEvent,
            Assignment,
            Acknowledgement,
            QuizQuestion,
            QuizAttempt,
            Decline,
            Notification,
        )
    } | {"assignment states": sorted(Assignment.objects.values_list("pk", "status", "due_date"))}


def test_seeding_twice_duplicates_nothing_and_keeps_the_chain_valid():
    first = _seed()
    assert "Demo policies ready: 3 policies (3 new)" in first
    before = _snapshot()
    second = _seed()
    assert "Demo policies ready: 3 policies (0 new)" in second
    assert _snapshot() == before
    verdict = services.verify_chain()
    assert verdict.ok, verdict.message
    assert verdict.checked == Acknowledgement.objects.count() > 60


def test_demo_employee_acknowledged_social_media_1_and_owes_2():
    _seed()
    employee = User.objects.get(email="employee@example.com")
    policy = Policy.objects.get(title=SOCIAL_MEDIA)
    one = policy.versions.get(major=1, minor=0)
    two = policy.versions.get(major=2, minor=0)
    assert one.status == PolicyVersion.Status.SUPERSEDED
    # 1.0 came out about eleven months ago, whatever today is.
    now = timezone.now()
    assert now - timedelta(days=350) < one.published_at < now - timedelta(days=320)
    assert one.effective_from == timezone.localdate(one.published_at) + timedelta(days=7)
    assert two.status == PolicyVersion.Status.PUBLISHED
    assert two.change == PolicyVersion.Change.MATERIAL and "AI-generated" in two.change_summary
    assert "## AI-generated content" in two.body and "## AI-generated content" not in one.body
    assert Acknowledgement.objects.filter(person=employee, version=one).exists()
    assert not Acknowledgement.objects.filter(person=employee, version=two).exists()
    owed = Assignment.objects.get(person=employee, version=two)
    assert owed.status == Assignment.Status.OPEN
    today = timezone.localdate()
    assert today + timedelta(days=7) <= owed.due_date <= today + timedelta(days=21)
    # The story happened over time: 1.0 was acknowledged back then, 2.0 this week.
    acknowledged = Acknowledgement.objects.get(person=employee, version=one).acknowledged_at
    assert one.published_at < acknowledged < two.published_at - timedelta(days=60)
    assert two.published_at > now - timedelta(days=3)


def test_demo_policies_are_published_with_varied_compliance():
    _seed()
    for title in (SOCIAL_MEDIA, ACCEPTABLE_USE, PRESS):
        policy = Policy.objects.get(title=title)
        assert policy.versions.filter(status=PolicyVersion.Status.PUBLISHED).exists(), title
        assert policy.owner.email == "policyadmin@example.com"
    for version in PolicyVersion.objects.all():
        assert version.author.email == "policyadmin@example.com"
        assert version.approver.email == "leader@example.com"

    social = Policy.objects.get(title=SOCIAL_MEDIA)
    one = social.versions.get(major=1)
    people = User.objects.filter(is_active=True).count()
    assert Acknowledgement.objects.filter(version=one).count() > people * 0.8
    two = social.versions.get(major=2)
    assert 0 < Acknowledgement.objects.filter(version=two).count() < people / 2

    accounts = Policy.objects.get(title=ACCEPTABLE_USE)
    assert accounts.audience == Policy.Audience.DEPARTMENTS
    assert set(accounts.audience_departments.values_list("name", flat=True)) >= {"Communications"}
    quiz_version = accounts.versions.get(status=PolicyVersion.Status.PUBLISHED)
    assert quiz_version.questions.count() == 3
    # Everyone who acknowledged passed the quiz first; some needed a second attempt.
    for ack in Acknowledgement.objects.filter(version=quiz_version):
        assert ack.quiz_score == 100
        assert QuizAttempt.objects.filter(person=ack.person, version=quiz_version, passed=True)
    assert QuizAttempt.objects.filter(version=quiz_version, passed=False).exists()

    press = Policy.objects.get(title=PRESS)
    decline = Decline.objects.get(version__policy=press)
    assert len(decline.reason) > 40
    assert Assignment.objects.get(person=decline.person, policy=press).status == "declined"
    assert Notification.objects.filter(kind="policy-declined", recipient=press.owner).exists()

    # Compliance differs by department, and some people are overdue.
    rates = set()
    for department in Department.objects.all():
        assignments = Assignment.objects.filter(policy=press, person__department=department)
        done = assignments.filter(status=Assignment.Status.ACKNOWLEDGED).count()
        rates.add(round(100 * done / assignments.count()))
    assert len(rates) >= 3
    today = timezone.localdate()
    overdue = Assignment.objects.filter(status=Assignment.Status.OPEN, due_date__lt=today)
    assert overdue.filter(policy=press).exists() and overdue.filter(policy=social).exists()
    assert Acknowledgement.objects.filter(method=Acknowledgement.Method.ON_BEHALF).exists()


def _acknowledged_share(at) -> float:
    """The share of assignments acknowledged at a moment, as they stood then."""
    counted = done = 0
    for status, assigned, completed in Assignment.objects.values_list(
        "status", "assigned_at", "completed_at"
    ):
        if assigned > at or (status == Assignment.Status.CLOSED and completed <= at):
            continue
        counted += 1
        done += status == Assignment.Status.ACKNOWLEDGED and completed <= at
    return done / counted if counted else 0.0


def test_a_year_of_acknowledgements_rising_and_dipping_by_month_end():
    _seed()
    now = timezone.now()
    months = {
        (a.year, a.month)
        for a in Acknowledgement.objects.values_list("acknowledged_at", flat=True)
        if a > now - timedelta(days=366)
    }
    assert len(months) >= 7
    # Month ends of the last twelve months, then today.
    ends, day = [], timezone.localdate(now).replace(day=1)
    for _ in range(11):
        ends.append(day - timedelta(days=1))
        day = (day - timedelta(days=1)).replace(day=1)
    moments = [timezone.make_aware(datetime.combine(end, time(23, 59))) for end in sorted(ends)] + [
        now
    ]
    shares = [_acknowledged_share(moment) for moment in moments]
    steps = [later - earlier for earlier, later in zip(shares, shares[1:], strict=False)]
    assert sum(1 for step in steps if step > 0.02) >= 3  # rises as people catch up
    assert sum(1 for step in steps if step < -0.02) >= 2  # dips at each new publication
    assert shares[-1] < max(shares) - 0.1  # 2.0 came out this week
    # Press and social media 1.0 had stragglers: overdue then acknowledged months later.
    late = Acknowledgement.objects.filter(
        version__policy__title__in=(SOCIAL_MEDIA, PRESS),
        acknowledged_at__gt=now - timedelta(days=200),
        version__published_at__lt=now - timedelta(days=240),
    )
    assert late.count() >= 5


def test_departments_acknowledge_the_first_social_media_policy_at_different_levels():
    _seed()
    one = Policy.objects.get(title=SOCIAL_MEDIA).versions.get(major=1)
    levels = {}
    for department in Department.objects.all():
        assigned = Assignment.objects.filter(version=one, person__department=department)
        done = Acknowledgement.objects.filter(version=one, person__department=department)
        levels[department.name] = round(100 * done.count() / assigned.count())
    assert levels["Communications"] == 100
    assert levels["Engineering"] < 90
    assert len(set(levels.values())) >= 3


# --- reminder emails ---------------------------------------------------------------


@pytest.fixture
def published(employee, policy_admin, leader):
    """A published policy assigned to the employee, who gets each reminder at once."""
    Preference.objects.create(user=employee, delivery=Preference.Delivery.IMMEDIATE)
    Preference.objects.create(user=policy_admin, delivery=Preference.Delivery.IMMEDIATE)
    policy = services.create_policy(title=TITLE, owner=policy_admin)
    version = services.create_draft(
        policy=policy,
        author=policy_admin,
        body="## Purpose\n\nPass questions from journalists to Communications.\n",
    )
    services.submit_for_review(version=version, user=policy_admin)
    services.approve(version=version, user=leader)
    services.publish(version=version, user=policy_admin)
    return Assignment.objects.get(person=employee, version=version)


def _sent_for(notification: Notification):
    send_due(now=timezone.now() + timedelta(seconds=1))
    notification.refresh_from_db()
    assert notification.status == Notification.Status.SENT, notification.last_error
    (message,) = [
        m
        for m in mail.outbox
        if str(notification.pk) in m.extra_headers["X-PolicyHub-Notification"].split(",")
    ]
    return message


@pytest.mark.parametrize(
    "kind, subject_words",
    [
        ("policy-published", "Please read and acknowledge"),
        ("policy-due-soon", "Due "),
        ("policy-due-today", "Due today"),
        ("policy-overdue", "Overdue"),
        ("policy-nudge", "Reminder"),
    ],
)
def test_each_assignment_reminder_says_what_by_when_with_an_absolute_link(
    kind, subject_words, published, settings
):
    settings.SITE_URL = SITE
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assignment = published
    if kind == "policy-overdue":
        assignment.due_date = timezone.localdate() - timedelta(days=3)
        assignment.save(update_fields=["due_date"])
    row = notify(kind=kind, subject=assignment, recipient=assignment.person, stage="test")
    message = _sent_for(row)

    link = f"{SITE}/policies/{assignment.policy.slug}/"
    due = f"{assignment.due_date:%-d} {assignment.due_date:%B}"
    assert subject_words in message.subject and TITLE in message.subject
    assert message.body.startswith("Hello Emily Carter,")
    assert TITLE in message.body and link in message.body and due in message.body
    for escaped in ("&amp;", "&#x27;", "&#39;", "&quot;", "&lt;"):
        assert escaped not in message.body and escaped not in message.subject
    html = message.alternatives[0].content
    assert f'href="{link}"' in html and "Press &amp; analysts&#x27; questions" in html
    assert "{{" not in message.body and "{%" not in html


def test_decline_tells_the_owner_the_reason_unescaped_in_text(published, settings):
    settings.SITE_URL = SITE
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    decline = services.decline(version=published.version, user=published.person, reason=REASON)
    row = Notification.objects.get(kind="policy-declined", subject_id=decline.pk)
    message = _sent_for(row)

    assert message.to == ["policyadmin@example.com"]
    assert message.subject == f"Emily Carter declined {TITLE} 1.0"
    assert REASON in message.body and message.body.startswith("Hello Priya Shah,")
    link = f"{SITE}/policies/manage/versions/{published.version_id}/compliance/"
    assert link in message.body
    html = message.alternatives[0].content
    assert f'href="{link}"' in html
    assert "&lt;at all&gt; &amp; would like to talk." in html and "<at all>" not in html


# --- the admin ------------------------------------------------------------------------


def _admin(model, view, *args):
    return reverse(f"admin:policies_{model}_{view}", args=args)


def test_acknowledgements_are_read_only_in_the_admin(client, site_admin, published):
    ack = services.acknowledge(
        version=published.version, user=published.person, full_name="Emily Carter"
    )
    client.force_login(site_admin)

    listing = client.get(_admin("acknowledgement", "changelist"))
    assert listing.status_code == 200
    page = listing.content.decode()
    assert ack.record_hash[:12] in page and "Emily Carter" in page
    assert _admin("acknowledgement", "add") not in page

    assert client.get(_admin("acknowledgement", "add")).status_code == 403
    assert client.post(_admin("acknowledgement", "add"), {}).status_code == 403
    view = client.get(_admin("acknowledgement", "change", ack.pk))
    assert view.status_code == 200 and 'name="_save"' not in view.content.decode()
    changed = client.post(_admin("acknowledgement", "change", ack.pk), {"typed_name": "X"})
    assert changed.status_code == 403
    assert client.get(_admin("acknowledgement", "delete", ack.pk)).status_code == 403
    deleting = client.post(_admin("acknowledgement", "delete", ack.pk), {"post": "yes"})
    assert deleting.status_code == 403
    deleted = client.post(
        _admin("acknowledgement", "changelist"),
        {"action": "delete_selected", "_selected_action": [ack.pk], "post": "yes"},
    )
    assert deleted.status_code in (200, 302, 403)
    assert Acknowledgement.objects.get(pk=ack.pk).typed_name == "Emily Carter"
    assert services.verify_chain().ok


def test_a_published_version_is_read_only_in_the_admin(client, site_admin, published):
    version = published.version
    client.force_login(site_admin)
    page = client.get(_admin("policyversion", "change", version.pk))
    assert page.status_code == 200
    text = page.content.decode()
    assert 'name="_save"' not in text and "<textarea" not in text
    response = client.post(
        _admin("policyversion", "change", version.pk),
        {"body": "Changed.", "change_summary": "", "change": "minor", "pass_mark": 80},
    )
    assert response.status_code == 403
    version.refresh_from_db()
    assert "journalists" in version.body
    assert client.get(_admin("policyversion", "delete", version.pk)).status_code == 403
    # The policy page lists its versions, read-only, with a link to each.
    policy_page = client.get(_admin("policy", "change", version.policy_id)).content.decode()
    assert _admin("policyversion", "change", version.pk) in policy_page


def test_a_draft_is_edited_in_the_admin_through_the_service(client, site_admin, published):
    draft = services.create_draft(
        policy=published.policy, author=published.policy.owner, body="## Purpose\n\nOld.\n"
    )
    client.force_login(site_admin)
    assert (
        'name="_save"' in client.get(_admin("policyversion", "change", draft.pk)).content.decode()
    )
    response = client.post(
        _admin("policyversion", "change", draft.pk),
        {
            "change": "minor",
            "change_summary": "Typos",
            "body": "## Purpose\n\nNew.\n",
            "effective_from": "",
            "pass_mark": 80,
            "questions-TOTAL_FORMS": 0,
            "questions-INITIAL_FORMS": 0,
            "questions-MIN_NUM_FORMS": 0,
            "questions-MAX_NUM_FORMS": 1000,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    draft.refresh_from_db()
    assert draft.body.strip() == "## Purpose\n\nNew." and draft.number == "1.1"


def test_non_staff_people_cannot_open_the_policies_admin(client, policy_admin, employee):
    for person in (policy_admin, employee):
        client.force_login(person)
        response = client.get(_admin("acknowledgement", "changelist"))
        assert response.status_code == 302 and "/admin/login/" in response.url


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


@pytest.mark.parametrize(
    "model",
    ["policy", "acknowledgement", "assignment", "policyversion", "versionevent", "decline"],
)
def test_admin_lists_do_not_query_per_row(client, site_admin, make_person, leader, model):
    owner = make_person(full_name="Olu Owner")

    def add_policy(number: int):
        policy = services.create_policy(title=f"Policy {number}", owner=owner)
        version = services.create_draft(policy=policy, author=owner, body="## A\n\nText.\n")
        services.submit_for_review(version=version, user=owner)
        services.approve(version=version, user=leader)
        services.publish(version=version, user=owner)
        for assignment in Assignment.objects.filter(version=version).select_related("person"):
            if assignment.person.pk % 2:
                services.acknowledge(
                    version=version,
                    user=assignment.person,
                    full_name=assignment.person.get_full_name(),
                )
            elif assignment.person_id != site_admin.pk:
                services.decline(version=version, user=assignment.person, reason="No.")

    for _ in range(3):
        make_person()
    add_policy(1)
    client.force_login(site_admin)
    url = _admin(model, "changelist")
    few = _queries(client, url)
    for _ in range(8):
        make_person()
    for number in range(2, 6):
        add_policy(number)
    assert _queries(client, url) <= few


def test_every_policies_admin_page_opens_for_a_site_admin(client, site_admin, published):
    version = published.version
    services.acknowledge(version=version, user=published.person, full_name="Emily Carter")
    QuizQuestion.objects.create(version=version, text="Who?", choices=["A", "B"], correct=0)
    services.submit_quiz(version=version, user=site_admin, answers={})
    other = Assignment.objects.get(version=version, person=site_admin)
    services.decline(version=version, user=site_admin, reason="Not for me.")
    objects = {
        "policy": version.policy,
        "policyversion": version,
        "assignment": other,
        "acknowledgement": Acknowledgement.objects.get(),
        "decline": Decline.objects.get(),
        "versionevent": VersionEvent.objects.first(),
        "quizattempt": QuizAttempt.objects.get(),
    }
    client.force_login(site_admin)
    for model, obj in objects.items():
        assert client.get(_admin(model, "changelist")).status_code == 200, model
        assert client.get(_admin(model, "change", obj.pk)).status_code == 200, model
    assert client.get(_admin("policy", "add")).status_code == 200
    # An admin may move a due date; the rest of an assignment comes from the services.
    page = client.get(_admin("assignment", "change", other.pk)).content.decode()
    assert 'name="due_date"' in page and 'name="status"' not in page
