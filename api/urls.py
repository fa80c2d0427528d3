"""/api/: the token page (site admins), the schema and its documentation, and version 1
of the API. The API's views take tokens, not logins (DRF's views are exempt from the
login page and answer 401 in JSON); the documentation page is for logged-in people."""

from django.contrib.auth.decorators import login_required
from django.urls import path

from api import token_views, views

app_name = "api"

urlpatterns = [
    path("tokens/", token_views.tokens, name="tokens"),
    path("tokens/<int:pk>/revoke/", token_views.revoke, name="token_revoke"),
    path("schema/", views.SchemaView.as_view(), name="schema"),
    path("docs/", login_required(views.DocsView.as_view()), name="docs"),
    path("v1/people/", views.PeopleList.as_view(), name="people"),
    path("v1/people/<int:pk>/", views.PersonDetail.as_view(), name="person"),
    path("v1/policies/", views.PolicyList.as_view(), name="policies"),
    path("v1/policies/<int:pk>/", views.PolicyDetail.as_view(), name="policy"),
    path("v1/compliance/policies/", views.PolicyComplianceList.as_view(), name="compliance"),
    path("v1/incidents/", views.IncidentList.as_view(), name="incidents"),
    path("v1/incidents/<int:pk>/", views.IncidentDetail.as_view(), name="incident"),
    path("v1/acknowledgements/on-behalf/", views.OnBehalf.as_view(), name="on_behalf"),
]
