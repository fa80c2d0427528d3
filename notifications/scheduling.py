"""When a digest goes out: 09:00 on the next working day in the person's time zone."""

import zoneinfo
from datetime import datetime, time, timedelta

from django.conf import settings


def person_zone(time_zone_name: str) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(time_zone_name or settings.TIME_ZONE)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def next_digest_time(after: datetime, time_zone_name: str) -> datetime:
    """The first digest moment at or after `after`: DIGEST_HOUR local time on a working day.

    Built from the local date, so it stays at 09:00 across daylight-saving changes.
    """
    zone = person_zone(time_zone_name)
    local = after.astimezone(zone)
    digest_time = time(settings.NOTIFICATIONS_DIGEST_HOUR)
    day = local.date()
    if local.time() > digest_time:
        day += timedelta(days=1)
    while day.weekday() not in settings.NOTIFICATIONS_WORKING_DAYS:
        day += timedelta(days=1)
    return datetime.combine(day, digest_time, tzinfo=zone)
