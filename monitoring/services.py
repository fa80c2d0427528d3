from django.db import transaction
from django.db.models import F
from django.utils import timezone

from monitoring.models import Heartbeat


def record_heartbeat(*, source: str) -> Heartbeat:
    """Note that `source` reached the database now; safe to run any number of times."""
    now = timezone.now()
    with transaction.atomic():
        heartbeat, created = Heartbeat.objects.select_for_update().get_or_create(
            source=source, defaults={"last_seen": now, "count": 1}
        )
        if not created:
            Heartbeat.objects.filter(pk=heartbeat.pk).update(last_seen=now, count=F("count") + 1)
            heartbeat.refresh_from_db()
    return heartbeat
