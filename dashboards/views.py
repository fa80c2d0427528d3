from django.shortcuts import render
from django.views.decorators.http import require_safe

from dashboards import headlines, queries
from people import roles
from people.roles import role_required
from policyhub.kept import kept_page
from training.queries import next_change


def my_tasks(request):
    """Home for everyone: what they have to do, soonest first (a few of each kind,
    and how many more, linked to where they are done)."""
    found = queries.my_tasks(request.user)
    return render(
        request,
        "dashboards/my_tasks.html",
        {
            "tasks": found.tasks,
            "more": found.more,
            "is_line_manager": roles.is_line_manager(request.user),
        },
    )


@require_safe
@role_required(roles.can_see_dashboards)
@kept_page(next_change, reads=("policies", "training", "incidents"))
def index(request):
    """The dashboards this person may open, each with its headline figures for what
    they may see, every figure linked to its rows."""
    return render(request, "dashboards/index.html", {"cards": headlines.cards_for(request.user)})
