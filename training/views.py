"""Everyone's training pages: the Training list, a session page with its buttons, and,
for the presenter and the organisers, the roster, the catering count and the check-in
sheet.

Views are thin: they load the session through `get_session_for` or
`get_session_to_run`, validate a form, call a service, and turn a TrainingError into
a message on the session page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode

import segno
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from people import roles
from policies.reading import readable_policies_list
from policyhub.paging import page_of
from training import calendar, queries, services
from training.compliance import status_for
from training.forms import BookForForm, BookingForm, CheckInForm, FeedbackForm, RosterForm
from training.models import Booking, Session, TrainingError

BookingStatus = Booking.Status
SESSIONS_PER_PAGE = 20


# --- loading a session, with permissions ------------------------------------------------


def get_session_for(user, pk: int) -> Session:
    """Any session, for anyone signed in: everyone may book briefings."""
    session = Session.objects.select_related("topic", "presenter", "organiser").filter(pk=pk)
    session = session.first()
    if session is None:
        raise Http404(_("No such session."))
    return session


def get_session_to_run(user, pk: int) -> Session:
    """A session for its presenter and the organisers (policy admins); 403 for others."""
    session = get_session_for(user, pk)
    if not services.can_run(user, session):
        raise PermissionDenied
    return session


def _reports(user):
    """Whom `user` may book for besides themselves: None means anyone (policy admins);
    a queryset means their active direct reports; PermissionDenied means nobody."""
    if services.can_organise(user):
        return None
    if roles.is_line_manager(user):
        return user.direct_reports.filter(is_active=True).order_by("full_name", "email")
    raise PermissionDenied


# --- the Training page -------------------------------------------------------------------


@require_safe
def index(request):
    now = timezone.now()
    upcoming = page_of(
        request, queries.upcoming_with_seats(request.user, now=now), per_page=SESSIONS_PER_PAGE
    )
    return render(
        request,
        "training/index.html",
        {
            "page": upcoming,
            "full": queries.upcoming_full(now=now),
            "bookings": list(queries.my_bookings(request.user, now=now)),
            "attended": queries.my_recent_attendance(request.user),
            "statuses": status_for(request.user, now=now),
            "can_organise": services.can_organise(request.user),
            "now": now,
        },
    )


# --- a session -------------------------------------------------------------------------


@dataclass(frozen=True)
class SessionState:
    """What the session page offers this person now."""

    booking: Booking | None
    waitlist_rank: int | None
    seats: queries.Seats
    checkin_opens: datetime
    may_book: bool
    may_cancel: bool
    may_check_in: bool
    may_give_feedback: bool
    may_book_for: bool
    may_run: bool
    lunch_closed: bool

    @property
    def active(self) -> bool:
        return self.booking is not None and self.booking.status in Booking.ACTIVE

    @property
    def present(self) -> bool:
        return self.booking is not None and self.booking.status in Booking.PRESENT


def session_state(session: Session, user, *, now: datetime) -> SessionState:
    booking = (
        Booking.objects.filter(session=session, person=user).select_related("feedback").first()
    )
    scheduled = session.status == Session.Status.SCHEDULED
    started = now >= session.starts_at
    ended = now > session.ends_at or session.status == Session.Status.COMPLETED
    active = booking is not None and booking.status in Booking.ACTIVE
    present = booking is not None and booking.status in Booking.PRESENT
    opens = session.starts_at - timedelta(minutes=services.CHECKIN_OPENS_MINUTES)
    may_book_for = False
    if scheduled and not started:
        may_book_for = services.can_organise(user) or roles.is_line_manager(user)
    return SessionState(
        booking=booking,
        waitlist_rank=queries.waitlist_rank(booking) if booking else None,
        seats=queries.seats(session),
        checkin_opens=opens,
        # Once cancelled, one may book again; once checked in, there is nothing to book.
        may_book=scheduled
        and not started
        and (booking is None or booking.status == BookingStatus.CANCELLED),
        may_cancel=scheduled and not started and active,
        may_check_in=scheduled and opens <= now <= session.ends_at and not present,
        may_give_feedback=present and ended,
        may_book_for=may_book_for,
        may_run=services.can_run(user, session),
        lunch_closed=bool(session.lunch_cutoff and now > session.lunch_cutoff),
    )


def _session_page(request, session: Session, **posted):
    """The session page; `posted` holds a form sent back with its errors."""
    state = session_state(session, request.user, now=timezone.now())
    booking = state.booking
    feedback = getattr(booking, "feedback", None) if booking else None
    forms = {
        "booking_form": BookingForm(
            initial={"lunch": booking.lunch, "dietary_needs": booking.dietary_needs}
            if booking
            else None
        ),
        "checkin_form": CheckInForm(initial={"code": request.GET.get("code", "")}),
        "feedback_form": FeedbackForm(
            initial={"rating": feedback.rating, "comment": feedback.comment} if feedback else None
        ),
        "book_for_form": BookForForm(reports=_reports(request.user))
        if state.may_book_for
        else None,
    }
    forms.update(posted)
    return render(
        request,
        "training/session.html",
        {
            "session": session,
            "state": state,
            "feedback": feedback,
            # Only the policies this reader may open: others' titles stay private.
            "policies": list(
                session.policies.filter(
                    pk__in=readable_policies_list(request.user).values("pk")
                ).order_by("title")
            ),
            "can_organise": services.can_organise(request.user),
            **forms,
        },
    )


@require_safe
def session(request, pk: int):
    return _session_page(request, get_session_for(request.user, pk))


def _booked_message(booking: Booking, *, for_someone_else: bool = False) -> str:
    """What the booker is told: about their own booking, or about the person's they booked."""
    values = {
        "name": booking.person.get_full_name(),
        "title": booking.session.title,
        "rank": queries.waitlist_rank(booking),
    }
    if booking.status == BookingStatus.WAITLISTED:
        if for_someone_else:
            message = _(
                "%(name)s is number %(rank)s on the waitlist for %(title)s, which is full. "
                "A seat is given automatically, in order, when one frees up, with an email."
            )
        else:
            message = _(
                "You are number %(rank)s on the waitlist for %(title)s, which is full. "
                "A seat is given automatically, in order, when one frees up, with an email."
            )
        return message % values
    if for_someone_else:
        message = _("%(name)s is booked on %(title)s. The calendar invite is on its way by email.")
    else:
        message = _("You are booked on %(title)s. The calendar invite is on its way by email.")
    message %= values
    if booking.lunch_not_guaranteed:
        message += " " + _("Lunch orders have closed, so lunch is not guaranteed.")
    return message


@require_POST
def book(request, pk: int):
    session = get_session_for(request.user, pk)
    form = BookingForm(request.POST)
    if not form.is_valid():
        return _session_page(request, session, booking_form=form)
    try:
        booking = services.book(
            session=session,
            person=request.user,
            by=request.user,
            lunch=form.cleaned_data["lunch"],
            dietary_needs=form.cleaned_data["dietary_needs"],
        )
    except TrainingError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _booked_message(booking))
    return redirect("training:session", session.pk)


@require_POST
def book_for(request, pk: int):
    session = get_session_for(request.user, pk)
    form = BookForForm(request.POST, reports=_reports(request.user))
    if not form.is_valid():
        return _session_page(request, session, book_for_form=form)
    person = form.cleaned_data["person"]
    try:
        booking = services.book(
            session=session,
            person=person,
            by=request.user,
            lunch=form.cleaned_data["lunch"],
            dietary_needs=form.cleaned_data["dietary_needs"],
        )
    except TrainingError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _booked_message(booking, for_someone_else=True))
    return redirect("training:session", session.pk)


@require_POST
def cancel_booking(request, pk: int):
    session = get_session_for(request.user, pk)
    booking = Booking.objects.filter(
        session=session, person=request.user, status__in=Booking.ACTIVE
    ).first()
    if booking is None:
        messages.info(request, _("You have no booking on this session to cancel."))
        return redirect("training:session", session.pk)
    was_waiting = booking.status == BookingStatus.WAITLISTED
    try:
        services.cancel_booking(booking=booking, by=request.user)
    except TrainingError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            _("You have left the waitlist.")
            if was_waiting
            else _(
                "Your booking is cancelled, and your seat goes to the next person waiting. "
                "A calendar update removes it from your calendar."
            ),
        )
    return redirect("training:session", session.pk)


@require_POST
def check_in(request, pk: int):
    session = get_session_for(request.user, pk)
    form = CheckInForm(request.POST)
    if not form.is_valid():
        return _session_page(request, session, checkin_form=form)
    try:
        booking = services.check_in(
            session=session, person=request.user, code=form.cleaned_data["code"]
        )
    except TrainingError as error:
        messages.error(request, str(error))
    else:
        if booking.walk_in:
            message = _("You are checked in as a walk-in. Welcome to %(title)s!")
        else:
            message = _("You are checked in. Welcome to %(title)s!")
        messages.success(request, message % {"title": session.title})
    return redirect("training:session", session.pk)


@require_POST
def feedback(request, pk: int):
    session = get_session_for(request.user, pk)
    booking = Booking.objects.filter(session=session, person=request.user).first()
    form = FeedbackForm(request.POST)
    if booking is not None and not form.is_valid():
        return _session_page(request, session, feedback_form=form)
    try:
        if booking is None:
            raise TrainingError(_("Feedback comes after attending the session."))
        services.leave_feedback(
            booking=booking,
            person=request.user,
            rating=form.cleaned_data["rating"],
            comment=form.cleaned_data["comment"],
        )
    except TrainingError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Thank you for your feedback."))
    return redirect("training:session", session.pk)


@require_safe
def session_ics(request, pk: int):
    """The session as an iCalendar file, to add to one's own calendar."""
    session = get_session_for(request.user, pk)
    response = HttpResponse(
        calendar.session_ics(session, person=request.user),
        content_type="text/calendar; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="briefing-{session.pk}.ics"'
    return response


# --- presenters and organisers -----------------------------------------------------------


@require_http_methods(["GET", "POST"])
def roster(request, pk: int):
    session = get_session_to_run(request.user, pk)
    people = queries.roster(session)
    form = RosterForm(request.POST or None, bookings=people.seated)
    if request.method == "POST":
        if not form.is_valid():
            messages.error(request, _("Choose attended, late, absent or excused."))
        elif not (marks := form.marks()):
            messages.info(request, _("Nothing changed: choose a mark for someone first."))
        else:
            try:
                count = services.mark_attendance(session=session, by=request.user, marks=marks)
            except TrainingError as error:
                messages.error(request, str(error))
            else:
                messages.success(
                    request,
                    ngettext(
                        "Attendance saved for %(count)s person.",
                        "Attendance saved for %(count)s people.",
                        count,
                    )
                    % {"count": count},
                )
        return redirect("training:roster", session.pk)
    now = timezone.now()
    return render(
        request,
        "training/roster.html",
        {
            "session": session,
            "roster": people,
            "form": form,
            "rows": form.bound_rows(),
            "may_complete": session.status == Session.Status.SCHEDULED and now >= session.starts_at,
            "can_organise": services.can_organise(request.user),
        },
    )


@require_POST
def complete_session(request, pk: int):
    session = get_session_to_run(request.user, pk)
    try:
        no_shows = services.complete_session(session=session, by=request.user)
    except TrainingError as error:
        messages.error(request, str(error))
    else:
        count = len(no_shows)
        if count:
            messages.success(
                request,
                ngettext(
                    "The session is completed. %(count)s person who did not come is marked "
                    "absent and offered a make-up session.",
                    "The session is completed. %(count)s people who did not come are marked "
                    "absent and offered a make-up session.",
                    count,
                )
                % {"count": count},
            )
        else:
            messages.success(request, _("The session is completed. Everyone booked was marked."))
    return redirect("training:roster", session.pk)


@require_safe
def catering(request, pk: int):
    session = get_session_to_run(request.user, pk)
    return render(
        request,
        "training/catering.html",
        {
            "session": session,
            "catering": queries.catering(session),
            "cutoff_passed": bool(session.lunch_cutoff and timezone.now() > session.lunch_cutoff),
        },
    )


def checkin_link(session: Session) -> str:
    """The absolute address a phone opens from the QR code: the session page with the code."""
    path = reverse("training:session", args=[session.pk])
    return f"{settings.SITE_URL}{path}?{urlencode({'code': session.checkin_code})}"


@require_safe
def checkin_sheet(request, pk: int):
    """A page to print or show on the room's screen: the code, big, and a QR code."""
    session = get_session_to_run(request.user, pk)
    link = checkin_link(session)
    qr_svg = segno.make(link, error="m").svg_inline(
        scale=8,
        border=2,
        omitsize=True,
        title=_("QR code of the check-in link for %(title)s") % {"title": session.title},
    )
    return render(
        request,
        "training/checkin_sheet.html",
        {"session": session, "link": link, "qr_svg": mark_safe(qr_svg)},  # noqa: S308 (segno's own SVG)
    )
