"""Everything that changes sessions, bookings and attendance."""

from __future__ import annotations

import calendar
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Count, F, Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from notifications.services import notify, notify_many
from people import roles
from policyhub.history import TRAINING, changed_past
from training.models import (
    Booking,
    CheckInAttempt,
    Feedback,
    Series,
    Session,
    Topic,
    TrainingError,
)

BookingStatus = Booking.Status
CHECKIN_OPENS_MINUTES = 15
CHECKIN_MAX_FAILURES = 5  # per person and session within CHECKIN_FAILURE_WINDOW
CHECKIN_FAILURE_WINDOW = timedelta(minutes=10)
# Who holds a seat: check-in opens before booking closes, so a person checked in early
# (or a walk-in) is in the room and must not be counted as a free seat.
HOLDS_SEAT = (BookingStatus.BOOKED, BookingStatus.ATTENDED, BookingStatus.LATE)


# --- who may do what ------------------------------------------------------------


def can_organise(user) -> bool:
    """Policy admins run the briefing programme."""
    return roles.is_policy_admin(user)


def can_run(user, session: Session) -> bool:
    """The presenter and the organisers may see the roster and mark attendance."""
    return can_organise(user) or session.presenter_id == user.pk


def can_book_for(user, person) -> bool:
    if user.pk == person.pk or can_organise(user):
        return True
    return person.manager_id == user.pk and roles.is_line_manager(user)


# --- sessions -------------------------------------------------------------------


def _check_times(starts_at: datetime, ends_at: datetime, time_zone: str) -> None:
    if not (2000 <= starts_at.year <= 2200 and 2000 <= ends_at.year <= 2200):
        raise TrainingError(_("Choose dates between the years 2000 and 2200."))
    if ends_at <= starts_at:
        raise TrainingError(_("A session must end after it starts."))
    try:
        ZoneInfo(time_zone)
    except Exception:
        raise TrainingError(
            _("“%(zone)s” is not a known time zone.") % {"zone": time_zone}
        ) from None


def create_session(
    *,
    by,
    title: str,
    topic: Topic,
    presenter,
    starts_at: datetime,
    ends_at: datetime,
    time_zone: str,
    capacity: int,
    room: str = "",
    online_url: str = "",
    lunch_cutoff: datetime | None = None,
    policies=(),
    series: Series | None = None,
    now: datetime | None = None,
) -> Session:
    now = now or timezone.now()
    if not can_organise(by):
        raise TrainingError(_("Only policy admins can schedule briefings."))
    _check_times(starts_at, ends_at, time_zone)
    if not room and not online_url:
        raise TrainingError(_("Give a room, an online link, or both."))
    if capacity < 1:
        raise TrainingError(_("A session needs at least one seat."))
    with transaction.atomic():
        session = Session.objects.create(
            title=title,
            topic=topic,
            presenter=presenter,
            organiser=by,
            starts_at=starts_at,
            ends_at=ends_at,
            time_zone=time_zone,
            capacity=capacity,
            room=room,
            online_url=online_url,
            lunch_cutoff=lunch_cutoff,
            series=series,
        )
        # created_at is auto_now_add, which always reads the wall clock: the given moment
        # replaces it, so a demo or test clock is what the session records.
        Session.objects.filter(pk=session.pk).update(created_at=now)
        session.created_at = now
        session.policies.set(policies)
    return session


def _shift(moment: datetime, pattern: str, index: int, zone: ZoneInfo) -> datetime:
    """The index-th repetition, at the same local wall-clock time (DST-safe)."""
    local = moment.astimezone(zone)
    if pattern == Series.Pattern.MONTHLY:
        month = local.month - 1 + index
        year, month = local.year + month // 12, month % 12 + 1
        day = min(local.day, calendar.monthrange(year, month)[1])
        day_date = date(year, month, day)
    else:
        step = 7 if pattern == Series.Pattern.WEEKLY else 14
        day_date = local.date() + timedelta(days=step * index)
    return datetime.combine(day_date, local.timetz().replace(tzinfo=None), tzinfo=zone)


def create_series(
    *,
    by,
    pattern: str,
    count: int,
    starts_at: datetime,
    ends_at: datetime,
    time_zone: str,
    now: datetime | None = None,
    **session_fields,
) -> list[Session]:
    """N sessions, weekly, fortnightly or monthly, at the same local time each time."""
    now = now or timezone.now()
    if pattern not in Series.Pattern.values:
        raise TrainingError(_("Choose weekly, every second week or monthly."))
    if not 1 <= count <= 52:
        raise TrainingError(_("A series has between 1 and 52 sessions."))
    _check_times(starts_at, ends_at, time_zone)
    zone = ZoneInfo(time_zone)
    cutoff = session_fields.pop("lunch_cutoff", None)
    cutoff_before = (starts_at - cutoff) if cutoff else None
    with transaction.atomic():
        series = Series.objects.create(
            title=session_fields["title"], pattern=pattern, count=count, created_by=by
        )
        Series.objects.filter(pk=series.pk).update(created_at=now)  # as in create_session
        series.created_at = now
        sessions = []
        for index in range(count):
            start = _shift(starts_at, pattern, index, zone)
            end = _shift(ends_at, pattern, index, zone)
            sessions.append(
                create_session(
                    by=by,
                    starts_at=start,
                    ends_at=end,
                    time_zone=time_zone,
                    series=series,
                    lunch_cutoff=(start - cutoff_before) if cutoff_before else None,
                    now=now,
                    **session_fields,
                )
            )
    return sessions


def _session_is(session: Session, *, already: bool = False) -> str:
    """ "This session is cancelled." for a session that is no longer scheduled."""
    if session.status == Session.Status.CANCELLED:
        if already:
            return _("This session is already cancelled.")
        return _("This session is cancelled.")
    if already:
        return _("This session is already completed.")
    return _("This session is completed.")


def _locked_session(session: Session) -> Session:
    return Session.objects.select_for_update().get(pk=session.pk)


def _active_bookings(session: Session):
    return session.bookings.filter(status__in=Booking.ACTIVE).select_related("person")


def change_session(
    *,
    session: Session,
    by,
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
    room: str | None = None,
    online_url: str | None = None,
    time_zone: str | None = None,
) -> Session:
    """Move a session or change its place: the sequence rises and everyone booked or
    waiting gets an updated invite."""
    if not can_organise(by):
        raise TrainingError(_("Only policy admins can change briefings."))
    with transaction.atomic():
        session = _locked_session(session)
        if session.status != Session.Status.SCHEDULED:
            raise TrainingError(_session_is(session))
        new = {
            "starts_at": starts_at or session.starts_at,
            "ends_at": ends_at or session.ends_at,
            "room": session.room if room is None else room,
            "online_url": session.online_url if online_url is None else online_url,
            "time_zone": time_zone or session.time_zone,
        }
        _check_times(new["starts_at"], new["ends_at"], new["time_zone"])
        if not new["room"] and not new["online_url"]:
            raise TrainingError(_("Give a room, an online link, or both."))
        if all(getattr(session, key) == value for key, value in new.items()):
            return session
        if session.lunch_cutoff is not None:
            # The lunch order keeps the same lead time before the (new) start.
            new["lunch_cutoff"] = new["starts_at"] - (session.starts_at - session.lunch_cutoff)
        # Attendance counts by when the session began: a move across a month's end
        # changes that month's figures.
        changed_past(kind=TRAINING, since=min(session.starts_at, new["starts_at"]))
        for key, value in new.items():
            setattr(session, key, value)
        session.sequence += 1
        session.save()
        notify_many(
            kind="training-session-changed",
            items=[(b, b.person_id) for b in _active_bookings(session)],
            stage=f"changed-{session.sequence}",
        )
    return session


def cancel_session(
    *, session: Session, by, reason: str = "", now: datetime | None = None
) -> Session:
    """Cancel the session: every booking is cancelled and told, with a cancelling invite."""
    now = now or timezone.now()
    if not can_organise(by):
        raise TrainingError(_("Only policy admins can cancel briefings."))
    with transaction.atomic():
        session = _locked_session(session)
        if session.status != Session.Status.SCHEDULED:
            raise TrainingError(_session_is(session, already=True))
        bookings = list(_active_bookings(session))
        changed_past(kind=TRAINING, since=session.starts_at, now=now)
        session.status = Session.Status.CANCELLED
        session.cancelled_reason = reason.strip()
        session.sequence += 1
        session.save()
        Booking.objects.filter(pk__in=[b.pk for b in bookings]).update(
            status=BookingStatus.CANCELLED, waitlist_position=None, cancelled_at=now
        )
        notify_many(
            kind="training-session-cancelled",
            items=[(b, b.person_id) for b in bookings],
            stage=f"cancelled-{session.sequence}",
        )
    return session


# --- bookings -------------------------------------------------------------------


def book(
    *,
    session: Session,
    person,
    by=None,
    lunch: str = Booking.Lunch.STANDARD,
    dietary_needs: str = "",
    now: datetime | None = None,
) -> Booking:
    """Book a seat, or a place on the waitlist when the session is full.

    The session row is locked, so people booking the last seat at once take turns
    and the session is never over capacity.
    """
    by = by or person
    now = now or timezone.now()
    if not can_book_for(by, person):
        raise TrainingError(_("You can book for yourself, and line managers for their reports."))
    if not person.is_active:
        raise TrainingError(
            _("%(name)s is no longer in the directory.") % {"name": person.get_full_name()}
        )
    if lunch not in Booking.Lunch.values:
        raise TrainingError(_("Choose a lunch option."))
    with transaction.atomic():
        session = _locked_session(session)
        if session.status == Session.Status.CANCELLED:
            raise TrainingError(_("This session has been cancelled."))
        if session.status == Session.Status.COMPLETED or session.starts_at <= now:
            raise TrainingError(_("This session has already started; choose a later one."))
        existing = Booking.objects.filter(session=session, person=person).first()
        if existing is not None and existing.status in Booking.PRESENT:
            raise TrainingError(
                _("You have already checked in to this session.")
                if by.pk == person.pk
                else _("%(name)s has already checked in to this session.")
                % {"name": person.get_full_name()}
            )
        if existing is not None and existing.status in Booking.ACTIVE:
            raise TrainingError(_already_booked(existing, by=by))
        seats_taken = session.bookings.filter(status__in=HOLDS_SEAT).count()
        full = seats_taken >= session.capacity
        position = None
        if full:
            last = session.bookings.filter(status=BookingStatus.WAITLISTED).aggregate(
                Max("waitlist_position")
            )["waitlist_position__max"]
            position = (last or 0) + 1
        fields = {
            "status": BookingStatus.WAITLISTED if full else BookingStatus.BOOKED,
            "waitlist_position": position,
            "lunch": lunch,
            "dietary_needs": dietary_needs.strip()[:300],
            "lunch_not_guaranteed": bool(session.lunch_cutoff and now > session.lunch_cutoff),
            "booked_by": by,
            "booked_at": now,
            "cancelled_at": None,
            "walk_in": False,
        }
        if existing is not None:  # booking again after cancelling: same booking, newer invite
            for key, value in fields.items():
                setattr(existing, key, value)
            existing.sequence += 1
            existing.save()
            booking = existing
        else:
            booking = Booking.objects.create(session=session, person=person, **fields)
        if booking.status == BookingStatus.BOOKED:
            notify(
                kind="training-booking-confirmed",
                subject=booking,
                recipient=person,
                stage=f"confirmed-{booking.invite_sequence}",
            )
    return booking


def _already_booked(existing: Booking, *, by) -> str:
    """Why `existing`, an active booking, cannot be booked again (said to the booker)."""
    waiting = existing.status == BookingStatus.WAITLISTED
    if by.pk == existing.person_id:
        if waiting:
            return _("You are already on the waitlist for this session.")
        return _("You are already booked for this session.")
    if waiting:
        message = _("%(name)s is already on the waitlist for this session.")
    else:
        message = _("%(name)s is already booked for this session.")
    return message % {"name": existing.person.get_full_name()}


def cancel_booking(*, booking: Booking, by, now: datetime | None = None) -> Booking:
    """Cancel until the start. A freed seat goes to the first on the waitlist in the
    same transaction, and they are told."""
    now = now or timezone.now()
    if not can_book_for(by, booking.person):
        raise TrainingError(_("You can cancel your own bookings, and managers their reports'."))
    with transaction.atomic():
        session = _locked_session(booking.session)
        booking = Booking.objects.select_for_update().get(pk=booking.pk)
        if booking.status not in Booking.ACTIVE:
            raise TrainingError(_("This booking is not active."))
        if session.starts_at <= now:
            raise TrainingError(
                _("The session has started; a booking can be cancelled until then.")
            )
        freed_seat = booking.status == BookingStatus.BOOKED
        booking.status = BookingStatus.CANCELLED
        booking.waitlist_position = None
        booking.cancelled_at = now
        booking.sequence += 1
        booking.save()
        if freed_seat:
            notify(
                kind="training-booking-cancelled",
                subject=booking,
                recipient=booking.person,
                stage=f"cancelled-{booking.invite_sequence}",
            )
            _promote_first_waiting(session, now)
    return booking


def _promote_first_waiting(session: Session, now: datetime) -> Booking | None:
    if session.bookings.filter(status__in=HOLDS_SEAT).count() >= session.capacity:
        return None  # walk-ins who came early already fill the room
    first = (
        session.bookings.select_for_update()
        .filter(status=BookingStatus.WAITLISTED)
        .order_by("waitlist_position", "booked_at")
        .first()
    )
    if first is None:
        return None
    first.status = BookingStatus.BOOKED
    first.waitlist_position = None
    first.lunch_not_guaranteed = bool(session.lunch_cutoff and now > session.lunch_cutoff)
    first.save(update_fields=["status", "waitlist_position", "lunch_not_guaranteed"])
    notify(
        kind="training-booking-promoted",
        subject=first,
        recipient=first.person,
        stage=f"promoted-{first.invite_sequence}",
    )
    return first


# --- attendance -----------------------------------------------------------------

MARKS = (BookingStatus.ATTENDED, BookingStatus.LATE, BookingStatus.ABSENT, BookingStatus.EXCUSED)


def mark_attendance(
    *, session: Session, by, marks: dict[int, str], now: datetime | None = None
) -> int:
    """The presenter's roster: set attended, late, absent or excused for bookings, in bulk,
    from when check-in opens: before that nobody has attended anything, and a seat
    freed early is for cancelling (which promotes the waitlist), not for marking."""
    now = now or timezone.now()
    if not can_run(by, session):
        raise TrainingError(_("Only the presenter and the organisers can take attendance."))
    if any(status not in MARKS for status in marks.values()):
        raise TrainingError(_("Mark people attended, late, absent or excused."))
    with transaction.atomic():
        session = _locked_session(session)
        if session.status == Session.Status.CANCELLED:
            raise TrainingError(_("This session was cancelled."))
        if now < session.starts_at - timedelta(minutes=CHECKIN_OPENS_MINUTES):
            raise TrainingError(
                _(
                    "Attendance can be taken from 15 minutes before the start. To free a seat "
                    "before then, cancel the booking."
                )
            )
        bookings = {
            b.pk: b
            for b in session.bookings.filter(pk__in=list(marks)).exclude(
                status__in=[BookingStatus.CANCELLED, BookingStatus.WAITLISTED]
            )
        }
        unknown = set(marks) - set(bookings)
        if unknown:
            raise TrainingError(_("Some of those people are not booked on this session."))
        for pk, status in marks.items():
            booking = bookings[pk]
            booking.status = status
            booking.marked_by = by
            if status in Booking.PRESENT and booking.checked_in_at is None:
                booking.checked_in_at = now
        Booking.objects.bulk_update(
            bookings.values(), ["status", "marked_by", "checked_in_at"], batch_size=500
        )
        # Marked after the month it began in was over: that month's figures change.
        changed_past(kind=TRAINING, since=session.starts_at, now=now)
    return len(bookings)


def check_in(*, session: Session, person, code: str, now: datetime | None = None) -> Booking:
    """Self check-in with the code shown in the room, from 15 minutes before the start
    until the end. A walk-in without a booking is recorded as attended."""
    now = now or timezone.now()
    with transaction.atomic():
        session = _locked_session(session)
        recent_failures = CheckInAttempt.objects.filter(
            session=session, person=person, succeeded=False, at__gte=now - CHECKIN_FAILURE_WINDOW
        ).count()
        if recent_failures >= CHECKIN_MAX_FAILURES:
            raise TrainingError(
                _("Too many wrong codes. Wait ten minutes, or ask the presenter to mark you.")
            )
        if session.status == Session.Status.CANCELLED:
            raise TrainingError(_("This session was cancelled."))
        opens = session.starts_at - timedelta(minutes=CHECKIN_OPENS_MINUTES)
        if now < opens:
            raise TrainingError(
                _("Check-in opens %(minutes)s minutes before the start, at %(time)s.")
                % {"minutes": CHECKIN_OPENS_MINUTES, "time": f"{timezone.localtime(opens):%H:%M}"}
            )
        if now > session.ends_at or session.status == Session.Status.COMPLETED:
            raise TrainingError(_("This session has ended; check-in is closed."))
        wrong_code = "".join(code.split()).upper() != session.checkin_code.upper()
        CheckInAttempt.objects.create(
            session=session, person=person, at=now, succeeded=not wrong_code
        )
        if not wrong_code:
            return _record_check_in(session, person, now)
    # Raised outside the transaction: the wrong attempt must stay recorded, or the
    # rate limit above would never see it.
    raise TrainingError(_("That is not this session's check-in code. Check the screen."))


def _record_check_in(session: Session, person, now: datetime) -> Booking:
    """Inside check_in's transaction, with the session locked."""
    changed_past(kind=TRAINING, since=session.starts_at, now=now)
    booking = Booking.objects.select_for_update().filter(session=session, person=person).first()
    if booking is None:
        return Booking.objects.create(
            session=session,
            person=person,
            status=BookingStatus.ATTENDED,
            walk_in=True,
            lunch=Booking.Lunch.NONE,
            booked_by=person,
            booked_at=now,
            checked_in_at=now,
        )
    if booking.status not in Booking.PRESENT:
        booking.status = BookingStatus.ATTENDED
        booking.waitlist_position = None
        booking.checked_in_at = now
        booking.save(update_fields=["status", "waitlist_position", "checked_in_at"])
    return booking


def complete_session(*, session: Session, by, now: datetime | None = None) -> list[Booking]:
    """Close the session: anyone still only booked is absent, and gets a make-up offer
    the next day."""
    now = now or timezone.now()
    if not can_run(by, session):
        raise TrainingError(_("Only the presenter and the organisers can complete a session."))
    with transaction.atomic():
        session = _locked_session(session)
        if session.status != Session.Status.SCHEDULED:
            raise TrainingError(_session_is(session))
        if now < session.starts_at:
            raise TrainingError(_("A session can be completed once it has started."))
        session.bookings.filter(status=BookingStatus.BOOKED).update(status=BookingStatus.ABSENT)
        # Everyone absent, whether marked on the roster or never marked at all.
        no_shows = list(session.bookings.filter(status=BookingStatus.ABSENT))
        session.bookings.filter(status=BookingStatus.WAITLISTED).update(
            status=BookingStatus.CANCELLED, waitlist_position=None, cancelled_at=now
        )
        session.status = Session.Status.COMPLETED
        session.save(update_fields=["status"])
        # The day after: a make-up offer to everyone who did not come.
        notify_many(
            kind="training-makeup-offer",
            items=[(b, b.person_id) for b in no_shows],
            stage="makeup",
            due_at=now + timedelta(days=1),
        )
    return no_shows


def leave_feedback(
    *, booking: Booking, person, rating: int, comment: str = "", now: datetime | None = None
) -> Feedback:
    now = now or timezone.now()
    if booking.person_id != person.pk:
        raise TrainingError(_("You can only give feedback on your own attendance."))
    if booking.status not in Booking.PRESENT:
        raise TrainingError(_("Feedback comes after attending the session."))
    try:
        rating = int(rating)
    except (TypeError, ValueError):
        rating = 0  # a form sent nothing or words: refused below like any other
    if not 1 <= rating <= 5:
        raise TrainingError(_("Rate the session from 1 to 5."))
    feedback, _created = Feedback.objects.update_or_create(
        booking=booking,
        defaults={"rating": rating, "comment": comment.strip(), "at": now},
    )
    return feedback


def next_sessions_with_seats(*, topics, after: datetime | None = None, limit: int = 3):
    """Upcoming scheduled sessions of these topics that still have a free seat."""
    after = after or timezone.now()
    return (
        Session.objects.filter(
            status=Session.Status.SCHEDULED, starts_at__gt=after, topic__in=topics
        )
        .annotate(booked=Count("bookings", filter=Q(bookings__status__in=HOLDS_SEAT)))
        .filter(booked__lt=F("capacity"))
        .order_by("starts_at")[:limit]
    )
