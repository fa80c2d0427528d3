"""My team: a line manager's reports and their outstanding items, with a nudge."""

from django.contrib import messages
from django.http import Http404, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from dashboards import services
from dashboards import team as queries
from people import audience, roles
from people.roles import role_required
from policyhub.exports import csv_response
from policyhub.paging import page_of

PER_PAGE = 50
LIST_PARAMS = ("direct", "q", "page")  # what the list keeps across a nudge


def _filters(params) -> dict:
    return {
        "direct_only": params.get("direct") == "1",
        "search": params.get("q", "").strip()[: queries.SEARCH_MAX_LENGTH],
    }


@role_required(roles.is_line_manager)
def team(request):
    filters = _filters(request.GET)
    now = timezone.now()
    requirements = queries.active_requirements()
    page = page_of(request, queries.team_people(request.user, **filters), per_page=PER_PAGE)
    # The whole team's figures: the summary needs them, and the page is a part of them.
    figures = queries.outstanding(audience.team(request.user), now=now, requirements=requirements)
    page.object_list = queries.with_outstanding(
        page.object_list, now=now, requirements=requirements, figures=figures
    )
    export = QueryDict(mutable=True)
    if filters["direct_only"]:
        export["direct"] = "1"
    if filters["search"]:
        export["q"] = filters["search"]
    return render(
        request,
        "dashboards/team.html",
        {
            "page": page,
            "summary": queries.summary(figures),
            "filtered": filters["direct_only"] or bool(filters["search"]),
            "back": request.GET.urlencode(),
            "export_query": export.urlencode(),
            **filters,
        },
    )


@require_POST
@role_required(roles.is_line_manager)
def nudge(request, pk: int):
    person = queries.team_member(request.user, pk)
    if person is None:
        raise Http404("Not one of your reports.")
    result = services.nudge(person=person)
    name = person.get_full_name()
    if not result.outstanding:
        messages.info(request, f"{name} has nothing outstanding to be reminded of.")
    elif not result.sent:
        messages.info(
            request, f"{name} was already reminded today of everything outstanding; none sent."
        )
    else:
        note = (
            f" ({result.already_reminded} already reminded today)"
            if result.already_reminded
            else ""
        )
        plural = "" if result.sent == 1 else "s"
        messages.success(request, f"Sent {name} {result.sent} reminder{plural}{note}.")
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
    people = queries.team_people(request.user, **_filters(request.GET))
    return csv_response(
        header=queries.HEADER,
        rows=queries.csv_rows(people, request.user),
        filename="my-team.csv",
    )
