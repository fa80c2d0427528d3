"""The evidence pages in the reader's language (issue 13.2). They read the compiled
catalogs: they pass once locale/parts/dashboards.json is merged (scripts/i18n.py)."""

from django.urls import reverse


def test_check_a_document_speaks_french_to_a_french_reader(client, employee):
    employee.language = "fr"
    employee.save()
    client.force_login(employee)
    html = client.get(reverse("evidence:verify")).content.decode()
    assert "Vérifier un document" in html
    assert "Check a document" not in html


def test_issued_documents_speaks_german_to_a_german_reader(client, policy_admin):
    policy_admin.language = "de"
    policy_admin.save()
    client.force_login(policy_admin)
    html = client.get(reverse("evidence:issued")).content.decode()
    assert "Ausgestellte Dokumente" in html
