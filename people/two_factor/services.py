"""What changes a person's second factor: checking a code, setting up an app, new recovery
codes, turning it off, a site admin's reset. Wrong codes are throttled by django-otp on each
device; a code from the app works once, a recovery code works once and is deleted."""

from __future__ import annotations

import logging
import math
import re
from base64 import b32encode
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from people.two_factor.requirement import (
    app_device,
    app_devices,
    has_app,
    recovery_codes_left,
    recovery_devices,
    required_for,
    required_message,
)

# Named as two-factor sign-in was when it was one module, so that logging settings keep working.
logger = logging.getLogger("people.two_factor")

RECOVERY_CODE_COUNT = 10
APP_DEVICE_NAME = "Authenticator app"
RECOVERY_DEVICE_NAME = "Recovery codes"
CODE_DIGITS = 6


class SecondFactorError(Exception):
    """A code was refused or a change is not allowed: nothing changed, except that a wrong
    code counts towards the wait before the next try."""


def _normalise(code: str) -> str:
    return re.sub(r"[\s-]", "", code or "").lower()


def is_app_code(code: str) -> bool:
    return bool(re.fullmatch(rf"\d{{{CODE_DIGITS}}}", _normalise(code)))


def _wait_words(seconds: float) -> str:
    seconds = max(1, math.ceil(seconds))
    if seconds < 90:
        return ngettext("%(n)s second", "%(n)s seconds", seconds) % {"n": seconds}
    minutes = math.ceil(seconds / 60)
    if minutes < 90:
        return ngettext("%(n)s minute", "%(n)s minutes", minutes) % {"n": minutes}
    hours = math.ceil(minutes / 60)
    return ngettext("%(n)s hour", "%(n)s hours", hours) % {"n": hours}


WRONG_CODE = gettext_lazy(
    "That code is not right. Enter the code your app shows now, or a recovery code."
)


def check_code(*, person, code: str):
    """The device that accepts `code` for `person`: their authenticator app for six digits,
    their recovery codes otherwise (a recovery code is used up). Raises SecondFactorError for
    a wrong code (counted towards the wait) or while the wait after wrong codes lasts."""
    code = _normalise(code)
    if is_app_code(code):
        manager = app_devices()
    else:
        manager = recovery_devices()
    refusal = str(WRONG_CODE)
    # The wrong code is counted inside the transaction and the error raised outside it, so
    # that raising does not take the count back.
    with transaction.atomic():
        devices = list(manager.select_for_update().filter(user=person, confirmed=True))
        accepted = None
        for device in devices:
            allowed, details = device.verify_is_allowed()
            if not allowed:
                locked_until = (details or {}).get("locked_until")
                wait = (locked_until - timezone.now()).total_seconds() if locked_until else 1
                refusal = _("Too many wrong codes. Wait %(wait)s before trying again.") % {
                    "wait": _wait_words(wait)
                }
                continue
            if device.verify_token(code):
                accepted = device
                break
    if accepted is None:
        logger.info("Two-factor sign-in: a code was refused for person %s", person.pk)
        raise SecondFactorError(refusal)
    return accepted


def new_secret() -> str:
    from django_otp.plugins.otp_totp.models import default_key

    return default_key()


def secret_for_people(key_hex: str) -> str:
    """The secret as an app's "enter a key" field takes it: base32, in groups of four."""
    text = b32encode(bytes.fromhex(key_hex)).decode().rstrip("=")
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


def setup_uri(*, person, key_hex: str) -> str:
    """The otpauth:// address the QR code holds (issuer: settings.OTP_TOTP_ISSUER)."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    return TOTPDevice(user=person, key=key_hex).config_url  # not saved


def _replace_recovery_codes(person) -> list[str]:
    from django_otp.plugins.otp_static.models import StaticDevice, StaticToken

    StaticDevice.objects.filter(user=person).delete()
    device = StaticDevice.objects.create(user=person, name=RECOVERY_DEVICE_NAME, confirmed=True)
    codes: list[str] = []
    while len(codes) < RECOVERY_CODE_COUNT:
        code = StaticToken.random_token()
        if code not in codes:
            codes.append(code)
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


def _lock_person(person):
    # Two set-ups or resets for one person at once would leave two apps or stray codes.
    # NO KEY: enough to keep them one at a time, without holding up a write that refers
    # to the person (an acknowledgement, a booking).
    from django.contrib.auth import get_user_model

    get_user_model().objects.select_for_update(no_key=True).filter(pk=person.pk).first()


def enrol(*, person, key_hex: str, code: str, now: datetime | None = None):
    """Confirm the app set up with `key_hex` by a code from it (the code the app shows at
    `now`): it becomes the person's only authenticator app, with ten new recovery codes.
    Returns (device, recovery codes)."""
    from django_otp.oath import TOTP
    from django_otp.plugins.otp_totp.models import TOTPDevice

    code = _normalise(code)
    probe = TOTPDevice(key=key_hex)  # the defaults: 30-second steps, 6 digits, one step
    totp = TOTP(probe.bin_key, probe.step, probe.t0, probe.digits, probe.drift)
    totp.time = (now or timezone.now()).timestamp()
    if not is_app_code(code) or not totp.verify(int(code), probe.tolerance):
        raise SecondFactorError(
            _("That code is not right. Enter the 6 digits your app shows now for PolicyHub.")
        )
    with transaction.atomic():
        _lock_person(person)
        TOTPDevice.objects.filter(user=person).delete()
        device = TOTPDevice.objects.create(
            user=person,
            name=APP_DEVICE_NAME,
            key=key_hex,
            confirmed=True,
            # The code just used cannot sign in again.
            last_t=totp.t(),
            drift=totp.drift,
        )
        codes = _replace_recovery_codes(person)
    logger.info("Two-factor sign-in turned on for person %s", person.pk)
    return device, codes


def new_recovery_codes(*, person, code: str) -> list[str]:
    """Ten new recovery codes for a code from the app (or a recovery code); the old stop
    working."""
    if not has_app(person):
        raise SecondFactorError(
            _("Two-factor sign-in is off: there are no recovery codes to renew.")
        )
    check_code(person=person, code=code)
    with transaction.atomic():
        _lock_person(person)
        return _replace_recovery_codes(person)


def turn_off(*, person, code: str) -> None:
    """Remove the person's app and recovery codes, for a right code; not for a role that
    requires two-factor sign-in."""
    if required_for(person):
        raise SecondFactorError(required_message())
    if not has_app(person):
        raise SecondFactorError(_("Two-factor sign-in is already off."))
    check_code(person=person, code=code)
    reset(person=person)
    logger.info("Two-factor sign-in turned off by person %s", person.pk)


def reset(*, person) -> int:
    """Remove the person's authenticator apps and recovery codes (a site admin, for a lost
    phone). Returns how many were removed. A session that passed with them passes no more."""
    with transaction.atomic():
        _lock_person(person)
        apps_removed, _ = app_devices().filter(user=person).delete()
        recovery = recovery_devices().filter(user=person)
        recovery_removed = recovery.count()
        recovery.delete()
    return apps_removed + recovery_removed


def status(person) -> dict:
    device = app_device(person)
    return {
        "on": device is not None,
        "since": device.created_at if device else None,
        "last_used": device.last_used_at if device else None,
        "codes_left": recovery_codes_left(person) if device else 0,
        "required": required_for(person),
    }
