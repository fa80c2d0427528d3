"""The incident page, for each level of access: the reporter's, the summary, and the
team's full page with its forms."""

from __future__ import annotations

from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from incidents import assessment as guide
from incidents import services
from incidents.handling_forms import (
    ActionForm,
    DetailsForm,
    EvidenceForm,
    LessonForm,
    NoTakedownForm,
    OwnerForm,
    PeopleInvolvedForm,
    ReopenForm,
    ResolveTakedownForm,
    ReviewForm,
    StartAssessmentForm,
    StatementForm,
    TakedownForm,
    TrackForm,
)
from incidents.handling_views.shared import Status, outcome_class
from incidents.models import ActionItem, Incident, Review
from incidents.permissions import (
    can_handle,
    get_incident_for,
    sees_people_involved,
    visible_assessments,
)
from incidents.timeline import EVENT_NOTES, describe_event, exposure_window
from incidents.wording import RESTRICTED_NAME
from people import roles
from policies.models import Policy
from training.models import Topic

# The buttons of the workflow, by the status they lead to. Closed → remediation is
# "reopen", which needs a reason and has its own form.
TRANSITION_LABELS = {
    Status.TRIAGE: gettext_lazy("Start triage"),
    Status.CONTAINED: gettext_lazy("Mark as contained"),
    Status.CLASSIFIED: gettext_lazy("Mark as classified"),
    Status.REMEDIATION: gettext_lazy("Start remediation"),
    Status.REVIEW: gettext_lazy("Send for review"),
    Status.CLOSED: gettext_lazy("Close the incident"),
}


def _can_sign_off(user, incident: Incident, review: Review | None) -> bool:
    return (
        review is not None
        and review.signed_off_at is None
        and incident.owner_id != user.pk
        and roles.is_line_manager(user)
    )


def _one_line(text: str, limit: int = 160) -> str:
    """The first line, cut at a word if it is long."""
    first = (text or "").strip().splitlines()[0] if (text or "").strip() else ""
    if len(first) <= limit:
        return first
    return first[:limit].rsplit(" ", 1)[0].rstrip(" ,;:") + "…"


def detail_context(request, incident: Incident, level: str, **bound) -> dict:
    user = request.user
    context = {"incident": incident, "level": level}
    if level == "reporter":
        return context
    review = Review.objects.filter(incident=incident).select_related("signed_off_by").first()
    context["can_sign_off"] = _can_sign_off(user, incident, review)
    if level == "summary":
        context.update(
            one_line=_one_line(incident.what_happened),
            my_actions=list(incident.actions.filter(owner=user).order_by("due_date", "id")),
            # A line manager signing off reads the blameless review they sign.
            review=review if context["can_sign_off"] else None,
            today=timezone.localdate(),
        )
        return context

    handler = can_handle(user)
    sees_people = sees_people_involved(user, incident)
    people = list(incident.people_involved.order_by("full_name"))
    involved_ids = {person.pk for person in people}

    def shown(person) -> str:
        if person is None:
            return ""
        if not sees_people and person.pk in involved_ids:
            return _(RESTRICTED_NAME)
        return person.get_full_name()

    events = list(incident.events.select_related("by"))
    for event in events:
        event.description = describe_event(event)
        event.by_name = shown(event.by) if event.by else "PolicyHub"
        if event.what == "status" and not event.from_value and event.note in EVENT_NOTES:
            event.note = EVENT_NOTES[event.note]  # shown, never saved
    evidence = list(incident.evidence.select_related("captured_by", "withdrawn_by"))
    for item in evidence:
        item.captured_by_name = shown(item.captured_by)
        item.withdrawn_by_name = shown(item.withdrawn_by)
    takedowns = list(incident.takedowns.select_related("requested_by"))
    statements = list(incident.statements.select_related("drafted_by", "approved_by"))
    actions = list(incident.actions.select_related("owner", "completed_by"))
    for action in actions:
        action.owner_name = shown(action.owner)
    assessments = list(visible_assessments(user, incident).select_related("person", "assessor"))
    current_assessments = [a for a in assessments if a.current and a.finished_at]
    for item in assessments:
        item.badge_class = outcome_class(item.final_outcome)
    lessons = list(incident.lessons.prefetch_related("policy_versions__policy", "topics"))
    window, exposure = exposure_window(incident, timezone.now())
    today = timezone.localdate()
    allowed = services.TRANSITIONS.get(incident.status, ())
    transitions = [
        {
            "to": to,
            "label": _("Back to remediation")
            if incident.status == Status.REVIEW and to == Status.REMEDIATION
            else TRANSITION_LABELS[to],
        }
        for to in allowed
        if incident.status != Status.CLOSED
    ]
    version = {"version": incident.version}
    context.update(
        handler=handler,
        sees_people=sees_people,
        people=people,
        reporter_name=shown(incident.reporter),
        owner_name=incident.owner.get_full_name() if incident.owner else "",
        events=events,
        evidence=evidence,
        takedowns=takedowns,
        statements=statements,
        actions=actions,
        open_actions=sum(1 for a in actions if a.status == ActionItem.Status.OPEN),
        assessments=assessments,
        current_assessments=current_assessments,
        sees_assessments=services.can_assess(user, incident),
        review=review,
        lessons=lessons,
        window=window,
        exposure=exposure,
        today=today,
        transitions=transitions,
        statuses=Status.choices,
        outcome_class=outcome_class,
        track_class={
            Incident.Track.LEARNING: "text-bg-success",
            Incident.Track.ACCOUNTABILITY: "text-bg-danger",
        }.get(incident.track, "text-bg-secondary"),
        is_policy_admin=roles.is_policy_admin(user),
        adds_briefings=handler or roles.is_policy_admin(user),
    )
    if context["is_policy_admin"]:
        context["policies"] = list(Policy.objects.order_by("title").only("pk", "title"))
    if context["adds_briefings"] and lessons:
        context["topics"] = list(Topic.objects.order_by("name").only("pk", "name"))
    if not handler:
        return context

    plan_template = services.PLAN_TEMPLATES.get(incident.track, ())
    context.update(
        owner_form=OwnerForm(initial={"owner": incident.owner_id, **version}, auto_id="owner_%s"),
        details_form=DetailsForm(initial=DetailsForm.initial_for(incident), auto_id="details_%s"),
        people_form=PeopleInvolvedForm(
            initial={
                "emails": "\n".join(p.email for p in people),
                "no_individual": incident.no_individual_involved,
                **version,
            },
            auto_id="people_%s",
        )
        if sees_people
        else None,
        reopen_form=ReopenForm(initial=version, auto_id="reopen_%s"),
        takedown_form=TakedownForm(auto_id="takedown_%s"),
        resolve_choices=ResolveTakedownForm.base_fields["status"].choices,
        no_takedown_form=NoTakedownForm(initial=version, auto_id="no_takedown_%s"),
        statement_form=StatementForm(auto_id="statement_%s"),
        evidence_form=EvidenceForm(auto_id="evidence_%s"),
        track_form=TrackForm(
            initial={"track": incident.track if incident.track != "none" else None, **version},
            auto_id="track_%s",
        )
        if incident.no_individual_involved
        else None,
        plan_template=plan_template,
        action_form=ActionForm(
            initial={"due_date": services.default_due(incident.severity, today)},
            auto_id="action_%s",
        ),
        review_form=bound.get("review_form")
        or ReviewForm(initial=ReviewForm.initial_for(review), auto_id="review_%s"),
        lesson_form=bound.get("lesson_form") or LessonForm(auto_id="lesson_%s"),
        identifying=bound.get("identifying", []),
        start_form=StartAssessmentForm(incident=incident, auto_id="start_%s")
        if context["sees_assessments"] and people
        else None,
        # New runs use the current question set: its introduction, in its own words.
        assessment_introduction=guide.shown(guide.CURRENT.introduction),
    )
    return context


@require_GET
def detail(request, pk: int):
    incident, level = get_incident_for(request.user, pk)
    return render(request, "incidents/detail.html", detail_context(request, incident, level))
