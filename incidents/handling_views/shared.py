"""What the handling views share: loading the incident for its team, running a service
and turning its refusal into a message, and the short form views of the team."""

from __future__ import annotations

from collections.abc import Callable

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from incidents.models import Assessment, Incident, IncidentError
from incidents.permissions import can_handle, get_incident_for

Status = Incident.Status
Outcome = Assessment.Outcome


def detail_url(incident: Incident, anchor: str = "") -> str:
    url = reverse("incidents:detail", args=[incident.pk])
    return f"{url}#{anchor}" if anchor else url


REQUIRED = forms.Field.default_error_messages["required"]


def form_errors(form) -> str:
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


def handled_incident(request, pk: int) -> Incident:
    """The incident, for the team that handles it: 404 for anyone who may not open it,
    403 for those who may see it but not change it."""
    incident, level = get_incident_for(request.user, pk)
    if level != "full" or not can_handle(request.user):
        raise PermissionDenied
    return incident


def act(request, incident: Incident, anchor: str, run: Callable[[], object], done) -> object:
    """Run a service; its refusal becomes an error message, its success a message."""
    try:
        result = run()
    except IncidentError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, done(result) if callable(done) else done)
    return redirect(detail_url(incident, anchor))


def invalid(request, incident: Incident, anchor: str, form):
    messages.error(request, form_errors(form))
    return redirect(detail_url(incident, anchor))


def outcome_class(outcome: str) -> str:
    return {
        Outcome.HUMAN_ERROR: "text-bg-success",
        Outcome.AT_RISK: "text-bg-warning",
        Outcome.RECKLESS: "text-bg-danger",
        Outcome.DELIBERATE: "text-bg-danger",
    }.get(outcome, "text-bg-secondary")


def team_form(form_class, anchor: str, run, done, *, files: bool = False):
    """A view for one of the team's forms about the incident: validate it, then
    `run(incident, user, cleaned_data)` calls the service; `done` says what happened."""

    @require_POST
    def view(request, pk: int):
        incident = handled_incident(request, pk)
        form = form_class(request.POST, request.FILES) if files else form_class(request.POST)
        if not form.is_valid():
            return invalid(request, incident, anchor, form)
        data = form.cleaned_data
        return act(request, incident, anchor, lambda: run(incident, request.user, data), done)

    return view


def team_item_form(model, item_pk: str, form_class, anchor: str, run, done):
    """Like `team_form`, for a form about one record of the incident (a takedown, a piece
    of evidence, an action), found by the URL's `item_pk` among the incident's own (404
    otherwise): `run(item, user, cleaned_data)` calls the service."""

    @require_POST
    def view(request, pk: int, **url_kwargs):
        incident = handled_incident(request, pk)
        item = get_object_or_404(model, pk=url_kwargs[item_pk], incident=incident)
        form = form_class(request.POST)
        if not form.is_valid():
            return invalid(request, incident, anchor, form)
        item.incident = incident
        data = form.cleaned_data
        return act(request, incident, anchor, lambda: run(item, request.user, data), done)

    return view
