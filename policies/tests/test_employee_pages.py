"""The reader's pages: the Policies list, a policy with What changed, the quiz, the
acknowledge and decline forms, and receipts."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from notifications.models import Notification
from people import roles
from people.models import Department
from policies import reading, services
from policies.models import (
    Acknowledgement,
    Assignment,
    Decline,
    Policy,
    PolicyVersion,
    QuizAttempt,
)
from policies.permissions import readable_policies
from policies.tests.factories import BODY_1, BODY_2, publish_version, published_policy

pytestmark = pytest.mark.django_db

INDEX = reverse("policies:index")
QUESTIONS = [
    ("Whose views do you share on a personal account?", ["The company's", "My own"], 1),
    ("May you post a customer's name?", ["Yes", "No"], 1),
]


@pytest.fixture
def approver(make_person):
    return make_person(full_name="Arjun Patel", group=roles.POLICY_ADMIN)


@pytest.fixture
def social(employee, outsider, policy_admin, approver):
    """The social media policy, version 1.0, published for everyone."""
    policy, _version = published_policy(
        title="Social media policy", owner=policy_admin, approver=approver
    )
    return policy


def detail_url(policy):
    return reverse("policies:detail", args=[policy.slug])


def acknowledge_url(policy):
    return reverse("policies:acknowledge", args=[policy.slug])


def current(policy):
    return policy.versions.get(status=PolicyVersion.Status.PUBLISHED)


def ack_data(version, *, name="Emily Carter", confirmed=True, language=None, text_sha256=None):
    """What the acknowledge form posts: by default for the version's own text."""
    data = {
        "version": version.pk,
        "full_name": name,
        "language": language or version.language,
        "text_sha256": text_sha256 or version.body_sha256,
    }
    if confirmed:
        data["confirmed"] = "on"
    return data


def section(html, element_id):
    """The HTML of the element with this id (up to the end of its section)."""
    start = html.index(f'id="{element_id}"')
    return html[start : html.index("</section>", start)]


# --- the Policies list ------------------------------------------------------------------


def test_list_shows_outstanding_first_with_due_dates_and_overdue_mark(
    client, employee, policy_admin, approver
):
    later, _ = published_policy(
        title="Speaking to the press", owner=policy_admin, approver=approver
    )
    overdue, _ = published_policy(
        title="Use of company accounts", owner=policy_admin, approver=approver
    )
    today = timezone.localdate()
    Assignment.objects.filter(person=employee, policy=overdue).update(
        due_date=today - timedelta(days=3)
    )
    Assignment.objects.filter(person=employee, policy=later).update(
        due_date=today + timedelta(days=10)
    )
    client.force_login(employee)
    page = client.get(INDEX).content.decode()

    mine = section(page, "outstanding-heading")
    assert mine.index("Use of company accounts") < mine.index("Speaking to the press")
    assert f"Due {(today - timedelta(days=3)):%-d %B %Y}" in mine
    assert f"Due {(today + timedelta(days=10)):%-d %B %Y}" in mine
    assert mine.count("Overdue") == 1
    assert mine.index("Overdue") > mine.index("Use of company accounts")
    assert mine.index("Overdue") < mine.index("Speaking to the press")
    # Mine come before the list of everything.
    assert page.index("outstanding-heading") < page.index("all-heading")
    everything = section(page, "all-heading")
    assert "Speaking to the press" in everything and "Use of company accounts" in everything


def test_list_shows_version_and_my_status(client, employee, social, policy_admin, approver):
    declined, _ = published_policy(
        title="Speaking to the press", owner=policy_admin, approver=approver
    )
    services.acknowledge(version=current(social), user=employee, full_name="Emily Carter")
    services.decline(version=current(declined), user=employee, reason="Unclear")
    client.force_login(employee)
    page = client.get(INDEX).content.decode()
    today = timezone.localdate()
    assert f"Acknowledged 1.0 on {today:%-d %b %Y}" in page
    assert f"Declined on {today:%-d %b %Y}" in page
    assert "Nothing to acknowledge: you are up to date." in page


def test_empty_list_says_so_honestly(client, employee):
    client.force_login(employee)
    assert "No policies have been published for you yet." in client.get(INDEX).content.decode()


def test_policy_for_other_departments_is_neither_listed_nor_readable(
    client, make_person, policy_admin, approver
):
    sales = Department.objects.create(name="Sales")
    engineering = Department.objects.create(name="Engineering")
    seller = make_person(full_name="Sam Seller", department=sales)
    engineer = make_person(full_name="Erin Engineer", department=engineering)
    policy, _ = published_policy(
        title="Sales social selling",
        owner=policy_admin,
        approver=approver,
        audience=Policy.Audience.DEPARTMENTS,
        departments=[sales],
    )
    client.force_login(engineer)
    assert "Sales social selling" not in client.get(INDEX).content.decode()
    assert client.get(detail_url(policy)).status_code == 404
    assert client.post(acknowledge_url(policy), ack_data(current(policy))).status_code == 404
    client.force_login(seller)
    assert "Sales social selling" in client.get(INDEX).content.decode()
    assert client.get(detail_url(policy)).status_code == 200


def test_drafts_are_never_shown_not_even_to_their_author(client, employee, policy_admin, approver):
    unpublished = services.create_policy(title="Draft only policy", owner=policy_admin)
    services.create_draft(policy=unpublished, author=policy_admin, body="Secret draft text")
    policy, _ = published_policy(title="Social media policy", owner=policy_admin, approver=approver)
    services.create_draft(policy=policy, author=policy_admin, body="## New\n\nDraft 2.0 wording")

    for person in (employee, policy_admin):
        client.force_login(person)
        listing = client.get(INDEX).content.decode()
        assert "Draft only policy" not in listing
        assert client.get(detail_url(unpublished)).status_code == 404
        page = client.get(detail_url(policy)).content.decode()
        assert "Draft 2.0 wording" not in page and "Version 1.0" in page
    assert client.get(reverse("policies:detail", args=["no-such-policy"])).status_code == 404


def test_list_query_count_holds_as_policies_and_assignments_grow(
    client, django_assert_max_num_queries, make_person, employee, policy_admin, approver
):
    def add_policies(start, count):
        for number in range(start, start + count):
            policy, version = published_policy(
                title=f"Policy {number:03}", owner=policy_admin, approver=approver
            )
            if number % 3 == 0:
                services.acknowledge(version=version, user=employee, full_name="Emily Carter")

    engineering = Department.objects.create(name="Engineering")
    employee.department = engineering
    employee.save()
    published_policy(
        title="Engineering only",
        owner=policy_admin,
        approver=approver,
        audience=Policy.Audience.DEPARTMENTS,
        departments=[engineering],
    )
    add_policies(1, 2)
    client.force_login(employee)
    with django_assert_max_num_queries(10) as few:
        assert client.get(INDEX).status_code == 200
    add_policies(3, 40)
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get(INDEX).content.decode()
    everything = section(page, "all-heading")
    assert "Page 1 of 2" in everything
    assert "Policy 024" in everything and "Policy 025" not in everything  # 25 a page, by title
    assert section(page, "outstanding-heading").count("<li") == 29  # every one I still owe


def test_list_finds_the_same_policies_as_the_permission_helper(
    make_person, policy_admin, approver, employee
):
    company = Department.objects.create(name="Company")
    sales = Department.objects.create(name="Sales", parent=company)
    field_sales = Department.objects.create(name="Field sales", parent=sales)
    press = Group.objects.create(name="Press office")
    people = [
        make_person(department=field_sales),
        make_person(department=company),
        make_person(),
        make_person(group="Press office"),
        make_person(department=sales, is_active=False),
        employee,
        policy_admin,
    ]
    published_policy(title="Everyone", owner=policy_admin, approver=approver)
    published_policy(
        title="Sales",
        owner=policy_admin,
        approver=approver,
        audience=Policy.Audience.DEPARTMENTS,
        departments=[sales],
    )
    published_policy(
        title="Press",
        owner=policy_admin,
        approver=approver,
        audience=Policy.Audience.GROUPS,
        groups=[press],
    )
    for person in people:
        expected = set(readable_policies(person).values_list("title", flat=True))
        assert set(reading.readable_policies_list(person).values_list("title", flat=True)) == (
            expected
        ), person
    assert set(reading.readable_policies_list(people[0]).values_list("title", flat=True)) == {
        "Everyone",
        "Sales",
    }


# --- the policy page and acknowledging ------------------------------------------------


def test_policy_page_shows_the_text_and_the_words_on_the_screen(client, employee, social):
    client.force_login(employee)
    page = client.get(detail_url(social)).content.decode()
    assert "Say that your views are your own." in page
    assert "Version 1.0" in page
    assert "I have read and understood this policy" in page
    assert "Full name" in page
    assert re.search(r"<button[^>]*>\s*Acknowledge\s*</button>", page)
    assert re.search(r"<button[^>]*>\s*Decline\s*</button>", page)
    assert "Reason" in page


def test_acknowledging_with_my_name_in_any_case_leads_to_the_receipt(client, employee, social):
    client.force_login(employee)
    response = client.post(
        acknowledge_url(social),
        ack_data(current(social), name="  emily   CARTER "),
        REMOTE_ADDR="203.0.113.7",
        HTTP_USER_AGENT="ReaderBrowser/1.0",
    )
    ack = Acknowledgement.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("policies:receipt", args=[ack.pk])
    assert (ack.person, ack.version, ack.typed_name) == (employee, current(social), "emily CARTER")
    assert (ack.ip_address, ack.user_agent) == ("203.0.113.7", "ReaderBrowser/1.0")
    assert Assignment.objects.get(person=employee).status == Assignment.Status.ACKNOWLEDGED
    receipt = client.get(response.url).content.decode()
    assert "Thank you: you acknowledged Social media policy 1.0" in receipt
    page = client.get(detail_url(social)).content.decode()
    assert "You acknowledged version 1.0" in page
    assert reverse("policies:receipt", args=[ack.pk]) in page
    assert acknowledge_url(social) not in page


def test_a_wrong_name_is_refused_and_nothing_is_stored(client, employee, social):
    client.force_login(employee)
    response = client.post(acknowledge_url(social), ack_data(current(social), name="Emily Carte"))
    assert response.status_code == 200
    assert "does not match the name we have for you" in response.content.decode()
    assert Acknowledgement.objects.count() == 0
    assert Assignment.objects.get(person=employee).status == Assignment.Status.OPEN


def test_an_unticked_box_is_refused_and_nothing_is_stored(client, employee, social):
    client.force_login(employee)
    response = client.post(acknowledge_url(social), ack_data(current(social), confirmed=False))
    assert response.status_code == 200
    assert "Tick the box to confirm" in response.content.decode()
    assert Acknowledgement.objects.count() == 0


def test_acknowledging_twice_says_so(client, employee, social):
    client.force_login(employee)
    client.post(acknowledge_url(social), ack_data(current(social)))
    response = client.post(acknowledge_url(social), ack_data(current(social)))
    assert response.status_code == 200
    assert "You already acknowledged version 1.0" in response.content.decode()
    assert Acknowledgement.objects.count() == 1


def test_a_page_left_open_while_a_new_version_was_published_acknowledges_nothing(
    client, employee, social, policy_admin, approver
):
    old = current(social)
    client.force_login(employee)
    assert f'name="version" value="{old.pk}"' in client.get(detail_url(social)).content.decode()
    new = publish_version(social, author=policy_admin, approver=approver, body=BODY_2)

    response = client.post(acknowledge_url(social), ack_data(old))
    page = response.content.decode()
    assert response.status_code == 200
    assert "Version 1.0 has been replaced by version 2.0" in page
    assert Acknowledgement.objects.count() == 0
    # The form shown again is for the text now on the page, with the tick cleared.
    assert f'name="version" value="{new.pk}"' in page
    assert 'name="confirmed"' in page and "checked" not in section(page, "acknowledge")

    client.post(acknowledge_url(social), ack_data(new))
    assert Acknowledgement.objects.get().version == new


def test_what_changed_shows_the_changed_sections_above_the_form(
    client, employee, social, policy_admin, approver
):
    services.acknowledge(version=current(social), user=employee, full_name="Emily Carter")
    publish_version(
        social,
        author=policy_admin,
        approver=approver,
        body=BODY_2,
        change_summary="The logo rule and who to ask.",
    )
    client.force_login(employee)
    page = client.get(detail_url(social)).content.decode()
    changes = section(page, "what-changed")
    assert "What changed since version 1.0 you acknowledged" in changes
    assert "Personal accounts" in changes
    assert "do not use the company logo" in changes
    assert "Getting help" in changes and "New section" in changes
    # The unchanged section is only named, not repeated.
    assert "Never post customer data" not in changes
    assert "Confidential information" in section(page, "unchanged-sections")
    assert page.index('id="what-changed"') < page.index('id="acknowledge"')
    assert "The logo rule and who to ask." in page


def test_no_what_changed_for_a_first_reader(client, employee, social, policy_admin, approver):
    publish_version(social, author=policy_admin, approver=approver, body=BODY_2)
    client.force_login(employee)
    assert 'id="what-changed"' not in client.get(detail_url(social)).content.decode()


def test_script_and_javascript_links_never_reach_the_reader(
    client, employee, policy_admin, approver
):
    hostile = (
        "## Rules\n\n<script>alert(1)</script>\n\nSee [x](javascript:alert(1)) "
        '<a href="javascript:alert(2)" onclick="alert(3)">y</a>\n'
    )
    policy, _ = published_policy(
        title="Hostile policy", owner=policy_admin, approver=approver, body=BODY_1
    )
    services.acknowledge(version=current(policy), user=employee, full_name="Emily Carter")
    publish_version(policy, author=policy_admin, approver=approver, body=hostile)
    client.force_login(employee)
    page = client.get(detail_url(policy)).content.decode()
    assert 'id="what-changed"' in page  # the hostile lines are in the difference too
    assert "<script>alert" not in page
    assert "javascript:" not in page
    assert "onclick" not in page


# --- the quiz ------------------------------------------------------------------------------


@pytest.fixture
def quizzed(employee, policy_admin, approver):
    policy, _ = published_policy(
        title="Speaking to the press",
        owner=policy_admin,
        approver=approver,
        questions=QUESTIONS,
        pass_mark=100,
    )
    return policy


def quiz_answers(version, picks):
    questions = list(version.questions.all())
    return {"version": version.pk} | {
        f"question_{q.pk}": pick for q, pick in zip(questions, picks, strict=True)
    }


def test_a_failed_quiz_does_not_let_me_acknowledge_and_attempts_are_kept(client, employee, quizzed):
    version = current(quizzed)
    client.force_login(employee)
    page = client.get(detail_url(quizzed)).content.decode()
    assert "Submit answers" in page and 'type="radio"' in page
    assert acknowledge_url(quizzed) not in page  # the quiz comes first

    response = client.post(
        reverse("policies:quiz", args=[quizzed.slug]), quiz_answers(version, [1, 0]), follow=True
    )
    page = response.content.decode()
    assert "You scored 50%; the pass mark is 100%." in page
    assert "Your last attempt scored 50%: not passed yet (1 attempt so far)" in page
    assert acknowledge_url(quizzed) not in page

    response = client.post(acknowledge_url(quizzed), ack_data(version))
    assert "Pass the quiz first" in response.content.decode()
    assert Acknowledgement.objects.count() == 0

    client.post(reverse("policies:quiz", args=[quizzed.slug]), quiz_answers(version, [0, 0]))
    assert list(QuizAttempt.objects.values_list("score", flat=True)) == [0, 50]


def test_a_passed_quiz_lets_me_acknowledge_with_the_score_on_the_receipt(client, employee, quizzed):
    version = current(quizzed)
    client.force_login(employee)
    client.post(reverse("policies:quiz", args=[quizzed.slug]), quiz_answers(version, [0, 0]))
    response = client.post(
        reverse("policies:quiz", args=[quizzed.slug]), quiz_answers(version, [1, 1]), follow=True
    )
    page = response.content.decode()
    assert "You passed with 100%" in page
    assert acknowledge_url(quizzed) in page and "Submit answers" not in page

    response = client.post(acknowledge_url(quizzed), ack_data(version), follow=True)
    ack = Acknowledgement.objects.get()
    assert ack.quiz_score == 100
    assert "Quiz score" in response.content.decode()
    assert QuizAttempt.objects.count() == 2


def test_an_unanswered_question_is_pointed_out(client, employee, quizzed):
    client.force_login(employee)
    response = client.post(
        reverse("policies:quiz", args=[quizzed.slug]), {"version": current(quizzed).pk}
    )
    assert response.status_code == 200
    assert "Choose an answer." in response.content.decode()
    assert QuizAttempt.objects.count() == 0


# --- declining ---------------------------------------------------------------------------


def test_declining_with_a_reason_tells_the_owner(client, employee, social, policy_admin):
    client.force_login(employee)
    response = client.post(
        reverse("policies:decline", args=[social.slug]),
        {"version": current(social).pk, "reason": "The rule on personal accounts is unclear."},
        follow=True,
    )
    page = response.content.decode()
    assert "You declined Social media policy 1.0" in page
    assert "You declined version 1.0" in page
    decline = Decline.objects.get()
    assert decline.reason == "The rule on personal accounts is unclear."
    assert Assignment.objects.get(person=employee).status == Assignment.Status.DECLINED
    told = Notification.objects.get(kind="policy-declined")
    assert told.recipient == policy_admin and told.subject_id == decline.pk


def test_declining_needs_a_reason(client, employee, social):
    client.force_login(employee)
    response = client.post(
        reverse("policies:decline", args=[social.slug]), {"version": current(social).pk}
    )
    assert response.status_code == 200
    assert "Tell the policy owner why you decline." in response.content.decode()
    assert not Decline.objects.exists()
    assert not Notification.objects.filter(kind="policy-declined").exists()


# --- receipts --------------------------------------------------------------------------------


@pytest.fixture
def receipt_url(employee, social):
    ack = services.acknowledge(
        version=current(social),
        user=employee,
        full_name="Emily Carter",
        request_meta={"ip_address": "198.51.100.4", "user_agent": "ReaderBrowser/2.0"},
    )
    return reverse("policies:receipt", args=[ack.pk])


def test_my_receipt_shows_who_what_when_and_the_hashes(client, employee, social, receipt_url):
    employee.time_zone = "Asia/Tokyo"
    employee.save()
    client.force_login(employee)
    page = client.get(receipt_url).content.decode()
    ack = Acknowledgement.objects.get()
    assert "Emily Carter" in page and "employee@example.com" in page
    assert "Social media policy, version 1.0" in page
    local = timezone.localtime(ack.acknowledged_at, timezone=timezone.get_fixed_timezone(540))
    assert f"{local:%H:%M:%S}" in page and "Asia/Tokyo" in page
    assert ack.text_sha256 in page and ack.record_hash in page
    assert ack.text_sha256 == current(social).body_sha256
    assert "198.51.100.4" in page and "In the browser" in page
    assert "data-print" in page and 'class="print-sheet' in page


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("outsider", 403),
        ("manager", 403),
        ("comms", 403),
        ("policy_admin", 200),
        ("site_admin", 200),
    ],
)
def test_receipts_are_for_their_owner_and_administrators(
    client, request, receipt_url, role, status
):
    client.force_login(request.getfixturevalue(role))
    assert client.get(receipt_url).status_code == status


def test_anonymous_visitors_are_sent_to_log_in(client, social, receipt_url):
    for url in (INDEX, detail_url(social), receipt_url):
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith(reverse("login"))
    response = client.post(acknowledge_url(social), ack_data(current(social)))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))
    assert Acknowledgement.objects.count() == 1  # only the fixture's


def test_a_receipt_says_who_acknowledged_on_my_behalf_and_why(
    client, employee, social, policy_admin
):
    ack = services.acknowledge_on_behalf(
        version=current(social), person=employee, by=policy_admin, reason="Signed on paper"
    )
    client.force_login(employee)
    page = client.get(reverse("policies:receipt", args=[ack.pk])).content.decode()
    assert "recorded by Priya Shah" in page and "Signed on paper" in page
    assert "In the browser" not in page
