"""The API tokens page, for site admins: make a token for an owner (shown once), list
them with when each was last used, revoke one."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from api import services
from api.forms import TokenForm
from api.models import IntegrationToken, TokenError
from people import roles
from people.roles import role_required
from policyhub.paging import page_of

TOKENS_PER_PAGE = 25
site_admins_only = role_required(roles.is_site_admin)


def _tokens():
    return IntegrationToken.objects.select_related("owner", "created_by", "revoked_by").order_by(
        "revoked_at", "-created_at", "-pk"
    )


def _list_page(request, form, *, status: int = 200):
    page = page_of(request, _tokens(), per_page=TOKENS_PER_PAGE)
    return render(
        request,
        "api/tokens.html",
        {"form": form, "page": page, "docs_url": reverse("api:docs")},
        status=status,
    )


@never_cache
@site_admins_only
@require_http_methods(["GET", "HEAD", "POST"])
def tokens(request):
    if request.method != "POST":
        return _list_page(request, TokenForm())
    form = TokenForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            token, key = services.create_token(
                owner=data["owner"], name=data["name"], scope=data["scope"], by=request.user
            )
        except TokenError as error:
            form.add_error(None, str(error))
        else:
            # The key is in this response only: never stored, never cached, not in a
            # redirect's session.
            return render(request, "api/token_created.html", {"token": token, "key": key})
    return _list_page(request, form, status=400)


@never_cache
@site_admins_only
@require_http_methods(["GET", "HEAD", "POST"])
def revoke(request, pk: int):
    token = get_object_or_404(IntegrationToken.objects.select_related("owner"), pk=pk)
    if request.method == "POST":
        try:
            services.revoke_token(token=token, by=request.user)
        except TokenError as error:
            messages.error(request, str(error))
        else:
            messages.success(
                request,
                _("“%(name)s” is revoked: requests with it are refused from now on.")
                % {"name": token.name},
            )
        return redirect("api:tokens")
    return render(request, "api/token_revoke.html", {"token": token})
