"""Organiser pages (policy admins), mounted at /training/manage/ in the `training` namespace."""

from django.urls import path

from training import manage_views as views

urlpatterns = [
    path("", views.manage_index, name="manage_index"),
    path("sessions/new/", views.manage_session_new, name="manage_session_new"),
    path("series/new/", views.manage_series_new, name="manage_series_new"),
    path("sessions/<int:pk>/edit/", views.manage_session_edit, name="manage_session_edit"),
    path("sessions/<int:pk>/cancel/", views.manage_session_cancel, name="manage_session_cancel"),
    path("requirements/", views.manage_requirements, name="manage_requirements"),
    path("requirements/new/", views.manage_requirement_new, name="manage_requirement_new"),
    path(
        "requirements/<int:pk>/edit/",
        views.manage_requirement_edit,
        name="manage_requirement_edit",
    ),
    path("topics/", views.manage_topics, name="manage_topics"),
]
