from django.shortcuts import render

from dashboards import compliance, queries
from incidents.permissions import can_see_remediation
from people import roles
from people.roles import role_required


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


@role_required(roles.can_see_dashboards)
def index(request):
    """The dashboards this person may open."""
    user = request.user
    return render(
        request,
        "dashboards/index.html",
        {
            "team": roles.is_line_manager(user),
            "remediation": can_see_remediation(user),
            "compliance": compliance.scope_for(user) is not None,
        },
    )
