from django.shortcuts import render

from dashboards import queries
from people import roles
from people.roles import role_required


def my_tasks(request):
    """Home for everyone: what they have to do, soonest first."""
    return render(request, "dashboards/my_tasks.html", {"tasks": queries.my_tasks(request.user)})


@role_required(roles.can_see_dashboards)
def index(request):
    return render(request, "dashboards/index.html")
