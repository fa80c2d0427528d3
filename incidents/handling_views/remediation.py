"""The remediation plan: filled from the track's template, actions added, their due dates
changed, and closed as done or waived."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from incidents import services
from incidents.handling_forms import ActionForm, CompleteActionForm, DueDateForm
from incidents.handling_views.shared import (
    act,
    handled_incident,
    invalid,
    team_form,
    team_item_form,
)
from incidents.models import ActionItem
from incidents.permissions import get_incident_for
from incidents.wording import in_sentence

add_action = team_form(
    ActionForm,
    "plan",
    lambda incident, user, data: services.add_action(incident=incident, by=user, **data),
    lambda action: (
        _("“%(title)s” is added for %(name)s.")
        % {"title": action.title, "name": action.owner.get_full_name()}
    ),
)


@require_POST
def fill_plan(request, pk: int):
    incident = handled_incident(request, pk)
    return act(
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
        return invalid(request, incident, "plan", form)
    action.incident = incident
    return act(
        request,
        incident,
        "plan",
        lambda: services.complete_action(action=action, by=request.user, **form.cleaned_data),
        lambda done: (
            _("“%(title)s” is %(status)s.")
            % {"title": done.title, "status": in_sentence(done.get_status_display())}
        ),
    )


change_due_date = team_item_form(
    ActionItem,
    "action_pk",
    DueDateForm,
    "plan",
    lambda action, user, data: services.change_due_date(
        action=action, by=user, due_date=data["due_date"]
    ),
    lambda done: (
        _("“%(title)s” is due on %(date)s now.")
        % {"title": done.title, "date": formats.date_format(done.due_date, "j M Y")}
    ),
)
