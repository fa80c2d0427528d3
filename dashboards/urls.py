from django.urls import path

from dashboards import compliance_views, remediation_views, team_views, views

app_name = "dashboards"
urlpatterns = [
    path("", views.index, name="index"),
    # My team: a line manager's direct and indirect reports, with a nudge.
    path("team/", team_views.team, name="team"),
    path("team/<int:pk>/", team_views.member, name="team_member"),
    path("team/<int:pk>/nudge/", team_views.nudge, name="team_nudge"),
    path("team/export.csv", team_views.team_csv, name="team_csv"),
    # Remediation: incident figures; each figure links to its rows.
    path("remediation/", remediation_views.remediation_page, name="remediation"),
    path("remediation/incidents/", remediation_views.incidents, name="remediation_incidents"),
    path("remediation/actions/", remediation_views.actions, name="remediation_actions"),
    path("remediation/<slug:table>.csv", remediation_views.table_csv, name="remediation_csv"),
    # Compliance: acknowledgements by policy and department, training coverage, trends.
    path("compliance/", compliance_views.compliance, name="compliance"),
    path("compliance/people/", compliance_views.people, name="compliance_people"),
    path("compliance/<slug:table>.csv", compliance_views.table_csv, name="compliance_csv"),
]
