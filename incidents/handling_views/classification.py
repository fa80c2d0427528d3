"""Classification: the guided assessment of each person involved (one question at a time,
in the words of the run's own question set), a referral to the regulator or the police,
and the track."""

from __future__ import annotations

from datetime import datetime

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from incidents import assessment as guide
from incidents import facts as person_facts
from incidents import services
from incidents.handling_forms import (
    AnswerForm,
    AuthorityReferralForm,
    FinishAssessmentForm,
    StartAssessmentForm,
    TrackForm,
)
from incidents.handling_views.shared import (
    Outcome,
    act,
    detail_url,
    form_errors,
    handled_incident,
    invalid,
    outcome_class,
)
from incidents.models import Assessment, Incident, IncidentError
from incidents.permissions import get_incident_for
from incidents.wording import in_sentence


@require_POST
def choose_track(request, pk: int):
    incident = handled_incident(request, pk)
    if not incident.no_individual_involved:
        messages.error(
            request,
            _(
                "The track follows from the assessment of each person involved. Choose it "
                "here only when no individual is involved."
            ),
        )
        return redirect(detail_url(incident, "classification"))
    form = TrackForm(request.POST)
    if not form.is_valid():
        return invalid(request, incident, "classification", form)
    return act(
        request,
        incident,
        "classification",
        lambda: services.choose_track(
            incident=incident,
            by=request.user,
            track=form.cleaned_data["track"],
            expected_version=form.cleaned_data["version"],
        ),
        lambda done: _("%(track)s chosen.") % {"track": done.get_track_display()},
    )


def _assessing(request, pk: int) -> Incident:
    """HR/legal and the incident owner; 404 for those who may not open the incident,
    403 for the rest of the team."""
    incident, _level = get_incident_for(request.user, pk)
    if not services.can_assess(request.user, incident):
        raise PermissionDenied
    return incident


@require_POST
def assessment_new(request, pk: int):
    incident = _assessing(request, pk)
    form = StartAssessmentForm(request.POST, incident=incident)
    if not form.is_valid():
        return invalid(request, incident, "classification", form)
    try:
        run = services.start_assessment(
            incident=incident,
            person=form.cleaned_data["person"],
            act=form.cleaned_data["act"],
            by=request.user,
        )
    except IncidentError as error:
        messages.error(request, str(error))
        return redirect(detail_url(incident, "classification"))
    return redirect("incidents:assessment", incident.pk, run.pk)


def _offers_authority_referral(run: Assessment) -> bool:
    """The current run, finished as deliberate: refer to the regulator or the police?"""
    return bool(run.finished_at and run.current and run.final_outcome == Outcome.DELIBERATE)


def _answer_rows(run: Assessment, question_set, needed: list[str], current) -> list[dict]:
    """Every stored answer, with who and when, and the question asked now. Answers the
    decision does not use with the other answers (a question skipped after an earlier
    answer changed) are shown as not used, never dropped silently."""
    people = {
        user.pk: user.get_full_name()
        for user in get_user_model().objects.filter(
            pk__in={entry.get("by") for entry in run.answers.values()}
        )
    }
    order = {key: index for index, key in enumerate(question_set.keys)} if question_set else {}
    valid = question_set.valid(services.plain_answers(run)) if question_set else {}
    keys = sorted(
        set(run.answers) | ({current} if current else set()),
        key=lambda key: (order.get(key, len(order)), key),
    )
    rows = []
    for key in keys:
        entry = run.answers.get(key)
        question = question_set.question(key) if key in order else None
        value = entry["value"] if entry else ""
        rows.append(
            {
                "key": key,
                "number": question.number if question else "",
                "question": guide.shown(question.question) if question else key,
                "answer": guide.shown(question.label_of(value)) if question and value else value,
                "unsure": value == guide.UNSURE,
                "unsure_means": question.unsure_means if question else "",
                "by": people.get(entry.get("by"), "") if entry else "",
                "at": datetime.fromisoformat(entry["at"]) if entry and entry.get("at") else None,
                "current": key == current,
                "used": question_set is None or (key in needed and key in valid),
            }
        )
    return rows


def _assessment_context(request, incident: Incident, run: Assessment, **extra) -> dict:
    # A run is read, continued and decided with its own question set.
    question_set = guide.question_set(run.question_set)
    answers = services.plain_answers(run)
    is_open = run.finished_at is None and run.superseded_at is None and question_set is not None
    needed = question_set.needed_keys(answers) if question_set else []
    valid = question_set.valid(answers) if question_set else {}
    current = None
    if is_open:
        asked = request.GET.get("step")
        unanswered = [key for key in needed if key not in valid]
        current = asked if asked in needed else (unanswered[0] if unanswered else None)
    decision = services.suggested_decision(run)
    complete = decision is not None
    if run.finished_at and decision and decision.outcome != run.suggested_outcome:
        # The stored outcome is the record: reasons that would tell another story are
        # not shown beside it.
        decision = None
    question = question_set.question(current) if current else None
    asked_numbers = {question_set.question(key).number for key in needed} if question_set else set()
    reached = max(
        (question_set.question(key).number for key in needed if key in valid or key == current),
        default=0,
    )
    skipped = sorted(
        {
            q.number
            for q in (question_set.questions if question_set else ())
            if q.number not in asked_numbers and (complete or not is_open or q.number < reached)
        }
    )
    shows_facts = bool(question and question.shows_facts) or complete
    earlier = list(incident.assessments.filter(person_id=run.person_id).select_related("assessor"))
    for item in earlier:
        item.badge_class = outcome_class(item.final_outcome)
    context = {
        "incident": incident,
        "run": run,
        "question_set": question_set,
        "newer_question_set": (
            guide.QUESTION_SET_VERSION if run.question_set != guide.QUESTION_SET_VERSION else ""
        ),
        "is_open": is_open,
        "rows": _answer_rows(run, question_set, needed, current),
        "skipped": skipped,
        "current": current,
        "step": question,
        "options": [
            {
                **vars(option),
                "label": guide.shown(option.label),
                "description": guide.shown(option.description),
                "id": f"answer-{option.value}",
            }
            for option in (question.options if question else ())
        ],
        "options_described": bool(question and any(o.description for o in question.options)),
        "current_answer": answers.get(current, ""),
        "complete": complete,
        "decision": decision,
        "decision_class": outcome_class(decision.outcome) if decision else "",
        "final_class": outcome_class(run.final_outcome),
        "facts": person_facts.for_person(run.person, incident) if shows_facts else None,
        "earlier": earlier,
        "total_steps": question_set.total_steps if question_set else 0,
        "decision_label": Outcome(decision.outcome).label if decision else "",
        "decision_track_label": in_sentence(Incident.Track(decision.track).label)
        if decision
        else "",
        "ill_health_referral": guide.ILL_HEALTH_REFERRAL,
        "authority_referrals": (
            list(run.authority_referrals.select_related("decided_by"))
            if run.final_outcome == Outcome.DELIBERATE
            else []
        ),
    }
    if is_open and complete and "finish_form" not in extra:
        context["finish_form"] = FinishAssessmentForm(
            suggested=decision.outcome, auto_id="finish_%s"
        )
    if _offers_authority_referral(run) and "authority_form" not in extra:
        context["authority_form"] = AuthorityReferralForm(auto_id="referral_%s")
    context.update(extra)
    return context


def _run_of(incident: Incident, assessment_pk: int) -> Assessment:
    run = get_object_or_404(
        Assessment.objects.select_related("person", "assessor"),
        pk=assessment_pk,
        incident=incident,
    )
    run.incident = incident
    return run


@require_http_methods(["GET", "POST"])
def assessment(request, pk: int, assessment_pk: int):
    """One step at a time: GET shows the next question (or `?step=` to change an
    answer), POST records an answer and moves on."""
    incident = _assessing(request, pk)
    run = _run_of(incident, assessment_pk)
    if request.method == "POST":
        question_set = guide.question_set(run.question_set)
        if question_set is None or run.finished_at or run.superseded_at:
            messages.error(request, _("This assessment is finished; start a new run to change it."))
            return redirect("incidents:assessment", incident.pk, run.pk)
        asked = question_set.needed_keys(services.plain_answers(run))
        form = AnswerForm(request.POST, question_set=question_set, asked=asked)
        if not form.is_valid():
            messages.error(request, form_errors(form))
        else:
            try:
                services.answer(assessment=run, by=request.user, **form.cleaned_data)
            except IncidentError as error:
                messages.error(request, str(error))
        return redirect("incidents:assessment", incident.pk, run.pk)
    return render(request, "incidents/assessment.html", _assessment_context(request, incident, run))


@require_POST
def assessment_finish(request, pk: int, assessment_pk: int):
    incident = _assessing(request, pk)
    run = _run_of(incident, assessment_pk)
    decision = services.suggested_decision(run)
    if decision is None or run.finished_at or run.superseded_at:
        messages.error(
            request, _("This assessment cannot be finished: answer every question first.")
        )
        return redirect("incidents:assessment", incident.pk, run.pk)
    form = FinishAssessmentForm(request.POST, suggested=decision.outcome, auto_id="finish_%s")
    if form.is_valid():
        try:
            run = services.finish_assessment(
                assessment=run,
                by=request.user,
                final_outcome=form.cleaned_data["outcome"],
                override_reason=form.cleaned_data["override_reason"],
            )
        except IncidentError as error:
            form.add_error(None, str(error))
        else:
            incident.refresh_from_db()
            messages.success(
                request,
                _(
                    "The assessment of %(name)s is finished: %(outcome)s. The incident is on the "
                    "%(track)s."
                )
                % {
                    "name": run.person.get_full_name(),
                    "outcome": in_sentence(run.get_final_outcome_display()),
                    "track": in_sentence(incident.get_track_display()),
                },
            )
            if _offers_authority_referral(run):
                # The next decision is on the assessment page: regulator or police.
                return redirect(
                    reverse("incidents:assessment", args=[incident.pk, run.pk]) + "#authority"
                )
            return redirect(detail_url(incident, "classification"))
    context = _assessment_context(request, incident, run, finish_form=form)
    return render(request, "incidents/assessment.html", context, status=400)


@require_POST
def assessment_authority_referral(request, pk: int, assessment_pk: int):
    """On a deliberate outcome: refer to the regulator, to the police, or not."""
    incident = _assessing(request, pk)
    run = _run_of(incident, assessment_pk)
    page = reverse("incidents:assessment", args=[incident.pk, run.pk]) + "#authority"
    if not _offers_authority_referral(run):
        messages.error(
            request,
            _(
                "A referral to the regulator or the police is decided on the current run, once it "
                "is finished as deliberate."
            ),
        )
        return redirect(page)
    form = AuthorityReferralForm(request.POST, auto_id="referral_%s")
    if not form.is_valid():
        context = _assessment_context(request, incident, run, authority_form=form)
        return render(request, "incidents/assessment.html", context, status=400)
    try:
        referral = services.decide_authority_referral(
            assessment=run, by=request.user, **form.cleaned_data
        )
    except IncidentError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            _("Recorded: %(decision)s.")
            % {"decision": in_sentence(referral.get_decision_display())},
        )
    return redirect(page)
