import re

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_login_page_uses_the_product_words(client):
    page = client.get(reverse("login")).content.decode()
    assert re.search(r"<label[^>]*>\s*Email", page)
    assert re.search(r'<input type="email" name="username"', page)
    assert re.search(r"<label[^>]*>\s*Password", page)
    assert 'value="Log in"' in page


def test_login_by_email_lands_on_my_tasks(client, employee):
    response = client.post(
        reverse("login"),
        {"username": "Employee@Example.com", "password": "correct-horse-battery"},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == reverse("my_tasks")
    assert "My tasks" in response.content.decode()


def test_wrong_password_is_refused_with_a_message(client, employee):
    response = client.post(
        reverse("login"), {"username": "employee@example.com", "password": "nope"}
    )
    assert response.status_code == 200
    assert "Please enter a correct email and password" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_inactive_person_cannot_log_in(client, employee):
    employee.is_active = False
    employee.save()
    client.post(
        reverse("login"), {"username": "employee@example.com", "password": "correct-horse-battery"}
    )
    assert "_auth_user_id" not in client.session


def test_logout_needs_post_and_ends_the_session(client, employee):
    client.force_login(employee)
    assert client.get(reverse("logout")).status_code == 405
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get(reverse("my_tasks")).status_code == 302


def _reset_link(message) -> str:
    match = re.search(re.escape(settings.SITE_URL) + r"(/accounts/reset/\S+/)", message.body)
    assert match, message.body
    return match.group(1)


def test_password_reset_mails_an_absolute_link_that_sets_a_new_password(client, employee, settings):
    settings.SITE_URL = "https://policyhub.example.com"
    response = client.post(reverse("password_reset"), {"email": "EMPLOYEE@example.com"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["employee@example.com"]
    assert message.subject == "Reset your PolicyHub password"
    assert message.alternatives and message.alternatives[0].mimetype == "text/html"
    link = _reset_link(message)
    form_page = client.get(link, follow=True)
    set_url = form_page.redirect_chain[-1][0]
    done = client.post(
        set_url, {"new_password1": "a-brand-new-pass-42", "new_password2": "a-brand-new-pass-42"}
    )
    assert done.status_code == 302
    employee.refresh_from_db()
    assert employee.check_password("a-brand-new-pass-42")


def test_imported_person_without_password_can_set_one_by_reset(client, make_person):
    person = make_person(email="new.joiner@example.com")
    person.set_unusable_password()
    person.save()
    client.post(reverse("password_reset"), {"email": "new.joiner@example.com"})
    assert len(mail.outbox) == 1


def test_reset_for_unknown_or_inactive_address_sends_nothing_and_says_the_same(client, employee):
    employee.is_active = False
    employee.save()
    for email in ("employee@example.com", "nobody@example.com"):
        response = client.post(reverse("password_reset"), {"email": email}, follow=True)
        assert "Check your email" in response.content.decode()
    assert mail.outbox == []


def test_reset_mail_goes_through_the_configured_backend(settings, tmp_path, client, employee):
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = tmp_path
    client.post(reverse("password_reset"), {"email": "employee@example.com"})
    files = list(tmp_path.iterdir())
    assert len(files) == 1
    assert "Reset your PolicyHub password" in files[0].read_text()


def test_used_reset_link_is_refused(client, employee):
    client.post(reverse("password_reset"), {"email": "employee@example.com"})
    link = _reset_link(mail.outbox[0])
    set_url = client.get(link, follow=True).redirect_chain[-1][0]
    client.post(set_url, {"new_password1": "another-pass-77x", "new_password2": "another-pass-77x"})
    client.logout()
    again = client.get(link, follow=True)
    assert "already been used or has expired" in again.content.decode()
    assert get_user_model().objects.get(pk=employee.pk).check_password("another-pass-77x")


def test_plain_text_reset_mail_does_not_html_escape_names(client, make_person):
    make_person(email="obrien@example.com", full_name="Siobhan O'Brien & Co")
    client.post(reverse("password_reset"), {"email": "obrien@example.com"})
    assert "Hello Siobhan O'Brien & Co," in mail.outbox[0].body
    assert "O&#x27;Brien &amp; Co" in mail.outbox[0].alternatives[0].content
