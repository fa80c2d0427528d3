"""SCIM clients in the Django admin, for site admins only: make one (its token is shown
once, on the page that follows, and never again), allow it to assign roles or not, and
revoke it. Identities (externalIds) can be read, never changed."""

from django.conf import settings
from django.contrib import admin, messages
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from scim import services
from scim.models import ScimClient, ScimIdentity


class SiteAdminsOnly:
    """Superusers only, whatever model permissions a staff member has: a SCIM token
    changes the whole directory."""

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_add_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_change_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ScimClient)
class ScimClientAdmin(SiteAdminsOnly, admin.ModelAdmin):
    list_display = (
        "name",
        "prefix",
        "may_assign_roles",
        "created_at",
        "last_used_at",
        "revoked_at",
    )
    list_filter = ("may_assign_roles",)
    search_fields = ("name", "prefix")
    actions = ("revoke",)
    # Never the token's hash: nothing here helps to find or test a token.
    readonly_fields = (
        "prefix",
        "created_by",
        "created_at",
        "last_used_at",
        "revoked_at",
        "revoked_by",
    )

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("name", "may_assign_roles")
        return ("name", "may_assign_roles", *self.readonly_fields)

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        client, token = services.create_client(
            name=obj.name, may_assign_roles=obj.may_assign_roles, by=request.user
        )
        obj.pk, obj.prefix = client.pk, client.prefix
        obj._state.adding = False
        request._scim_token = token

    def response_add(self, request, obj, post_url_continue=None):
        # The token is in this response only (which the admin never caches): never stored,
        # never in a redirect's session or a message.
        return TemplateResponse(
            request,
            "admin/scim/scimclient/token_created.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "client": obj,
                "token": request._scim_token,
                "scim_url": settings.SITE_URL + reverse("scim:users").rsplit("/", 1)[0],
                "title": _("Token for %(name)s") % {"name": obj.name},
            },
        )

    @admin.action(description=gettext_lazy("Revoke the selected clients' tokens"))
    def revoke(self, request, queryset):
        revoked = 0
        for client in queryset.filter(revoked_at__isnull=True):
            try:
                services.revoke_client(client=client, by=request.user)
            except services.ClientError as error:
                self.message_user(request, str(error), messages.ERROR)
            else:
                revoked += 1
        self.message_user(
            request,
            _("%(count)s token(s) revoked: requests with them are refused from now on.")
            % {"count": revoked},
        )


@admin.register(ScimIdentity)
class ScimIdentityAdmin(SiteAdminsOnly, admin.ModelAdmin):
    list_display = ("person", "client", "external_id", "updated_at")
    list_select_related = ("person", "client")
    search_fields = ("person__email", "person__full_name", "external_id")
    fields = ("person", "client", "external_id", "given_name", "family_name", "updated_at")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False
