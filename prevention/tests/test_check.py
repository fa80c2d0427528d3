"""Check a post: what the page shows, what it refuses, and that it keeps nothing."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.contrib.sessions.models import Session
from django.db import models
from django.urls import reverse
from django.utils import timezone

from notifications.models import Notification
from policies import services as policy_services
from prevention.models import PostReview, ReviewExample
from prevention.tests.factories import watch_term

pytestmark = pytest.mark.django_db

CHECK = reverse("prevention:check")
BODY = "## Confidential information\nDo not name unreleased products.\n\n## Customers\nNever."


def published_policy(owner, approver, *, title="Social media policy", body=BODY):
    policy = policy_services.create_policy(title=title, owner=owner)
    version = policy_services.create_draft(policy=policy, author=owner, body=body)
    policy_services.submit_for_review(version=version, user=owner)
    policy_services.approve(version=version, user=approver)
    policy_services.publish(version=version, user=approver)
    return policy


def _check(client, draft, **fields):
    return client.post(CHECK, {"draft": draft, "action": "check", **fields})


def test_everyone_finds_check_a_post_last_in_the_navigation(client, employee):
    client.force_login(employee)
    page = client.get(reverse("my_tasks")).content.decode()
    nav = page[page.index('aria-label="Main"') : page.index("navbar-nav me-auto") + 2000]
    assert nav.index(">My tasks<") < nav.index(">Incidents<") < nav.index(">Check a post<")
    response = client.get(CHECK)
    assert response.status_code == 200
    page = response.content.decode()
    assert 'aria-current="page">Check a post</a>' in page
    assert "<label" in page and "Draft post" in page
    assert ">Check</button>" in page and ">Ask comms</button>" in page
    assert "Private: the check keeps nothing." in page


def test_a_code_name_is_marked_and_explained_with_its_policy_section(
    client, employee, policy_admin, leader
):
    policy = published_policy(policy_admin, leader)
    watch_term(
        text="Project Atlas",
        explanation="Atlas is the code name of a product we have not announced.",
        policy=policy,
        policy_section="Confidential information",
    )
    client.force_login(employee)
    response = _check(client, "So proud of the team: Project Atlas ships soon!")
    page = response.content.decode()
    assert response.status_code == 200
    assert "1 thing to look at" in page
    assert "Atlas is the code name of a product we have not announced." in page
    # Marked where it stands in the draft, with a label for screen readers.
    assert (
        '<mark class="px-0" id="mark-1" aria-describedby="finding-1">'
        '<span class="visually-hidden">Finding 1, high severity: </span>Project Atlas</mark>'
    ) in page
    section = reverse("policies:detail", args=[policy.slug]) + "#section-confidential-information"
    assert f'href="{section}"' in page
    assert "Social media policy: Confidential information" in page


def test_findings_are_grouped_by_severity_most_severe_first(client, employee):
    watch_term(text="Falcon", severity="low", explanation="Falcon is a supplier's name.")
    watch_term(text="Atlas", severity="critical", explanation="Atlas is unannounced.")
    client.force_login(employee)
    page = _check(client, "Falcon helped us build Atlas.").content.decode()
    assert page.index('id="severity-critical-heading"') < page.index('id="severity-low-heading"')
    # Numbered in the order they appear in the draft.
    assert page.index('id="mark-1"') < page.index("Falcon</mark>") < page.index('id="mark-2"')


def test_the_generic_checks_find_personal_data_and_disclosures(client, employee):
    client.force_login(employee)
    draft = (
        "Call me on +44 20 7946 0958 or write to jo.bloggs@example.com.\n\n"
        "I work at Acme and we're about to launch something big, don't tell anyone!"
    )
    page = _check(client, draft).content.decode()
    assert "jo.bloggs@example.com</mark>" in page
    assert "+44 20 7946 0958</mark>" in page
    assert page.count('<li class="list-group-item" id="finding-') == 3


def test_the_image_text_is_checked_and_the_draft_escaped(client, employee):
    watch_term(text="Atlas")
    client.force_login(employee)
    page = _check(
        client, "<script>alert(1)</script> a & b", image_text="atlas-launch-slide.png"
    ).content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; a &amp; b" in page
    assert "in the image text" in page


def test_a_clean_draft_says_no_problems_found_and_that_it_is_not_a_guarantee(client, employee):
    watch_term(text="Project Atlas")
    client.force_login(employee)
    page = _check(client, "Lovely day for the team picnic in the park.").content.decode()
    assert "No problems found" in page
    assert "It is not a guarantee" in page
    assert "<mark" not in page


def _rows() -> dict[str, int]:
    return {model._meta.label: model.objects.count() for model in apps.get_models()}


def _stored_anywhere(marker: str) -> list[str]:
    """Every text or JSON column of every model that holds `marker`, and sessions."""
    found = []
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if isinstance(field, models.CharField | models.TextField | models.JSONField):
                lookup = f"{field.name}__icontains"
                if isinstance(field, models.JSONField):
                    lookup = f"{field.name}__contains"
                    matches = [
                        obj
                        for obj in model.objects.exclude(**{f"{field.name}__isnull": True})
                        if marker in str(getattr(obj, field.name))
                    ]
                else:
                    matches = model.objects.filter(**{lookup: marker})
                if matches:
                    found.append(f"{model._meta.label}.{field.name}")
    for session in Session.objects.all():
        if marker in str(session.get_decoded()):
            found.append("session")
    return found


def test_the_check_stores_nothing_and_is_not_cached(client, employee, caplog):
    watch_term(text="Project Atlas")
    client.force_login(employee)
    client.get(CHECK)
    before = _rows()
    marker = "Zanzibar-draft-7731"
    draft = f"{marker}: Project Atlas launches next week, mail me at jo@example.com"
    response = _check(client, draft, image_text=f"{marker}.png", platform="linkedin")
    assert response.status_code == 200 and "Project Atlas</mark>" in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    assert _rows() == before
    assert _stored_anywhere(marker) == []
    assert marker not in caplog.text


def test_the_draft_is_never_taken_from_the_address(client, employee):
    watch_term(text="Project Atlas")
    client.force_login(employee)
    page = client.get(CHECK, {"draft": "Project Atlas"}).content.decode()
    assert "<mark" not in page and "No problems found" not in page
    assert "Project Atlas" not in page


@pytest.mark.parametrize(
    ("draft", "message"),
    [
        ("x" * 100_000, "The draft is 100,000 characters long; at most 10,000 can be checked."),
        ("Hello\x00world", "The draft contains a null character"),
        ("   ", "Paste the draft first."),
    ],
)
def test_a_draft_that_cannot_be_checked_gets_a_message_and_nothing_changes(
    client, employee, draft, message
):
    client.force_login(employee)
    client.get(CHECK)
    before = _rows()
    for action in ("check", "ask"):
        response = client.post(CHECK, {"draft": draft, "action": action})
        page = response.content.decode()
        assert response.status_code == 200
        assert message in page
        assert 'id="check-result"' not in page
    assert _rows() == before


def test_a_draft_of_exactly_ten_thousand_characters_is_checked(client, employee):
    client.force_login(employee)
    draft = ("word " * 2000)[:9_999] + "\r\n"  # a line ending counts as one character
    page = _check(client, draft).content.decode()
    assert "No problems found" in page


def test_a_nul_byte_in_the_image_text_is_refused(client, employee):
    client.force_login(employee)
    page = _check(client, "Hello", image_text="a\x00b.png").content.decode()
    assert "The image text contains a null character" in page


def test_recent_examples_are_shown_on_the_check_page(client, employee, comms):
    ReviewExample.objects.create(
        text="Our new product (name taken out) launches on Monday!",
        decision=PostReview.Status.ADVISED_AGAINST,
        reason="The launch date is not public yet.",
        created_by=comms,
        created_at=timezone.now(),
    )
    client.force_login(employee)
    page = client.get(CHECK).content.decode()
    assert "Recent examples from comms" in page
    assert "The launch date is not public yet." in page


def test_asking_comms_keeps_the_draft_and_tells_comms(client, employee, comms):
    watch_term(text="Project Atlas")
    client.force_login(employee)
    response = client.post(
        CHECK, {"draft": "Project Atlas is coming", "platform": "linkedin", "action": "ask"}
    )
    review = PostReview.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("prevention:review", args=[review.pk])
    assert review.requester == employee and review.draft == "Project Atlas is coming"
    assert review.findings[0]["label"] == "Project Atlas"
    assert Notification.objects.filter(kind="post-review-requested", recipient=comms).count() == 1


def test_asking_comms_for_a_time_in_the_past_is_refused_and_the_check_still_shown(
    client, employee, comms
):
    watch_term(text="Project Atlas")
    client.force_login(employee)
    past = timezone.localtime() - timezone.timedelta(hours=2)
    response = client.post(
        CHECK,
        {
            "draft": "Project Atlas is coming",
            "needed_by": past.strftime("%Y-%m-%dT%H:%M"),
            "action": "ask",
        },
    )
    page = response.content.decode()
    assert "That time has passed or is too close" in page
    assert "Project Atlas</mark>" in page
    assert not PostReview.objects.exists() and not Notification.objects.exists()


def test_a_needed_by_time_is_ignored_by_a_plain_check(client, employee):
    client.force_login(employee)
    page = _check(client, "Hello", needed_by="2001-01-01T10:00").content.decode()
    assert "No problems found" in page and "That time has passed" not in page


# --- what an employee sees of the watch list ----------------------------------------------

SECRET_PATTERN = r"\b(?:Globex|Initech)\b (?:deal|contract)"


def test_an_employee_sees_a_patterns_name_never_the_expression(client, employee, comms):
    watch_term(
        kind="pattern",
        text=SECRET_PATTERN,
        name="A customer under a non-disclosure agreement",
        explanation="Customers are named only once they agree to it.",
    )
    client.force_login(employee)
    page = _check(client, "Thrilled we signed the Globex deal today!").content.decode()
    assert "A customer under a non-disclosure agreement" in page
    assert "Globex deal</mark>" in page
    assert "Initech" not in page and "(?:" not in page

    client.post(CHECK, {"draft": "Thrilled we signed the Globex deal today!", "action": "ask"})
    review = PostReview.objects.get()
    assert "Initech" not in str(review.findings)
    for viewer in (employee, comms):
        client.force_login(viewer)
        page = client.get(reverse("prevention:review", args=[review.pk])).content.decode()
        assert "A customer under a non-disclosure agreement" in page
        assert "Initech" not in page and "(?:" not in page


def test_a_plain_term_shows_the_employee_their_own_words_not_the_entry(client, employee):
    # "Fang" is found in "fangs": the entry's own spelling would name it.
    watch_term(text="Fang", explanation="This name is not public yet.")
    watch_term(text="Osprey", name="An unreleased product", explanation="Not announced.")
    client.force_login(employee)
    page = _check(client, "Sharp fangs, sharp team. See you at the osprey stand.").content.decode()
    assert "2 things to look at" in page
    assert "1. fangs</span>" in page
    assert (
        "2. An unreleased product</span>" in page and '“<mark class="px-0">osprey</mark>”' in page
    )
    assert "Fang" not in page and "Osprey" not in page
