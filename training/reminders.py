"""The reminders training sends through the outbox (see notifications/registry.py)."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.urls import reverse
from django.utils import timezone

from notifications.emails import Attachment
from notifications.registry import Due, ReminderKind, register
from training.models import Booking, Requirement, Session


def _load_bookings(notifications) -> dict[int, Booking]:
    """The notifications' bookings with their sessions, cached on the rows (one query)."""
    bookings = {
        b.pk: b
        for b in Booking.objects.filter(
            pk__in={n.subject_id for n in notifications}
        ).select_related("session__topic", "session__presenter", "person")
    }
    if notifications:
        field = notifications[0]._meta.get_field("subject")
        for notification in notifications:
            if notification.subject_id in bookings:
                field.set_cached_value(notification, bookings[notification.subject_id])
    return bookings


def _invite(booking: Booking, method: str) -> Attachment:
    from training.calendar import build_invite

    return Attachment(
        "briefing.ics",
        build_invite(booking, method=method),
        "text/calendar",
        {"method": method},
        inline=True,
    )


class _BookingKind(ReminderKind):
    """About one person's booking of one session."""

    invite_method: str | None = None
    still_statuses = (Booking.Status.BOOKED,)

    def still_due(self, notifications):
        bookings = _load_bookings(notifications)
        return {
            n.pk
            for n in notifications
            if n.subject_id in bookings
            and bookings[n.subject_id].status in self.still_statuses
            and self._session_ok(bookings[n.subject_id].session)
        }

    def _session_ok(self, session: Session) -> bool:
        return session.status == Session.Status.SCHEDULED

    def title(self, notification):
        session = notification.subject.session
        local = timezone.localtime(session.starts_at, ZoneInfo(session.time_zone))
        return f"{session.title}, {local:%A %-d %B, %H:%M}"

    def url(self, notification):
        return reverse("training:session", args=[notification.subject.session_id])

    def context(self, notification):
        booking = notification.subject
        session = booking.session
        return {
            "booking": booking,
            "session": session,
            "local_start": timezone.localtime(session.starts_at, ZoneInfo(session.time_zone)),
            "local_end": timezone.localtime(session.ends_at, ZoneInfo(session.time_zone)),
        }

    def attachments(self, notification):
        if self.invite_method is None:
            return []
        return [_invite(notification.subject, self.invite_method)]


@register
class BookingConfirmed(_BookingKind):
    name = "training-booking-confirmed"
    label = "Your briefing booking is confirmed (with a calendar invite)"
    urgent = True
    invite_method = "REQUEST"


@register
class BookingPromoted(_BookingKind):
    name = "training-booking-promoted"
    label = "A seat freed up: you moved from the waitlist to booked"
    urgent = True
    invite_method = "REQUEST"


@register
class BookingCancelled(_BookingKind):
    name = "training-booking-cancelled"
    label = "Your briefing booking is cancelled (the invite is withdrawn)"
    urgent = True
    invite_method = "CANCEL"
    still_statuses = (Booking.Status.CANCELLED,)

    def _session_ok(self, session):
        return True


@register
class SessionChanged(_BookingKind):
    name = "training-session-changed"
    label = "A briefing you booked moved or changed place (updated invite)"
    urgent = True
    invite_method = "REQUEST"
    still_statuses = Booking.ACTIVE


@register
class SessionCancelled(_BookingKind):
    name = "training-session-cancelled"
    label = "A briefing you booked was cancelled"
    urgent = True
    invite_method = "CANCEL"
    still_statuses = (Booking.Status.CANCELLED,)

    def _session_ok(self, session):
        return session.status == Session.Status.CANCELLED


def _upcoming_bookings(start: datetime, end: datetime):
    return Booking.objects.filter(
        status=Booking.Status.BOOKED,
        session__status=Session.Status.SCHEDULED,
        session__starts_at__gte=start,
        session__starts_at__lt=end,
    ).select_related("session")


@register
class SessionTomorrow(_BookingKind):
    """The day before (in the morning digest, or at once for "immediate" people)."""

    name = "training-session-tomorrow"
    label = "Your briefing is tomorrow"

    def find_due(self, *, now):
        for booking in _upcoming_bookings(now, now + timedelta(days=2)):
            session = booking.session
            zone = ZoneInfo(session.time_zone)
            day_before = timezone.localtime(session.starts_at, zone).date() - timedelta(days=1)
            due_at = datetime.combine(day_before, time(0), tzinfo=zone)
            if due_at <= now < session.starts_at:
                yield Due(
                    subject=booking,
                    recipient_id=booking.person_id,
                    stage=f"tomorrow-{session.starts_at:%Y%m%d}",
                    due_at=due_at,
                )


@register
class SessionToday(_BookingKind):
    """At 08:00 on the day, in the session's time zone."""

    name = "training-session-today"
    label = "Your briefing is today"
    urgent = True

    def find_due(self, *, now):
        for booking in _upcoming_bookings(now, now + timedelta(days=1)):
            session = booking.session
            zone = ZoneInfo(session.time_zone)
            day = timezone.localtime(session.starts_at, zone).date()
            due_at = min(datetime.combine(day, time(8), tzinfo=zone), session.starts_at)
            yield Due(
                subject=booking,
                recipient_id=booking.person_id,
                stage=f"today-{session.starts_at:%Y%m%d}",
                due_at=due_at,
            )


@register
class MakeUpOffer(_BookingKind):
    """The day after a no-show: the next sessions of the same topic with free seats."""

    name = "training-makeup-offer"
    label = "You missed a briefing: book a make-up session"
    still_statuses = (Booking.Status.ABSENT,)

    def _session_ok(self, session):
        return True

    def context(self, notification):
        from training.services import next_sessions_with_seats

        context = super().context(notification)
        context["next_sessions"] = list(
            next_sessions_with_seats(topics=[notification.subject.session.topic_id])
        )
        return context


class _RequirementKind(ReminderKind):
    """About a requirement a person still has to meet (the subject is the requirement)."""

    def still_due(self, notifications):
        from training.compliance import compliant_ids

        keep = set()
        for requirement_id in {n.subject_id for n in notifications}:
            requirement = Requirement.objects.filter(pk=requirement_id, active=True).first()
            if requirement is None:
                continue
            done = compliant_ids(requirement)
            keep |= {
                n.pk
                for n in notifications
                if n.subject_id == requirement_id and n.recipient_id not in done
            }
        return keep

    def title(self, notification):
        return notification.subject.name

    def url(self, notification):
        return reverse("training:index")

    def context(self, notification):
        from training.services import next_sessions_with_seats

        requirement = notification.subject
        return {
            "requirement": requirement,
            "next_sessions": list(
                next_sessions_with_seats(topics=requirement.accepted_topics.all())
            ),
        }


@register
class StillRequired(_RequirementKind):
    """Monthly, while a person has not attended a required briefing."""

    name = "training-still-required"
    label = "A required briefing you have not attended yet (monthly)"

    def find_due(self, *, now):
        from training.compliance import still_required_ids

        for requirement in Requirement.objects.filter(active=True):
            for person_id in sorted(still_required_ids(requirement, now=now)):
                yield Due(subject=requirement, recipient_id=person_id, stage=f"required-{now:%Y%m}")


@register
class Invitation(_RequirementKind):
    """ "Invite everyone still required": the next sessions with free seats."""

    name = "training-invitation"
    label = "An invitation to a required briefing"
