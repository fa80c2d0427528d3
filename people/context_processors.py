from django.urls import reverse

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
        ("My tasks", "my_tasks", True),
        ("Policies", "policies:index", True),
        ("Training", "training:index", True),
        ("Incidents", "incidents:index", True),
        ("Dashboards", "dashboards:index", roles.can_see_dashboards(user)),
        ("Check a post", "prevention:check", True),
    ]
    nav_items = []
    for label, url_name, visible in items:
        if not visible:
            continue
        url = reverse(url_name)
        active = path == url if url == "/" else path.startswith(url)
        nav_items.append({"label": label, "url": url, "active": active})
    user_menu = [
        {"label": "Reminder preferences", "url": reverse("notifications:preferences")},
        {"label": "Two-factor sign-in", "url": reverse("two_factor:manage")},
    ]
    if roles.is_policy_admin(user):
        user_menu += [
            {"label": "Manage policies", "url": reverse("policies:manage_index")},
            {"label": "Manage training", "url": reverse("training:manage_index")},
        ]
    if roles.is_policy_admin(user) or roles.is_leadership(user) or roles.is_line_manager(user):
        user_menu.append({"label": "Training compliance", "url": reverse("training:compliance")})
    if can_manage_watch_list(user):
        user_menu.append({"label": "Watch list", "url": reverse("prevention:watchlist")})
    if can_review_posts(user):
        user_menu.append({"label": "Post reviews", "url": reverse("prevention:queue")})
    elif can_keep_examples(user):
        user_menu.append({"label": "Post review examples", "url": reverse("prevention:examples")})
    if can_manage_sources(user):
        user_menu.append({"label": "Intake sources", "url": reverse("prevention:sources")})
    if roles.can_import_people(user):
        user_menu.append({"label": "Import people", "url": reverse("people:import")})
    if roles.is_site_admin(user):
        user_menu += [
            {"label": "Outbox", "url": reverse("admin:notifications_notification_changelist")},
            {"label": "Sent mail", "url": reverse("notifications:mailbox")},
            {"label": "Outgoing webhooks", "url": reverse("notifications:webhooks")},
            {"label": "Verify acknowledgements", "url": reverse("policies:verify")},
            {"label": "API tokens", "url": reverse("api:tokens")},
            {"label": "Django admin", "url": reverse("admin:index")},
        ]
    return {"nav_items": nav_items, "user_menu": user_menu, "user_roles": roles.role_labels(user)}
