from django.shortcuts import render

from people import roles
from people.roles import role_required


def my_tasks(request):
    """Home for everyone. The policies, training and incidents apps add their tasks here."""
    return render(request, "dashboards/my_tasks.html", {"tasks": []})


@role_required(roles.can_see_dashboards)
def index(request):
    return render(request, "dashboards/index.html")
