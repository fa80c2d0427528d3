"""Example reminder kinds for the engine's tests (workers started by the tests load
them with `celery worker --include notifications.tests.worker_kinds`). Their subject is a
person in the directory, so no domain app is needed."""

from django.contrib.auth import get_user_model
from django.utils import timezone

from notifications.registry import Due, ReminderKind, register


class ProfileIncomplete(ReminderKind):
    """Due while a person has no job title; overdue from their start date."""

    name = "example-profile-incomplete"
    label = "Your directory profile has no job title"
    escalate_after_days = 3
    template_name = "example-reminder"

    def find_due(self, *, now):
        today = timezone.localdate(now)
        people = (
            get_user_model()
            .objects.filter(is_active=True, job_title="")
            .only("id", "start_date", "full_name", "email")
        )
        for person in people:
            overdue = person.start_date if person.start_date and person.start_date < today else None
            yield Due(subject=person, recipient_id=person.pk, stage="first", overdue_since=overdue)

    def still_due(self, notifications):
        ids = {notification.subject_id for notification in notifications}
        pending = set(
            get_user_model().objects.filter(pk__in=ids, job_title="").values_list("pk", flat=True)
        )
        return {n.pk for n in notifications if n.subject_id in pending}

    def title(self, notification):
        return f"Add a job title for {notification.subject.get_full_name()}"

    def url(self, notification):
        return f"/people/{notification.subject_id}/"


class UrgentEvent(ReminderKind):
    """An event that must go at once (like "booking confirmed")."""

    name = "example-urgent-event"
    label = "Something happened that needs you now"
    urgent = True
    template_name = "example-reminder"


class OptionalTip(ReminderKind):
    """An optional, non-urgent reminder people may switch off."""

    name = "example-optional-tip"
    label = "Tips for filling in your profile"
    mandatory = False
    template_name = "example-reminder"

    def find_due(self, *, now):
        for pk in (
            get_user_model()
            .objects.filter(is_active=True, location="")
            .values_list("pk", flat=True)
        ):
            yield Due(subject=get_user_model()(pk=pk), recipient_id=pk, stage="first")


EXAMPLE_KINDS = (ProfileIncomplete, UrgentEvent, OptionalTip)


def register_examples() -> None:
    for kind in EXAMPLE_KINDS:
        register(kind)


def register_everyone_kinds(count: int) -> list[str]:
    """`count` kinds that are each due for every active person (bench and query tests)."""
    names = []
    for number in range(count):

        class EveryoneKind(ReminderKind):
            name = f"example-everyone-{number}"
            label = "Everyone"
            template_name = "example-reminder"

            def find_due(self, *, now):
                User = get_user_model()
                for pk in User.objects.filter(is_active=True).values_list("pk", flat=True):
                    yield Due(subject=User(pk=pk), recipient_id=pk, stage="first")

        register(EveryoneKind)
        names.append(EveryoneKind.name)
    return names
