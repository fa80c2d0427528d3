"""The reminders of Ask comms (see notifications/registry.py).

A draft is private between the employee and comms: no message carries it. Comms hear
that a review is waiting and by when; the employee hears that it was answered and how;
the comms lead hears that one is late. Each links to the review page.
"""

from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from notifications.registry import Due, ReminderKind, load_subjects, register
from prevention.models import PostReview
from prevention.review_services import ANSWERED, comms_leads, reviewers

Status = PostReview.Status


class _ReviewKind(ReminderKind):
    urgent = True

    def _load(self, notifications):
        return load_subjects(
            PostReview.objects.select_related("requester", "decided_by"), notifications
        )

    def still_due(self, notifications):
        reviews = self._load(notifications)
        return {
            n.pk
            for n in notifications
            if n.subject_id in reviews and self._holds(reviews[n.subject_id], n)
        }

    def _holds(self, review: PostReview, notification) -> bool:
        return review.status == Status.PENDING

    def title(self, notification):
        review = notification.subject
        needed_by = date_format(timezone.localtime(review.needed_by), "j M H:i")
        return _("Post review needed by %(when)s") % {"when": needed_by}

    def url(self, notification):
        return reverse("prevention:review", args=[notification.subject_id])

    def context(self, notification):
        review = notification.subject
        return {
            "review": review,
            "findings_count": len(review.findings),
            "queue_url": reverse("prevention:queue"),
        }


@register
class PostReviewRequested(_ReviewKind):
    """To everyone in comms, at once: a draft is waiting for them."""

    name = "post-review-requested"
    label = gettext_lazy("An employee asked comms to review a post")

    def still_due(self, notifications):
        # Answered or withdrawn before it went out: nothing to do. Someone who left
        # comms meanwhile may no longer open it.
        current = set(
            reviewers()
            .filter(pk__in={n.recipient_id for n in notifications})
            .values_list("pk", flat=True)
        )
        pending = super().still_due(notifications)
        return {n.pk for n in notifications if n.pk in pending and n.recipient_id in current}


@register
class PostReviewAnswered(_ReviewKind):
    """To the employee who asked: comms answered."""

    name = "post-review-answered"
    label = gettext_lazy("Comms answered your post review")

    def _holds(self, review, notification):
        return review.status in ANSWERED and review.requester_id == notification.recipient_id

    def title(self, notification):
        return _("Comms answered your post review: %(answer)s") % {
            "answer": notification.subject.get_status_display()
        }


@register
class PostReviewLate(_ReviewKind):
    """To the comms lead(s) (everyone in comms when there is no lead), once per review:
    a review is still waiting after the time it was needed by."""

    name = "post-review-late"
    label = gettext_lazy("A post review is late")

    def find_due(self, *, now):
        late = list(
            PostReview.objects.filter(status=Status.PENDING, needed_by__lte=now).only(
                "pk", "requester_id", "needed_by"
            )
        )
        if not late:
            return
        leads = list(comms_leads().values_list("pk", flat=True))
        for review in late:
            for lead in leads:
                if lead != review.requester_id:
                    yield Due(subject=review, recipient_id=lead, stage="late")

    def title(self, notification):
        review = notification.subject
        needed_by = date_format(timezone.localtime(review.needed_by), "j M H:i")
        return _("Late post review: it was needed by %(when)s") % {"when": needed_by}


@register
class IntakeOpenedIncident(ReminderKind):
    """To everyone in comms, at once: intake saw a watched term in a public post and
    opened an incident. Minutes count: the sooner someone looks, the less it costs."""

    name = "intake-opened-incident"
    label = gettext_lazy("Intake found a watched term in a public post")
    urgent = True

    def _load(self, notifications):
        from incidents.models import Incident

        return load_subjects(Incident.objects.select_related("intake__source"), notifications)

    def still_due(self, notifications):
        # Worth telling while nobody has started triage.
        from incidents.models import Incident

        incidents = self._load(notifications)
        return {
            n.pk
            for n in notifications
            if n.subject_id in incidents
            and incidents[n.subject_id].status == Incident.Status.REPORTED
        }

    def title(self, notification):
        return _("%(reference)s: a watched term in a public post") % {
            "reference": notification.subject.reference
        }

    def url(self, notification):
        return reverse("incidents:detail", args=[notification.subject_id])

    def context(self, notification):
        # Not the terms found: email and chat leave PolicyHub, and a term names an
        # unreleased product or a customer. The incident page names them.
        incident = notification.subject
        return {"incident": incident, "source_name": incident.intake.source.name}
