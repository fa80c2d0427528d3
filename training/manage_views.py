"""Organiser pages (policy admins): sessions and series, time and place changes,
cancellations, training requirements and topics.

Sessions change only through the services, which tell everyone booked. Requirements
and topics change through requirement_services, which checks them and keeps their history.
"""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from people.roles import role_required
from policyhub.paging import page_of
from training import queries, requirement_services, services
from training.forms import (
    CancelSessionForm,
    RequirementForm,
    SeriesForm,
    SessionChangeForm,
    SessionForm,
    TopicForm,
    default_time_zone,
)
from training.models import Requirement, Topic, TrainingError
from training.views import get_session_for

organisers_only = role_required(services.can_organise)

SESSIONS_PER_PAGE = 25


# --- sessions ------------------------------------------------------------------------


@organisers_only
@require_GET
def manage_index(request):
    past = request.GET.get("show") == "past"
    sessions = queries.sessions_for_manage(past=past, now=timezone.now())
    return render(
        request,
        "training/manage/index.html",
        {
            "page": page_of(request, sessions, per_page=SESSIONS_PER_PAGE),
            "past": past,
            "has_topics": Topic.objects.exists(),
        },
    )


def _new_session_initial(request) -> dict:
    return {"time_zone": default_time_zone(request.user), "presenter": request.user.email}


def _no_topics_yet(request):
    messages.info(request, _("Add a topic first: every session has one."))
    return redirect("training:manage_topics")


@organisers_only
@require_http_methods(["GET", "POST"])
def manage_session_new(request):
    if not Topic.objects.exists():
        return _no_topics_yet(request)
    form = SessionForm(request.POST or None, initial=_new_session_initial(request))
    if request.method == "POST" and form.is_valid():
        try:
            session = services.create_session(by=request.user, **form.service_kwargs())
        except TrainingError as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request,
                _("“%(title)s” is scheduled and open for booking.") % {"title": session.title},
            )
            return redirect("training:session", session.pk)
    return render(request, "training/manage/session_form.html", {"form": form, "series": False})


@organisers_only
@require_http_methods(["GET", "POST"])
def manage_series_new(request):
    if not Topic.objects.exists():
        return _no_topics_yet(request)
    form = SeriesForm(request.POST or None, initial=_new_session_initial(request))
    if request.method == "POST" and form.is_valid():
        try:
            sessions = services.create_series(
                by=request.user,
                pattern=form.cleaned_data["pattern"],
                count=form.cleaned_data["count"],
                **form.service_kwargs(),
            )
        except TrainingError as error:
            form.add_error(None, str(error))
        else:
            last = timezone.localtime(sessions[-1].starts_at)
            messages.success(
                request,
                ngettext(
                    "%(count)s session of “%(title)s” is scheduled, the last on %(day)s.",
                    "%(count)s sessions of “%(title)s” are scheduled, the last on %(day)s.",
                    len(sessions),
                )
                % {
                    "count": len(sessions),
                    "title": sessions[0].title,
                    "day": formats.date_format(last, "j F Y"),
                },
            )
            return redirect("training:manage_index")
    return render(request, "training/manage/session_form.html", {"form": form, "series": True})


@organisers_only
@require_http_methods(["GET", "POST"])
def manage_session_edit(request, pk: int):
    session = get_session_for(request.user, pk)
    form = SessionChangeForm(request.POST or None, initial=SessionChangeForm.initial_for(session))
    if request.method == "POST" and form.is_valid():
        sequence = session.sequence
        try:
            session = services.change_session(
                session=session, by=request.user, **form.service_kwargs()
            )
        except TrainingError as error:
            form.add_error(None, str(error))
        else:
            if session.sequence == sequence:
                messages.info(request, _("Nothing changed."))
            else:
                messages.success(
                    request,
                    _(
                        "The session is changed. Everyone booked or waiting gets an updated "
                        "calendar invite."
                    ),
                )
            return redirect("training:session", session.pk)
    return render(
        request,
        "training/manage/session_edit.html",
        {
            "session": session,
            "form": form,
            "cancel_form": CancelSessionForm(),
            "seats": queries.seats(session),
        },
    )


@require_POST
@organisers_only
def manage_session_cancel(request, pk: int):
    session = get_session_for(request.user, pk)
    form = CancelSessionForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors.get("reason", [])))
        return redirect("training:manage_session_edit", session.pk)
    try:
        services.cancel_session(
            session=session, by=request.user, reason=form.cleaned_data["reason"]
        )
    except TrainingError as error:
        messages.error(request, str(error))
        return redirect("training:session", session.pk)
    messages.success(
        request,
        _("“%(title)s” is cancelled. Everyone booked or waiting is told why.")
        % {"title": session.title},
    )
    return redirect("training:manage_index")


# --- requirements and topics -----------------------------------------------------------


@organisers_only
@require_GET
def manage_requirements(request):
    requirements = Requirement.objects.prefetch_related(
        "accepted_topics", "audience_departments", "audience_groups"
    )
    return render(
        request, "training/manage/requirements.html", {"requirements": list(requirements)}
    )


def _requirement_page(request, *, requirement: Requirement | None):
    form = RequirementForm(request.POST or None, instance=requirement)
    if request.method == "POST" and form.is_valid():
        try:
            saved = requirement_services.save_requirement(
                by=request.user, requirement=requirement, **form.cleaned_data
            )
        except requirement_services.SetupError as error:
            form.add_error(error.field, str(error))
        else:
            messages.success(
                request, _("The requirement “%(name)s” is saved.") % {"name": saved.name}
            )
            return redirect("training:manage_requirements")
    return render(
        request,
        "training/manage/requirement_form.html",
        {"form": form, "requirement": requirement},
    )


@organisers_only
@require_http_methods(["GET", "POST"])
def manage_requirement_new(request):
    if not Topic.objects.exists():
        return _no_topics_yet(request)
    return _requirement_page(request, requirement=None)


@organisers_only
@require_http_methods(["GET", "POST"])
def manage_requirement_edit(request, pk: int):
    return _requirement_page(request, requirement=get_object_or_404(Requirement, pk=pk))


@organisers_only
@require_http_methods(["GET", "POST"])
def manage_topics(request):
    form = TopicForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            topic = requirement_services.add_topic(by=request.user, **form.cleaned_data)
        except requirement_services.SetupError as error:
            form.add_error(error.field, str(error))
        else:
            messages.success(request, _("The topic “%(name)s” is added.") % {"name": topic.name})
            return redirect("training:manage_topics")
    topics = Topic.objects.annotate(session_count=Count("sessions"))
    return render(request, "training/manage/topics.html", {"form": form, "topics": list(topics)})
