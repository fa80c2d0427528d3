"""Login protection: the parts of django-axes that PolicyHub decides for itself.

django-axes counts failed password logins per account and per address and refuses
logins past the limit (settings: the AXES_* block). This module tells it which
account and which address a login is for, that an address has a higher limit than an
account, how the refusal reads, and lets a site admin or a completed password reset
lift an account's lock.
"""

import ipaddress
import math

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_cool_off, get_failure_limit
from axes.models import AccessAttempt
from axes.utils import reset
from django.conf import settings
from django.db.models import Sum
from django.shortcuts import render
from django.utils import timezone

from people.models import normalise_email

LOCKED_OUT_TEMPLATE = "registration/locked_out.html"


def attempt_username(request, credentials=None) -> str | None:
    """The account a login attempt is for: the email as the login form cleans it,
    so that "Employee@Example.com" and "employee@example.com" count as one account
    whichever form (PolicyHub's or the admin's) sent it."""
    field = settings.AXES_USERNAME_FORM_FIELD
    if credentials:
        raw = credentials.get(field)
    else:
        raw = getattr(request, "data", request.POST).get(field)
    return None if raw is None else normalise_email(raw)


def client_address(request) -> str | None:
    """The address a login attempt comes from.

    Behind a trusted proxy (TRUST_X_FORWARDED_PROTO=true) it is the last address in
    X-Forwarded-For: the one the proxy appended, while anything before it is what the
    client chose to send. Otherwise the header is ignored, as anyone can send it, and
    the connection's address counts.
    """
    remote = request.META.get("REMOTE_ADDR")
    if not settings.LOGIN_TRUST_X_FORWARDED_FOR:
        return remote
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")[-1].strip()
    try:
        return str(ipaddress.ip_address(forwarded))
    except ValueError:
        return remote


def address_failure_limit() -> int:
    """Failed logins from one address, for any accounts, that lock the address."""
    return settings.LOGIN_ADDRESS_FAILURE_LIMIT


def cool_off_minutes(request=None) -> int:
    return math.ceil(get_cool_off(request).total_seconds() / 60)


def locked_out_response(request, original_response=None, credentials=None):
    """The page for a refused login: the same for every account, known or not, and
    for a locked account or a locked address, so it tells nobody whether an email
    has an account. 429 Too Many Requests, with Retry-After: the request was fine,
    it came too often, and it will work if sent again later."""
    minutes = cool_off_minutes(request)
    response = render(request, LOCKED_OUT_TEMPLATE, {"cooloff_minutes": minutes}, status=429)
    response["Retry-After"] = str(minutes * 60)
    return response


def _total(attempts) -> int:
    return attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0


class LoginAttemptHandler(AxesDatabaseHandler):
    """django-axes' database handler, with a limit of its own for an address and a
    narrower reset on a successful login.

    axes holds an account and an address to the same limit: five typos by different
    people behind one office's NAT would lock the whole office out. Here an address
    locks only at LOGIN_ADDRESS_FAILURE_LIMIT failures (for any accounts), an account at
    LOGIN_FAILURE_LIMIT (AXES_FAILURE_LIMIT, from any address).

    axes' own handler deletes, on success, every failure from the same address too,
    including failures against other accounts: anyone with an account could then
    guess a colleague's password without limit by logging in as themselves between
    guesses. Here a successful login clears only that account's failures (which also
    takes them out of each address's count).
    """

    def get_failures(self, request, credentials=None) -> int:
        """The number axes compares with AXES_FAILURE_LIMIT, both before a login (to
        refuse it) and after a failure (to lock): the account's recent failures; or the
        limit itself once the address's recent failures reach the address's limit."""
        recent = AccessAttempt.objects.filter(attempt_time__gte=get_cool_off_threshold(request))
        username = get_client_username(request, credentials)
        account = _total(recent.filter(username=username)) if username else 0
        address = getattr(request, "axes_ip_address", None)
        if address and _total(recent.filter(ip_address=address)) >= address_failure_limit():
            return max(account, get_failure_limit(request, credentials))
        return account

    def reset_user_attempts(self, request, credentials=None) -> int:
        username = get_client_username(request, credentials)
        if not username:
            return 0
        count, _ = AccessAttempt.objects.filter(username=username).delete()
        return count

    def reset_attempts(self, *, ip_address=None, username=None, ip_or_username=False) -> int:
        # `manage.py axes_reset_username Employee@Example.com` finds the lower-case account.
        if username:
            username = normalise_email(username)
        return super().reset_attempts(
            ip_address=ip_address, username=username, ip_or_username=ip_or_username
        )


def recent_failures(*, email: str) -> int:
    """Failed logins for this account still counting towards its lock."""
    attempts = AccessAttempt.objects.filter(
        username=normalise_email(email), attempt_time__gte=timezone.now() - get_cool_off()
    )
    return _total(attempts)


def lift_login_lock(*, email: str) -> int:
    """Forget an account's failed logins, from every address; returns how many records
    went. The address counts lose those failures too; a lock on an address as such is
    lifted in the admin's Access attempts or with `manage.py axes_reset_ip`."""
    return reset(username=normalise_email(email))
