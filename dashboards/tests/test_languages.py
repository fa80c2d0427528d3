"""The dashboards in the reader's language (issue 13.2). These read the compiled
catalogs: they pass once locale/parts/dashboards.json is merged (scripts/i18n.py)."""

from django.urls import reverse


def test_my_tasks_speaks_german_to_a_german_reader(client, employee):
    employee.language = "de"
    employee.save()
    client.force_login(employee)
    html = client.get(reverse("my_tasks")).content.decode()
    assert "Sie haben gerade nichts zu erledigen." in html
    assert "You have nothing to do right now." not in html


def test_compliance_dashboard_speaks_french_to_a_french_reader(client, policy_admin):
    policy_admin.language = "fr"
    policy_admin.save()
    client.force_login(policy_admin)
    html = client.get(reverse("dashboards:compliance")).content.decode()
    assert "Accusés de lecture par politique et par service" in html
    assert "Les 12 derniers mois" in html
    assert "Acknowledgements by policy and department" not in html
