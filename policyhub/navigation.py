"""The main navigation and the user menu of every page, by role: the project's own
layer, above the apps whose pages it links to."""

from django.urls import reverse
from django.utils.translation import gettext as _

from people import roles
from prevention.permissions import (
    can_keep_examples,
    can_manage_sources,
    can_manage_watch_list,
    can_review_posts,
)


def navigation(request):
    """The main navigation, in the words of the product, filtered by role."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": [], "user_menu": []}
    path = request.path
    items = [
        (_("My tasks"), "my_tasks", True),
        (_("Policies"), "policies:index", True),
        (_("Training"), "training:index", True),
        (_("Incidents"), "incidents:index", True),
        (_("Dashboards"), "dashboards:index", roles.can_see_dashboards(user)),
        (_("Check a post"), "prevention:check", True),
    ]
    nav_items = []
    for label, url_name, visible in items:
        if not visible:
            continue
        url = reverse(url_name)
        active = path == url if url == "/" else path.startswith(url)
        nav_items.append({"label": label, "url": url, "active": active})
    user_menu = [
        {"label": _("Reminder preferences"), "url": reverse("notifications:preferences")},
        {"label": _("Two-factor sign-in"), "url": reverse("two_factor:manage")},
    ]
    if roles.is_policy_admin(user):
        user_menu += [
            {"label": _("Manage policies"), "url": reverse("policies:manage_index")},
            {"label": _("Manage training"), "url": reverse("training:manage_index")},
        ]
    if roles.is_policy_admin(user) or roles.is_leadership(user) or roles.is_line_manager(user):
        user_menu.append({"label": _("Training compliance"), "url": reverse("training:compliance")})
    if can_manage_watch_list(user):
        user_menu.append({"label": _("Watch list"), "url": reverse("prevention:watchlist")})
    if can_review_posts(user):
        user_menu.append({"label": _("Post reviews"), "url": reverse("prevention:queue")})
    elif can_keep_examples(user):
        user_menu.append(
            {"label": _("Post review examples"), "url": reverse("prevention:examples")}
        )
    if can_manage_sources(user):
        user_menu.append({"label": _("Intake sources"), "url": reverse("prevention:sources")})
    if roles.can_import_people(user):
        user_menu.append({"label": _("Import people"), "url": reverse("people:import")})
    if roles.is_site_admin(user):
        user_menu += [
            {"label": _("Outbox"), "url": reverse("admin:notifications_notification_changelist")},
            {"label": _("Sent mail"), "url": reverse("notifications:mailbox")},
            {"label": _("Outgoing webhooks"), "url": reverse("notifications:webhooks")},
            {"label": _("Verify acknowledgements"), "url": reverse("policies:verify")},
            {"label": _("API tokens"), "url": reverse("api:tokens")},
            {"label": _("Django admin"), "url": reverse("admin:index")},
        ]
    return {"nav_items": nav_items, "user_menu": user_menu, "user_roles": roles.role_labels(user)}
