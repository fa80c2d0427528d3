"""/scim/v2/: the SCIM 2.0 service provider (see scim/views.py)."""

from django.urls import path, re_path

from scim import views

app_name = "scim"

urlpatterns = [
    # Optional parts of SCIM that PolicyHub does not offer: 501, as RFC 7644 asks.
    re_path(r"^(?P<rest>Bulk|Me|\.search|Users/\.search|Groups/\.search)$", views.not_supported),
    path("ServiceProviderConfig", views.service_provider_config, name="service_provider_config"),
    path("ResourceTypes", views.resource_types, name="resource_types"),
    path("ResourceTypes/<str:resource_id>", views.resource_types, name="resource_type"),
    path("Schemas", views.schemas_endpoint, name="schemas"),
    path("Schemas/<str:resource_id>", views.schemas_endpoint, name="schema"),
    path("Users", views.users_endpoint, name="users"),
    path("Users/<str:resource_id>", views.user_endpoint, name="user"),
    path("Groups", views.groups_endpoint, name="groups"),
    path("Groups/<str:resource_id>", views.group_endpoint, name="group"),
    re_path(r"^(?P<rest>.*)$", views.unknown_endpoint),
]
