"""Single sign-on routes, present only with OIDC_ISSUER set (policyhub/urls.py includes this
module under accounts/ before people.auth_urls, so that without single sign-on nothing here
exists and the login, logout and reset pages are exactly as before).

With single sign-on, three of people.auth_urls' addresses are answered here first, by
subclasses of the same views: logout (to end the provider's session too) and, with
OIDC_ONLY=true, the password reset pages (links for site admins only).
"""

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.urls import path

urlpatterns = []

if getattr(settings, "OIDC_ENABLED", False):
    from people import sso

    urlpatterns += [
        path("sso/login/", login_not_required(sso.SignInStartView.as_view()), name="sso_login"),
        path(
            "sso/callback/",
            login_not_required(sso.SignInCallbackView.as_view()),
            name="sso_callback",
        ),
        path("logout/", sso.LogoutView.as_view()),
    ]
    if settings.OIDC_ONLY:
        urlpatterns += [
            path("password-reset/", login_not_required(sso.PasswordResetView.as_view())),
            path(
                "reset/<uidb64>/<token>/",
                login_not_required(sso.PasswordResetConfirmView.as_view()),
            ),
        ]
