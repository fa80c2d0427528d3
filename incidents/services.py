"""Everything that changes incidents: reporting, the workflow, containment, the
assessment, the remediation plan, the review and lessons."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from incidents import assessment as guide
from incidents import permissions
from incidents.models import (
    ActionItem,
    Assessment,
    AuthorityReferral,
    HoldingStatement,
    Incident,
    IncidentCounter,
    IncidentError,
    IncidentEvent,
    Lesson,
    Review,
    Takedown,
    TalkingPoint,
)
from incidents.permissions import can_handle
from incidents.wording import in_sentence
from notifications import webhooks
from people import roles

Status = Incident.Status
CHANGED_MEANWHILE = gettext_lazy("This incident changed while you were working on it.")

# The workflow: from each status, where it may go next ("reopen" is closed → remediation).
TRANSITIONS: dict[str, tuple[str, ...]] = {
    Status.REPORTED: (Status.TRIAGE,),
    Status.TRIAGE: (Status.CONTAINED,),
    Status.CONTAINED: (Status.CLASSIFIED,),
    Status.CLASSIFIED: (Status.REMEDIATION,),
    Status.REMEDIATION: (Status.REVIEW,),
    Status.REVIEW: (Status.CLOSED, Status.REMEDIATION),
    Status.CLOSED: (Status.REMEDIATION,),
}

# The remediation plan each track starts from.
PLAN_TEMPLATES: dict[str, tuple[str, ...]] = {
    Incident.Track.LEARNING: (
        "Correct or remove the post",
        "Fix the process that allowed it",
        "Have a coaching conversation (support, not blame)",
        "Update the policy or the briefing material",
        "Invite the person to help design the fix",
    ),
    Incident.Track.ACCOUNTABILITY: (
        "Preserve the evidence",
        "Open an HR case",
        "Legal review",
        "Review the person's access to company accounts and systems",
        "Complete containment",
    ),
}


def _require_handler(user) -> None:
    if not can_handle(user):
        raise IncidentError(_("Only the communications team and HR/legal handle incidents."))


def _event(incident, *, what, by, before="", after="", note="", at=None) -> None:
    IncidentEvent.objects.create(
        incident=incident,
        what=what,
        from_value=str(before or ""),
        to_value=str(after or ""),
        by=by,
        at=at or timezone.now(),
        note=note,
    )


def _claim(incident: Incident, expected_version: int | None) -> Incident:
    """Lock the incident and check nobody changed it since the form was opened: one
    wins, the other is told and writes nothing."""
    locked = Incident.objects.select_for_update().get(pk=incident.pk)
    if expected_version is not None and locked.version != expected_version:
        raise IncidentError(CHANGED_MEANWHILE)
    return locked


def _bump(incident: Incident, *, now: datetime, **fields) -> None:
    """Save changed fields and raise the version, only if it is still the one we read."""
    updated = Incident.objects.filter(pk=incident.pk, version=incident.version).update(
        version=F("version") + 1, updated_at=now, **fields
    )
    if not updated:
        raise IncidentError(CHANGED_MEANWHILE)
    incident.version += 1
    for key, value in fields.items():
        setattr(incident, key, value)


# --- reporting ----------------------------------------------------------------------


def _next_reference(now: datetime) -> tuple[int, int, str]:
    year = timezone.localdate(now).year
    IncidentCounter.objects.get_or_create(year=year)
    counter = IncidentCounter.objects.select_for_update().get(year=year)
    counter.last += 1
    counter.save(update_fields=["last"])
    return year, counter.last, f"INC-{year}-{counter.last:04d}"


def report_incident(
    *,
    reporter,
    what_happened: str,
    self_reported: bool = False,
    platform: str = Incident.Platform.OTHER,
    url: str = "",
    account_handle: str = "",
    posted_at: datetime | None = None,
    noticed_at: datetime | None = None,
    information: str = Incident.Information.OTHER,
    estimated_reach: int | None = None,
    severity: str = Incident.Severity.MEDIUM,
    people_involved=(),
    now: datetime | None = None,
) -> Incident:
    """Anyone reports a concern; anyone self-reports a mistake (then they are involved)."""
    from notifications.services import notify

    now = now or timezone.now()
    if not what_happened.strip():
        raise IncidentError(_("Tell us what happened, in a sentence or two."))
    noticed_at = noticed_at or now
    if posted_at and posted_at > noticed_at:
        raise IncidentError(_("It cannot have been noticed before it was posted."))
    if severity not in Incident.Severity.values:
        raise IncidentError(_("Choose a severity from the list."))
    with transaction.atomic():
        year, number, reference = _next_reference(now)
        incident = Incident.objects.create(
            reference=reference,
            year=year,
            number=number,
            reporter=reporter,
            self_reported=self_reported,
            what_happened=what_happened.strip(),
            platform=platform,
            url=url,
            account_handle=account_handle,
            posted_at=posted_at,
            noticed_at=noticed_at,
            information=information,
            estimated_reach=estimated_reach,
            severity=severity,
            created_at=now,
        )
        involved = set(people_involved)
        if self_reported:
            involved.add(reporter)
        incident.people_involved.set(involved)
        _event(
            incident,
            what="status",
            by=reporter,
            after=Status.REPORTED,
            at=now,
            note="Self-reported" if self_reported else "Reported",
        )
        webhooks.emit(
            event=webhooks.INCIDENT_REPORTED,
            subject=incident,
            data=webhooks.incident_data(incident),
            now=now,
        )
        if self_reported:
            notify(
                kind="incident-self-report-thanks",
                subject=incident,
                recipient=reporter,
                stage="thanks",
            )
    return incident


def assign_owner(
    *,
    incident: Incident,
    owner,
    by,
    expected_version: int | None = None,
    now: datetime | None = None,
):
    from notifications.services import notify

    now = now or timezone.now()
    _require_handler(by)
    if not can_handle(owner):
        raise IncidentError(_("The owner must be in the communications team or HR/legal."))
    with transaction.atomic():
        incident = _claim(incident, expected_version)
        before = incident.owner
        _bump(incident, now=now, owner=owner)
        _event(incident, what="owner", by=by, before=before or "", after=owner, at=now)
        notify(
            kind="incident-assigned",
            subject=incident,
            recipient=owner,
            stage=f"owner-{incident.version}",
        )
    return incident


def update_details(
    *,
    incident: Incident,
    by,
    expected_version: int | None = None,
    now: datetime | None = None,
    **fields,
):
    """Triage edits: severity, information kind, reach, platform, link, handle, times."""
    allowed = {
        "severity",
        "information",
        "estimated_reach",
        "platform",
        "url",
        "account_handle",
        "posted_at",
        "noticed_at",
        "what_happened",
    }
    if set(fields) - allowed:
        raise IncidentError(_("Those details cannot be changed here."))
    _require_handler(by)
    now = now or timezone.now()
    with transaction.atomic():
        incident = _claim(incident, expected_version)
        changes = {k: v for k, v in fields.items() if getattr(incident, k) != v}
        if not changes:
            return incident
        for key, value in changes.items():
            _event(incident, what=key, by=by, before=getattr(incident, key), after=value, at=now)
        _bump(incident, now=now, **changes)
    return incident


def set_people_involved(
    *,
    incident,
    by,
    people,
    no_individual: bool,
    expected_version: int | None = None,
    now: datetime | None = None,
):
    _require_handler(by)
    now = now or timezone.now()
    with transaction.atomic():
        incident = _claim(incident, expected_version)
        if no_individual and people:
            raise IncidentError(_("Either name the people involved or say no individual is."))
        incident.people_involved.set(people)
        _bump(incident, now=now, no_individual_involved=no_individual)
        _event(
            incident,
            what="people involved",
            by=by,
            after="no individual" if no_individual else f"{len(people)} people",
            at=now,
        )
    return incident


# --- the workflow -------------------------------------------------------------------


def _guard(incident: Incident, to: str, user) -> None:
    """The conditions of each step, with a message that says what is missing (and
    names people only to those who may see who was involved)."""
    if to == Status.CONTAINED:
        open_takedowns = incident.takedowns.filter(status=Takedown.Status.REQUESTED).count()
        if open_takedowns:
            raise IncidentError(
                ngettext(
                    "%(count)s takedown request(s) are still waiting: mark them removed, "
                    "refused or not needed first.",
                    "%(count)s takedown request(s) are still waiting: mark them removed, "
                    "refused or not needed first.",
                    open_takedowns,
                )
                % {"count": open_takedowns}
            )
        if not incident.takedowns.exists() and not incident.no_takedown_note.strip():
            raise IncidentError(_("Record a takedown request, or note why no takedown is needed."))
    elif to == Status.CLASSIFIED:
        people = [] if incident.no_individual_involved else list(incident.people_involved.all())
        if not people and not incident.no_individual_involved:
            raise IncidentError(
                _("Name the people involved, or record that no individual is involved.")
            )
        assessed = set(
            incident.assessments.filter(
                superseded_at__isnull=True, finished_at__isnull=False
            ).values_list("person_id", flat=True)
        )
        missing = [p.get_full_name() for p in people if p.pk not in assessed]
        if missing and permissions.sees_people_involved(user, incident):
            raise IncidentError(
                _("Finish the assessment for: %(people)s.") % {"people": ", ".join(missing)}
            )
        if missing:
            raise IncidentError(
                ngettext(
                    "Finish the assessment for %(count)s of the people involved "
                    "(HR/legal or the incident owner can).",
                    "Finish the assessment for %(count)s of the people involved "
                    "(HR/legal or the incident owner can).",
                    len(missing),
                )
                % {"count": len(missing)}
            )
        if incident.track == Incident.Track.NONE:
            raise IncidentError(_("Choose the track (learning or accountability)."))
    elif to == Status.REMEDIATION and incident.status == Status.CLASSIFIED:
        if incident.track == Incident.Track.NONE:
            raise IncidentError(_("Choose the track (learning or accountability)."))
    elif to == Status.REVIEW:
        if not incident.actions.exists():
            raise IncidentError(_("The remediation plan has no actions yet."))
    elif to == Status.CLOSED:
        open_actions = incident.actions.filter(status=ActionItem.Status.OPEN).count()
        if open_actions:
            raise IncidentError(
                ngettext(
                    "%(count)s action(s) are still open: mark them done, or waive them with a "
                    "reason.",
                    "%(count)s action(s) are still open: mark them done, or waive them with a "
                    "reason.",
                    open_actions,
                )
                % {"count": open_actions}
            )
        review = Review.objects.filter(incident=incident).first()
        if review is None or review.signed_off_at is None:
            raise IncidentError(_("The review must be signed off by a manager before closing."))
        if review.signed_off_by_id == incident.owner_id:
            # The owner may have changed since the sign-off.
            raise IncidentError(
                _(
                    "The review was signed off by the incident owner: a manager who is not "
                    "the owner signs it off."
                )
            )


def transition(
    *,
    incident: Incident,
    to: str,
    user,
    note: str = "",
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Incident:
    """The one way an incident changes status."""
    from notifications.services import notify

    _require_handler(user)
    now = now or timezone.now()
    with transaction.atomic():
        incident = _claim(incident, expected_version)
        if to not in TRANSITIONS.get(incident.status, ()):
            target = in_sentence(Status(to).label) if to in Status.values else to
            raise IncidentError(
                _("An incident that is %(status)s cannot move to “%(target)s”.")
                % {"status": in_sentence(incident.get_status_display()), "target": target}
            )
        if incident.status == Status.CLOSED and not note.strip():
            raise IncidentError(_("Say why the incident is reopened."))
        _guard(incident, to, user)
        fields = {"status": to}
        if to == Status.CONTAINED:
            fields["contained_at"] = now
        if to == Status.CLOSED:
            fields["closed_at"] = now
        if incident.status == Status.CLOSED:
            fields["closed_at"] = None
        before = incident.status
        _bump(incident, now=now, **fields)
        _event(incident, what="status", by=user, before=before, after=to, note=note, at=now)
        if to in (Status.CLASSIFIED, Status.CLOSED):
            webhooks.emit(
                event=(
                    webhooks.INCIDENT_CLASSIFIED
                    if to == Status.CLASSIFIED
                    else webhooks.INCIDENT_CLOSED
                ),
                subject=incident,
                data=webhooks.incident_data(incident),
                now=now,
                stage=str(incident.version),
            )
        if to == Status.CLOSED and incident.self_reported:
            notify(
                kind="incident-self-report-closed",
                subject=incident,
                recipient=incident.reporter,
                stage=f"closed-{incident.version}",
            )
    return incident


def reopen(
    *,
    incident: Incident,
    user,
    note: str,
    expected_version: int | None = None,
    now: datetime | None = None,
):
    if not note.strip():
        raise IncidentError(_("Say why the incident is reopened."))
    return transition(
        incident=incident,
        to=Status.REMEDIATION,
        user=user,
        note=note,
        expected_version=expected_version,
        now=now,
    )


# --- containment --------------------------------------------------------------------


def request_takedown(
    *, incident, by, what: str, asked_of: str, now: datetime | None = None
) -> Takedown:
    _require_handler(by)
    now = now or timezone.now()
    if not what.strip() or not asked_of.strip():
        raise IncidentError(_("Say what should be taken down and whom you asked."))
    with transaction.atomic():
        takedown = Takedown.objects.create(
            incident=incident,
            what=what.strip(),
            asked_of=asked_of.strip(),
            requested_at=now,
            requested_by=by,
        )
        _event(incident, what="takedown", by=by, after=Takedown.Status.REQUESTED, note=what, at=now)
    return takedown


def resolve_takedown(
    *, takedown: Takedown, by, status: str, note: str = "", now: datetime | None = None
) -> Takedown:
    _require_handler(by)
    now = now or timezone.now()
    if status not in (Takedown.Status.REMOVED, Takedown.Status.REFUSED, Takedown.Status.NOT_NEEDED):
        raise IncidentError(_("A takedown is resolved as removed, refused or not needed."))
    with transaction.atomic():
        takedown = Takedown.objects.select_for_update().get(pk=takedown.pk)
        if takedown.status != Takedown.Status.REQUESTED:
            raise IncidentError(
                _("This takedown is already resolved (%(status)s).")
                % {"status": in_sentence(takedown.get_status_display())}
            )
        before = takedown.status
        takedown.status, takedown.note, takedown.resolved_at = status, note, now
        takedown.save()
        _event(
            takedown.incident,
            what="takedown",
            by=by,
            before=before,
            after=status,
            note=note,
            at=now,
        )
    return takedown


def note_no_takedown(
    *,
    incident,
    by,
    note: str,
    expected_version: int | None = None,
    now: datetime | None = None,
):
    _require_handler(by)
    now = now or timezone.now()
    if not note.strip():
        raise IncidentError(_("Say why no takedown is needed."))
    with transaction.atomic():
        incident = _claim(incident, expected_version)
        _bump(incident, now=now, no_takedown_note=note.strip())
        _event(incident, what="no takedown", by=by, note=note, at=now)
    return incident


def draft_statement(*, incident, by, text: str, now: datetime | None = None) -> HoldingStatement:
    _require_handler(by)
    if not text.strip():
        raise IncidentError(_("A holding statement needs some text."))
    return HoldingStatement.objects.create(
        incident=incident, text=text.strip(), drafted_by=by, drafted_at=now or timezone.now()
    )


def approve_statement(
    *, statement: HoldingStatement, by, now: datetime | None = None
) -> HoldingStatement:
    _require_handler(by)
    now = now or timezone.now()
    if statement.drafted_by_id == by.pk:
        raise IncidentError(_("Someone other than the author approves a holding statement."))
    with transaction.atomic():
        statement = HoldingStatement.objects.select_for_update().get(pk=statement.pk)
        if statement.approved_at is not None:
            raise IncidentError(_("This holding statement is already approved."))
        statement.approved_by, statement.approved_at = by, now
        statement.save(update_fields=["approved_by", "approved_at"])
        _event(statement.incident, what="statement", by=by, after="approved", at=now)
    return statement


# --- the assessment -----------------------------------------------------------------


def can_assess(user, incident: Incident) -> bool:
    """The individual assessment is restricted: HR/legal and the incident owner."""
    return roles.is_hr_legal(user) or (incident.owner_id == user.pk and can_handle(user))


def _question_set_of(assessment: Assessment) -> guide.QuestionSet:
    """The questions the run was started with: a run keeps its own set."""
    question_set = guide.question_set(assessment.question_set)
    if question_set is None:
        raise IncidentError(
            _(
                "This run uses question set %(version)s, which PolicyHub no longer has: run the "
                "assessment again."
            )
            % {"version": assessment.question_set}
        )
    return question_set


def start_assessment(*, incident, person, act: str, by, now: datetime | None = None) -> Assessment:
    if not can_assess(by, incident):
        raise IncidentError(_("Only HR/legal and the incident owner assess individuals."))
    if not incident.people_involved.filter(pk=person.pk).exists():
        raise IncidentError(
            _("%(name)s is not among the people involved.") % {"name": person.get_full_name()}
        )
    if not act.strip():
        raise IncidentError(_("Describe the one act you are assessing."))
    return Assessment.objects.create(
        incident=incident,
        person=person,
        act=act.strip(),
        question_set=guide.QUESTION_SET_VERSION,
        assessor=by,
        started_at=now or timezone.now(),
    )


def answer(
    *, assessment: Assessment, by, key: str, value: str, now: datetime | None = None
) -> Assessment:
    """Store one answer with who and when, against the run's own question set."""
    if not can_assess(by, assessment.incident):
        raise IncidentError(_("Only HR/legal and the incident owner assess individuals."))
    if assessment.finished_at or assessment.superseded_at:
        raise IncidentError(_("This assessment is finished; start a new run to change it."))
    question_set = _question_set_of(assessment)
    if key not in question_set.keys:
        raise IncidentError(_("Answer yes, no or unsure to a question of this assessment."))
    question = question_set.question(key)
    if value not in question.values:
        if question.plain:
            raise IncidentError(_("Answer yes, no or unsure."))
        choices = ", ".join(f"“{guide.shown(option.label)}”" for option in question.options)
        raise IncidentError(_("Answer one of %(choices)s.") % {"choices": choices})
    now = now or timezone.now()
    with transaction.atomic():
        # Locked: two assessors answering at once both keep their answer.
        locked = Assessment.objects.select_for_update().get(pk=assessment.pk)
        if locked.finished_at or locked.superseded_at:
            raise IncidentError(_("This assessment is finished; start a new run to change it."))
        locked.answers = {
            **locked.answers,
            key: {"value": value, "by": by.pk, "at": now.isoformat()},
        }
        locked.save(update_fields=["answers"])
    assessment.answers = locked.answers
    return assessment


def plain_answers(assessment: Assessment) -> dict[str, str]:
    return {key: entry["value"] for key, entry in assessment.answers.items()}


def suggested_decision(assessment: Assessment) -> guide.Decision | None:
    """The decision of the run's own question set, once every question it needs is
    answered; None before that, or for a set PolicyHub no longer has."""
    question_set = guide.question_set(assessment.question_set)
    answers = plain_answers(assessment)
    if question_set is None or not question_set.is_complete(answers):
        return None
    return question_set.decide(answers)


def finish_assessment(
    *,
    assessment: Assessment,
    by,
    final_outcome: str | None = None,
    override_reason: str = "",
    now: datetime | None = None,
) -> Assessment:
    """Record the suggested outcome and the final one (an override needs a reason);
    the outcome sets the track. Earlier runs for the same person are superseded."""
    if not can_assess(by, assessment.incident):
        raise IncidentError(_("Only HR/legal and the incident owner assess individuals."))
    if assessment.finished_at or assessment.superseded_at:
        raise IncidentError(_("This assessment is finished; start a new run to change it."))
    _question_set_of(assessment)
    now = now or timezone.now()
    with transaction.atomic():
        # Locked and checked again: a run is finished once, by one assessor, and decided
        # on the answers as they are now.
        locked = Assessment.objects.select_for_update().get(pk=assessment.pk)
        if locked.finished_at or locked.superseded_at:
            raise IncidentError(_("This assessment is finished; start a new run to change it."))
        assessment.answers = locked.answers
        decision = suggested_decision(assessment)
        if decision is None:
            raise IncidentError(_("Answer every question first."))
        final = final_outcome or decision.outcome
        if final not in Assessment.Outcome.values:
            raise IncidentError(_("Choose one of the four outcomes."))
        if final != decision.outcome and not override_reason.strip():
            raise IncidentError(
                _("You chose a different outcome from the suggested one: write down why.")
            )
        Assessment.objects.filter(
            incident=assessment.incident,
            person=assessment.person,
            superseded_at__isnull=True,
        ).exclude(pk=assessment.pk).update(superseded_at=now)
        assessment.suggested_outcome = decision.outcome
        assessment.final_outcome = final
        assessment.override_reason = override_reason.strip()
        assessment.referral = decision.referral
        assessment.finished_at = now
        assessment.save()
        _set_track_from_assessments(assessment.incident, by, now=now)
    return assessment


def decide_authority_referral(
    *, assessment: Assessment, by, decision: str, note: str, now: datetime | None = None
) -> AuthorityReferral:
    """On a deliberate outcome: refer to the regulator, to the police, or not. The
    decision and its note stay on the restricted assessment; the incident's history says
    that it was decided, by whom and when, without the note (the history is read by the
    whole incident team)."""
    if not can_assess(by, assessment.incident):
        raise IncidentError(
            _(
                "Only HR/legal and the incident owner decide on a referral to the regulator or "
                "the police."
            )
        )
    if decision not in AuthorityReferral.Decision.values:
        raise IncidentError(
            _("Choose: refer to the regulator, refer to the police, or not referred.")
        )
    if not note.strip():
        raise IncidentError(_("Add a note: which authority and its reference, or why not."))
    now = now or timezone.now()
    with transaction.atomic():
        locked = Assessment.objects.select_for_update().get(pk=assessment.pk)
        if locked.superseded_at:
            raise IncidentError(_("This run was superseded: decide on the current one."))
        if not locked.finished_at or locked.final_outcome != Assessment.Outcome.DELIBERATE:
            raise IncidentError(
                _(
                    "A referral to the regulator or the police is decided once the assessment is "
                    "finished as deliberate."
                )
            )
        referral = AuthorityReferral.objects.create(
            assessment=locked,
            decision=decision,
            note=note.strip(),
            decided_by=by,
            decided_at=now,
        )
        # The history is stored in the source language, whoever decides.
        with translation.override(None):
            label = str(AuthorityReferral.Decision(decision).label)
        _event(
            locked.incident,
            what="regulator or police",
            by=by,
            after=label[0].lower() + label[1:],
            at=now,
        )
    return referral


def _set_track_from_assessments(incident: Incident, by, *, now: datetime) -> None:
    outcomes = set(
        incident.assessments.filter(
            superseded_at__isnull=True, finished_at__isnull=False
        ).values_list("final_outcome", flat=True)
    )
    track = (
        Incident.Track.ACCOUNTABILITY
        if outcomes & {Assessment.Outcome.RECKLESS, Assessment.Outcome.DELIBERATE}
        else Incident.Track.LEARNING
    )
    # Compared on the row as it is now: the caller's copy may be older than the last run.
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    if incident.track != track:
        before = incident.track
        _bump(incident, now=now, track=track)
        _event(incident, what="track", by=by, before=before, after=track, at=now)


def choose_track(
    *,
    incident,
    by,
    track: str,
    expected_version: int | None = None,
    now: datetime | None = None,
):
    """For incidents with no individual involved, the handler chooses the track."""
    _require_handler(by)
    if track not in (Incident.Track.LEARNING, Incident.Track.ACCOUNTABILITY):
        raise IncidentError(_("Choose the learning or the accountability track."))
    now = now or timezone.now()
    with transaction.atomic():
        incident = _claim(incident, expected_version)
        before = incident.track
        _bump(incident, now=now, track=track)
        _event(incident, what="track", by=by, before=before, after=track, at=now)
    return incident


# --- the remediation plan -----------------------------------------------------------


def default_due(severity: str, today=None):
    days = settings.INCIDENT_ACTION_DUE_DAYS[severity]
    return (today or timezone.localdate()) + timedelta(days=days)


def fill_plan(*, incident, by, owner=None, now: datetime | None = None) -> list[ActionItem]:
    """Fill the remediation plan from the track's template (once)."""
    _require_handler(by)
    if incident.track == Incident.Track.NONE:
        raise IncidentError(_("Choose the track first: the plan follows from it."))
    if incident.actions.exists():
        raise IncidentError(_("The plan already has actions."))
    owner = owner or incident.owner or by
    now = now or timezone.now()
    due = default_due(incident.severity, timezone.localdate(now))
    with transaction.atomic():
        actions = [
            add_action(incident=incident, by=by, title=title, owner=owner, due_date=due, now=now)
            for title in PLAN_TEMPLATES[incident.track]
        ]
    return actions


def add_action(
    *, incident, by, title: str, owner, due_date=None, now: datetime | None = None
) -> ActionItem:
    from notifications.services import notify

    _require_handler(by)
    now = now or timezone.now()
    if not title.strip():
        raise IncidentError(_("An action needs a title."))
    with transaction.atomic():
        action = ActionItem.objects.create(
            incident=incident,
            title=title.strip(),
            owner=owner,
            due_date=due_date or default_due(incident.severity, timezone.localdate(now)),
        )
        _event(incident, what="action", by=by, after="added", note=action.title, at=now)
        notify(kind="incident-action-assigned", subject=action, recipient=owner, stage="assigned")
    return action


def complete_action(
    *, action: ActionItem, by, status: str, note: str, now: datetime | None = None
) -> ActionItem:
    """Done (with how) or waived (with why): by the action's owner or a handler."""
    if by.pk != action.owner_id and not can_handle(by):
        raise IncidentError(_("Only the action's owner or the incident team can close it."))
    if status not in (ActionItem.Status.DONE, ActionItem.Status.WAIVED):
        raise IncidentError(_("An action is done or waived."))
    if not note.strip():
        raise IncidentError(
            _("Say how it was done.")
            if status == ActionItem.Status.DONE
            else _("Say why it is waived.")
        )
    now = now or timezone.now()
    with transaction.atomic():
        action = ActionItem.objects.select_for_update().get(pk=action.pk)
        if action.status != ActionItem.Status.OPEN:
            raise IncidentError(_("This action is already closed."))
        action.status, action.note = status, note.strip()
        action.completed_at, action.completed_by = now, by
        action.save()
        _event(
            action.incident,
            what="action",
            by=by,
            after=status,
            note=f"{action.title}: {action.note}",
            at=now,
        )
    return action


# --- review and lessons -------------------------------------------------------------


REVIEW_FIELDS = (
    "summary",
    "contributing_factors",
    "spotted_sooner",
    "went_well",
    "effectiveness_check",
)


def write_review(*, incident, by, now: datetime | None = None, **fields) -> Review:
    _require_handler(by)
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
        _event(incident, what="review", by=by, after="written", at=now)
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
        _event(incident, what="review", by=by, after="signed off", at=now)
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
    _require_handler(by)
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
        _event(incident, what="lesson", by=by, after="published", note=title, at=now)
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


def open_policy_revision(*, lesson: Lesson, policy, by):
    """ "Open a policy revision": a draft of the policy's next version, linked to the lesson."""
    from policies import services as policy_services
    from policies.models import PolicyError, PolicyVersion

    if not roles.is_policy_admin(by):
        raise IncidentError(_("Policy admins open policy revisions."))
    current = policy.versions.filter(status=PolicyVersion.Status.PUBLISHED).first()
    try:
        draft = policy_services.create_draft(
            policy=policy,
            author=by,
            body=current.body if current else "",
            change_summary=f"From the lesson “{lesson.title}”.",
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
