"""The events the services emit reach every subscription once, with no restricted detail."""

import pytest

from incidents.models import Incident
from incidents.tests import factories as incident_factories
from notifications import webhooks
from notifications.models import WebhookDelivery, WebhookSubscription
from policies.tests import factories as policy_factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def subscription():
    return WebhookSubscription.objects.create(
        name="GRC tool",
        url="https://grc.example.com/hooks/policyhub",
        events=sorted(webhooks.EVENTS),
        secret=webhooks.new_secret(),
    )


def _events() -> list[str]:
    return list(WebhookDelivery.objects.order_by("id").values_list("event", flat=True))


def test_publishing_a_policy_emits_policy_published(subscription, policy_admin, comms):
    policy, version = policy_factories.published_policy(
        title="Social media policy", owner=policy_admin, approver=comms
    )
    delivery = WebhookDelivery.objects.get()
    assert delivery.event == webhooks.POLICY_PUBLISHED
    assert delivery.subscription == subscription and delivery.subject_id == version.pk


def test_an_incident_emits_reported_classified_and_closed_once_each(subscription, comms, employee):
    incident = incident_factories.in_status(
        Incident.Status.CLOSED, by=comms, people_involved=[employee]
    )
    assert _events() == [
        webhooks.INCIDENT_REPORTED,
        webhooks.INCIDENT_CLASSIFIED,
        webhooks.INCIDENT_CLOSED,
    ]
    for delivery in WebhookDelivery.objects.all():
        assert delivery.subject_id == incident.pk
        assert delivery.data["reference"] == incident.reference
        text = str(delivery.data)
        assert employee.email not in text and employee.full_name not in text
        assert incident.what_happened not in text


def test_nothing_is_planned_without_a_subscription(comms):
    incident_factories.in_status(Incident.Status.TRIAGE, by=comms)
    assert not WebhookDelivery.objects.exists()
