"""Policy admin pages for a published version's compliance: the figures and who is
outstanding or overdue, the CSV export, "Remind now", acknowledging on someone's behalf
and reopening a decline. For policy admins only."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from notifications.nudging import remind_today
from policies import queries, services
from policies.manage_forms import OnBehalfForm, form_errors
from policies.models import Assignment, Decline, PolicyError, PolicyVersion
from policies.permissions import admin_only, get_version_to_manage
from policyhub.exports import csv_response
from policyhub.kept import kept_page
from policyhub.paging import page_of
from training.queries import next_change

Status = PolicyVersion.Status

PEOPLE_PER_PAGE = 50


def _version_with_figures(request, pk: int) -> PolicyVersion:
    version = get_version_to_manage(request.user, pk)
    if not version.is_locked:
        raise Http404("Compliance figures start when a version is published.")
    return version


@admin_only
@require_GET
@kept_page(
    next_change, reads=("policies", "training")
)  # briefings held: a session's start changes them
def manage_compliance(request, pk: int):
    version = get_version_to_manage(request.user, pk)
    if not version.is_locked:
        messages.info(request, _("Compliance figures start when the version is published."))
        return redirect("policies:manage_version", version.pk)
    today = timezone.localdate()
    figures = queries.compliance_figures(version, today=today)
    # The figures already counted the outstanding and overdue people: the lists' pagers
    # take those numbers instead of counting again.
    outstanding = page_of(
        request,
        queries.Counted(queries.outstanding_assignments(version), figures.overall.outstanding),
        param="outstanding_page",
        per_page=PEOPLE_PER_PAGE,
        anchor="outstanding",
    )
    overdue = page_of(
        request,
        queries.Counted(queries.overdue_assignments(version, today=today), figures.overall.overdue),
        param="overdue_page",
        per_page=PEOPLE_PER_PAGE,
        anchor="overdue",
    )
    outstanding_rows = queries.with_days_overdue(outstanding, today=today)
    if overdue.number == outstanding.number:
        # The overdue are the first of the outstanding (soonest due first, in the same
        # order), so the same page of both lists holds the same overdue people: no need
        # to read them twice.
        overdue.object_list = [row for row in outstanding_rows if row.due_date < today]
    overdue_rows = queries.with_days_overdue(overdue, today=today)
    can_act = version.status == Status.PUBLISHED
    # Both tables of people come from one template; when they show the same people (the
    # first page, with a page or more of overdue), it is rendered once.
    outstanding_table = _people_table(outstanding_rows, can_act=can_act)
    overdue_table = (
        outstanding_table
        if overdue_rows == outstanding_rows
        else _people_table(overdue_rows, can_act=can_act)
    )
    declines = page_of(
        request,
        queries.declines(version),
        param="declines_page",
        per_page=PEOPLE_PER_PAGE,
        anchor="declines",
    )
    on_behalf = None
    if can_act:
        on_behalf = OnBehalfForm(initial={"person": request.GET.get("on_behalf", "")})
    return render(
        request,
        "policies/manage/compliance.html",
        {
            "version": version,
            "policy": version.policy,
            "today": today,
            "figures": figures,
            "outstanding": outstanding,
            "outstanding_rows": outstanding_rows,
            "outstanding_table": outstanding_table,
            "overdue": overdue,
            "overdue_rows": overdue_rows,
            "overdue_table": overdue_table,
            "declines": declines,
            "on_behalf_form": on_behalf,
        },
    )


def _people_table(rows: list[Assignment], *, can_act: bool) -> str:
    """The table of people who still have to acknowledge (with "Acknowledge on behalf"
    links while the version is published)."""
    if not rows:
        return ""
    return render_to_string(
        "policies/manage/_assignment_rows.html", {"rows": rows, "can_act": can_act}
    )


CSV_HEADER = [
    "Name",
    "Email",
    "Employee ID",
    "Department",
    "Version",
    "Status",
    "Due date",
    "Days overdue",
    "Completed at",
]


@admin_only
@require_GET
def manage_compliance_csv(request, pk: int):
    version = _version_with_figures(request, pk)
    today = timezone.localdate()

    def rows():
        for assignment in queries.compliance_export_rows(version).iterator(chunk_size=2000):
            person = assignment.person
            overdue = (
                (today - assignment.due_date).days
                if assignment.status == Assignment.Status.OPEN and assignment.due_date < today
                else ""
            )
            completed = (
                f"{timezone.localtime(assignment.completed_at):%Y-%m-%d %H:%M}"
                if assignment.completed_at
                else ""
            )
            yield [
                person.get_full_name(),
                person.email,
                person.employee_id,
                person.department.name if person.department else "",
                assignment.version.number,
                assignment.get_status_display(),
                assignment.due_date.isoformat(),
                overdue,
                completed,
            ]

    filename = f"{version.policy.slug}-{version.number}-compliance-{today:%Y-%m-%d}.csv"
    return csv_response(header=CSV_HEADER, rows=rows(), filename=filename)


@require_POST
@admin_only
def manage_remind(request, pk: int):
    version = _version_with_figures(request, pk)
    assignments = list(
        queries.version_line(version)
        .filter(status=Assignment.Status.OPEN)
        .only("pk", "person_id", "policy_id", "version_id")
    )
    if not assignments:
        messages.info(request, _("Nobody has this version outstanding, so nobody was reminded."))
        return redirect("policies:manage_compliance", version.pk)
    # At most one nudge per person per site day (shared with managers' nudges), however
    # often the button is pressed.
    sent = remind_today(
        kind="policy-nudge",
        items=[(assignment, assignment.person_id) for assignment in assignments],
    )
    if sent:
        skipped = len(assignments) - sent
        done = ngettext("Sent %(sent)s reminder", "Sent %(sent)s reminders", sent) % {"sent": sent}
        if skipped:
            done += " " + _("(%(skipped)s already reminded today or not reachable)") % {
                "skipped": skipped
            }
        messages.success(request, f"{done}.")
    else:
        messages.info(request, _("Everyone outstanding has already been reminded today."))
    return redirect("policies:manage_compliance", version.pk)


@require_POST
@admin_only
def manage_on_behalf(request, pk: int):
    version = _version_with_figures(request, pk)
    outstanding = get_user_model().objects.filter(
        is_active=True,
        pk__in=queries.version_line(version)
        .filter(status=Assignment.Status.OPEN)
        .values("person_id"),
    )
    form = OnBehalfForm(request.POST, outstanding=outstanding)
    if not form.is_valid():
        messages.error(request, form_errors(form))
        return redirect("policies:manage_compliance", version.pk)
    person = form.cleaned_data["person"]
    try:
        services.acknowledge_on_behalf(
            version=version, person=person, by=request.user, reason=form.cleaned_data["reason"]
        )
    except PolicyError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            _("%(name)s's acknowledgement of version %(number)s is recorded, on their behalf.")
            % {"name": person.get_full_name(), "number": version.number},
        )
    return redirect("policies:manage_compliance", version.pk)


@require_POST
@admin_only
def manage_reopen_decline(request, pk: int, decline_pk: int):
    """After talking it through with the owner, the reader may acknowledge after all."""
    version = _version_with_figures(request, pk)
    decline = get_object_or_404(
        Decline.objects.select_related("person"), pk=decline_pk, version__policy=version.policy
    )
    assignment = (
        queries.version_line(version)
        .filter(person=decline.person, status=Assignment.Status.DECLINED)
        .first()
    )
    if assignment is None:
        messages.info(
            request,
            _("%(name)s has nothing declined to reopen.")
            % {"name": decline.person.get_full_name()},
        )
        return redirect("policies:manage_compliance", version.pk)
    try:
        services.reopen_declined(assignment=assignment, by=request.user)
    except PolicyError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            _("%(name)s can acknowledge again, due %(day)s.")
            % {
                "name": decline.person.get_full_name(),
                "day": date_format(assignment.due_date, "d F Y"),
            },
        )
    return redirect("policies:manage_compliance", version.pk)
