"""The blameless review, its sign-off, and lessons: the library, policy revisions and
talking points that follow from them."""

from __future__ import annotations

import re
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from incidents import permissions
from incidents.models import Incident, IncidentError, Lesson, Review, TalkingPoint
from incidents.permissions import can_handle
from incidents.services.common import record_event, require_handler
from people import roles
from policies import services as policy_services
from policies.models import PolicyError, PolicyVersion

REVIEW_FIELDS = (
    "summary",
    "contributing_factors",
    "spotted_sooner",
    "went_well",
    "effectiveness_check",
)


def write_review(*, incident, by, now: datetime | None = None, **fields) -> Review:
    require_handler(by)
    if set(fields) - set(REVIEW_FIELDS):
        # Who wrote it and who signed it off are never set from a form.
        raise IncidentError(_("Those parts of a review cannot be written here."))
    required = ("summary", "contributing_factors", "spotted_sooner")
    if any(not str(fields.get(name, "")).strip() for name in required):
        raise IncidentError(
            _(
                "A review needs a summary, the contributing factors and what would have "
                "spotted it sooner."
            )
        )
    now = now or timezone.now()
    with transaction.atomic():
        review, created = Review.objects.get_or_create(
            incident=incident,
            defaults={**fields, "written_by": by, "written_at": now},
        )
        if not created:
            if review.signed_off_at:
                raise IncidentError(_("The review is signed off; it can no longer change."))
            for key, value in fields.items():
                setattr(review, key, value)
            review.save()
        record_event(incident, what="review", by=by, after="written", at=now)
    return review


def sign_off_review(*, review: Review, by, now: datetime | None = None) -> Review:
    incident = review.incident
    if not roles.is_line_manager(by):
        raise IncidentError(_("A review is signed off by a manager."))
    if incident.owner_id == by.pk:
        raise IncidentError(_("The incident owner cannot sign off their own review."))
    if review.signed_off_at:
        raise IncidentError(_("The review is already signed off."))
    now = now or timezone.now()
    with transaction.atomic():
        review.signed_off_by, review.signed_off_at = by, now
        review.save(update_fields=["signed_off_by", "signed_off_at"])
        record_event(incident, what="review", by=by, after="signed off", at=now)
    return review


def publish_lesson(
    *,
    incident,
    by,
    title: str,
    text: str,
    keep_identifying: bool = False,
    now: datetime | None = None,
) -> Lesson:
    """Publish an anonymised lesson to the library. The text is the publisher's own;
    names, handles and links of the incident are refused unless kept on purpose
    (`keep_identifying`)."""
    require_handler(by)
    if not title.strip() or not text.strip():
        raise IncidentError(_("A lesson needs a title and its text."))
    found = [] if keep_identifying else identifying_details(incident, f"{title}\n{text}")
    if found:
        if permissions.sees_people_involved(by, incident):
            message = _(
                "The lesson still identifies the incident: %(details)s. Take it out, or keep it "
                "on purpose."
            ) % {"details": ", ".join(found)}
        else:
            message = _(
                "The lesson still identifies the incident (a name, handle or link). Take it out, "
                "or keep it on purpose."
            )
        raise IncidentError(message)
    now = now or timezone.now()
    with transaction.atomic():
        lesson = Lesson.objects.create(
            incident=incident,
            title=title.strip(),
            text=text.strip(),
            published=True,
            published_at=now,
            published_by=by,
        )
        record_event(incident, what="lesson", by=by, after="published", note=title, at=now)
    return lesson


def identifying_details(incident: Incident, text: str) -> list[str]:
    """Names, handles and links of the incident (and of its evidence) that appear in a
    lesson's text: whole words only, so "Tom" is not found in "tomorrow"."""
    names = [incident.reporter.get_full_name()]
    for person in incident.people_involved.all():
        names += [person.get_full_name(), *person.get_full_name().split()]
    handles = [incident.account_handle, *incident.evidence.values_list("handle", flat=True)]
    urls = [incident.url, *incident.evidence.values_list("url", flat=True)]
    candidates = {name for name in names if len(name) > 2}
    for handle in filter(None, handles):
        candidates |= {handle, handle.lstrip("@")}  # "@emily_c" is also written "emily_c"
    for url in filter(None, urls):
        bare = re.sub(r"^https?://(www\.)?", "", url).rstrip("/")
        candidates |= {url, bare}
    found = {
        detail
        for detail in candidates
        if len(detail) > 2
        and re.search(rf"(?<!\w){re.escape(detail)}(?!\w)", text, flags=re.IGNORECASE)
    }
    return sorted(found, key=str.casefold)


def open_policy_revision(*, lesson: Lesson, policy, by, now: datetime | None = None):
    """ "Open a policy revision": a draft of the policy's next version, linked to the lesson."""
    if not roles.is_policy_admin(by):
        raise IncidentError(_("Policy admins open policy revisions."))
    current = policy.versions.filter(status=PolicyVersion.Status.PUBLISHED).first()
    try:
        draft = policy_services.create_draft(
            policy=policy,
            author=by,
            body=current.body if current else "",
            change_summary=f"From the lesson “{lesson.title}”.",
            now=now,
        )
    except PolicyError as error:
        raise IncidentError(str(error)) from None
    lesson.policy_versions.add(draft)
    return draft


def add_to_briefing(
    *, lesson: Lesson, topic, by, text: str = "", now: datetime | None = None
) -> TalkingPoint:
    """ "Add to briefing": a talking point on a training topic, linked to the lesson."""
    if not (roles.is_policy_admin(by) or can_handle(by)):
        raise IncidentError(_("The incident team and policy admins add talking points."))
    point = TalkingPoint.objects.create(
        topic=topic,
        lesson=lesson,
        text=(text or lesson.text).strip(),
        added_by=by,
        added_at=now or timezone.now(),
    )
    lesson.topics.add(topic)
    return point
