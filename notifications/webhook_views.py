"""Outgoing webhooks' pages, for site admins: the subscriptions (paged, with their last
delivery), add one (its secret is shown once), edit, a new secret, delete, and a
subscription's deliveries with the failed ones sent again.

Views are thin: `roles.is_site_admin` decides who comes in, the forms read the input,
`notifications.webhooks` makes the change. A secret is shown on the page that answers
the request that made it only, never stored in the session, never cached.
"""

from django.contrib import messages
from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from notifications import webhooks
from notifications.errors import NotificationError
from notifications.forms import WebhookSubscriptionForm
from notifications.models import WebhookDelivery, WebhookSubscription
from people import roles
from policyhub.paging import page_of

site_admins_only = roles.role_required(roles.is_site_admin)

SUBSCRIPTIONS_PER_PAGE = 25
DELIVERIES_PER_PAGE = 25
Status = WebhookDelivery.Status


def _subscription_for(pk: int) -> WebhookSubscription:
    return get_object_or_404(WebhookSubscription, pk=pk)


def _failed_count():
    failed = (
        WebhookDelivery.objects.filter(subscription=OuterRef("pk"), status=Status.FAILED)
        .order_by()
        .values("subscription")
        .annotate(count=Count("pk"))
        .values("count")
    )
    return Coalesce(Subquery(failed, output_field=IntegerField()), 0)


@site_admins_only
@require_safe
def subscriptions(request):
    listed = (
        WebhookSubscription.objects.defer("secret")
        .annotate(failed_count=_failed_count())
        .order_by("-active", "name", "pk")
    )
    return render(
        request,
        "notifications/webhooks.html",
        {
            "page": page_of(request, listed, per_page=SUBSCRIPTIONS_PER_PAGE),
            "events": webhooks.EVENTS,
        },
    )


def _secret_page(request, subscription: WebhookSubscription, secret: str, *, new: bool):
    response = render(
        request,
        "notifications/webhook_secret.html",
        {"subscription": subscription, "secret": secret, "new": new},
    )
    # The secret is on this page only: no browser or proxy may keep a copy.
    response["Cache-Control"] = "no-store"
    return response


@site_admins_only
@require_http_methods(["GET", "HEAD", "POST"])
def subscription_add(request):
    form = WebhookSubscriptionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            subscription, secret = webhooks.create_subscription(
                name=data["name"],
                url=data["url"],
                events=data["events"],
                active=data["active"],
                by=request.user,
            )
        except NotificationError as error:
            form.add_error(None, str(error))
        else:
            return _secret_page(request, subscription, secret, new=True)
    return render(request, "notifications/webhook_form.html", {"form": form, "subscription": None})


@site_admins_only
@require_safe
def subscription_detail(request, pk: int):
    subscription = _subscription_for(pk)
    deliveries = WebhookDelivery.objects.filter(subscription=subscription).defer("data")
    shown = request.GET.get("status", "")
    if shown in Status.values:
        deliveries = deliveries.filter(status=shown)
    else:
        shown = ""
    return render(
        request,
        "notifications/webhook_detail.html",
        {
            "subscription": subscription,
            "events": [webhooks.event_label(event) for event in subscription.events],
            "page": page_of(
                request,
                deliveries.order_by("-created_at", "-id"),
                per_page=DELIVERIES_PER_PAGE,
                anchor="deliveries",
            ),
            "statuses": Status.choices,
            "shown": shown,
        },
    )


@site_admins_only
@require_http_methods(["GET", "HEAD", "POST"])
def subscription_edit(request, pk: int):
    subscription = _subscription_for(pk)
    form = WebhookSubscriptionForm(request.POST or None, subscription=subscription)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            webhooks.update_subscription(
                subscription=subscription,
                name=data["name"],
                url=data["url"],
                events=data["events"],
                active=data["active"],
            )
        except NotificationError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("“%(name)s” is saved.") % {"name": subscription.name})
            return redirect("notifications:webhook", subscription.pk)
    return render(
        request,
        "notifications/webhook_form.html",
        {"form": form, "subscription": subscription},
    )


@site_admins_only
@require_POST
def subscription_secret(request, pk: int):
    subscription = _subscription_for(pk)
    secret = webhooks.rotate_secret(subscription=subscription)
    return _secret_page(request, subscription, secret, new=False)


@site_admins_only
@require_http_methods(["GET", "HEAD", "POST"])
def subscription_delete(request, pk: int):
    subscription = _subscription_for(pk)
    if request.method == "POST":
        webhooks.delete_subscription(subscription=subscription)
        messages.success(request, _("“%(name)s” is deleted.") % {"name": subscription.name})
        return redirect("notifications:webhooks")
    return render(request, "notifications/webhook_delete.html", {"subscription": subscription})


@site_admins_only
@require_POST
def delivery_resend(request, pk: int, delivery_pk: int):
    subscription = _subscription_for(pk)
    delivery = get_object_or_404(WebhookDelivery, pk=delivery_pk, subscription=subscription)
    try:
        webhooks.resend(delivery=delivery)
    except NotificationError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("The delivery is back in the outbox and goes out now."))
    return redirect("notifications:webhook", subscription.pk)
