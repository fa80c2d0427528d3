import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from people.models import User

pytestmark = pytest.mark.django_db

URL = reverse("people:import")
HEADER = "email,full_name,department,manager_email,job_title\n"


def _csv(text: str, name: str = "hr-export.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(), content_type="text/csv")


def _preview(client, text, **extra):
    return client.post(URL, {"action": "preview", "file": _csv(text), **extra})


@pytest.mark.parametrize("role", ["employee", "manager", "comms", "hr", "leader", "outsider"])
def test_import_page_is_refused_to_other_roles(client, request, role):
    client.force_login(request.getfixturevalue(role))
    assert client.get(URL).status_code == 403
    assert client.post(URL, {"action": "preview"}).status_code == 403


@pytest.mark.parametrize("role", ["site_admin", "policy_admin"])
def test_site_and_policy_admins_can_import(client, request, role):
    client.force_login(request.getfixturevalue(role))
    page = client.get(URL)
    assert page.status_code == 200
    assert "HR export (CSV)" in page.content.decode()


def test_preview_lists_changes_and_changes_nothing_then_apply_imports(client, policy_admin):
    client.force_login(policy_admin)
    before = User.objects.count()
    text = HEADER + (
        "zoe@example.com,Zoe Park,Sales,yan@example.com,Rep\n"
        "yan@example.com,Yan Li,Sales,,Head of Sales\n"
        "policyadmin@example.com,Priya Shah,Policy,,Policy Manager\n"
    )
    preview = _preview(client, text)
    page = preview.content.decode()
    assert "Dry run of hr-export.csv: nothing has changed yet" in page
    assert "2 to create, 1 to update, 0 to deactivate" in page
    assert "zoe@example.com" in page and "Apply this import" in page
    assert User.objects.count() == before
    digest = preview.context["preview"]["digest"]

    applied = client.post(URL, {"action": "apply", "digest": digest}, follow=True)
    assert "Imported hr-export.csv: 2 created, 1 updated, 0 deactivated" in applied.content.decode()
    zoe = User.objects.get(email="zoe@example.com")
    assert zoe.manager.email == "yan@example.com" and zoe.department.name == "Sales"
    assert not zoe.has_usable_password()  # they set one through "Forgotten your password"
    policy_admin.refresh_from_db()
    assert policy_admin.job_title == "Policy Manager"


def test_bad_rows_are_listed_with_line_numbers_and_nothing_is_imported(client, site_admin):
    client.force_login(site_admin)
    text = HEADER + (
        "good@example.com,Good Person,Sales,,Rep\n"
        "not-an-email,Bad Email,Sales,,Rep\n"
        "lost@example.com,Lost,Sales,ghost@example.com,Rep\n"
    )
    page = _preview(client, text).content.decode()
    assert "Nothing was imported: 2 errors" in page
    assert "Line 3:" in page and "Line 4:" in page
    assert "Apply this import" not in page
    assert not User.objects.filter(email="good@example.com").exists()


def test_apply_without_a_preview_changes_nothing(client, site_admin):
    client.force_login(site_admin)
    response = client.post(URL, {"action": "apply", "digest": "forged"}, follow=True)
    assert "That preview is no longer available" in response.content.decode()
    assert User.objects.count() == 1


def test_apply_checks_the_file_again_against_the_directory(client, site_admin, make_person):
    client.force_login(site_admin)
    make_person(email="boss@example.com")
    preview = _preview(client, HEADER + "new@example.com,New,Sales,boss@example.com,Rep\n")
    digest = preview.context["preview"]["digest"]
    User.objects.filter(email="boss@example.com").delete()  # the manager left meanwhile
    page = client.post(URL, {"action": "apply", "digest": digest}).content.decode()
    assert "Nothing was imported" in page and "neither in this file nor in the directory" in page
    assert not User.objects.filter(email="new@example.com").exists()


def test_a_file_that_is_not_csv_is_refused(client, site_admin):
    client.force_login(site_admin)
    response = client.post(
        URL, {"action": "preview", "file": SimpleUploadedFile("people.xlsx", b"PK\x03\x04")}
    )
    assert "Upload a .csv file" in response.content.decode()


def test_deactivate_missing_is_previewed_and_applied(client, site_admin, make_person):
    client.force_login(site_admin)
    make_person(email="leaver@example.com", full_name="Lee Leaver")
    preview = _preview(
        client, HEADER + "stay@example.com,Stay,Sales,,Rep\n", deactivate_missing="on"
    )
    page = preview.content.decode()
    assert "1 to create, 0 to update, 1 to deactivate" in page and "Lee Leaver" in page
    client.post(URL, {"action": "apply", "digest": preview.context["preview"]["digest"]})
    assert not User.objects.get(email="leaver@example.com").is_active
    assert User.objects.get(email="admin@example.com").is_active  # site admins are kept


@pytest.mark.parametrize("role", ["employee", "manager", "comms"])
def test_apply_is_refused_to_other_roles(client, request, role, site_admin):
    client.force_login(site_admin)
    preview = _preview(client, HEADER + "new@example.com,New,Sales,,Rep\n")
    digest = preview.context["preview"]["digest"]
    client.force_login(request.getfixturevalue(role))
    assert client.post(URL, {"action": "apply", "digest": digest}).status_code == 403
    assert not User.objects.filter(email="new@example.com").exists()


def test_apply_refuses_when_it_would_now_do_more_than_the_preview(client, site_admin, make_person):
    client.force_login(site_admin)
    preview = _preview(
        client, HEADER + "stay@example.com,Stay,Sales,,Rep\n", deactivate_missing="on"
    )
    assert "0 to deactivate" in preview.content.decode()
    newcomer = make_person(email="newcomer@example.com")  # arrives after the preview
    page = client.post(URL, {"action": "apply", "digest": preview.context["preview"]["digest"]})
    assert "The directory changed since the preview" in page.content.decode()
    newcomer.refresh_from_db()
    assert newcomer.is_active
    assert not User.objects.filter(email="stay@example.com").exists()


def test_the_previewed_file_is_kept_on_disk_not_in_the_session(client, site_admin, settings):
    client.force_login(site_admin)
    preview = _preview(client, HEADER + "new@example.com,New,Sales,,Rep\n")
    stored = client.session["people_import_preview"]
    assert "content" not in stored
    path = settings.VAR_DIR / "imports" / f"{stored['digest']}.csv"
    assert path.read_text().startswith("email,full_name")
    client.post(URL, {"action": "apply", "digest": preview.context["preview"]["digest"]})
    assert not path.exists()
