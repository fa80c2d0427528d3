"""Incidents built the way people build them: through the services.

`reported(reporter, **fields)` reports one; `in_status(status, by=handler, ...)` walks a
new incident to `status` doing only what each step needs (owner assigned, takedown
resolved, each person involved assessed as human error, plan filled, actions done,
review written and signed off by a manager)."""

from __future__ import annotations

from django.utils import timezone

from incidents import assessment as guide
from incidents import services
from incidents.models import ActionItem, Assessment, Incident, Takedown
from people.models import User

Status = Incident.Status
ORDER = (
    Status.REPORTED,
    Status.TRIAGE,
    Status.CONTAINED,
    Status.CLASSIFIED,
    Status.REMEDIATION,
    Status.REVIEW,
    Status.CLOSED,
)

# Answers that lead the guided assessment to "human error".
HUMAN_ERROR_ANSWERS = {
    "intended_actions": guide.NO,
    "impairment": guide.NO,
    "rule_broken_knowingly": guide.NO,
    "substitution": guide.YES,
    "gaps": guide.NO,
    "history": guide.NO,
}


def reported(reporter, **fields) -> Incident:
    """An incident reported by `reporter`; any field of services.report_incident."""
    fields.setdefault("what_happened", "A post shared a photo of the product roadmap.")
    fields.setdefault("platform", Incident.Platform.LINKEDIN)
    return services.report_incident(reporter=reporter, **fields)


def review_manager() -> User:
    """A line manager (someone with a report) who signs reviews off."""
    manager, _ = User.objects.get_or_create(
        email="review.manager@example.com", defaults={"full_name": "Rita Reviewer"}
    )
    User.objects.get_or_create(
        email="review.report@example.com",
        defaults={"full_name": "Ravi Report", "manager": manager},
    )
    return manager


def in_status(status: str, *, by, **fields) -> Incident:
    """A new incident walked to `status` by `by` (comms or HR/legal).

    Extra keywords: `reporter` (default `by`), `owner` (a handler, default `by`),
    `severity`, `signed_off_by` (a line manager, default review_manager()); the rest
    go to report_incident. Without people involved, "no individual involved" is
    recorded and the learning track chosen. Actions are done before the review."""
    reporter = fields.pop("reporter", by)
    owner = fields.pop("owner", by)
    severity = fields.pop("severity", None)
    signed_off_by = fields.pop("signed_off_by", None)
    incident = reported(reporter, **fields)
    if severity:
        incident = services.update_details(incident=incident, by=by, severity=severity)
    for step in ORDER[1 : ORDER.index(status) + 1]:
        if step == Status.TRIAGE:
            incident = services.assign_owner(incident=incident, owner=owner, by=by)
        elif step == Status.CONTAINED:
            takedown = services.request_takedown(
                incident=incident, by=by, what="The post", asked_of="The platform"
            )
            services.resolve_takedown(takedown=takedown, by=by, status=Takedown.Status.REMOVED)
        elif step == Status.CLASSIFIED:
            _classify_as_human_error(incident, by=by, owner=owner)
        elif step == Status.REMEDIATION:
            incident = services.transition(incident=incident, to=step, user=by)
            services.fill_plan(incident=incident, by=by)
            continue
        elif step == Status.REVIEW:
            for action in incident.actions.filter(status=ActionItem.Status.OPEN):
                services.complete_action(
                    action=action, by=action.owner, status=ActionItem.Status.DONE, note="Done."
                )
        elif step == Status.CLOSED:
            review = services.write_review(
                incident=incident,
                by=by,
                summary="A post went further than intended.",
                contributing_factors="The sharing settings were unclear.",
                spotted_sooner="A check before posting.",
            )
            services.sign_off_review(review=review, by=signed_off_by or review_manager())
        incident = services.transition(incident=incident, to=step, user=by)
    return incident


def _classify_as_human_error(incident: Incident, *, by, owner) -> None:
    people = list(incident.people_involved.all())
    if not people:
        services.set_people_involved(incident=incident, by=by, people=[], no_individual=True)
        services.choose_track(incident=incident, by=by, track=Incident.Track.LEARNING)
        return
    for person in people:
        run = services.start_assessment(incident=incident, person=person, act="Posted it", by=owner)
        for key, value in HUMAN_ERROR_ANSWERS.items():
            services.answer(assessment=run, by=owner, key=key, value=value)
        services.finish_assessment(assessment=run, by=owner)


def assessed_deliberate(incident: Incident, person, *, by, supersede: bool = False) -> Incident:
    """`person`'s assessment finished as deliberate, made directly (the guided questions
    are not the point), and the incident moved to the accountability track; with
    `supersede`, the earlier assessments are no longer current."""
    if supersede:
        incident.assessments.update(superseded_at=timezone.now())
    Assessment.objects.create(
        incident=incident,
        person=person,
        act="Posted it on purpose",
        question_set="v1",
        suggested_outcome=Assessment.Outcome.DELIBERATE,
        final_outcome=Assessment.Outcome.DELIBERATE,
        assessor=by,
        started_at=timezone.now(),
        finished_at=timezone.now(),
    )
    Incident.objects.filter(pk=incident.pk).update(track=Incident.Track.ACCOUNTABILITY)
    return Incident.objects.get(pk=incident.pk)
