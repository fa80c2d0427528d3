"""The framework floor for `make bench`: the cheapest page a logged-in person can get.

It goes through the same middleware as every page and renders the same base template
(navigation, header, footer, context processors) around a heading and nothing else, so
what a real page costs beyond it is the page's own work. Served only by the bench's
URLconf (bench/urls.py), which the bench switches to for its run; the app never routes
to it.
"""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.template import engines

FLOOR_TEMPLATE = (
    '{% extends "base.html" %}'
    "{% block title %}Bench floor{% endblock %}"
    "{% block content %}<h1>Bench floor</h1>{% endblock %}"
)


@login_required
def floor(request):
    template = engines["django"].from_string(FLOOR_TEMPLATE)
    return HttpResponse(template.render({}, request))
