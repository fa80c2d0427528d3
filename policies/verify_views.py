"""The site admins' page that checks the acknowledgement chain (as the command does)."""

from django.shortcuts import render

from people import roles
from policies.services import verify_chain


@roles.role_required(roles.is_site_admin)
def verify(request):
    return render(request, "policies/verify.html", {"verdict": verify_chain()})
