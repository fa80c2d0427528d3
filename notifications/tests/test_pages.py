import pytest
from django.urls import reverse

from notifications.models import Notification, OptOut, Preference
from notifications.services import plan_due

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("example_kinds")]
URL = reverse("notifications:preferences")
OUTBOX = reverse("admin:notifications_notification_changelist")


def test_preferences_page_shows_choices_and_says_mandatory_ones_stay_on(client, employee):
    client.force_login(employee)
    page = client.get(URL).content.decode()
    assert "One daily digest at 09:00 on working days" in page
    assert "Each reminder as it comes" in page
    assert "Mandatory reminders cannot be switched off" in page
    assert "Your directory profile has no job title" in page  # a mandatory kind, listed
    assert 'value="example-optional-tip"' in page and "checked" in page  # optional, on
    assert 'value="example-profile-incomplete"' not in page  # no checkbox for mandatory


def test_saving_preferences(client, employee):
    client.force_login(employee)
    response = client.post(
        URL, {"channel": "email", "delivery": "immediate", "receive": []}, follow=True
    )
    assert "Your reminder preferences are saved." in response.content.decode()
    assert Preference.objects.get(user=employee).delivery == "immediate"
    assert list(OptOut.objects.filter(user=employee).values_list("kind", flat=True)) == [
        "example-optional-tip"
    ]
    client.post(
        URL, {"channel": "email", "delivery": "digest", "receive": ["example-optional-tip"]}
    )
    assert not OptOut.objects.filter(user=employee).exists()


def test_a_mandatory_kind_cannot_be_smuggled_off(client, employee):
    client.force_login(employee)
    response = client.post(
        URL,
        {"channel": "email", "delivery": "digest", "receive": ["example-profile-incomplete"]},
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not Preference.objects.exists()


def test_bad_delivery_value_changes_nothing(client, employee):
    client.force_login(employee)
    response = client.post(URL, {"channel": "email", "delivery": "carrier-pigeon"})
    assert "Select a valid choice" in response.content.decode()
    assert not Preference.objects.exists()


def test_everyone_finds_preferences_in_the_user_menu(client, employee):
    client.force_login(employee)
    assert "Reminder preferences" in client.get(reverse("my_tasks")).content.decode()


@pytest.mark.parametrize("role", ["employee", "manager", "comms", "hr", "policy_admin", "leader"])
def test_outbox_is_only_for_site_admins(client, request, role):
    client.force_login(request.getfixturevalue(role))
    response = client.get(OUTBOX)
    assert response.status_code == 302 and "/admin/login/" in response.url


def test_site_admin_filters_the_outbox_and_resends_a_failed_row(client, site_admin, make_person):
    make_person(job_title="", location="x")
    make_person(job_title="", location="x")
    plan_due()
    failed, other = Notification.objects.exclude(recipient=site_admin)
    Notification.objects.filter(pk=failed.pk).update(status="failed", last_error="550 No such user")
    client.force_login(site_admin)
    page = client.get(OUTBOX, {"status__exact": "failed"}).content.decode()
    assert f'value="{failed.pk}"' in page and f'value="{other.pk}"' not in page
    response = client.post(
        OUTBOX,
        {"action": "resend_failed", "_selected_action": [failed.pk, other.pk]},
        follow=True,
    )
    text = response.content.decode()
    assert "1 put back in the outbox." in text
    assert "1 skipped: only failed reminders can be resent." in text
    failed.refresh_from_db()
    assert failed.status == "planned" and failed.attempts == 0


def test_outbox_list_query_count_does_not_grow(
    client, site_admin, make_person, django_assert_max_num_queries
):
    client.force_login(site_admin)
    for _ in range(3):
        make_person(job_title="", location="x")
    plan_due()
    with django_assert_max_num_queries(12) as few:
        client.get(OUTBOX)
    for _ in range(40):
        make_person(job_title="", location="x")
    plan_due()
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(OUTBOX)
