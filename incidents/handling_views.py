"""Handling an incident: its page for each level of access, the team's forms, the guided
assessment and evidence.

Every view loads the incident through `get_incident_for` (404 for anyone who may not
open it), checks the role for what it does, validates a form, calls a service and
reports with `messages`. A service's `IncidentError`, including a stale `version`,
becomes an error message and writes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop, ngettext, pgettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from incidents import assessment as guide
from incidents import evidence as evidence_files
from incidents import facts as person_facts
from incidents import services
from incidents.handling_forms import (
    ActionForm,
    AnswerForm,
    AuthorityReferralForm,
    BriefingForm,
    CompleteActionForm,
    DetailsForm,
    EvidenceForm,
    FinishAssessmentForm,
    LessonForm,
    NoTakedownForm,
    OwnerForm,
    PeopleInvolvedForm,
    PolicyRevisionForm,
    ReopenForm,
    ResolveTakedownForm,
    ReviewForm,
    StartAssessmentForm,
    StatementForm,
    TakedownForm,
    TrackForm,
    TransitionForm,
    WithdrawForm,
)
from incidents.models import (
    ActionItem,
    Assessment,
    Evidence,
    HoldingStatement,
    Incident,
    IncidentError,
    Lesson,
    Review,
    Takedown,
)
from incidents.permissions import (
    can_handle,
    get_incident_for,
    sees_people_involved,
    visible_assessments,
)
from incidents.wording import in_sentence
from people import roles
from policies.models import Policy
from training.models import Topic

Status = Incident.Status
Outcome = Assessment.Outcome
# The name shown instead of a restricted person's (in English here: the API and the
# closure report use it too; the pages translate it).
RESTRICTED_NAME = gettext_noop("A person involved (restricted)")

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

# --- helpers ------------------------------------------------------------------------


def _detail_url(incident: Incident, anchor: str = "") -> str:
    url = reverse("incidents:detail", args=[incident.pk])
    return f"{url}#{anchor}" if anchor else url


REQUIRED = forms.Field.default_error_messages["required"]


def _form_errors(form) -> str:
    """The form's problems as one message; a missing field is named by its label."""
    problems = []
    for name, errors in form.errors.items():
        field = form.fields.get(name)
        for error in errors:
            if error == REQUIRED and field is not None:
                label = field.label or name.replace("_", " ").capitalize()
                error = _("Fill in “%(field)s”.") % {"field": label}
            problems.append(str(error))
    return " ".join(problems)


def _handled_incident(request, pk: int) -> Incident:
    """The incident, for the team that handles it: 404 for anyone who may not open it,
    403 for those who may see it but not change it."""
    incident, level = get_incident_for(request.user, pk)
    if level != "full" or not can_handle(request.user):
        raise PermissionDenied
    return incident


def _act(request, incident: Incident, anchor: str, run: Callable[[], object], done) -> object:
    """Run a service; its refusal becomes an error message, its success a message."""
    try:
        result = run()
    except IncidentError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, done(result) if callable(done) else done)
    return redirect(_detail_url(incident, anchor))


def _invalid(request, incident: Incident, anchor: str, form):
    messages.error(request, _form_errors(form))
    return redirect(_detail_url(incident, anchor))


def _duration(start: datetime | None, end: datetime | None) -> str:
    if not start or not end:
        return ""
    minutes = max(int((end - start).total_seconds() // 60), 0)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    parts = []
    if days:
        parts.append(ngettext("%(count)s day", "%(count)s days", days) % {"count": days})
    if hours:
        parts.append(ngettext("%(count)s hour", "%(count)s hours", hours) % {"count": hours})
    if not days and (minutes or not hours):
        parts.append(
            ngettext("%(count)s minute", "%(count)s minutes", minutes) % {"count": minutes}
        )
    return " ".join(parts[:2])


def exposure_window(incident: Incident, now: datetime) -> tuple[list[dict], dict]:
    """Posted → noticed → contained → closed, with the time each stretch took."""
    points = [
        (_("Posted"), incident.posted_at),
        (_("Noticed"), incident.noticed_at),
        (_("Contained"), incident.contained_at),
        (_("Closed"), incident.closed_at),
    ]
    window = []
    previous = None
    for label, at in points:
        window.append(
            {"label": label, "at": at, "after": _duration(previous, at) if previous else ""}
        )
        previous = at or previous
    start = incident.posted_at or incident.noticed_at
    end = incident.contained_at
    return window, {
        "exposed_for": _duration(start, end or now),
        "still_exposed": end is None,
        "open_for": _duration(incident.noticed_at, incident.closed_at or now),
    }


# The history is stored as written (codes, and a few fixed English words); it is put
# into the reader's language here, when it is shown. Anything else (a name, a link, a
# number, a person's note) is shown as it was stored.
EVENT_NAMES = {
    "status": pgettext_lazy("incident history", "Status"),
    "owner": pgettext_lazy("incident history", "Owner"),
    "severity": pgettext_lazy("incident history", "Severity"),
    "information": pgettext_lazy("incident history", "Information"),
    "estimated_reach": pgettext_lazy("incident history", "Estimated reach"),
    "platform": pgettext_lazy("incident history", "Platform"),
    "url": pgettext_lazy("incident history", "Url"),
    "account_handle": pgettext_lazy("incident history", "Account handle"),
    "posted_at": pgettext_lazy("incident history", "Posted at"),
    "noticed_at": pgettext_lazy("incident history", "Noticed at"),
    "what_happened": pgettext_lazy("incident history", "What happened"),
    "people involved": pgettext_lazy("incident history", "People involved"),
    "takedown": pgettext_lazy("incident history", "Takedown"),
    "no takedown": pgettext_lazy("incident history", "No takedown"),
    "statement": pgettext_lazy("incident history", "Statement"),
    "evidence": pgettext_lazy("incident history", "Evidence"),
    "regulator or police": pgettext_lazy("incident history", "Regulator or police"),
    "track": pgettext_lazy("incident history", "Track"),
    "action": pgettext_lazy("incident history", "Action"),
    "review": pgettext_lazy("incident history", "Review"),
    "lesson": pgettext_lazy("incident history", "Lesson"),
}
EVENT_WORDS = {
    "added": pgettext_lazy("incident history", "added"),
    "done": pgettext_lazy("incident history", "done"),
    "waived": pgettext_lazy("incident history", "waived"),
    "written": pgettext_lazy("incident history", "written"),
    "signed off": pgettext_lazy("incident history", "signed off"),
    "approved": pgettext_lazy("incident history", "approved"),
    "published": pgettext_lazy("incident history", "published"),
    "captured": pgettext_lazy("incident history", "captured"),
    "withdrawn": pgettext_lazy("incident history", "withdrawn"),
    "no individual": pgettext_lazy("incident history", "no individual"),
    "refer to the regulator": pgettext_lazy("incident history", "refer to the regulator"),
    "refer to the police": pgettext_lazy("incident history", "refer to the police"),
    "not referred": pgettext_lazy("incident history", "not referred"),
}
EVENT_NOTES = {
    "Reported": pgettext_lazy("incident history", "Reported"),
    "Self-reported": pgettext_lazy("incident history", "Self-reported"),
}
PEOPLE_COUNT = re.compile(r"(\d+) people")


def _value_label(what: str, value: str) -> str:
    choices = {
        "status": Status,
        "track": Incident.Track,
        "severity": Incident.Severity,
        "platform": Incident.Platform,
        "information": Incident.Information,
        "takedown": Takedown.Status,
    }.get(what)
    if choices is not None and value in choices.values:
        return choices(value).label
    if value in EVENT_WORDS:
        return EVENT_WORDS[value]
    count = PEOPLE_COUNT.fullmatch(value)
    if what == "people involved" and count:
        number = int(count.group(1))
        return ngettext("%(count)s people", "%(count)s people", number) % {"count": number}
    return value


def describe_event(event) -> str:
    before = _value_label(event.what, event.from_value)
    after = _value_label(event.what, event.to_value)
    what = EVENT_NAMES.get(event.what) or event.what.replace("_", " ").capitalize()
    if event.what == "status" and not before:
        return str(after)
    if before and after:
        # Translators: a history row, e.g. "Severity: Medium → High".
        return _("%(what)s: %(before)s → %(after)s") % {
            "what": what,
            "before": before,
            "after": after,
        }
    if after:
        # Translators: a history row, e.g. "Action: added".
        return _("%(what)s: %(after)s") % {"what": what, "after": after}
    return str(what)


def outcome_class(outcome: str) -> str:
    return {
        Outcome.HUMAN_ERROR: "text-bg-success",
        Outcome.AT_RISK: "text-bg-warning",
        Outcome.RECKLESS: "text-bg-danger",
        Outcome.DELIBERATE: "text-bg-danger",
    }.get(outcome, "text-bg-secondary")


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


# --- the incident page --------------------------------------------------------------


def _detail_context(request, incident: Incident, level: str, **bound) -> dict:
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
    )
    return context


@require_GET
def detail(request, pk: int):
    incident, level = get_incident_for(request.user, pk)
    return render(request, "incidents/detail.html", _detail_context(request, incident, level))


# --- the team's forms ---------------------------------------------------------------


def _team_form(form_class, anchor: str, run, done, *, files: bool = False):
    """A view for one of the team's forms about the incident: validate it, then
    `run(incident, user, cleaned_data)` calls the service; `done` says what happened."""

    @require_POST
    def view(request, pk: int):
        incident = _handled_incident(request, pk)
        form = form_class(request.POST, request.FILES) if files else form_class(request.POST)
        if not form.is_valid():
            return _invalid(request, incident, anchor, form)
        data = form.cleaned_data
        return _act(request, incident, anchor, lambda: run(incident, request.user, data), done)

    return view


assign_owner = _team_form(
    OwnerForm,
    "handling",
    lambda incident, user, data: services.assign_owner(
        incident=incident, owner=data["owner"], by=user, expected_version=data["version"]
    ),
    lambda done: _("%(name)s owns this incident now.") % {"name": done.owner.get_full_name()},
)
edit_details = _team_form(
    DetailsForm,
    "summary",
    lambda incident, user, data: services.update_details(
        incident=incident,
        by=user,
        expected_version=data["version"],
        **{name: data[name] for name in DetailsForm.SERVICE_FIELDS},
    ),
    gettext_lazy("The details are saved."),
)
transition = _team_form(
    TransitionForm,
    "handling",
    lambda incident, user, data: services.transition(
        incident=incident,
        to=data["to"],
        user=user,
        note=data["note"],
        expected_version=data["version"],
    ),
    lambda done: (
        _("%(reference)s is %(status)s.")
        % {"reference": done.reference, "status": in_sentence(done.get_status_display())}
    ),
)
reopen = _team_form(
    ReopenForm,
    "handling",
    lambda incident, user, data: services.reopen(
        incident=incident, user=user, note=data["note"], expected_version=data["version"]
    ),
    lambda done: (
        _("%(reference)s is reopened and back in remediation.") % {"reference": done.reference}
    ),
)
takedown_request = _team_form(
    TakedownForm,
    "containment",
    lambda incident, user, data: services.request_takedown(incident=incident, by=user, **data),
    gettext_lazy("The takedown request is recorded."),
)
no_takedown = _team_form(
    NoTakedownForm,
    "containment",
    lambda incident, user, data: services.note_no_takedown(
        incident=incident, by=user, note=data["note"], expected_version=data["version"]
    ),
    gettext_lazy("Noted: no takedown is needed."),
)
statement_draft = _team_form(
    StatementForm,
    "containment",
    lambda incident, user, data: services.draft_statement(
        incident=incident, by=user, text=data["text"]
    ),
    gettext_lazy("The holding statement is drafted. Someone else on the team approves it."),
)
evidence_upload = _team_form(
    EvidenceForm,
    "evidence",
    lambda incident, user, data: evidence_files.capture(
        incident=incident,
        by=user,
        upload=data["file"],
        url=data["url"],
        platform=data["platform"],
        handle=data["handle"],
        captured_at=data["captured_at"],
        note=data["note"],
    ),
    lambda item: (
        _("The evidence is kept (SHA-256 %(sha256)s).") % {"sha256": item.sha256}
        if item.sha256
        else _("The evidence is kept.")
    ),
    files=True,
)
add_action = _team_form(
    ActionForm,
    "plan",
    lambda incident, user, data: services.add_action(incident=incident, by=user, **data),
    lambda action: (
        _("“%(title)s” is added for %(name)s.")
        % {"title": action.title, "name": action.owner.get_full_name()}
    ),
)


@require_POST
def people_involved(request, pk: int):
    incident = _handled_incident(request, pk)
    if not sees_people_involved(request.user, incident):
        raise PermissionDenied
    form = PeopleInvolvedForm(request.POST)
    if not form.is_valid():
        return _invalid(request, incident, "people", form)
    data = form.cleaned_data
    return _act(
        request,
        incident,
        "people",
        lambda: services.set_people_involved(
            incident=incident,
            by=request.user,
            people=data["people"],
            no_individual=data["no_individual"],
            expected_version=data["version"],
        ),
        _("No individual is involved.")
        if data["no_individual"]
        else _("The people involved are saved."),
    )


@require_POST
def takedown_resolve(request, pk: int, takedown_pk: int):
    incident = _handled_incident(request, pk)
    takedown = get_object_or_404(Takedown, pk=takedown_pk, incident=incident)
    form = ResolveTakedownForm(request.POST)
    if not form.is_valid():
        return _invalid(request, incident, "containment", form)
    takedown.incident = incident
    return _act(
        request,
        incident,
        "containment",
        lambda: services.resolve_takedown(takedown=takedown, by=request.user, **form.cleaned_data),
        lambda done: (
            _("The takedown is marked %(status)s.")
            % {"status": in_sentence(done.get_status_display())}
        ),
    )


@require_POST
def statement_approve(request, pk: int, statement_pk: int):
    incident = _handled_incident(request, pk)
    statement = get_object_or_404(HoldingStatement, pk=statement_pk, incident=incident)
    if statement.approved_at:
        messages.info(request, _("This holding statement is already approved."))
        return redirect(_detail_url(incident, "containment"))
    statement.incident = incident
    return _act(
        request,
        incident,
        "containment",
        lambda: services.approve_statement(statement=statement, by=request.user),
        _("The holding statement is approved."),
    )


@require_GET
def evidence_file(request, pk: int, evidence_pk: int):
    incident, level = get_incident_for(request.user, pk)
    if level != "full":
        # Evidence is for the team only; to anyone else it does not exist.
        raise Http404("No such evidence.")
    item = get_object_or_404(Evidence, pk=evidence_pk, incident=incident)
    return evidence_files.file_response(item, reference=incident.reference)


@require_POST
def evidence_withdraw(request, pk: int, evidence_pk: int):
    incident = _handled_incident(request, pk)
    item = get_object_or_404(Evidence, pk=evidence_pk, incident=incident)
    form = WithdrawForm(request.POST)
    if not form.is_valid():
        return _invalid(request, incident, "evidence", form)
    return _act(
        request,
        incident,
        "evidence",
        lambda: evidence_files.withdraw(
            evidence=item, by=request.user, reason=form.cleaned_data["reason"]
        ),
        _("The evidence is withdrawn; it stays on record with your reason."),
    )


@require_POST
def choose_track(request, pk: int):
    incident = _handled_incident(request, pk)
    if not incident.no_individual_involved:
        messages.error(
            request,
            _(
                "The track follows from the assessment of each person involved. Choose it "
                "here only when no individual is involved."
            ),
        )
        return redirect(_detail_url(incident, "classification"))
    form = TrackForm(request.POST)
    if not form.is_valid():
        return _invalid(request, incident, "classification", form)
    return _act(
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


@require_POST
def fill_plan(request, pk: int):
    incident = _handled_incident(request, pk)
    return _act(
        request,
        incident,
        "plan",
        lambda: services.fill_plan(incident=incident, by=request.user),
        lambda actions: (
            ngettext(
                "The plan has %(count)s actions from the track's template.",
                "The plan has %(count)s actions from the track's template.",
                len(actions),
            )
            % {"count": len(actions)}
        ),
    )


@require_POST
def complete_action(request, pk: int, action_pk: int):
    """Done or waived: by the action's owner (who may see only the summary) or the team."""
    incident, level = get_incident_for(request.user, pk)
    action = get_object_or_404(ActionItem, pk=action_pk, incident=incident)
    if level != "full" and action.owner_id != request.user.pk:
        raise Http404("No such action.")
    form = CompleteActionForm(request.POST)
    if not form.is_valid():
        return _invalid(request, incident, "plan", form)
    action.incident = incident
    return _act(
        request,
        incident,
        "plan",
        lambda: services.complete_action(action=action, by=request.user, **form.cleaned_data),
        lambda done: (
            _("“%(title)s” is %(status)s.")
            % {"title": done.title, "status": in_sentence(done.get_status_display())}
        ),
    )


# --- review and lessons -------------------------------------------------------------


@require_POST
def write_review(request, pk: int):
    incident = _handled_incident(request, pk)
    form = ReviewForm(request.POST, auto_id="review_%s")
    if form.is_valid():
        try:
            services.write_review(incident=incident, by=request.user, **form.cleaned_data)
        except IncidentError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("The review is saved. A manager signs it off."))
            return redirect(_detail_url(incident, "review"))
    context = _detail_context(request, incident, "full", review_form=form)
    return render(request, "incidents/detail.html", context, status=400)


@require_POST
def sign_off_review(request, pk: int):
    incident, level = get_incident_for(request.user, pk)
    if level == "reporter":
        raise PermissionDenied
    review = get_object_or_404(Review, incident=incident)
    review.incident = incident
    return _act(
        request,
        incident,
        "review",
        lambda: services.sign_off_review(review=review, by=request.user),
        _("You signed off the review."),
    )


@require_POST
def publish_lesson(request, pk: int):
    incident = _handled_incident(request, pk)
    form = LessonForm(request.POST, auto_id="lesson_%s")
    identifying = []
    if form.is_valid():
        data = form.cleaned_data
        if sees_people_involved(request.user, incident):
            identifying = services.identifying_details(incident, f"{data['title']}\n{data['text']}")
        try:
            lesson = services.publish_lesson(
                incident=incident,
                by=request.user,
                title=data["title"],
                text=data["text"],
                keep_identifying=data["keep_identifying"],
            )
        except IncidentError as error:
            if not identifying:  # otherwise the warning above the form says it all
                form.add_error("text", str(error))
        else:
            messages.success(
                request, _("“%(title)s” is in the lessons library.") % {"title": lesson.title}
            )
            return redirect(_detail_url(incident, "lessons"))
    context = _detail_context(request, incident, "full", lesson_form=form, identifying=identifying)
    return render(request, "incidents/detail.html", context, status=400)


def _after_lesson(request, lesson: Lesson):
    """Back to the incident for the team; to the lesson for anyone else."""
    if lesson.incident_id is not None:
        try:
            _incident, level = get_incident_for(request.user, lesson.incident_id)
        except Http404:
            level = ""
        if level == "full":
            return redirect(_detail_url(lesson.incident, "lessons"))
    try:
        return redirect(reverse("incidents:lesson", args=[lesson.pk]))
    except NoReverseMatch:
        return redirect("my_tasks")


def _published_lesson(pk: int) -> Lesson:
    return get_object_or_404(Lesson.objects.select_related("incident"), pk=pk, published=True)


@require_POST
def lesson_policy_revision(request, lesson_pk: int):
    if not roles.is_policy_admin(request.user):
        raise PermissionDenied
    lesson = _published_lesson(lesson_pk)
    form = PolicyRevisionForm(request.POST)
    policy = (
        Policy.objects.filter(pk=form.cleaned_data["policy"]).first() if form.is_valid() else None
    )
    if policy is None:
        messages.error(request, _("Choose the policy to revise."))
        return _after_lesson(request, lesson)
    try:
        draft = services.open_policy_revision(lesson=lesson, policy=policy, by=request.user)
    except IncidentError as error:
        messages.error(request, str(error))
        return _after_lesson(request, lesson)
    messages.success(
        request,
        _("Draft %(number)s of “%(policy)s” is open, linked to the lesson “%(lesson)s”.")
        % {"number": draft.number, "policy": policy.title, "lesson": lesson.title},
    )
    return redirect("policies:manage_version", draft.pk)


@require_POST
def lesson_briefing(request, lesson_pk: int):
    if not (roles.is_policy_admin(request.user) or can_handle(request.user)):
        raise PermissionDenied
    lesson = _published_lesson(lesson_pk)
    form = BriefingForm(request.POST)
    topic = Topic.objects.filter(pk=form.cleaned_data["topic"]).first() if form.is_valid() else None
    if topic is None:
        messages.error(request, _("Choose the training topic."))
        return _after_lesson(request, lesson)
    try:
        services.add_to_briefing(
            lesson=lesson, topic=topic, by=request.user, text=form.cleaned_data["text"]
        )
    except IncidentError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            _("A talking point from “%(lesson)s” is on “%(topic)s”.")
            % {"lesson": lesson.title, "topic": topic.name},
        )
    return _after_lesson(request, lesson)


# --- the guided assessment ----------------------------------------------------------


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
        return _invalid(request, incident, "classification", form)
    try:
        run = services.start_assessment(
            incident=incident,
            person=form.cleaned_data["person"],
            act=form.cleaned_data["act"],
            by=request.user,
        )
    except IncidentError as error:
        messages.error(request, str(error))
        return redirect(_detail_url(incident, "classification"))
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
            messages.error(request, _form_errors(form))
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
            return redirect(_detail_url(incident, "classification"))
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
