"""Intake's pages (comms): the sources with the failing ones first, a source with the
posts it matched, add, edit, deactivate and reactivate, "Fetch now" for a feed and
"New secret" for a webhook; and the signed webhook social-listening tools post to.

Views are thin: `prevention.permissions.can_manage_sources` decides who comes in, the
forms read the input, `prevention.intake` makes the change; a refusal becomes a form
error or a message and nothing changes. A webhook secret is shown once, on the page
that answers the request that made it (never stored in the session, never cached).
"""

from __future__ import annotations

import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.db.models import Case, IntegerField, Value, When
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from people.roles import role_required
from policyhub.paging import page_of
from prevention import intake
from prevention.intake_feeds import feed_every
from prevention.intake_forms import PayloadError, SourceForm, webhook_posts
from prevention.models import IntakeItem, PreventionError, Source
from prevention.permissions import can_manage_sources

log = logging.getLogger(__name__)

comms_only = role_required(can_manage_sources)

SOURCES_PER_PAGE = 25
ITEMS_PER_PAGE = 20
FAILING_SHOWN = 10
WEBHOOK_MAX_BYTES = 1024 * 1024


def _source_for(pk: int) -> Source:
    return get_object_or_404(Source, pk=pk)


def _webhook_url(request, source: Source) -> str:
    return request.build_absolute_uri(reverse("prevention:intake_webhook", args=[source.slug]))


# --- the list --------------------------------------------------------------------------


@comms_only
@require_safe
def sources(request):
    listed = Source.objects.defer("secret").order_by(
        Case(When(active=True, then=Value(0)), default=Value(1), output_field=IntegerField()),
        "name",
        "pk",
    )
    failing = (
        Source.objects.defer("secret")
        .filter(active=True, consecutive_failures__gt=0)
        .order_by("-consecutive_failures", "name")
    )
    failing_shown = list(failing[:FAILING_SHOWN])
    return render(
        request,
        "prevention/sources.html",
        {
            "page": page_of(request, listed, per_page=SOURCES_PER_PAGE),
            "failing": failing_shown,
            "failing_count": failing.count() if failing_shown else 0,
        },
    )


# --- one source ------------------------------------------------------------------------


@comms_only
@require_safe
def source_detail(request, pk: int):
    source = _source_for(pk)
    items = (
        IntakeItem.objects.filter(source=source)
        .select_related("incident")
        .only(
            "pk",
            "url",
            "handle",
            "posted_at",
            "noticed_at",
            "matched",
            "incident__id",
            "incident__reference",
            "incident__status",
        )
        .order_by("-noticed_at", "-id")
    )
    return render(
        request,
        "prevention/sources_detail.html",
        {
            "source": source,
            "page": page_of(request, items, per_page=ITEMS_PER_PAGE),
            "webhook_url": _webhook_url(request, source)
            if source.kind == Source.Kind.WEBHOOK
            else "",
            "feed_every_minutes": int(feed_every().total_seconds() // 60),
        },
    )


def _secret_page(request, source: Source, secret: str, *, new: bool):
    response = render(
        request,
        "prevention/sources_secret.html",
        {
            "source": source,
            "secret": secret,
            "new": new,
            "webhook_url": _webhook_url(request, source),
        },
    )
    # The secret is on this page only: no browser or proxy may keep a copy.
    response["Cache-Control"] = "no-store"
    return response


@comms_only
@require_http_methods(["GET", "HEAD", "POST"])
def source_add(request):
    form = SourceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            source, secret = intake.create_source(
                by=request.user,
                name=data["name"],
                kind=data["kind"],
                platform=data["platform"],
                feed_url=data.get("feed_url", ""),
            )
        except PreventionError as error:
            form.add_error(None, str(error))
        else:
            if source.kind == Source.Kind.WEBHOOK:
                return _secret_page(request, source, secret, new=True)
            messages.success(
                request,
                _("“%(name)s” is added; it is fetched within a few minutes.")
                % {"name": source.name},
            )
            return redirect("prevention:source_detail", source.pk)
    return render(request, "prevention/sources_form.html", {"form": form, "source": None})


@comms_only
@require_http_methods(["GET", "HEAD", "POST"])
def source_edit(request, pk: int):
    source = _source_for(pk)
    form = SourceForm(request.POST or None, source=source)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            intake.update_source(
                source=source,
                by=request.user,
                name=data["name"],
                platform=data["platform"],
                feed_url=data.get("feed_url", ""),
            )
        except PreventionError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("“%(name)s” is saved.") % {"name": data["name"]})
            return redirect("prevention:source_detail", source.pk)
    return render(request, "prevention/sources_form.html", {"form": form, "source": source})


def _act(request, pk: int, action, done):
    source = _source_for(pk)
    try:
        action(source)
    except PreventionError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, done % {"name": source.name})
    return redirect("prevention:source_detail", source.pk)


@comms_only
@require_POST
def source_deactivate(request, pk: int):
    return _act(
        request,
        pk,
        lambda source: intake.set_active(source=source, by=request.user, active=False),
        gettext_lazy("“%(name)s” is deactivated: nothing more is taken in from it."),
    )


@comms_only
@require_POST
def source_activate(request, pk: int):
    return _act(
        request,
        pk,
        lambda source: intake.set_active(source=source, by=request.user, active=True),
        gettext_lazy("“%(name)s” is active again."),
    )


@comms_only
@require_POST
def source_fetch(request, pk: int):
    return _act(
        request,
        pk,
        lambda source: intake.request_fetch(source=source, by=request.user),
        gettext_lazy(
            "“%(name)s” is being fetched. Reload this page in a minute to see the result."
        ),
    )


@comms_only
@require_POST
def source_secret(request, pk: int):
    source = _source_for(pk)
    try:
        secret = intake.rotate_secret(source=source, by=request.user)
    except PreventionError as error:
        messages.error(request, str(error))
        return redirect("prevention:source_detail", source.pk)
    return _secret_page(request, source, secret, new=False)


# --- the webhook -----------------------------------------------------------------------


def _refused(status: int, message: str) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


@csrf_exempt
@login_not_required
@require_POST
def intake_webhook(request, slug: str):
    """A signed delivery from a social-listening tool (see docs/prevention.md). Refusals say
    why and store nothing: 413 too big; 401 unsigned, wrongly signed, outside five
    minutes or already received; 400 not the documented JSON. A slug that is not an
    active webhook answers exactly as a wrong signature does, so that nobody can probe
    which webhooks exist."""
    length = request.META.get("CONTENT_LENGTH") or ""
    if length.isdigit() and int(length) > WEBHOOK_MAX_BYTES:
        return _refused(413, "The body is larger than 1 MB; send fewer items at a time.")
    body = request.read(WEBHOOK_MAX_BYTES + 1)
    if len(body) > WEBHOOK_MAX_BYTES:
        return _refused(413, "The body is larger than 1 MB; send fewer items at a time.")
    source = Source.objects.filter(slug=slug, kind=Source.Kind.WEBHOOK, active=True).first()
    try:
        signature = intake.verify_delivery(
            # No source: checked against no secret, which nothing matches.
            source=source or Source(secret=""),
            timestamp=request.headers.get("X-PolicyHub-Timestamp", ""),
            signature=request.headers.get("X-PolicyHub-Signature", ""),
            body=body,
        )
    except PreventionError as error:
        where = source.pk if source else "(no active webhook at this address)"
        log.warning("Intake webhook %s refused a delivery: %s", where, error)
        return _refused(401, str(error))
    try:
        posts = webhook_posts(body)
    except PayloadError as error:
        return _refused(400, str(error))
    try:
        result = intake.deliver(source=source, signature=signature, posts=posts)
    except PreventionError as error:  # a replay: signed, but already received
        return _refused(401, str(error))
    # Counts only: no references, terms or ids go back to the tool.
    return JsonResponse(
        {"received": result.received, "matched": result.matched, "opened": len(result.opened)}
    )
