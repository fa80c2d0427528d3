"""Ask comms: who may see and answer a review, the rules of an answer, the reminders it
sends (and escalates), My tasks, kept examples, and the cost of the lists."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.core import mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from notifications.models import Notification
from notifications.services import plan_due, send_due
from people import roles
from prevention import review_services as services
from prevention.models import PostReview, PreventionError, ReviewExample
from prevention.review_views import sla, word_diff
from prevention.tests.factories import watch_term
from prevention.tests.test_check import published_policy
from training.models import Topic

pytestmark = pytest.mark.django_db
Status = PostReview.Status
Sent = Notification.Status

DRAFT = "Big news: Project Atlas launches on Monday and I cannot wait to show you!"
EDITED = "Big news: something new is coming soon and I cannot wait to show you!"


@pytest.fixture
def other_comms(make_person):
    return make_person(full_name="Carl Ortiz", email="carl@example.com", group=roles.COMMS)


@pytest.fixture
def comms_lead(make_person):
    return make_person(full_name="Lena Ward", email="lena@example.com", group=roles.COMMS_LEAD)


def ask(person, *, draft=DRAFT, needed_in=timedelta(hours=4), now=None, **fields) -> PostReview:
    now = now or timezone.now()
    return services.ask_comms(
        requester=person, draft=draft, needed_by=now + needed_in, now=now, **fields
    )


def rows(kind: str, **filters):
    return Notification.objects.filter(kind=kind, **filters).order_by("id")


def review_url(review, name="review"):
    return reverse(f"prevention:{name}", args=[review.pk])


# --- who may see what ---------------------------------------------------------------------


def test_an_employee_never_sees_someone_elses_review(client, employee, outsider, comms):
    review = ask(employee)
    client.force_login(outsider)
    assert client.get(review_url(review)).status_code == 404
    for name in ("decide", "withdraw", "keep_example"):
        assert client.post(review_url(review, name), {"decision": "approved"}).status_code == 404
    assert DRAFT not in client.get(reverse("prevention:my_reviews")).content.decode()
    review.refresh_from_db()
    assert review.status == Status.PENDING


@pytest.mark.parametrize("role", ["employee", "manager", "hr", "policy_admin", "leader"])
def test_only_comms_see_the_queue(client, request, role):
    client.force_login(request.getfixturevalue(role))
    assert client.get(reverse("prevention:queue")).status_code == 403


def test_comms_and_the_comms_lead_see_the_queue(client, employee, comms, comms_lead):
    review = ask(employee)
    for person in (comms, comms_lead):
        client.force_login(person)
        page = client.get(reverse("prevention:queue")).content.decode()
        assert review_url(review) in page and "Emily Carter" in page


def test_the_requester_cannot_answer_their_own_review(client, employee, comms):
    review = ask(employee)
    client.force_login(employee)
    page = client.get(review_url(review)).content.decode()
    assert "Send answer" not in page
    response = client.post(review_url(review, "decide"), {"decision": "approved"})
    assert response.status_code == 403
    review.refresh_from_db()
    assert review.status == Status.PENDING


def test_comms_cannot_answer_their_own_draft_but_a_colleague_can(client, comms, other_comms):
    review = ask(comms)
    client.force_login(comms)
    page = client.get(review_url(review)).content.decode()
    assert "This is your own draft: another member of comms answers it." in page
    with pytest.raises(PreventionError, match="You cannot review your own draft"):
        services.decide(review=review, by=comms, decision=Status.APPROVED)
    services.decide(review=review, by=other_comms, decision=Status.APPROVED)
    review.refresh_from_db()
    assert (review.status, review.decided_by) == (Status.APPROVED, other_comms)


def test_a_comms_members_own_review_is_not_sent_to_them(comms, other_comms):
    review = ask(comms)
    assert {row.recipient for row in rows("post-review-requested")} == {other_comms}
    assert review.status == Status.PENDING


def test_asking_with_nobody_in_comms_is_refused(employee):
    with pytest.raises(PreventionError, match="Nobody in the communications team"):
        ask(employee)
    assert not PostReview.objects.exists()


# --- asking ---------------------------------------------------------------------------------


def test_needed_by_must_be_ahead_and_within_fourteen_days(employee, comms):
    now = timezone.now()
    with pytest.raises(PreventionError, match="That time has passed"):
        ask(employee, needed_in=-timedelta(minutes=1), now=now)
    with pytest.raises(PreventionError, match="Comms answer within 14 days"):
        ask(employee, needed_in=timedelta(days=15), now=now)
    assert not PostReview.objects.exists() and not Notification.objects.exists()


def test_without_a_time_comms_have_until_the_same_time_next_working_day(employee, comms):
    friday = timezone.make_aware(datetime(2027, 3, 12, 15, 30))
    review = services.ask_comms(requester=employee, draft=DRAFT, now=friday)
    assert timezone.localtime(review.needed_by) == timezone.make_aware(
        datetime(2027, 3, 15, 15, 30)
    )


def test_the_findings_of_the_check_are_kept_with_the_review(employee, comms):
    watch_term(text="Project Atlas", explanation="Atlas is not announced.")
    review = ask(employee, image_text="atlas-slide.png")
    assert [(f["label"], f["where"]) for f in review.findings] == [
        ("Project Atlas", "draft"),
    ]
    assert review.findings[0]["explanation"] == "Atlas is not announced."


# --- answering ------------------------------------------------------------------------------


def test_approve_with_edits_shows_the_employee_what_changed(client, employee, comms):
    review = ask(employee)
    client.force_login(comms)
    response = client.post(
        review_url(review, "decide"),
        {"decision": Status.APPROVED_WITH_EDITS, "suggested_text": EDITED, "reason": "Not yet."},
    )
    assert response.status_code == 302
    client.force_login(employee)
    response = client.get(review_url(review))
    page = response.content.decode()
    assert "The answer: Approved with edits" in page
    assert "no-store" in response["Cache-Control"]
    assert (
        '<del class="bg-danger-subtle px-1"><span class="visually-hidden">Removed: </span>' in page
    )
    assert "Project Atlas launches on Monday" in page
    assert "something new is coming soon" in page
    review.refresh_from_db()
    assert review.answer_seen_at is not None


def test_the_difference_is_word_by_word_and_escaped(client, employee, comms):
    assert word_diff("a b c", "a x c") == [("=", "a "), ("-", "b"), ("+", "x"), ("=", " c")]
    # A change of several words reads as one removal and one addition.
    assert word_diff("Project Atlas ships\nsoon", "Something new ships\nsoon") == [
        ("-", "Project Atlas"),
        ("+", "Something new"),
        ("=", " ships\nsoon"),
    ]
    review = ask(employee, draft="Hello <b>team</b>")
    services.decide(
        review=review,
        by=comms,
        decision=Status.APPROVED_WITH_EDITS,
        suggested_text="Hello <i>everyone</i>",
    )
    client.force_login(employee)
    page = client.get(review_url(review)).content.decode()
    assert "<i>everyone</i>" not in page and "&lt;i&gt;everyone&lt;/i&gt;" in page


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"decision": Status.APPROVED_WITH_EDITS, "suggested_text": DRAFT},
            "The suggested text is the same as the draft",
        ),
        (
            {"decision": Status.APPROVED_WITH_EDITS, "suggested_text": "  "},
            "Paste the suggested text first.",
        ),
        ({"decision": Status.ADVISED_AGAINST, "reason": ""}, "Say why you advise against"),
        ({"decision": "maybe"}, "Select a valid choice."),
        ({"decision": Status.APPROVED, "reason": "a\x00b"}, "The reason contains a null"),
    ],
)
def test_an_incomplete_answer_gets_a_message_and_changes_nothing(
    client, employee, comms, fields, message
):
    review = ask(employee)
    client.force_login(comms)
    response = client.post(review_url(review, "decide"), fields)
    assert response.status_code == 400
    assert message in response.content.decode()
    review.refresh_from_db()
    assert review.status == Status.PENDING and review.decided_at is None
    assert not rows("post-review-answered").exists()


def test_a_second_answer_at_the_same_time_is_refused(client, employee, comms, other_comms):
    review = ask(employee)
    # Both opened the page while it was waiting; Carl answers first.
    client.force_login(comms)
    assert "Send answer" in client.get(review_url(review)).content.decode()
    services.decide(review=review, by=other_comms, decision=Status.APPROVED)
    response = client.post(
        review_url(review, "decide"), {"decision": Status.ADVISED_AGAINST, "reason": "No."}
    )
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "Carl Ortiz answered this review meanwhile (approved); your answer was not sent." in page
    review.refresh_from_db()
    assert (review.status, review.decided_by, review.reason) == (Status.APPROVED, other_comms, "")
    assert rows("post-review-answered").count() == 1
    # An incomplete answer that comes second is told the same, not what it lacks.
    response = client.post(review_url(review, "decide"), {"decision": Status.ADVISED_AGAINST})
    page = client.get(response["Location"]).content.decode()
    assert "Carl Ortiz answered this review meanwhile (approved)" in page
    assert "Say why you advise against" not in page
    # The stale object a service was given does not matter either.
    with pytest.raises(PreventionError, match="answered this review meanwhile"):
        services.decide(review=PostReview.objects.get(), by=comms, decision=Status.APPROVED)


def test_the_employee_may_withdraw_a_waiting_review_and_comms_are_not_asked(
    client, employee, comms
):
    review = ask(employee)
    client.force_login(employee)
    client.post(review_url(review, "withdraw"))
    review.refresh_from_db()
    assert review.status == Status.WITHDRAWN
    with pytest.raises(PreventionError, match="withdrew this review"):
        services.decide(review=review, by=comms, decision=Status.APPROVED)
    send_due()
    assert rows("post-review-requested").get().status == Sent.CANCELLED
    assert mail.outbox == []


# --- the outbox -----------------------------------------------------------------------------


def test_comms_are_asked_once_and_the_employee_told_once(employee, comms, other_comms):
    review = ask(employee)
    services.notify_many(
        kind="post-review-requested", items=[(review, comms.pk)], stage="requested"
    )
    assert sorted(r.recipient.email for r in rows("post-review-requested")) == sorted(
        [comms.email, other_comms.email]
    )
    send_due()
    subjects = {m.to[0]: m for m in mail.outbox}
    message = subjects[comms.email]
    assert message.subject.startswith("Post review needed by ")
    assert reverse("prevention:review", args=[review.pk]) in message.body
    assert "Project Atlas" not in message.body  # the draft stays in PolicyHub
    mail.outbox.clear()
    services.decide(
        review=review, by=comms, decision=Status.ADVISED_AGAINST, reason="Atlas is secret."
    )
    services.notify(
        kind="post-review-answered", subject=review, recipient=employee, stage="answered"
    )
    assert rows("post-review-answered").count() == 1
    send_due()
    (message,) = mail.outbox
    assert message.to == [employee.email]
    assert message.subject == "Comms answered your post review: Advised against"
    assert "Atlas is secret." in message.body
    # Comms who had not read theirs yet were told the rest; nothing is sent twice.
    assert rows("post-review-requested", status=Sent.SENT).count() == 2


def test_a_late_review_escalates_once_to_the_comms_lead(employee, comms, comms_lead):
    now = timezone.now()
    review = ask(employee, now=now, needed_in=timedelta(hours=2))
    assert plan_due(now=now + timedelta(hours=1)).planned.get("post-review-late", 0) == 0
    plan_due(now=now + timedelta(hours=2, minutes=1))
    plan_due(now=now + timedelta(hours=3))
    (late,) = rows("post-review-late")
    assert (late.recipient, late.subject, late.stage) == (comms_lead, review, "late")
    send_due(now=now + timedelta(hours=3))
    (message,) = [m for m in mail.outbox if m.subject.startswith("Late post review")]
    assert message.to == [comms_lead.email]
    assert "Emily Carter" in message.body


def test_without_a_comms_lead_a_late_review_goes_to_all_of_comms(employee, comms, other_comms):
    now = timezone.now()
    ask(employee, now=now, needed_in=timedelta(hours=2))
    plan_due(now=now + timedelta(hours=3))
    assert {r.recipient for r in rows("post-review-late")} == {comms, other_comms}


def test_an_answer_cancels_the_late_notice_not_yet_sent(employee, comms, comms_lead):
    now = timezone.now()
    review = ask(employee, now=now, needed_in=timedelta(hours=2))
    plan_due(now=now + timedelta(hours=3))
    services.decide(review=review, by=comms, decision=Status.APPROVED)
    plan_due(now=now + timedelta(hours=4))
    send_due(now=now + timedelta(hours=4))
    assert [r.status for r in rows("post-review-late")] == [Sent.CANCELLED]
    assert not [m for m in mail.outbox if m.subject.startswith("Late post review")]


def test_every_email_renders_in_text_and_html(employee, comms):
    review = ask(employee, platform="linkedin")
    services.decide(
        review=review, by=comms, decision=Status.APPROVED_WITH_EDITS, suggested_text=EDITED
    )
    for name in ("requested", "answered", "late"):
        context = {"recipient": comms, "review": review, "url": "https://x/r", "queue_url": "/q"}
        for part in ("subject.txt", "body.txt", "body.html"):
            text = render_to_string(f"emails/post-review-{name}-{part}", context)
            assert text.strip() and "{{" not in text
            assert DRAFT not in text and EDITED not in text


# --- My tasks -------------------------------------------------------------------------------


def test_my_tasks_shows_the_answer_until_the_employee_reads_it(client, employee, comms):
    review = ask(employee)
    client.force_login(employee)
    page = client.get(reverse("my_tasks")).content.decode()
    assert "Your post review is waiting for comms" in page
    services.decide(review=review, by=comms, decision=Status.APPROVED)
    page = client.get(reverse("my_tasks")).content.decode()
    assert "Comms answered your post review" in page and review_url(review) in page
    assert "Your post review is waiting for comms" not in page
    client.get(review_url(review))
    page = client.get(reverse("my_tasks")).content.decode()
    assert "Comms answered your post review" not in page


def test_comms_see_the_reviews_waiting_on_my_tasks(client, employee, comms, other_comms):
    ask(employee)
    own = ask(comms)
    client.force_login(comms)
    page = client.get(reverse("my_tasks")).content.decode()
    assert "Post review for Emily Carter, needed by" in page
    assert "Post reviews waiting: read the draft and answer" in page
    assert page.count("Post review for ") == 1  # not their own
    assert "Your post review is waiting for comms" in page and review_url(own) in page


# --- examples -------------------------------------------------------------------------------


def _answered(employee, comms) -> PostReview:
    review = ask(employee)
    return services.decide(
        review=review, by=comms, decision=Status.ADVISED_AGAINST, reason="Atlas is secret."
    )


def test_comms_keep_an_anonymised_example_on_a_policy_section(
    client, employee, comms, policy_admin, leader, django_assert_max_num_queries
):
    policy = published_policy(policy_admin, leader)
    review = _answered(employee, comms)
    client.force_login(comms)
    assert "Keep as example" in client.get(review_url(review)).content.decode()
    response = client.post(
        review_url(review, "keep_example"),
        {
            "text": "Big news: [product] launches on Monday!",
            "reason": "The product is not announced.",
            "section": f"{policy.pk}:Confidential information",
        },
    )
    assert response.status_code == 302
    example = ReviewExample.objects.get()
    assert (example.review, example.decision) == (review, Status.ADVISED_AGAINST)
    assert (example.policy, example.policy_section) == (policy, "Confidential information")
    with django_assert_max_num_queries(1):
        page = render_to_string("prevention/_policy_examples.html", {"policy": policy})
    assert "Confidential information" in page and "[product] launches on Monday" in page
    assert "Emily" not in page


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (DRAFT, "The example is the draft as it was sent"),
        ("Emily here: [product] launches Monday", "Take these out first"),
        ("Mail employee@example.com about [product]", "employee@example.com"),
        ("Ring +44 20 7946 0958 about [product]", "+44 20 7946 0958"),
    ],
)
def test_an_example_that_could_tell_who_wrote_it_is_refused(client, employee, comms, text, message):
    review = _answered(employee, comms)
    client.force_login(comms)
    response = client.post(review_url(review, "keep_example"), {"text": text})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not ReviewExample.objects.exists()


@pytest.mark.parametrize(
    ("text", "reason", "named"),
    [
        ("Big news: Project Atlas launches Monday!", "", "“Project Atlas”"),
        (
            "Big news: [product] launches Monday!",
            "Do not say #ProjectAtlas yet.",
            "“#ProjectAtlas”",
        ),
        ("Our Q3 revenue is up!", "Figures stay internal.", "“Q3 revenue”"),
    ],
)
def test_an_example_with_a_watched_term_is_refused_naming_it(
    client, employee, comms, text, reason, named
):
    watch_term(text="Project Atlas")
    watch_term(kind="pattern", text=r"\bQ[1-4] revenue\b", name="Unpublished figures")
    review = _answered(employee, comms)
    client.force_login(comms)
    response = client.post(review_url(review, "keep_example"), {"text": text, "reason": reason})
    page = response.content.decode()
    assert response.status_code == 400
    assert "the watch list flags" in page and named in page
    assert "[unreleased product]" in page
    assert not ReviewExample.objects.exists()


def test_a_section_the_policy_does_not_have_is_refused(employee, comms, policy_admin, leader):
    policy = published_policy(policy_admin, leader)
    review = _answered(employee, comms)
    with pytest.raises(PreventionError, match="has no section called “Holidays”"):
        services.keep_example(
            review=review, by=comms, text="[product]", policy=policy, policy_section="Holidays"
        )
    assert not ReviewExample.objects.exists()


def test_a_waiting_review_cannot_be_kept(employee, comms):
    review = ask(employee)
    with pytest.raises(PreventionError, match="Only an answered review"):
        services.keep_example(review=review, by=comms, text="[product] soon")


def test_a_policy_admin_attaches_an_example_to_a_briefing_topic_and_a_section(
    client, employee, comms, policy_admin, leader, django_assert_max_num_queries
):
    policy = published_policy(policy_admin, leader)
    topic = Topic.objects.create(name="Social media basics")
    example = services.keep_example(review=_answered(employee, comms), by=comms, text="[product]")
    client.force_login(policy_admin)
    page = client.get(reverse("prevention:examples")).content.decode()
    assert "[product]" in page and "Confidential information" in page
    # A policy admin does not open reviews: the drafts stay between the author and comms.
    assert client.get(review_url(example.review)).status_code == 404
    response = client.post(
        reverse("prevention:attach_example", args=[example.pk]),
        {
            f"example-{example.pk}-section": f"{policy.pk}:Customers",
            f"example-{example.pk}-topic": topic.pk,
        },
    )
    assert response.status_code == 302
    example.refresh_from_db()
    assert (example.policy, example.policy_section, example.topic) == (policy, "Customers", topic)
    with django_assert_max_num_queries(1):
        page = render_to_string("prevention/examples_for_topic.html", {"topic": topic})
    assert "Talking points: examples from comms" in page and "[product]" in page


@pytest.mark.parametrize("page", ["²", "٣", "9" * 5000, "-1", "2x"])
def test_a_page_number_that_is_not_one_goes_back_to_the_first_page(client, comms, page):
    examples = [
        ReviewExample.objects.create(
            text=f"[product] {n}",
            decision=Status.APPROVED,
            created_by=comms,
            created_at=timezone.now(),
        )
        for n in range(2)
    ]
    client.force_login(comms)
    first = reverse("prevention:examples")
    attach = client.post(
        reverse("prevention:attach_example", args=[examples[0].pk]) + f"?page={page}",
        {f"example-{examples[0].pk}-section": "", f"example-{examples[0].pk}-topic": ""},
    )
    assert (attach.status_code, attach["Location"]) == (302, first)
    remove = client.post(
        reverse("prevention:remove_example", args=[examples[1].pk]) + f"?page={page}"
    )
    assert (remove.status_code, remove["Location"]) == (302, first)
    assert list(ReviewExample.objects.all()) == [examples[0]]


def test_after_removing_an_example_the_same_page_of_examples_is_shown(client, comms):
    example = ReviewExample.objects.create(
        text="[product]", decision=Status.APPROVED, created_by=comms, created_at=timezone.now()
    )
    client.force_login(comms)
    response = client.post(reverse("prevention:remove_example", args=[example.pk]) + "?page=3")
    assert response["Location"] == reverse("prevention:examples") + "?page=3"


@pytest.mark.parametrize("role", ["employee", "hr", "leader"])
def test_only_comms_and_policy_admins_see_and_change_examples(client, request, role, comms):
    example = ReviewExample.objects.create(
        text="[product]", decision=Status.APPROVED, created_by=comms, created_at=timezone.now()
    )
    client.force_login(request.getfixturevalue(role))
    assert client.get(reverse("prevention:examples")).status_code == 403
    assert client.post(reverse("prevention:remove_example", args=[example.pk])).status_code == 403
    assert ReviewExample.objects.exists()


# --- the lists and what they cost -------------------------------------------------------------


def test_sla_reads_due_in_and_late_by():
    now = timezone.now()
    assert sla(now + timedelta(hours=3, minutes=5), now) == ("due in 3 h", False)
    assert sla(now - timedelta(hours=2, minutes=30), now) == ("late by 2 h", True)
    assert sla(now + timedelta(minutes=20), now) == ("due in 20 min", False)
    assert sla(now + timedelta(days=3), now) == ("due in 3 days", False)


def test_the_queue_lists_the_review_due_soonest_first_then_recent_answers(
    client, employee, outsider, comms, other_comms
):
    now = timezone.now()
    later = ask(employee, draft="Later draft", needed_in=timedelta(days=2))
    sooner = ask(outsider, draft="Sooner draft", needed_in=timedelta(hours=3, minutes=5))
    answered = ask(employee, draft="Answered draft")
    services.decide(review=answered, by=other_comms, decision=Status.APPROVED)
    PostReview.objects.filter(pk=sooner.pk).update(needed_by=now - timedelta(hours=2, minutes=5))
    client.force_login(comms)
    page = client.get(reverse("prevention:queue")).content.decode()
    assert page.index("Sooner draft") < page.index("Later draft") < page.index("Answered draft")
    assert "late by 2 h" in page and review_url(later) in page


def _many(person, count: int) -> None:
    now = timezone.now()
    PostReview.objects.bulk_create(
        PostReview(
            requester=person,
            draft=f"Draft {number}",
            needed_by=now + timedelta(hours=number + 1),
            created_at=now,
        )
        for number in range(count)
    )


@pytest.mark.parametrize(
    ("url_name", "who"), [("prevention:queue", "comms"), ("prevention:my_reviews", "employee")]
)
def test_the_review_lists_cost_the_same_for_few_and_many_reviews(
    client, request, employee, comms, make_person, url_name, who, django_assert_max_num_queries
):
    client.force_login(request.getfixturevalue(who))
    _many(employee, 2)
    PostReview.objects.filter(draft="Draft 0").update(
        status=Status.APPROVED, decided_by=comms, decided_at=timezone.now()
    )
    with django_assert_max_num_queries(20) as few:
        client.get(reverse(url_name))
    for _ in range(3):
        _many(make_person(), 10)
    _many(employee, 40)
    PostReview.objects.filter(draft__in=["Draft 1", "Draft 2", "Draft 3"]).update(
        status=Status.APPROVED, decided_by=comms, decided_at=timezone.now()
    )
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get(reverse(url_name)).content.decode()
    assert "Page 1 of" in page


# --- the user menu ----------------------------------------------------------------------------


def _menu(client) -> str:
    page = client.get(reverse("my_tasks")).content.decode()
    return page[page.index('class="dropdown-menu') : page.index("Log out")]


def test_the_user_menu_leads_to_the_watch_list_the_queue_examples_and_sources_by_role(
    client, employee, comms, comms_lead, policy_admin
):
    queue = f'href="{reverse("prevention:queue")}">Post reviews<'
    examples = f'href="{reverse("prevention:examples")}">Post review examples<'
    sources = f'href="{reverse("prevention:sources")}">Intake sources<'
    watch_list = f'href="{reverse("prevention:watchlist")}">Watch list<'
    expected = {
        employee: set(),
        comms: {watch_list, queue, sources},
        comms_lead: {watch_list, queue, sources},
        policy_admin: {watch_list, examples},
    }
    for person, links in expected.items():
        client.force_login(person)
        menu = _menu(client)
        shown = {link for link in (watch_list, queue, examples, sources) if link in menu}
        assert shown == links, person


def test_the_examples_page_costs_the_same_for_few_and_many_examples(
    client, comms, policy_admin, leader, django_assert_max_num_queries
):
    published_policy(policy_admin, leader)
    topic = Topic.objects.create(name="Social media basics")

    def keep(count: int) -> None:
        ReviewExample.objects.bulk_create(
            ReviewExample(
                text=f"Example {number}",
                decision=Status.APPROVED,
                topic=topic,
                created_by=comms,
                created_at=timezone.now(),
            )
            for number in range(count)
        )

    keep(2)
    client.force_login(policy_admin)
    with django_assert_max_num_queries(20) as few:
        client.get(reverse("prevention:examples"))
    keep(45)
    Topic.objects.create(name="Speaking to the press")
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get(reverse("prevention:examples")).content.decode()
    assert "Page 1 of 3" in page
    assert page.count('<option value="' + str(topic.pk) + '" selected>') == 20
