"""The gate: a signed-in person who still owes the second factor reaches only the code page
or the set-up pages (SecondFactorMiddleware, after django-otp's OTPMiddleware)."""

from __future__ import annotations

from django.conf import settings
from django.shortcuts import redirect, resolve_url
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode

from people.two_factor.requirement import enrolled_in_session, has_app, passed, required_for


def second_factor_exempt(view):
    """The pages a person may open before passing the second factor (they check the rest)."""
    view.second_factor_exempt = True
    return view


def _is_logout(view_func, match) -> bool:
    from django.contrib.auth import views as auth_views

    view_class = getattr(view_func, "view_class", None)
    if view_class is not None and issubclass(view_class, auth_views.LogoutView):
        return True
    return match is not None and match.url_name == "logout"


def safe_next_url(request, *, default: str | None = None) -> str:
    candidate = request.POST.get("next") or request.GET.get("next")
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return default or resolve_url(settings.LOGIN_REDIRECT_URL)


def url_with_next(url_name: str, next_url: str) -> str:
    return f"{reverse(url_name)}?{urlencode({'next': next_url})}"


class SecondFactorMiddleware:
    """Sends a signed-in person who still owes the second factor to the code page, or to set
    up an app when their role requires one and they have none. After django-otp's
    OTPMiddleware. Pages marked login_not_required stay open as they are to anyone, except the
    Django admin's, which are marked so only because the admin checks logins itself."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        match = request.resolver_match
        in_admin = match is not None and "admin" in match.namespaces
        if getattr(view_func, "second_factor_exempt", False) or _is_logout(view_func, match):
            return None
        if in_admin:
            if match.url_name == "login":
                return None  # it sends a signed-in person on to the admin's index
        elif not getattr(view_func, "login_required", True):
            return None
        if passed(request):
            return None
        if not (required_for(user) or enrolled_in_session(request)):
            return None
        next_url = request.get_full_path()
        if has_app(user):
            return redirect(url_with_next("two_factor:verify", next_url))
        return redirect(url_with_next("two_factor:setup", next_url))
