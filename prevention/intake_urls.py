"""Intake sources (comms) under /prevention/sources/, and the signed webhook that
social-listening tools post to, /prevention/intake/<slug>/."""

from django.urls import path

from prevention import intake_views as views

urlpatterns = [
    path("sources/", views.sources, name="sources"),
    path("sources/new/", views.source_add, name="source_add"),
    path("sources/<int:pk>/", views.source_detail, name="source_detail"),
    path("sources/<int:pk>/edit/", views.source_edit, name="source_edit"),
    path("sources/<int:pk>/deactivate/", views.source_deactivate, name="source_deactivate"),
    path("sources/<int:pk>/activate/", views.source_activate, name="source_activate"),
    path("sources/<int:pk>/fetch/", views.source_fetch, name="source_fetch"),
    path("sources/<int:pk>/secret/", views.source_secret, name="source_secret"),
    path("intake/<slug:slug>/", views.intake_webhook, name="intake_webhook"),
]
