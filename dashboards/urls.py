from django.urls import path

from dashboards import remediation_views, views

app_name = "dashboards"
urlpatterns = [
    path("", views.index, name="index"),
    # Remediation: incident figures; each figure links to its rows.
    path("remediation/", remediation_views.remediation_page, name="remediation"),
    path("remediation/incidents/", remediation_views.incidents, name="remediation_incidents"),
    path("remediation/actions/", remediation_views.actions, name="remediation_actions"),
    path("remediation/<slug:table>.csv", remediation_views.table_csv, name="remediation_csv"),
]
