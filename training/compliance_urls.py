"""Requirement compliance pages, under /training/compliance/ in the `training` namespace."""

from django.urls import path

from training import compliance_views as views

urlpatterns = [
    path("", views.compliance, name="compliance"),
    path("<int:pk>/", views.compliance_requirement, name="compliance_requirement"),
    path("<int:pk>/export.csv", views.compliance_csv, name="compliance_csv"),
    path("<int:pk>/invite/", views.compliance_invite, name="compliance_invite"),
]
