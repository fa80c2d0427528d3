"""Everyone's incident pages: the Incidents home with My reports, "Report an incident",
"Report my own mistake" and the thank-you page, the incident list for the teams that
see incidents, My actions, and the lessons library.

Views are thin: they load through `incidents.permissions` (or the reads in
`incidents.queries`, which start from it), validate a form, call a service, and turn
an IncidentError into a form error.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from incidents import permissions, queries, services
from incidents.forms import CloseActionForm, IncidentFilterForm, ReportForm, SelfReportForm
from incidents.models import IncidentError
from incidents.wording import in_sentence
from policyhub.paging import page_of
from prevention.watchlist_views import lesson_watch_terms

REPORTS_PER_PAGE = 10
INCIDENTS_PER_PAGE = 25
ACTIONS_PER_PAGE = 20
LESSONS_PER_PAGE = 20


def _same_page(request, url_name: str) -> str:
    """The list `url_name` at the page the form was sent from."""
    number = request.GET.get("page", "")
    url = reverse(url_name)
    return f"{url}?page={int(number)}" if number.isdigit() else url


# --- the Incidents home -----------------------------------------------------------------


@require_safe
def index(request):
    user = request.user
    sees_all = permissions.sees_all(user)
    return render(
        request,
        "incidents/index.html",
        {
            "page": page_of(request, queries.my_reports(user), per_page=REPORTS_PER_PAGE),
            "sees_all": sees_all,
            "open_incidents": queries.open_incident_count(user) if sees_all else None,
            "actions": queries.action_counts(user),
        },
    )


# --- reporting ---------------------------------------------------------------------------


@require_http_methods(["GET", "HEAD", "POST"])
def report(request):
    return _report_page(request, ReportForm, "report")


@require_http_methods(["GET", "HEAD", "POST"])
def report_own(request):
    return _report_page(request, SelfReportForm, "report_own")


def _report_page(request, form_class, kind: str):
    if request.method == "POST":
        form = form_class(request.POST)
        if form.is_valid():
            try:
                incident = services.report_incident(reporter=request.user, **form.report_fields())
            except IncidentError as error:
                form.add_error(None, str(error))
            else:
                return redirect("incidents:thanks", pk=incident.pk)
    else:
        form = form_class()
    return render(request, "incidents/report.html", {"form": form, "kind": kind})


@require_safe
def thanks(request, pk):
    """The thank-you page with the reference: only for the person who reported it."""
    incident = permissions.visible_incidents(request.user).filter(pk=pk, reporter=request.user)
    incident = incident.first()
    if incident is None:
        raise Http404("No such report.")
    return render(request, "incidents/thanks.html", {"incident": incident})


# --- the incident list ---------------------------------------------------------------


@require_safe
def incident_list(request):
    """For comms, HR/legal and leadership; never the people involved."""
    if not permissions.sees_all(request.user):
        raise PermissionDenied
    form = IncidentFilterForm(request.GET or None)
    filters = form.filters()
    incidents = queries.incident_list(request.user, filters=filters)
    return render(
        request,
        "incidents/list.html",
        {
            "form": form,
            "filtered": bool(filters),
            "page": page_of(request, incidents, per_page=INCIDENTS_PER_PAGE),
        },
    )


# --- My actions ----------------------------------------------------------------------


@require_safe
def my_actions(request):
    return _my_actions_page(request)


def _my_actions_page(request, *, posted: CloseActionForm | None = None, posted_pk=None):
    user = request.user
    may_waive = permissions.can_handle(user)
    page = page_of(request, queries.my_actions(user), per_page=ACTIONS_PER_PAGE)
    rows = []
    for action in page.object_list:
        form = None
        if action.status == action.Status.OPEN:
            form = (
                posted
                if action.pk == posted_pk
                else CloseActionForm(prefix=f"action-{action.pk}", may_waive=may_waive)
            )
        rows.append(
            {"action": action, "summary": queries.summary_line(action.incident), "form": form}
        )
    return render(
        request,
        "incidents/my_actions.html",
        {
            "page": page,
            "rows": rows,
            "today": timezone.localdate(),
            "may_waive": may_waive,
        },
    )


@require_POST
def close_action(request, pk):
    """Mark one of one's own actions done, or (the incident team) waived."""
    user = request.user
    action = (
        permissions.visible_actions(user).filter(owner=user, pk=pk).select_related("incident")
    ).first()
    if action is None:
        raise Http404("No such action.")
    form = CloseActionForm(
        request.POST, prefix=f"action-{pk}", may_waive=permissions.can_handle(user)
    )
    if form.is_valid():
        try:
            action = services.complete_action(
                action=action,
                by=user,
                status=form.cleaned_data["status"],
                note=form.cleaned_data["note"],
            )
        except IncidentError as error:
            form.add_error(None, str(error))
        else:
            done = in_sentence(action.get_status_display())
            messages.success(
                request,
                _("“%(title)s” is marked %(status)s. Thank you.")
                % {"title": action.title, "status": done},
            )
            return redirect(_same_page(request, "incidents:my_actions"))
    return _my_actions_page(request, posted=form, posted_pk=pk)


# --- the lessons library ---------------------------------------------------------------


@require_safe
def lessons(request):
    page = page_of(request, queries.published_lessons(), per_page=LESSONS_PER_PAGE)
    return render(request, "incidents/lessons.html", {"page": page})


@require_safe
def lesson(request, pk):
    lesson = queries.published_lessons().filter(pk=pk).first()
    if lesson is None:
        raise Http404("No such lesson.")
    # The watch-list entries a lesson added, for those who keep the watch list.
    return render(
        request,
        "incidents/lesson.html",
        {"lesson": lesson, **lesson_watch_terms(request.user, lesson)},
    )
