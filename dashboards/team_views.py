"""My team: a line manager's reports and their outstanding items, with a nudge, and
each report's page listing those items.

Every view is for line managers (403 for anyone else); a member's page and the nudge
are for someone in the viewer's reporting line only (404 otherwise, themselves included).
"""

from functools import cache, partial

from django.contrib import messages
from django.http import Http404, QueryDict
from django.shortcuts import redirect, render
from django.template.defaultfilters import date as date_filter
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import localize
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from dashboards import services, team_export, team_member
from dashboards import team as queries
from dashboards.team_forms import TeamFilterForm
from people import audience, roles
from people.roles import role_required
from policyhub.exports import csv_response, export_refused
from policyhub.kept import kept_page
from policyhub.paging import page_of
from training.queries import next_change

PER_PAGE = 50
LIST_PARAMS = ("direct", "q", "overdue", "page")  # what the list keeps across a nudge
FROM_MEMBER_PAGE = "member"  # a nudge's "from": go back to the member's page


def _member_or_404(request, pk: int):
    person = team_member.team_member(request.user, pk)
    if person is None:
        raise Http404(_("Not one of your reports."))
    return person


def _links(name: str):
    """`name`'s URL for any person, from one `reverse` (the person's id is its last
    part): two links a row, fifty rows a page."""
    marker = "2147483647"
    before, after = reverse(name, args=[int(marker)]).rsplit(marker, 1)
    return lambda pk: f"{before}{pk}{after}"


def shown(people: list, viewer) -> list[dict]:
    """What each listed person's row shows, worked out here once rather than node by
    node in the template (fifty rows a page): their name, links, department, job title
    and manager as the page writes them, each figure as the template writes a number
    (`localize`) with its notes in the reader's language, and the earliest due dates as
    the `date` filter writes them (`..._due_iso`: machine-readable). A dict a row, the
    template's quickest lookup; each note and date is made once for each value a page."""
    member, nudge = _links("dashboards:team_member"), _links("dashboards:team_nudge")
    number = cache(localize)

    def counted(message: str):
        return cache(lambda count: message % {"count": number(count)})

    late = counted(_("(%(count)s overdue)"))
    to_book, booked = counted(_("%(count)s to book")), counted(_("%(count)s booked"))
    not_yet_due = counted(_("%(count)s not yet due (new joiner)"))
    briefings_booked = cache(lambda n: ngettext("Briefing booked", "Briefings booked", n))
    iso, words = cache(partial(date_filter, arg="Y-m-d")), cache(partial(date_filter, arg="j M Y"))
    you = _("You")
    rows = []
    for person in people:
        figures = person.outstanding
        if person.manager_id == viewer.pk:
            manager = you
        else:
            manager = person.manager.get_full_name() if person.manager else "—"
        seats = [to_book(figures.training_to_book)] if figures.training_to_book else []
        if figures.training_booked:
            seats.append(booked(figures.training_booked))
        rows.append(
            {
                "name": person.get_full_name(),
                "email": person.email,
                "member_url": member(person.pk),
                "nudge_url": nudge(person.pk),
                "department": (person.department.name if person.department else "") or "—",
                "job_title": person.job_title or "—",
                "manager": manager,
                # A figure of 0 shows as "—", its note (of 0) not at all.
                "policies": figures.policies_open and number(figures.policies_open),
                "policies_late": figures.policies_overdue and late(figures.policies_overdue),
                "policies_due": words(figures.policies_earliest_due),
                "policies_due_iso": iso(figures.policies_earliest_due),
                "training": figures.training_unmet and number(figures.training_unmet),
                "training_late": figures.training_overdue and late(figures.training_overdue),
                "training_seats": ", ".join(seats),
                "training_not_yet_due": figures.training_not_yet_due
                and not_yet_due(figures.training_not_yet_due),
                "actions": figures.actions_open and number(figures.actions_open),
                "actions_late": figures.actions_overdue and late(figures.actions_overdue),
                "actions_due": words(figures.actions_earliest_due),
                "actions_due_iso": iso(figures.actions_earliest_due),
                "nudgeable": figures.nudgeable,
                "all_clear": figures.all_clear,
                "briefings_booked": briefings_booked(figures.training_booked),
            }
        )
    return rows


@role_required(roles.is_line_manager)
@kept_page(next_change, reads=("policies", "training", "incidents"))
def team(request):
    form = TeamFilterForm(request.GET)
    filters = form.filters()
    moment = queries.Moment.of()
    # One query counts the team by where each person stands (the summary); one more
    # reads the page's people with their figures (and one counts them when the direct
    # reports filter or a search narrows the list).
    summary = queries.team_summary(audience.team(request.user), moment)
    people = queries.listing(request.user, **filters, summary=summary, moment=moment)
    page = page_of(request, people, per_page=PER_PAGE)
    export = QueryDict(mutable=True)
    if filters["direct_only"]:
        export["direct"] = "1"
    if filters["search"]:
        export["q"] = filters["search"]
    if filters["overdue_only"]:
        export["overdue"] = "1"
    return render(
        request,
        "dashboards/team.html",
        {
            "page": page,
            "rows": shown(page.object_list, request.user),
            "summary": summary,
            "filtered": any(filters.values()),
            "back": request.GET.urlencode(),
            "export_query": export.urlencode(),
            "problems": form.problems(),
            **filters,
        },
    )


@role_required(roles.is_line_manager)
def member(request, pk: int):
    person = _member_or_404(request, pk)
    return render(
        request,
        "dashboards/team_member.html",
        {
            "person": person,
            "items": team_member.member_items(person, now=timezone.now(), viewer=request.user),
            "from_member_page": FROM_MEMBER_PAGE,
        },
    )


@require_POST
@role_required(roles.is_line_manager)
def nudge(request, pk: int):
    person = _member_or_404(request, pk)
    result = services.nudge(person=person)
    name = person.get_full_name()
    if not result.outstanding:
        messages.info(
            request, _("%(name)s has nothing outstanding to be reminded of.") % {"name": name}
        )
    elif not result.sent:
        messages.info(
            request,
            _("%(name)s was already reminded today of everything outstanding; none sent.")
            % {"name": name},
        )
    else:
        values = {"name": name, "count": result.sent, "already": result.already_reminded}
        if result.already_reminded:
            text = ngettext(
                "Sent %(name)s %(count)s reminder (%(already)s already reminded today).",
                "Sent %(name)s %(count)s reminders (%(already)s already reminded today).",
                result.sent,
            )
        else:
            text = ngettext(
                "Sent %(name)s %(count)s reminder.",
                "Sent %(name)s %(count)s reminders.",
                result.sent,
            )
        messages.success(request, text % values)
    if request.POST.get("from") == FROM_MEMBER_PAGE:
        return redirect("dashboards:team_member", person.pk)
    # Back to the same page of the list, keeping only the list's own parameters.
    back = QueryDict(request.POST.get("back", ""))
    query = QueryDict(mutable=True)
    for key in LIST_PARAMS:
        if back.get(key):
            query[key] = back[key][:200]
    url = reverse("dashboards:team")
    return redirect(f"{url}?{query.urlencode()}" if query else url)


@role_required(roles.is_line_manager)
def team_csv(request):
    form = TeamFilterForm(request.GET)
    if form.errors:
        # Not a file of something other than what was asked for.
        return export_refused(form.problems(), back=_("Go back to My team and filter again."))
    # The same moment and requirements pick the people (with something overdue) and
    # give their figures.
    moment = queries.Moment.of()
    people = queries.team_people(request.user, **form.filters(), moment=moment)
    return csv_response(
        header=team_export.HEADER,
        rows=team_export.csv_rows(people, request.user, moment=moment),
        filename="my-team.csv",
    )
