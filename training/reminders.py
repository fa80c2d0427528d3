"""The reminders training sends through the outbox (see notifications/registry.py).

Booking kinds carry the booking's calendar invite: REQUEST when it is booked or changes,
CANCEL when it is withdrawn. Times in the emails are the session's local time with its
zone's name, because that is where the room is; people elsewhere also get their own time.
The words these put into an email (days, months, "tomorrow") are in the recipient's
language, as the invite is (training.calendar.in_language_of).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from notifications.emails import Attachment, absolute_url
from notifications.registry import Due, ReminderKind, load_subjects, register
from notifications.scheduling import person_zone
from training.calendar import build_invite, in_language_of, location
from training.compliance import compliant_ids, last_attended, still_required_ids
from training.models import Booking, Requirement, Session
from training.services import next_sessions_with_seats

BookingStatus = Booking.Status


# --- words for times and places ----------------------------------------------------


def _in_recipient_language(method):
    """A kind's `context` or `title`, worked out in the language of the notification's
    recipient (their day and month names, "tomorrow")."""

    @functools.wraps(method)
    def wrapper(self, notification):
        with in_language_of(notification.recipient):
            return method(self, notification)

    return wrapper


def _day(moment: datetime) -> str:
    """ "Tuesday 27 October 2026", with the active language's day and month names."""
    return formats.date_format(moment, "l j F Y")


def _span(start: datetime, end: datetime) -> str:
    if start.date() == end.date():
        return f"{_day(start)}, {start:%H:%M}–{end:%H:%M}"
    return _("%(start)s to %(end)s") % {
        "start": f"{_day(start)}, {start:%H:%M}",
        "end": f"{_day(end)}, {end:%H:%M}",
    }


def when_text(session: Session) -> str:
    """ "Tuesday 27 October 2026, 12:30–13:30 Europe/London time (GMT)"."""
    zone = ZoneInfo(session.time_zone)
    start, end = session.starts_at.astimezone(zone), session.ends_at.astimezone(zone)
    text = _("%(when)s %(zone)s time") % {"when": _span(start, end), "zone": session.time_zone}
    abbreviation = start.tzname() or ""
    if abbreviation.isalpha() and abbreviation != session.time_zone:
        text += f" ({abbreviation})"
    return text


def when_for(session: Session, person) -> str:
    """The same times in the person's own zone, when they have one and it reads
    differently; else ""."""
    if not getattr(person, "time_zone", ""):
        return ""
    zone = person_zone(person.time_zone)
    here = ZoneInfo(session.time_zone)
    start, end = session.starts_at.astimezone(zone), session.ends_at.astimezone(zone)
    there = session.starts_at.astimezone(here)
    if start.utcoffset() == there.utcoffset() or zone.key == session.time_zone:
        return ""
    return _("%(when)s in your time zone, %(zone)s") % {"when": _span(start, end), "zone": zone.key}


def local_text(moment: datetime, session: Session) -> str:
    local = moment.astimezone(ZoneInfo(session.time_zone))
    return f"{_day(local)}, {local:%H:%M}"


@dataclass(frozen=True)
class SessionOffer:
    """An upcoming session with free seats, as the emails list it (with its link:
    {{ site_url }}{% url 'training:session' offer.pk %})."""

    session: Session
    when: str
    seats_left: int

    @property
    def pk(self) -> int:
        return self.session.pk


def session_offers(*, topics, limit: int = 3) -> list[SessionOffer]:
    return [
        SessionOffer(
            session=session,
            when=when_text(session),
            seats_left=session.capacity - session.booked,
        )
        for session in next_sessions_with_seats(topics=topics, limit=limit)
    ]


# --- about one booking ---------------------------------------------------------------


def _load_bookings(notifications) -> dict[int, Booking]:
    return load_subjects(
        Booking.objects.select_related(
            "session__topic", "session__presenter", "person", "booked_by"
        ),
        notifications,
    )


def _invite(booking: Booking, method: str) -> Attachment:
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
    still_statuses = (BookingStatus.BOOKED,)

    def still_due(self, notifications):
        bookings = _load_bookings(notifications)
        return {
            n.pk
            for n in notifications
            if n.subject_id in bookings
            and bookings[n.subject_id].status in self.still_statuses
            and self._session_ok(bookings[n.subject_id].session)
            and self._stage_ok(n, bookings[n.subject_id])
        }

    def _session_ok(self, session: Session) -> bool:
        return session.status == Session.Status.SCHEDULED

    def _stage_ok(self, notification, booking: Booking) -> bool:
        return True

    @_in_recipient_language
    def title(self, notification):
        session = notification.subject.session
        local = session.starts_at.astimezone(ZoneInfo(session.time_zone))
        return f"{session.title}, {formats.date_format(local, 'l j F')}, {local:%H:%M}"

    def url(self, notification):
        return reverse("training:session", args=[notification.subject.session_id])

    @_in_recipient_language
    def context(self, notification):
        booking = notification.subject
        session = booking.session
        zone = ZoneInfo(session.time_zone)
        return {
            "booking": booking,
            "session": session,
            "local_start": session.starts_at.astimezone(zone),
            "local_end": session.ends_at.astimezone(zone),
            "when": when_text(session),
            "start_time": f"{session.starts_at.astimezone(zone):%H:%M}",
            "when_for_you": when_for(session, notification.recipient),
            "place": location(session),
            "lunch_cutoff": local_text(session.lunch_cutoff, session)
            if session.lunch_cutoff
            else "",
            "booked_for_you_by": booking.booked_by
            if booking.booked_by_id != booking.person_id
            else None,
            "training_url": absolute_url(reverse("training:index")),
        }

    def attachments(self, notification):
        if self.invite_method is None:
            return []
        return [_invite(notification.subject, self.invite_method)]


@register
class BookingConfirmed(_BookingKind):
    name = "training-booking-confirmed"
    label = gettext_lazy("Your briefing booking is confirmed (with a calendar invite)")
    urgent = True
    invite_method = "REQUEST"


@register
class BookingPromoted(_BookingKind):
    name = "training-booking-promoted"
    label = gettext_lazy("A seat freed up: you moved from the waitlist to booked")
    urgent = True
    invite_method = "REQUEST"


@register
class BookingCancelled(_BookingKind):
    name = "training-booking-cancelled"
    label = gettext_lazy("Your briefing booking is cancelled (the invite is withdrawn)")
    urgent = True
    invite_method = "CANCEL"
    still_statuses = (BookingStatus.CANCELLED,)

    def _session_ok(self, session):
        return True

    def context(self, notification):
        context = super().context(notification)
        context["next_sessions"] = session_offers(topics=[notification.subject.session.topic_id])
        return context


@register
class SessionChanged(_BookingKind):
    name = "training-session-changed"
    label = gettext_lazy("A briefing you booked moved or changed place (updated invite)")
    urgent = True
    invite_method = "REQUEST"
    still_statuses = Booking.ACTIVE

    def _stage_ok(self, notification, booking):
        # Changed twice before the first mail went: the latest one says it all.
        return notification.stage == f"changed-{booking.session.sequence}"

    def attachments(self, notification):
        # Someone on the waitlist has no invite in their calendar to update: they are
        # told of the change, and get the invite with their seat.
        if notification.subject.status != BookingStatus.BOOKED:
            return []
        return super().attachments(notification)


@register
class SessionCancelled(_BookingKind):
    name = "training-session-cancelled"
    label = gettext_lazy("A briefing you booked was cancelled")
    urgent = True
    invite_method = "CANCEL"
    still_statuses = (BookingStatus.CANCELLED,)

    def _session_ok(self, session):
        return session.status == Session.Status.CANCELLED

    def context(self, notification):
        context = super().context(notification)
        context["next_sessions"] = session_offers(topics=[notification.subject.session.topic_id])
        return context


def _upcoming_bookings(start: datetime, end: datetime):
    return Booking.objects.filter(
        status=BookingStatus.BOOKED,
        session__status=Session.Status.SCHEDULED,
        session__starts_at__gte=start,
        session__starts_at__lt=end,
    ).select_related("session")


def _day_stage(prefix: str, session: Session) -> str:
    """Tied to the session's local day: if it moves to another day, the old row goes."""
    return f"{prefix}-{session.starts_at.astimezone(ZoneInfo(session.time_zone)):%Y%m%d}"


def reminder_day_before(session: Session) -> datetime:
    """08:00 on the last working day before the session, in its zone: the day before, or
    Friday for a Monday session. Planned ahead, so a digest reader gets it in that
    morning's digest and everyone else at 08:00."""
    zone = ZoneInfo(session.time_zone)
    day = session.starts_at.astimezone(zone).date() - timedelta(days=1)
    for _attempt in range(7):
        if day.weekday() in settings.NOTIFICATIONS_WORKING_DAYS:
            break
        day -= timedelta(days=1)
    return datetime.combine(day, time(8), tzinfo=zone)


def reminder_on_the_day(session: Session) -> datetime:
    """08:00 on the day in the session's zone (an hour before an earlier session)."""
    zone = ZoneInfo(session.time_zone)
    day = session.starts_at.astimezone(zone).date()
    return min(datetime.combine(day, time(8), tzinfo=zone), session.starts_at - timedelta(hours=1))


@register
class SessionTomorrow(_BookingKind):
    """The working day before: in that morning's digest, or at 08:00 for "immediate" people."""

    name = "training-session-tomorrow"
    label = gettext_lazy("Your briefing is coming up (the working day before)")

    def find_due(self, *, now):
        # Planned up to a week ahead: that covers the longest gap between the last working
        # day and the session, and the row waits in the outbox for its time.
        for booking in _upcoming_bookings(now, now + timedelta(days=8)):
            session = booking.session
            due_at = reminder_day_before(session)
            zone = ZoneInfo(session.time_zone)
            day_begins = datetime.combine(session.starts_at.astimezone(zone).date(), time(0), zone)
            # Booked after that, the confirmation has only just told them; and once the day
            # has come, the morning-of reminder does.
            if booking.booked_at < due_at and now < day_begins:
                yield Due(
                    subject=booking,
                    recipient_id=booking.person_id,
                    stage=_day_stage("tomorrow", session),
                    due_at=due_at,
                )

    def _stage_ok(self, notification, booking):
        return notification.stage == _day_stage("tomorrow", booking.session)

    @_in_recipient_language
    def context(self, notification):
        context = super().context(notification)
        session = context["session"]
        zone = ZoneInfo(session.time_zone)
        # Said on the day it is planned to go out (a digest may come on Friday for Monday).
        tomorrow = notification.send_after.astimezone(zone).date() + timedelta(days=1)
        start = context["local_start"]
        # A flag, not words: the templates choose "tomorrow" or the weekday in the
        # recipient's language.
        context["is_tomorrow"] = start.date() == tomorrow
        return context


@register
class SessionToday(_BookingKind):
    """At 08:00 on the day, in the session's time zone."""

    name = "training-session-today"
    label = gettext_lazy("Your briefing is today")
    urgent = True

    def find_due(self, *, now):
        for booking in _upcoming_bookings(now, now + timedelta(days=1)):
            session = booking.session
            due_at = reminder_on_the_day(session)
            if booking.booked_at >= due_at:
                continue  # booked this morning: the confirmation has just told them
            yield Due(
                subject=booking,
                recipient_id=booking.person_id,
                stage=_day_stage("today", session),
                due_at=due_at,
            )

    def _stage_ok(self, notification, booking):
        return notification.stage == _day_stage("today", booking.session)


@register
class MakeUpOffer(_BookingKind):
    """The day after a no-show: the next sessions of the same topic with free seats."""

    name = "training-makeup-offer"
    label = gettext_lazy("You missed a briefing: book a make-up session")
    still_statuses = (BookingStatus.ABSENT,)

    def _session_ok(self, session):
        return session.status != Session.Status.CANCELLED  # it happened, and was missed

    def still_due(self, notifications):
        keep = super().still_due(notifications)
        absent = [n.subject for n in notifications if n.pk in keep]  # cached by super()
        if not absent:
            return keep
        # Already booked or attended a later session of the topic: no offer needed.
        later = Booking.objects.filter(
            person_id__in={b.person_id for b in absent},
            session__topic_id__in={b.session.topic_id for b in absent},
            status__in=(BookingStatus.BOOKED, *Booking.PRESENT),
        ).values_list("person_id", "session__topic_id", "session__starts_at")
        latest = {}
        for person_id, topic_id, starts_at in later:
            key = (person_id, topic_id)
            latest[key] = max(latest.get(key, starts_at), starts_at)
        made_up = {
            b.pk
            for b in absent
            if latest.get((b.person_id, b.session.topic_id), b.session.starts_at)
            > b.session.starts_at
        }
        return {n.pk for n in notifications if n.pk in keep and n.subject_id not in made_up}

    def url(self, notification):
        return reverse("training:index")

    def context(self, notification):
        context = super().context(notification)
        context["next_sessions"] = session_offers(topics=[notification.subject.session.topic_id])
        return context


# --- about a requirement ---------------------------------------------------------------


def _booked_ids(requirement: Requirement, now: datetime) -> set[int]:
    """People with a seat on an upcoming session that meets the requirement."""
    return set(
        Booking.objects.filter(
            status=BookingStatus.BOOKED,
            session__status=Session.Status.SCHEDULED,
            session__starts_at__gt=now,
            session__topic__in=requirement.accepted_topics.all(),
        ).values_list("person_id", flat=True)
    )


class _RequirementKind(ReminderKind):
    """About a requirement a person still has to meet (the subject is the requirement).
    Gone once they have attended, or have a seat on an upcoming session that counts."""

    def still_due(self, notifications):
        now = timezone.now()
        keep = set()
        for requirement_id in {n.subject_id for n in notifications}:
            requirement = Requirement.objects.filter(pk=requirement_id, active=True).first()
            if requirement is None:
                continue
            done = compliant_ids(requirement, now=now) | _booked_ids(requirement, now)
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

    @_in_recipient_language
    def context(self, notification):
        requirement = notification.subject
        last = last_attended(requirement, [notification.recipient_id]).get(
            notification.recipient_id
        )
        return {
            "requirement": requirement,
            "next_sessions": session_offers(topics=requirement.accepted_topics.all()),
            "last_attended": formats.date_format(last, "F Y") if last else "",
            "training_url": absolute_url(reverse("training:index")),
        }


@register
class StillRequired(_RequirementKind):
    """Monthly, while a person has not attended a required briefing (nor booked one)."""

    name = "training-still-required"
    label = gettext_lazy("A required briefing you have not attended yet (monthly)")

    def find_due(self, *, now):
        for requirement in Requirement.objects.filter(active=True):
            waiting = still_required_ids(requirement, now=now) - _booked_ids(requirement, now)
            for person_id in sorted(waiting):
                yield Due(subject=requirement, recipient_id=person_id, stage=f"required-{now:%Y%m}")


@register
class Invitation(_RequirementKind):
    """ "Invite everyone still required": the next sessions with free seats."""

    name = "training-invitation"
    label = gettext_lazy("An invitation to a required briefing")


@register
class TrainingNudge(_RequirementKind):
    """A manager's nudge from My team: at once, and it says who asked."""

    name = "training-nudge"
    label = gettext_lazy("A reminder from your manager about a required briefing")
    urgent = True
