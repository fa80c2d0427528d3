"""Requirement compliance: who still has to attend, by department and by manager, with a
CSV export and "Invite everyone still required".

Policy admins and leadership see everyone; a line manager sees only their direct
reports; anyone else gets 403. Inviting is for policy admins only.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST, require_safe

from people import roles
from policyhub.exports import csv_response
from policyhub.kept import kept_page
from policyhub.paging import page_of
from training import compliance as requirement_compliance
from training import compliance_lists
from training.models import Requirement, TrainingError
from training.queries import next_change

PEOPLE_PER_PAGE = 50
MANAGERS_PER_PAGE = 25  # a company has a manager for every few people: their table is paged


def _reports_of(user):
    """Whose rows `user` sees: None for everyone (policy admins, leadership), the user
    for a line manager (their direct reports); PermissionDenied for anyone else."""
    if roles.is_policy_admin(user) or roles.is_leadership(user):
        return None
    if roles.is_line_manager(user):
        return user
    raise PermissionDenied


def _requirement(pk: int) -> Requirement:
    """The requirement with its accepted topics, departments and groups (two queries)."""
    (requirement,) = requirement_compliance.with_related([get_object_or_404(Requirement, pk=pk)])
    return requirement


def _id_filter(value: str | None):
    """A ?department= or ?manager= value: an id, "none", or nothing (no filter)."""
    if value == "none":
        return "none"
    if value and value.isascii() and value.isdigit() and len(value) < 12:
        return int(value)
    return None


def _filtered(people, field: str, value):
    if value is None:
        return people
    if value == "none":
        return people.filter(**{f"{field}__isnull": True})
    return people.filter(**{field: value})


@require_safe
@kept_page(next_change, reads=("training",))
def compliance(request):
    reports_of = _reports_of(request.user)
    return render(
        request,
        "training/compliance/index.html",
        {
            "rows": requirement_compliance.requirements_with_figures(reports_of=reports_of),
            "reports_only": reports_of is not None,
        },
    )


@require_safe
@kept_page(next_change, reads=("training",))
def compliance_requirement(request, pk: int):
    reports_of = _reports_of(request.user)
    requirement = _requirement(pk)
    now = timezone.now()
    today = timezone.localdate(now)
    people = requirement_compliance.still_required(requirement, now=now, reports_of=reports_of)
    # The figures, both tables and the list's length, in one query.
    numbers = compliance_lists.breakdown(requirement, now=now, today=today, reports_of=reports_of)
    department = _id_filter(request.GET.get("department"))
    manager = _id_filter(request.GET.get("manager"))
    listed = _filtered(_filtered(people, "department", department), "manager", manager)
    page = page_of(
        request,
        compliance_lists.Listing(
            listed,
            requirement,
            count=numbers.still_required_in(department=department, manager=manager),
            now=now,
        ),
        per_page=PEOPLE_PER_PAGE,
        anchor="people",
    )
    for person in page.object_list:
        person.due_by = requirement_compliance.joiner_due_by(requirement, person.start_date, today)
    departments, managers = numbers.departments, numbers.managers
    return render(
        request,
        "training/compliance/requirement.html",
        {
            "requirement": requirement,
            "figures": numbers.figures,
            "departments": departments,
            "managers": managers,
            "managers_page": page_of(
                request,
                managers,
                per_page=MANAGERS_PER_PAGE,
                param="managers_page",
                anchor="managers-heading",
            ),
            "page": page,
            "filtered_by": _filter_label(department, manager, departments, managers),
            "reports_only": reports_of is not None,
            "can_invite": roles.is_policy_admin(request.user),
            "today": today,
        },
    )


def _filter_label(department, manager, departments, managers) -> str:
    """What the people list is narrowed to, in words, from the tables' own rows."""
    parts = []
    for value, rows, word in (
        (department, departments, _("department")),
        (manager, managers, _("manager")),
    ):
        if value is None:
            continue
        key = None if value == "none" else value
        name = next((row.name for row in rows if row.pk == key), None) or _("nobody still required")
        parts.append(_("%(filter)s: %(name)s") % {"filter": word, "name": name})
    return ", ".join(parts)


CSV_HEADER = [
    "Name",
    "Email",
    "Employee ID",
    "Department",
    "Manager",
    "Last attended",
    "Due by",
    "Booked for",
]


def _date(moment) -> str:
    return f"{timezone.localdate(moment):%Y-%m-%d}" if moment else ""


@require_safe
def compliance_csv(request, pk: int):
    reports_of = _reports_of(request.user)
    requirement = _requirement(pk)
    now = timezone.now()
    today = timezone.localdate(now)
    people = requirement_compliance.with_details(
        requirement_compliance.still_required(requirement, now=now, reports_of=reports_of),
        requirement,
    )

    def rows():
        for person in people.iterator(chunk_size=2000):
            due_by = requirement_compliance.joiner_due_by(requirement, person.start_date, today)
            yield [
                person.get_full_name(),
                person.email,
                person.employee_id,
                person.department.name if person.department else "",
                person.manager.get_full_name() if person.manager else "",
                _date(person.last_attended),
                due_by.isoformat() if due_by else "now",
                _date(person.booked_for),
            ]

    name = slugify(requirement.name) or "requirement"
    return csv_response(
        header=CSV_HEADER, rows=rows(), filename=f"{name}-still-required-{today:%Y-%m-%d}.csv"
    )


@require_POST
def compliance_invite(request, pk: int):
    if not roles.is_policy_admin(request.user):
        raise PermissionDenied
    requirement = _requirement(pk)
    try:
        invited = requirement_compliance.invite_still_required(
            requirement=requirement, by=request.user
        )
    except TrainingError as error:
        messages.error(request, str(error))
    else:
        if invited:
            messages.success(
                request,
                ngettext(
                    "Invited %(count)s person to book one of the next sessions with free seats.",
                    "Invited %(count)s people to book one of the next sessions with free seats.",
                    invited,
                )
                % {"count": invited},
            )
        else:
            messages.info(
                request,
                _(
                    "Nobody new to invite: everyone still required has been invited today "
                    "or is already booked."
                ),
            )
    return redirect("training:compliance_requirement", requirement.pk)
