"""Outgoing webhooks: site admins subscribe an address to events; each event reaches
each subscription once, through an outbox of its own (`WebhookDelivery`) with the
reminders' claim and retry helpers (notifications.outbox).

The services that change state call `emit` inside their transaction:

    from notifications import webhooks
    webhooks.emit(event=webhooks.INCIDENT_CLOSED, subject=incident,
                  data=webhooks.incident_data(incident), stage=str(incident.version))

A delivery row is planned per (event, subject, stage, subscription), so emitting the
same event twice sends it once; sending is enqueued when the transaction commits.
The body is JSON, {"event", "id", "occurred_at", "data"}, posted with the headers
X-PolicyHub-Event, X-PolicyHub-Timestamp (seconds since 1970, at each attempt) and
X-PolicyHub-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>", keyed with
the subscription's secret>. 2xx is delivered; timeouts, connection errors, 408, 429
and 5xx are retried with backoff; any other answer, a redirect included, fails the
delivery for good. Failed deliveries are listed on the subscription's page, with
"Send again".

What the data says is chosen here, not by the callers (the `*_data` helpers): an
incident's reference, status, severity, track, platform and link, never who was
involved, who reported it or its assessment.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from notifications import http, outbox, wakeup
from notifications.emails import absolute_url
from notifications.errors import NotificationError
from notifications.models import Notification, WebhookDelivery, WebhookSubscription
from notifications.registry import get_kind

log = logging.getLogger(__name__)
Status = WebhookDelivery.Status

POLICY_PUBLISHED = "policy.published"
INCIDENT_REPORTED = "incident.reported"
INCIDENT_CLASSIFIED = "incident.classified"
INCIDENT_CLOSED = "incident.closed"
ACKNOWLEDGEMENT_ESCALATED = "acknowledgement.escalated"

# The English names (marked for translation, shown translated: event_label).
EVENTS = {
    POLICY_PUBLISHED: gettext_noop("A policy version is published"),
    INCIDENT_REPORTED: gettext_noop("An incident is reported"),
    INCIDENT_CLASSIFIED: gettext_noop("An incident is classified"),
    INCIDENT_CLOSED: gettext_noop("An incident is closed"),
    ACKNOWLEDGEMENT_ESCALATED: gettext_noop(
        "An overdue acknowledgement is escalated to the manager"
    ),
}
# The reminder kinds whose escalation to the manager is an event (planned in
# notifications.services.planning.plan_due, which calls emit_escalations).


def event_label(event: str) -> str:
    """An event's name in the active language (the event itself, when unknown)."""
    return _(EVENTS[event]) if event in EVENTS else event


ESCALATION_EVENTS = {"policy-overdue": ACKNOWLEDGEMENT_ESCALATED}

SIGNATURE_HEADER = "X-PolicyHub-Signature"
TIMESTAMP_HEADER = "X-PolicyHub-Timestamp"
EVENT_HEADER = "X-PolicyHub-Event"


@dataclass
class WebhookResult:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    cancelled: int = 0


# --- what an event says ------------------------------------------------------------------


def policy_version_data(version) -> dict:
    """A published policy version: its policy, number, kind of change and dates."""
    policy = version.policy
    return {
        "policy": {
            "title": policy.title,
            "slug": policy.slug,
            "url": absolute_url(reverse("policies:detail", args=[policy.slug])),
        },
        "version": {
            "number": version.number,
            "change": version.change,
            "published_at": version.published_at,
            "effective_from": version.effective_from,
        },
    }


def incident_data(incident) -> dict:
    """An incident without its people or assessment: what integrations may see."""
    return {
        "reference": incident.reference,
        "status": incident.status,
        "severity": incident.severity,
        "track": incident.track,
        "platform": incident.platform,
        "noticed_at": incident.noticed_at,
        "contained_at": incident.contained_at,
        "closed_at": incident.closed_at,
        "url": absolute_url(reverse("incidents:detail", args=[incident.pk])),
    }


def _person(user) -> dict | None:
    if user is None:
        return None
    return {"id": user.pk, "employee_id": user.employee_id, "email": user.email}


def escalation_data(row: Notification) -> dict:
    """An escalation planned in the outbox: what is overdue, since when, whose it is
    and which manager was told."""
    kind = get_kind(row.kind)
    return {
        "reminder": row.kind,
        "title": kind.title(row),
        "url": absolute_url(kind.url(row)),
        "overdue_since": row.overdue_since,
        "person": _person(row.about_person),
        "manager": _person(row.recipient),
    }


# --- emitting -----------------------------------------------------------------------------


def _subscribed(event: str, subscriptions=None) -> list[WebhookSubscription]:
    if subscriptions is None:
        subscriptions = WebhookSubscription.objects.filter(active=True).only("pk", "events")
    return [s for s in subscriptions if s.active and event in s.events]


def emit(
    *,
    event: str,
    subject: models.Model,
    data: dict,
    now: datetime | None = None,
    stage: str = "",
    subscriptions: list[WebhookSubscription] | None = None,
) -> int:
    """Plan `event` about `subject` for every active subscription to it; returns how
    many deliveries are new. Call it inside the transaction that makes the change:
    the rows commit with it, and sending is enqueued after the commit. `stage` tells
    events about the same subject apart (an incident closed again after a reopening):
    a repeated (event, subject, stage) is the same event and is not sent again.
    `subscriptions` (the active ones, loaded once) spares a query in a loop."""
    if event not in EVENTS:
        raise NotificationError(f"There is no webhook event called {event!r}.")
    receivers = _subscribed(event, subscriptions)
    if not receivers:
        return 0
    now = now or timezone.now()
    # Frozen now as JSON: the body is the same at every attempt, whatever changes later.
    payload = json.loads(json.dumps(data, cls=DjangoJSONEncoder))
    type_id = ContentType.objects.get_for_model(subject).pk
    event_id = uuid.uuid4()
    rows = [
        WebhookDelivery(
            subscription_id=subscription.pk,
            event=event,
            subject_type_id=type_id,
            subject_id=subject.pk,
            stage=stage,
            event_id=event_id,
            occurred_at=now,
            data=payload,
            send_after=now,
        )
        for subscription in receivers
    ]
    planned = WebhookDelivery.objects.filter(
        event=event, subject_type_id=type_id, subject_id=subject.pk, stage=stage
    )
    with transaction.atomic():
        before = planned.count()
        # ignore_conflicts: the same event emitted twice (or at once) is planned once.
        WebhookDelivery.objects.bulk_create(rows, ignore_conflicts=True)
        created = planned.count() - before
        if created:
            transaction.on_commit(wakeup.send_webhooks_soon)
    return created


def emit_escalations(rows: list[Notification], *, now: datetime) -> int:
    """The events for escalation rows just planned (plan_due): those of kinds in
    ESCALATION_EVENTS, for subscriptions to them. A row planned twice by two planners
    at once is emitted twice and delivered once."""
    rows = [row for row in rows if row.kind in ESCALATION_EVENTS]
    if not rows:
        return 0
    subscriptions = list(WebhookSubscription.objects.filter(active=True).only("pk", "events"))
    rows = [row for row in rows if _subscribed(ESCALATION_EVENTS[row.kind], subscriptions)]
    if not rows:
        return 0
    ids = {row.recipient_id for row in rows} | {row.about_person_id for row in rows}
    people = get_user_model().objects.in_bulk(ids - {None})
    created = 0
    for row in rows:
        row.recipient = people.get(row.recipient_id)
        row.about_person = people.get(row.about_person_id)
        created += emit(
            event=ESCALATION_EVENTS[row.kind],
            subject=row.subject,
            data=escalation_data(row),
            now=now,
            stage=f"manager-{row.recipient_id}",
            subscriptions=subscriptions,
        )
    return created


# --- sending ------------------------------------------------------------------------------


def body_of(delivery: WebhookDelivery) -> bytes:
    """The JSON body: the same bytes at every attempt (what the signature covers)."""
    document = {
        "event": delivery.event,
        "id": str(delivery.event_id),
        "occurred_at": delivery.occurred_at,
        "data": delivery.data,
    }
    return json.dumps(document, cls=DjangoJSONEncoder, ensure_ascii=False).encode("utf-8")


def sign(*, secret: str, timestamp: str, body: bytes) -> str:
    """The X-PolicyHub-Signature value: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">."""
    message = timestamp.encode("ascii") + b"." + body
    return "sha256=" + hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def _post(delivery: WebhookDelivery) -> http.Answer:
    body = body_of(delivery)
    timestamp = str(int(time.time()))
    return http.post(
        delivery.subscription.url,
        body,
        {
            "Content-Type": "application/json; charset=utf-8",
            EVENT_HEADER: delivery.event,
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: sign(
                secret=delivery.subscription.secret, timestamp=timestamp, body=body
            ),
        },
    )


def _note_on_subscription(delivery, *, now, status: str, code: int | None, error: str) -> None:
    WebhookSubscription.objects.filter(pk=delivery.subscription_id).update(
        last_attempt_at=now, last_status=status, last_response_code=code, last_error=error[:2000]
    )


def _deliver(delivery: WebhookDelivery, now: datetime, result: WebhookResult) -> None:
    try:
        answer = _post(delivery)
    except http.DeliveryError as error:
        message = str(error)
        outcome = outbox.retry_or_fail(
            [delivery],
            message=message,
            transient=error.transient,
            now=now,
            wait_at_least=error.retry_after,
            response_code=error.status,
        )
        setattr(result, outcome, getattr(result, outcome) + 1)
        _note_on_subscription(delivery, now=now, status=outcome, code=error.status, error=message)
        log.warning("Webhook delivery %s %s: %s", delivery.pk, outcome, message)
        return
    outbox.mark_sent([delivery], now, response_code=answer.status)  # right after the answer
    result.sent += 1
    _note_on_subscription(delivery, now=now, status="sent", code=answer.status, error="")


def send_due(*, now: datetime | None = None, max_batches: int = 50) -> WebhookResult:
    """Post the due deliveries, oldest first. Safe to run in any number of workers."""
    now = now or timezone.now()
    result = WebhookResult()
    outbox.release_stale_claims(WebhookDelivery, now)
    deadline = time.monotonic() + settings.NOTIFICATIONS_CLAIM_TIMEOUT_SECONDS / 2
    for _batch in range(max_batches):
        if time.monotonic() > deadline:
            break
        token = outbox.claim(
            WebhookDelivery.objects.all(), now=now, limit=settings.NOTIFICATIONS_BATCH_SIZE
        )
        if token is None:
            break
        claimed = list(
            WebhookDelivery.objects.filter(claim_token=token, status=Status.SENDING)
            .select_related("subscription")
            .order_by("send_after", "id")
        )
        for delivery in claimed:
            if not delivery.subscription.active:
                outbox.finish([delivery], status=Status.CANCELLED, last_error=SWITCHED_OFF)
                result.cancelled += 1
            elif delivery.attempts > settings.NOTIFICATIONS_MAX_ATTEMPTS:
                outbox.fail([delivery], "Gave up: too many attempts.")
                result.failed += 1
            else:
                _deliver(delivery, now, result)
    return result


SWITCHED_OFF = "The subscription was switched off before it went."


# --- site admins' actions -------------------------------------------------------------------


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def _clean(*, name: str, url: str, events, exclude_pk: int | None = None) -> tuple:
    name = (name or "").strip()
    if not name:
        raise NotificationError(_("Give the subscription a name."))
    if "\x00" in name:
        raise NotificationError(_("The name contains a NUL character."))
    taken = WebhookSubscription.objects.filter(name__iexact=name)
    if exclude_pk is not None:
        taken = taken.exclude(pk=exclude_pk)
    if taken.exists():
        raise NotificationError(_("There is already a subscription with this name."))
    url = (url or "").strip()
    try:
        # Resolved now as well as at each delivery: an address on the internal network is
        # refused when it is entered, not only when the first event fails.
        http.vet(url, what=_("The address"))
    except http.AddressError as error:
        raise NotificationError(str(error)) from None
    events = list(dict.fromkeys(events))
    if not events:
        raise NotificationError(_("Choose at least one event."))
    unknown = [event for event in events if event not in EVENTS]
    if unknown:
        raise NotificationError(_("Unknown events: %(events)s.") % {"events": ", ".join(unknown)})
    return name, url, events


def create_subscription(
    *, name: str, url: str, events, active: bool = True, by
) -> tuple[WebhookSubscription, str]:
    """A new subscription and its secret (returned to be shown once)."""
    name, url, events = _clean(name=name, url=url, events=events)
    secret = new_secret()
    with transaction.atomic():
        subscription = WebhookSubscription.objects.create(
            name=name, url=url, events=events, secret=secret, active=active, created_by=by
        )
    return subscription, secret


def update_subscription(
    *, subscription: WebhookSubscription, name: str, url: str, events, active: bool
) -> WebhookSubscription:
    """Change what a subscription receives and where; switching it off cancels nothing
    already sent, and what is still planned is cancelled when its turn comes."""
    name, url, events = _clean(name=name, url=url, events=events, exclude_pk=subscription.pk)
    with transaction.atomic():
        WebhookSubscription.objects.filter(pk=subscription.pk).update(
            name=name, url=url, events=events, active=active
        )
    subscription.name, subscription.url = name, url
    subscription.events, subscription.active = events, active
    return subscription


def rotate_secret(*, subscription: WebhookSubscription) -> str:
    """A new secret; deliveries from now on are signed with it."""
    secret = new_secret()
    WebhookSubscription.objects.filter(pk=subscription.pk).update(secret=secret)
    subscription.secret = secret
    return secret


def delete_subscription(*, subscription: WebhookSubscription) -> None:
    """The subscription and its deliveries' history go."""
    with transaction.atomic():
        WebhookSubscription.objects.filter(pk=subscription.pk).delete()


def resend(*, delivery: WebhookDelivery, now: datetime | None = None) -> None:
    """Put a failed delivery back in the outbox to be sent now (same id and data,
    signed afresh)."""
    now = now or timezone.now()
    with transaction.atomic():
        updated = WebhookDelivery.objects.filter(pk=delivery.pk, status=Status.FAILED).update(
            status=Status.PLANNED,
            send_after=now,
            attempts=0,
            last_error="",
            claim_token=None,
        )
        if not updated:
            raise NotificationError(_("Only a failed delivery can be sent again."))
        transaction.on_commit(wakeup.send_webhooks_soon)
