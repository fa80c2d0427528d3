from django.contrib import admin
from django.urls import include, path

from dashboards.views import my_tasks
from monitoring.views import healthz

urlpatterns = [
    path("", my_tasks, name="my_tasks"),
    path("healthz", healthz, name="healthz"),
    path("accounts/", include("people.sso_urls")),  # single sign-on: before auth_urls
    path("accounts/", include("people.auth_urls")),
    path("accounts/two-factor/", include("people.two_factor_urls")),
    path("people/", include("people.urls")),
    path("policies/", include("policies.urls")),
    path("training/", include("training.urls")),
    path("incidents/", include("incidents.urls")),
    path("dashboards/", include("dashboards.urls")),
    path("prevention/", include("prevention.urls")),
    path("api/", include("api.urls")),
    path("scim/v2/", include("scim.urls")),
    path("notifications/", include("notifications.urls")),
    path("evidence/", include("evidence.urls")),
    path("admin/", admin.site.urls),
]

admin.site.site_header = "PolicyHub administration"
admin.site.site_title = "PolicyHub"
