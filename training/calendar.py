"""iCalendar files for briefings: the invite that travels with every booking email, and the
.ics download on the session page.

An invite is one VEVENT per booking (not per session), addressed to the recipient alone, so
that cancelling one person's booking withdraws only their copy and nobody sees who else
comes. Calendar clients match updates by UID and apply one only when its SEQUENCE is higher
than what they hold, which is why the services raise `Session.sequence` on every change of
time or place and `Booking.sequence` on every cancel or re-booking.

An invite's words (its summary and description) are in the language of the person it is
for (`User.language`), whoever's request or worker builds it: `in_language_of`. The
calendar carries that language too (LANGUAGE on the text properties, RFC 5545 3.2.10).
"""

from __future__ import annotations

from datetime import timedelta
from email.utils import parseaddr
from zoneinfo import ZoneInfo

from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from icalendar import Calendar, Conference, Event, vCalAddress

from notifications.emails import absolute_url
from training.models import Booking, Session

PRODID = "-//PolicyHub//Training briefings//EN"
METHODS = ("REQUEST", "CANCEL")
# The VTIMEZONE describes the zone's rules for this stretch around the event: enough for
# both the standard and the daylight-saving observance, far shorter than 1970-2038.
_ZONE_MARGIN = timedelta(days=366)


def booking_uid(booking: Booking) -> str:
    return f"booking-{booking.uid}@policyhub"


def session_uid(session: Session) -> str:
    return f"session-{session.pk}@policyhub"


def session_url(session: Session) -> str:
    return absolute_url(reverse("training:session", args=[session.pk]))


def language_of(person) -> str:
    """The language a person reads: theirs from the directory, else the site's."""
    code = getattr(person, "language", "") or ""
    known = {language for language, _name in settings.LANGUAGES}
    return code if code in known else settings.LANGUAGE_CODE


def in_language_of(person):
    """Words rendered inside this block are in `person`'s language (the site's language
    for nobody), whatever language the request or worker around it has active."""
    if person is None:
        return translation.override(translation.get_language() or settings.LANGUAGE_CODE)
    return translation.override(language_of(person))


def build_invite(booking: Booking, *, method: str = "REQUEST") -> str:
    """The invite for one booking: METHOD:REQUEST to add or update it in the recipient's
    calendar, METHOD:CANCEL to withdraw it. In the language of the person booked."""
    method = method.upper()
    if method not in METHODS:
        raise ValueError(f"An invite is a REQUEST or a CANCEL, not {method!r}.")
    session = booking.session
    cancelled = method == "CANCEL"
    with in_language_of(booking.person):
        event = _event(
            session,
            uid=booking_uid(booking),
            sequence=booking.invite_sequence,
            status="CANCELLED" if cancelled else "CONFIRMED",
            attendee=booking.person,
            note=_cancel_note(booking) if cancelled else "",
            link_text=_("Details, and to cancel your booking"),
        )
    return _calendar(method, event, session)


def session_ics(session: Session, person=None) -> str:
    """The session page's download: the session itself (METHOD:PUBLISH), not a booking.
    In the language of `person`, the one downloading it (else the active language)."""
    cancelled = session.status == Session.Status.CANCELLED
    with in_language_of(person):
        event = _event(
            session,
            uid=session_uid(session),
            sequence=session.sequence,
            status="CANCELLED" if cancelled else "CONFIRMED",
            attendee=person,
            note=_session_cancelled_note(session) if cancelled else "",
            link_text=_("Details and booking"),
        )
    return _calendar("PUBLISH", event, session)


# --- the parts ------------------------------------------------------------------


def _calendar(method: str, event: Event, session: Session) -> str:
    calendar = Calendar.new(prodid=PRODID, method=method, subcomponents=[event])
    # new() also gives the calendar object a random UID (RFC 7986); an invite's identity is
    # its event's UID alone, and a second, changing one only confuses some clients.
    calendar.pop("UID", None)
    calendar.add_missing_timezones(
        first_date=(event.start - _ZONE_MARGIN).date(),
        last_date=(event.end + _ZONE_MARGIN).date(),
    )
    return calendar.to_ical().decode()  # CRLF line ends and folding, as RFC 5545 wants


def _event(
    session: Session,
    *,
    uid: str,
    sequence: int,
    status: str,
    attendee,
    note: str,
    link_text: str,
) -> Event:
    zone = ZoneInfo(session.time_zone)
    url = session_url(session)
    language = translation.get_language() or settings.LANGUAGE_CODE
    event = Event.new(
        uid=uid,
        sequence=sequence,
        stamp=timezone.now(),
        start=session.starts_at.astimezone(zone),
        end=session.ends_at.astimezone(zone),
        summary=session.title,
        description=_description(
            session, note, _("%(link_text)s: %(url)s") % {"link_text": link_text, "url": url}
        ),
        location=location(session),
        url=url,
        organizer=organizer(),
        status=status,
        conferences=[Conference(session.online_url, feature="VIDEO", label=_("Join online"))]
        if session.online_url
        else None,
    )
    # Which language the words are in, so a client may pick a spell checker or a voice.
    for name in ("SUMMARY", "DESCRIPTION", "LOCATION"):
        if name in event:
            event[name].params["LANGUAGE"] = language
    if attendee is not None:
        event.add(
            "attendee",
            vCalAddress.new(
                attendee.email,
                cn=attendee.get_full_name(),
                cutype="INDIVIDUAL",
                role="REQ-PARTICIPANT",
                partstat="NEEDS-ACTION",
                rsvp=False,
            ),
        )
    return event


def organizer() -> vCalAddress:
    """PolicyHub itself, the address the invite is mailed from: calendar clients expect an
    update to come from its organiser, and replies are not asked for (RSVP=FALSE)."""
    _, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    return vCalAddress.new(address or settings.DEFAULT_FROM_EMAIL, cn="PolicyHub")


def location(session: Session) -> str:
    if session.room and session.online_url:
        return _("%(room)s, or online: %(url)s") % {
            "room": session.room,
            "url": session.online_url,
        }
    return session.room or session.online_url


def _description(session: Session, note: str, link: str) -> str:
    lines = [note, ""] if note else []
    lines.append(f"{session.title} ({session.topic.name})")
    lines.append(_("Presenter: %(name)s") % {"name": session.presenter.get_full_name()})
    if session.room:
        lines.append(_("Room: %(room)s") % {"room": session.room})
    if session.online_url:
        lines.append(_("Join online: %(url)s") % {"url": session.online_url})
    lines += ["", link]
    return "\n".join(lines)


def _cancel_note(booking: Booking) -> str:
    if booking.session.status == Session.Status.CANCELLED:
        return _session_cancelled_note(booking.session)
    return _("Your booking for this briefing is cancelled.")


def _session_cancelled_note(session: Session) -> str:
    reason = session.cancelled_reason.strip()
    return _("This briefing has been cancelled.") + (f" {reason}" if reason else "")
