"""django-otp's OTPMiddleware, with the session's device checked in the query that reads the
person's roles instead of in a query of its own.

Every page asks both: the gate whether the session has passed the second factor
(`request.user.is_verified()`), the navigation and the permission checks which roles the
person holds (people.roles.read_roles: their groups and whether they manage anyone). A session
with no device to check reads nothing here; the roles are read when first asked.

In settings.MIDDLEWARE in place of "django_otp.middleware.OTPMiddleware" (after Django's
AuthenticationMiddleware, before SecondFactorMiddleware). Not imported by the package: it
needs the models ready.
"""

from __future__ import annotations

from django.apps import apps
from django.db.models import Exists, OuterRef
from django.utils.functional import SimpleLazyObject
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp import middleware as otp_middleware
from django_otp.models import Device

from people import roles


def _device_query(persistent_id: str):
    """The device a session names ("otp_totp.totpdevice/12") as a queryset of it, or None
    when the name is not a device's (django-otp then drops it from the session)."""
    persistent_id = otp_middleware.OTPMiddleware._normalize_persistent_id(persistent_id)
    try:
        model_label, device_id = persistent_id.rsplit("/", 1)
        app_label, model_name = model_label.split(".")
        model = apps.get_model(app_label, model_name)
        device_id = int(device_id)
    except (ValueError, LookupError):
        return None
    if not issubclass(model, Device):
        return None
    return model._default_manager.filter(pk=device_id)


class OTPMiddleware(otp_middleware.OTPMiddleware):
    """Sets `request.user.otp_device` (the device that verified this session, or None) and
    `request.user.is_verified()` as django-otp's does, the same way: the device counts only
    while it is confirmed and the person's own; otherwise the session forgets it. The check
    is an EXISTS in the roles' query; the device itself is loaded only if something reads
    one of its fields."""

    def _verify_user_sync(self, request, user):
        self._init_user_fields(user)
        if not user.is_authenticated:
            return user
        persistent_id = request.session.get(DEVICE_ID_SESSION_KEY)
        if not persistent_id:
            return user
        device = _device_query(persistent_id)
        if device is not None:
            mine = device.filter(user=OuterRef("pk"), confirmed=True)
            if roles.read_roles(user, otp_device=Exists(mine))["otp_device"]:
                user.otp_device = SimpleLazyObject(device.get)
                return user
        del request.session[DEVICE_ID_SESSION_KEY]
        return user
