"""Triage and containment: the owner, the details, the people involved, the workflow's
buttons, takedown requests, holding statements and evidence."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from incidents import evidence as evidence_files
from incidents import services
from incidents.handling_forms import (
    DetailsForm,
    EvidenceForm,
    NoTakedownForm,
    OwnerForm,
    PeopleInvolvedForm,
    ReopenForm,
    ResolveTakedownForm,
    StatementForm,
    TakedownForm,
    TransitionForm,
    WithdrawForm,
)
from incidents.handling_views.shared import (
    act,
    detail_url,
    handled_incident,
    invalid,
    team_form,
    team_item_form,
)
from incidents.models import Evidence, HoldingStatement, Takedown
from incidents.permissions import get_incident_for, sees_people_involved
from incidents.wording import in_sentence

assign_owner = team_form(
    OwnerForm,
    "handling",
    lambda incident, user, data: services.assign_owner(
        incident=incident, owner=data["owner"], by=user, expected_version=data["version"]
    ),
    lambda done: _("%(name)s owns this incident now.") % {"name": done.owner.get_full_name()},
)
edit_details = team_form(
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
transition = team_form(
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
reopen = team_form(
    ReopenForm,
    "handling",
    lambda incident, user, data: services.reopen(
        incident=incident, user=user, note=data["note"], expected_version=data["version"]
    ),
    lambda done: (
        _("%(reference)s is reopened and back in remediation.") % {"reference": done.reference}
    ),
)
takedown_request = team_form(
    TakedownForm,
    "containment",
    lambda incident, user, data: services.request_takedown(incident=incident, by=user, **data),
    gettext_lazy("The takedown request is recorded."),
)
no_takedown = team_form(
    NoTakedownForm,
    "containment",
    lambda incident, user, data: services.note_no_takedown(
        incident=incident, by=user, note=data["note"], expected_version=data["version"]
    ),
    gettext_lazy("Noted: no takedown is needed."),
)
statement_draft = team_form(
    StatementForm,
    "containment",
    lambda incident, user, data: services.draft_statement(
        incident=incident, by=user, text=data["text"]
    ),
    gettext_lazy("The holding statement is drafted. Someone else on the team approves it."),
)
evidence_upload = team_form(
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


@require_POST
def people_involved(request, pk: int):
    incident = handled_incident(request, pk)
    if not sees_people_involved(request.user, incident):
        raise PermissionDenied
    form = PeopleInvolvedForm(request.POST)
    if not form.is_valid():
        return invalid(request, incident, "people", form)
    data = form.cleaned_data
    return act(
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


takedown_resolve = team_item_form(
    Takedown,
    "takedown_pk",
    ResolveTakedownForm,
    "containment",
    lambda takedown, user, data: services.resolve_takedown(takedown=takedown, by=user, **data),
    lambda done: (
        _("The takedown is marked %(status)s.") % {"status": in_sentence(done.get_status_display())}
    ),
)


@require_POST
def statement_approve(request, pk: int, statement_pk: int):
    incident = handled_incident(request, pk)
    statement = get_object_or_404(HoldingStatement, pk=statement_pk, incident=incident)
    if statement.approved_at:
        messages.info(request, _("This holding statement is already approved."))
        return redirect(detail_url(incident, "containment"))
    statement.incident = incident
    return act(
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


evidence_withdraw = team_item_form(
    Evidence,
    "evidence_pk",
    WithdrawForm,
    "evidence",
    lambda item, user, data: evidence_files.withdraw(evidence=item, by=user, reason=data["reason"]),
    gettext_lazy("The evidence is withdrawn; it stays on record with your reason."),
)
