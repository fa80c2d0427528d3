"""Classification: the guided assessment of each person involved, a referral to the
regulator or the police, and the track that follows (or that the team chooses when no
individual is involved)."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from incidents import assessment as guide
from incidents.models import Assessment, AuthorityReferral, Incident, IncidentError
from incidents.permissions import can_handle
from incidents.services.common import bump_version, claim_incident, record_event, require_handler
from people import roles


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
        record_event(
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
        bump_version(incident, now=now, track=track)
        record_event(incident, what="track", by=by, before=before, after=track, at=now)


def choose_track(
    *,
    incident,
    by,
    track: str,
    expected_version: int | None = None,
    now: datetime | None = None,
):
    """For incidents with no individual involved, the handler chooses the track."""
    require_handler(by)
    if track not in (Incident.Track.LEARNING, Incident.Track.ACCOUNTABILITY):
        raise IncidentError(_("Choose the learning or the accountability track."))
    now = now or timezone.now()
    with transaction.atomic():
        incident = claim_incident(incident, expected_version)
        before = incident.track
        bump_version(incident, now=now, track=track)
        record_event(incident, what="track", by=by, before=before, after=track, at=now)
    return incident
