"""The policy admin pages: authoring, the version workflow, differences and compliance."""

import csv
import io
from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.http import StreamingHttpResponse
from django.urls import reverse
from django.utils import timezone

from notifications.models import Notification
from people import roles
from people.models import Department
from policies import services
from policies.models import Acknowledgement, Assignment, Policy, PolicyVersion

pytestmark = pytest.mark.django_db

Status = PolicyVersion.Status
BODY = "## Purpose\n\nSpeak freely, think first.\n\n## Scope\n\nEveryone who works here."
DENIED_ROLES = ["employee", "manager", "comms", "hr", "leader", "site_admin", "outsider"]


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


@pytest.fixture
def reviewer(make_person):
    """A second policy admin: the approver is never the author."""
    return make_person(full_name="Sam Okafor", group=roles.POLICY_ADMIN)


@pytest.fixture
def sales(db):
    return Department.objects.create(name="Sales")


@pytest.fixture
def support(db):
    return Department.objects.create(name="Support")


def publish_new_version(policy, *, author, approver, body=BODY, change="material"):
    draft = services.create_draft(policy=policy, author=author, body=body, change=change)
    services.submit_for_review(version=draft, user=author)
    services.approve(version=draft, user=approver)
    return services.publish(version=draft, user=approver)


def new_policy(owner, *, title="Social media", **settings):
    return services.create_policy(title=title, owner=owner, **settings)


# --- permissions ----------------------------------------------------------------


@pytest.fixture
def objects(policy_admin, reviewer, make_person):
    """A policy with a published 1.0 and a draft 2.0, someone still to acknowledge 1.0."""
    make_person(full_name="Rita Reader")
    policy = new_policy(policy_admin)
    published = publish_new_version(policy, author=policy_admin, approver=reviewer)
    draft = services.create_draft(policy=policy, author=policy_admin, body=BODY + "\n\nMore.")
    return {"policy": policy.pk, "published": published.pk, "draft": draft.pk}


VIEWS = [
    ("GET", "policies:manage_index", None),
    ("GET", "policies:manage_create", None),
    ("GET", "policies:manage_policy", "policy"),
    ("GET", "policies:manage_edit_policy", "policy"),
    ("GET", "policies:manage_new_draft", "policy"),
    ("GET", "policies:manage_diff", "policy"),
    ("GET", "policies:manage_version", "draft"),
    ("GET", "policies:manage_edit_draft", "draft"),
    ("POST", "policies:manage_transition", "draft"),
    ("GET", "policies:manage_compliance", "published"),
    ("GET", "policies:manage_compliance_csv", "published"),
    ("POST", "policies:manage_remind", "published"),
    ("POST", "policies:manage_on_behalf", "published"),
]


def view_url(name, arg, objects):
    if name == "policies:manage_transition":
        return reverse(name, args=[objects[arg], "submit"])
    return reverse(name, args=[objects[arg]] if arg else [])


@pytest.mark.parametrize("role", DENIED_ROLES)
@pytest.mark.parametrize(("method", "name", "arg"), VIEWS)
def test_only_policy_admins_reach_the_admin_pages(
    client, request, objects, role, method, name, arg
):
    client.force_login(request.getfixturevalue(role))
    url = view_url(name, arg, objects)
    response = client.get(url) if method == "GET" else client.post(url, {"note": "x"})
    assert response.status_code == 403
    assert PolicyVersion.objects.get(pk=objects["draft"]).status == Status.DRAFT
    assert not Notification.objects.filter(kind="policy-nudge").exists()


@pytest.mark.parametrize(("method", "name", "arg"), VIEWS)
def test_policy_admins_reach_every_admin_page(client, policy_admin, objects, method, name, arg):
    client.force_login(policy_admin)
    url = view_url(name, arg, objects)
    response = client.get(url) if method == "GET" else client.post(url, {})
    assert response.status_code in (200, 302)


def test_anonymous_visitors_are_sent_to_log_in(client, objects):
    response = client.get(reverse("policies:manage_index"))
    assert response.status_code == 302 and reverse("login") in response.url


# --- the workflow through the pages ----------------------------------------------


def test_full_workflow_from_new_policy_to_retirement(
    client, policy_admin, reviewer, make_person, sales, support
):
    sellers = {make_person(department=sales).pk for _ in range(3)}
    make_person(department=support)
    client.force_login(policy_admin)

    # Create the policy and its first draft in one go.
    response = client.post(
        reverse("policies:manage_create"),
        {
            "title": "Speaking to the press",
            "category": "communications",
            "owner": "POLICYADMIN@example.com",
            "audience": "departments",
            "departments": [sales.pk],
            "acknowledgement_window_days": 10,
            "body": BODY,
            "change_summary": "First version.",
        },
    )
    policy = Policy.objects.get(title="Speaking to the press")
    draft = policy.versions.get()
    assert response.status_code == 302
    assert response.url == reverse("policies:manage_version", args=[draft.pk])
    assert (draft.number, draft.status, draft.author) == ("1.0", Status.DRAFT, policy_admin)
    assert policy.owner == policy_admin and list(policy.audience_departments.all()) == [sales]

    # Preview shows the rendered text and saves nothing.
    edit_url = reverse("policies:manage_edit_draft", args=[draft.pk])
    assert 'name="body"' in client.get(edit_url).content.decode()
    changed = BODY.replace("think first", "**think** first")
    response = client.post(edit_url, {"body": changed, "change_summary": "", "preview": "1"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "Preview" in page and "<strong>think</strong> first" in page
    draft.refresh_from_db()
    assert draft.body == BODY and draft.change_summary == "First version."

    response = client.post(edit_url, {"body": changed, "change_summary": "First.", "save": "1"})
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.body == changed and draft.change_summary == "First."

    def act(version, action, data=None, user=policy_admin):
        client.force_login(user)
        url = reverse("policies:manage_transition", args=[version.pk, action])
        return client.post(url, data or {}, follow=True)

    act(draft, "submit", {"note": "Ready"})
    draft.refresh_from_db()
    assert draft.status == Status.IN_REVIEW

    response = act(draft, "approve")
    assert "You wrote this draft, so you cannot approve it" in response.content.decode()
    draft.refresh_from_db()
    assert draft.status == Status.IN_REVIEW and draft.approver is None

    act(draft, "approve", user=reviewer)
    draft.refresh_from_db()
    assert draft.status == Status.APPROVED and draft.approver == reviewer

    response = act(draft, "publish", user=reviewer)
    draft.refresh_from_db()
    assert draft.status == Status.PUBLISHED
    assert "3 people have it to acknowledge" in response.content.decode()
    assigned = set(Assignment.objects.filter(version=draft).values_list("person_id", flat=True))
    assert assigned == sellers

    # Version 2.0, through the pages, scheduled for next week.
    response = client.post(
        reverse("policies:manage_new_draft", args=[policy.pk]),
        {"body": changed + "\n\n## Contacts\n\nThe press office.", "change": "material"},
    )
    second = policy.versions.get(status=Status.DRAFT)
    assert second.number == "2.0" and second.author == reviewer
    act(second, "submit", user=reviewer)
    act(second, "approve", user=policy_admin)
    at = timezone.localtime() + timedelta(days=7)
    response = act(second, "schedule", {"at": at.strftime("%Y-%m-%dT%H:%M")}, user=policy_admin)
    assert "will be published on" in response.content.decode()
    second.refresh_from_db()
    assert second.status == Status.APPROVED
    assert second.scheduled_for is not None and second.scheduled_for > timezone.now()
    assert not second.assignments.exists()
    first = policy.versions.get(major=1)
    assert first.status == Status.PUBLISHED

    # Retire the published version: nobody is asked any more.
    act(first, "retire", {"note": "Old"})
    first.refresh_from_db()
    assert first.status == Status.RETIRED
    assert not Assignment.objects.filter(policy=policy, status=Assignment.Status.OPEN).exists()
    trail = client.get(reverse("policies:manage_policy", args=[policy.pk])).content.decode()
    assert "Published → Retired" in trail and "Old" in trail


def test_create_policy_without_a_body_goes_to_the_draft_editor(client, policy_admin):
    client.force_login(policy_admin)
    response = client.post(
        reverse("policies:manage_create"),
        {
            "title": "Acceptable use",
            "category": "acceptable-use",
            "owner": policy_admin.email,
            "audience": "everyone",
            "acknowledgement_window_days": 14,
            "reacknowledge_months": 12,
        },
    )
    policy = Policy.objects.get()
    assert response.url == reverse("policies:manage_new_draft", args=[policy.pk])
    assert policy.reacknowledge_months == 12 and not policy.versions.exists()
    page = client.get(response.url).content.decode()
    assert 'name="body"' in page and 'name="change"' not in page  # 1.0 is always material


def test_create_policy_refuses_a_taken_title_and_a_departments_audience_without_one(
    client, policy_admin
):
    new_policy(policy_admin, title="Social media")
    client.force_login(policy_admin)
    response = client.post(
        reverse("policies:manage_create"),
        {
            "title": "social  MEDIA",
            "category": "other",
            "owner": "nobody@example.com",
            "audience": "departments",
            "acknowledgement_window_days": 14,
        },
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "A policy with this title already exists." in page
    assert "No active person has that email address." in page
    assert "Choose at least one department." in page
    assert Policy.objects.count() == 1


def test_editing_settings_changes_the_audience_of_the_published_version(
    client, policy_admin, reviewer, make_person, sales
):
    seller = make_person(department=sales)
    policy = new_policy(policy_admin)
    version = publish_new_version(policy, author=policy_admin, approver=reviewer)
    assert version.assignments.filter(status="open").count() > 1
    client.force_login(policy_admin)
    url = reverse("policies:manage_edit_policy", args=[policy.pk])
    assert (
        "Edit settings"
        in client.get(reverse("policies:manage_policy", args=[policy.pk])).content.decode()
    )
    response = client.post(
        url,
        {
            "category": "social-media",
            "owner": reviewer.email,
            "audience": "departments",
            "departments": [sales.pk],
            "acknowledgement_window_days": 7,
        },
    )
    assert response.status_code == 302
    policy.refresh_from_db()
    assert policy.owner == reviewer and policy.acknowledgement_window_days == 7
    still_open = version.assignments.filter(status="open").values_list("person_id", flat=True)
    assert list(still_open) == [seller.pk]


def test_a_published_version_cannot_be_edited(client, policy_admin, reviewer):
    version = publish_new_version(new_policy(policy_admin), author=policy_admin, approver=reviewer)
    client.force_login(policy_admin)
    page = client.get(reverse("policies:manage_version", args=[version.pk])).content.decode()
    assert "Edit draft" not in page and "Retire" in page

    url = reverse("policies:manage_edit_draft", args=[version.pk])
    response = client.get(url, follow=True)
    assert 'name="body"' not in response.content.decode()
    assert "only a draft can be edited" in response.content.decode()

    response = client.post(url, {"body": "Changed behind your back", "change_summary": ""})
    assert response.status_code == 302
    assert any("only a draft can be edited" in m for m in messages_of(response))
    version.refresh_from_db()
    assert version.body == BODY


def test_new_draft_starts_from_the_published_text_and_only_one_draft_at_a_time(
    client, policy_admin, reviewer
):
    policy = new_policy(policy_admin)
    publish_new_version(policy, author=policy_admin, approver=reviewer)
    client.force_login(policy_admin)
    url = reverse("policies:manage_new_draft", args=[policy.pk])
    assert "Speak freely, think first." in client.get(url).content.decode()
    client.post(url, {"body": BODY + "\nTypo fixed.", "change": "minor"})
    draft = policy.versions.get(status=Status.DRAFT)
    assert draft.number == "1.1"
    response = client.get(url)
    assert response.url == reverse("policies:manage_version", args=[draft.pk])


def test_script_in_a_body_never_reaches_the_page(client, policy_admin):
    policy = new_policy(policy_admin)
    body = '## Hello\n\n<script>alert("x")</script>\n\n[click](javascript:alert(1))'
    draft = services.create_draft(policy=policy, author=policy_admin, body=body)
    client.force_login(policy_admin)
    page = client.get(reverse("policies:manage_version", args=[draft.pk])).content.decode()
    assert '<script>alert("x")' not in page and "javascript:alert" not in page
    url = reverse("policies:manage_edit_draft", args=[draft.pk])
    preview = client.post(url, {"body": body, "preview": "1"}).content.decode()
    preview_part = preview.split('id="preview-heading"')[1]
    assert "<script>" not in preview_part and "javascript:" not in preview_part


def test_unknown_action_is_404_and_get_is_405(client, policy_admin):
    draft = services.create_draft(policy=new_policy(policy_admin), author=policy_admin, body=BODY)
    client.force_login(policy_admin)
    assert (
        client.post(reverse("policies:manage_transition", args=[draft.pk, "delete"])).status_code
        == 404
    )
    url = reverse("policies:manage_transition", args=[draft.pk, "submit"])
    assert client.get(url).status_code == 405
    draft.refresh_from_db()
    assert draft.status == Status.DRAFT


def test_a_refused_transition_says_why(client, policy_admin):
    draft = services.create_draft(policy=new_policy(policy_admin), author=policy_admin, body=BODY)
    client.force_login(policy_admin)
    response = client.post(
        reverse("policies:manage_transition", args=[draft.pk, "publish"]), follow=True
    )
    assert "only an approved version can be published" in response.content.decode()
    draft.refresh_from_db()
    assert draft.status == Status.DRAFT


def test_schedule_needs_a_time_in_the_future(client, policy_admin, reviewer):
    draft = services.create_draft(policy=new_policy(policy_admin), author=policy_admin, body=BODY)
    services.submit_for_review(version=draft, user=policy_admin)
    services.approve(version=draft, user=reviewer)
    client.force_login(policy_admin)
    past = (timezone.localtime() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    url = reverse("policies:manage_transition", args=[draft.pk, "schedule"])
    response = client.post(url, {"at": past}, follow=True)
    assert "Choose a time in the future" in response.content.decode()
    draft.refresh_from_db()
    assert draft.status == Status.APPROVED and draft.scheduled_for is None


# --- differences ------------------------------------------------------------------


def test_diff_shows_the_changed_section(client, policy_admin, reviewer):
    policy = new_policy(policy_admin)
    first = publish_new_version(policy, author=policy_admin, approver=reviewer)
    second = publish_new_version(
        policy,
        author=policy_admin,
        approver=reviewer,
        body=BODY.replace("Speak freely, think first.", "Speak freely, pause first."),
    )
    client.force_login(policy_admin)
    url = reverse("policies:manage_diff", args=[policy.pk])
    response = client.get(url, {"from": first.pk, "to": second.pk})
    page = response.content.decode()
    assert response.status_code == 200
    assert "1 section changed" in page
    changes = {c.heading: c.status for c in response.context["changes"]}
    assert changes == {"Purpose": "changed", "Scope": "unchanged"}
    assert "Speak freely, pause first." in page and "Speak freely, think first." in page
    # Without parameters: the latest version against the one before.
    assert client.get(url).context["new"] == second


@pytest.mark.parametrize("bad", [{"from": "abc", "to": "1"}, {"from": "999999"}, "foreign"])
def test_diff_with_bad_or_foreign_versions_says_so(client, policy_admin, reviewer, bad):
    policy = new_policy(policy_admin)
    first = publish_new_version(policy, author=policy_admin, approver=reviewer)
    other = services.create_draft(
        policy=new_policy(policy_admin, title="Other"), author=policy_admin, body=BODY
    )
    if bad == "foreign":
        bad = {"from": first.pk, "to": other.pk}
    client.force_login(policy_admin)
    response = client.get(reverse("policies:manage_diff", args=[policy.pk]), bad)
    assert response.status_code == 400
    assert "Choose two versions of this policy to compare." in response.content.decode()


# --- compliance -------------------------------------------------------------------


@pytest.fixture
def compliance_setup(policy_admin, reviewer, make_person, sales, support):
    """Sales: 3 people, 2 acknowledged. Support: 2 people, one declined, one overdue."""
    people = {
        "ann": make_person(full_name="Ann Archer", department=sales),
        "bob": make_person(full_name="Bob Baker", department=sales),
        "cat": make_person(full_name="Cat Cole", department=sales),
        "dan": make_person(full_name="Dan Dale", department=support),
        "eve": make_person(full_name="Eve Evans", department=support),
    }
    policy = new_policy(policy_admin, audience="departments", departments=[sales, support])
    version = publish_new_version(policy, author=policy_admin, approver=reviewer)
    for name in ("ann", "bob"):
        person = people[name]
        services.acknowledge(version=version, user=person, full_name=person.full_name)
    services.decline(version=version, user=people["dan"], reason="I speak for a charity too.")
    Assignment.objects.filter(person=people["eve"]).update(
        due_date=timezone.localdate() - timedelta(days=5)
    )
    return version, people


def test_compliance_figures_by_department(client, policy_admin, compliance_setup):
    version, people = compliance_setup
    client.force_login(policy_admin)
    response = client.get(reverse("policies:manage_compliance", args=[version.pk]))
    page = response.content.decode()
    figures = response.context["figures"]
    by_name = {row.name: row for row in figures.departments}
    assert (by_name["Sales"].acknowledged, by_name["Sales"].total) == (2, 3)
    assert by_name["Sales"].percent == 67
    assert (by_name["Support"].percent, by_name["Support"].declined) == (0, 1)
    assert by_name["Support"].overdue == 1 and by_name["Sales"].overdue == 0
    assert (figures.overall.acknowledged, figures.overall.total) == (2, 5)
    assert figures.overall.percent == 40 and figures.overall.outstanding == 2
    assert "67%" in page and "40%" in page
    overdue = page.split('id="overdue-heading"')[1].split('id="outstanding-heading"')[0]
    assert "Eve Evans" in overdue and "Cat Cole" not in overdue
    assert ">5</span>" in overdue  # days overdue
    outstanding = page.split('id="outstanding-heading"')[1].split('id="declines-heading"')[0]
    assert "Eve Evans" in outstanding and "Cat Cole" in outstanding
    assert "Ann Archer" not in outstanding
    assert "I speak for a charity too." in page


def test_a_minor_version_keeps_the_figures_of_its_line(
    client, policy_admin, reviewer, compliance_setup
):
    version, _ = compliance_setup
    minor = publish_new_version(
        version.policy, author=policy_admin, approver=reviewer, body=BODY + "\n", change="minor"
    )
    client.force_login(policy_admin)
    response = client.get(reverse("policies:manage_compliance", args=[minor.pk]))
    assert minor.number == "1.1"
    assert response.context["figures"].overall.acknowledged == 2
    assert response.context["figures"].overall.total == 5


def test_compliance_of_a_draft_is_not_offered(client, policy_admin):
    draft = services.create_draft(policy=new_policy(policy_admin), author=policy_admin, body=BODY)
    client.force_login(policy_admin)
    response = client.get(reverse("policies:manage_compliance", args=[draft.pk]))
    assert response.url == reverse("policies:manage_version", args=[draft.pk])
    csv_url = reverse("policies:manage_compliance_csv", args=[draft.pk])
    assert client.get(csv_url).status_code == 404


def test_csv_export_has_the_rows_and_defuses_formulas(
    client, policy_admin, make_person, sales, compliance_setup
):
    version, _ = compliance_setup
    sneaky = make_person(full_name="=cmd|' /C calc'!A0", department=sales)
    services.reconcile_assignments(policies=[version.policy])  # the joiner is assigned
    client.force_login(policy_admin)
    response = client.get(reverse("policies:manage_compliance_csv", args=[version.pk]))
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:4] == ["Name", "Email", "Employee ID", "Department"]
    by_email = {row[1]: row for row in rows[1:]}
    assert len(by_email) == 6
    assert by_email[sneaky.email][0] == "'=cmd|' /C calc'!A0"
    eve = next(row for row in rows if row[0] == "Eve Evans")
    assert eve[3:8] == ["Support", "1.0", "Open", eve[6], "5"]
    assert next(row for row in rows if row[0] == "Ann Archer")[5] == "Acknowledged"


def test_remind_now_nudges_each_outstanding_person_once_a_day(
    client, policy_admin, compliance_setup
):
    version, people = compliance_setup
    client.force_login(policy_admin)
    url = reverse("policies:manage_remind", args=[version.pk])
    response = client.post(url, follow=True)
    assert "Sent 2 reminders." in response.content.decode()
    nudges = Notification.objects.filter(kind="policy-nudge")
    assert set(nudges.values_list("recipient_id", flat=True)) == {
        people["cat"].pk,
        people["eve"].pk,
    }
    response = client.post(url, follow=True)
    assert "already been reminded today" in response.content.decode()
    assert nudges.count() == 2
    assert client.get(url).status_code == 405


def test_acknowledge_on_behalf_records_who_and_why(client, policy_admin, compliance_setup):
    version, people = compliance_setup
    client.force_login(policy_admin)
    url = reverse("policies:manage_on_behalf", args=[version.pk])
    response = client.post(
        url, {"person": people["cat"].email, "reason": "Signed a paper copy"}, follow=True
    )
    assert "acknowledgement of version 1.0 is recorded" in response.content.decode()
    record = Acknowledgement.objects.get(person=people["cat"])
    assert record.method == Acknowledgement.Method.ON_BEHALF
    assert record.on_behalf_by == policy_admin
    assert record.on_behalf_reason == "Signed a paper copy"
    assert Assignment.objects.get(person=people["cat"]).status == "acknowledged"

    # Someone with nothing outstanding, or no reason: refused, nothing recorded.
    response = client.post(url, {"person": people["ann"].email, "reason": "x"}, follow=True)
    assert "nothing outstanding for this version" in response.content.decode()
    response = client.post(url, {"person": people["eve"].email, "reason": ""}, follow=True)
    assert "This field is required." in response.content.decode()
    assert Acknowledgement.objects.count() == 3


# --- query counts -----------------------------------------------------------------


def make_policies(count, owner, approver, departments, start=0):
    for number in range(start, start + count):
        policy = new_policy(
            owner, title=f"Policy {number}", audience="departments", departments=departments
        )
        publish_new_version(policy, author=owner, approver=approver)
        services.create_draft(policy=policy, author=owner, body=BODY + "\nNext.")


def test_index_query_count_does_not_grow_with_policies(
    client, policy_admin, reviewer, sales, support, django_assert_max_num_queries
):
    client.force_login(policy_admin)
    make_policies(2, policy_admin, reviewer, [sales, support])
    url = reverse("policies:manage_index")
    with django_assert_max_num_queries(15) as few:
        page = client.get(url).content.decode()
    assert "Policy 1" in page and "Sales, Support" in page
    make_policies(28, policy_admin, reviewer, [sales, support], start=2)
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get(url).content.decode()
    assert "1–25 of 30 policies" in page and "Page 1 of 2" in page


def test_compliance_query_count_does_not_grow_with_people(
    computed_pages,
    client,
    policy_admin,
    reviewer,
    make_person,
    sales,
    support,
    django_assert_max_num_queries,
):
    policy = new_policy(policy_admin)
    version = publish_new_version(policy, author=policy_admin, approver=reviewer)

    def add_people(count, *, acknowledged, declined):
        """New people in the audience; some acknowledge, some decline, the rest are late."""
        new = [make_person(department=sales if number % 2 else support) for number in range(count)]
        services.reconcile_assignments(policies=[policy])
        for person in new[:acknowledged]:
            services.acknowledge(version=version, user=person, full_name=person.full_name)
        for person in new[acknowledged : acknowledged + declined]:
            services.decline(version=version, user=person, reason="No")
        Assignment.objects.filter(version=version, status="open").update(
            due_date=timezone.localdate() - timedelta(days=2)
        )

    add_people(4, acknowledged=1, declined=1)
    client.force_login(policy_admin)
    url = reverse("policies:manage_compliance", args=[version.pk])
    with django_assert_max_num_queries(9) as few:
        client.get(url)
    add_people(150, acknowledged=20, declined=60)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(url)
    assert response.context["figures"].overall.acknowledged == 21
    page = response.content.decode()
    assert "Page 1 of 2" in page.split('id="declines-heading"')[1]
