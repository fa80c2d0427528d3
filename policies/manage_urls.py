"""Policy admin pages, mounted at /policies/manage/ in the `policies` namespace."""

from django.urls import path

from policies import manage_compliance_views as compliance
from policies import manage_translation_views as translations
from policies import manage_views as views

urlpatterns = [
    path("", views.manage_index, name="manage_index"),
    path("new/", views.manage_create, name="manage_create"),
    path("<int:pk>/", views.manage_policy, name="manage_policy"),
    path("<int:pk>/edit/", views.manage_edit_policy, name="manage_edit_policy"),
    path("<int:pk>/draft/", views.manage_new_draft, name="manage_new_draft"),
    path("<int:pk>/diff/", views.manage_diff, name="manage_diff"),
    path("versions/<int:pk>/", views.manage_version, name="manage_version"),
    path("versions/<int:pk>/edit/", views.manage_edit_draft, name="manage_edit_draft"),
    path("versions/<int:pk>/compliance/", compliance.manage_compliance, name="manage_compliance"),
    path(
        "versions/<int:pk>/compliance/csv/",
        compliance.manage_compliance_csv,
        name="manage_compliance_csv",
    ),
    path("versions/<int:pk>/remind/", compliance.manage_remind, name="manage_remind"),
    path(
        "versions/<int:pk>/declines/<int:decline_pk>/reopen/",
        compliance.manage_reopen_decline,
        name="manage_reopen_decline",
    ),
    path("versions/<int:pk>/on-behalf/", compliance.manage_on_behalf, name="manage_on_behalf"),
    path(
        "versions/<int:pk>/translations/new/",
        translations.manage_add_translation,
        name="manage_add_translation",
    ),
    path(
        "versions/<int:pk>/translations/<str:language>/",
        translations.manage_edit_translation,
        name="manage_edit_translation",
    ),
    path(
        "versions/<int:pk>/translations/<str:language>/remove/",
        translations.manage_remove_translation,
        name="manage_remove_translation",
    ),
    # The workflow buttons (submit, return, approve, publish, schedule, retire): after the
    # fixed paths above, so that "edit" or "remind" is never taken for an action.
    path("versions/<int:pk>/<str:action>/", views.manage_transition, name="manage_transition"),
]
