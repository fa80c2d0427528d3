"""Read-only views across apps: what a person has to do."""

from dataclasses import dataclass
from datetime import date

from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from incidents.models import ActionItem, Incident
from incidents.permissions import awaiting_sign_off
from policies.models import Assignment
from prevention.models import PostReview
from prevention.permissions import can_review_posts
from training.compliance import requirements_to_book
from training.models import Booking, Session

# My tasks shows at most this many tasks of each kind, soonest first; the rest are
# counted and linked to the page where they are done. Someone can have hundreds of
# open actions or assignments: the home page stays short and its cost flat.
TASKS_PER_KIND = 10


@dataclass(frozen=True)
class Task:
    kind: str
    title: str
    url: str
    due: date | None
    action: str

    @property
    def overdue(self) -> bool:
        return self.due is not None and self.due < timezone.localdate()


@dataclass(frozen=True)
class More:
    """The tasks of one kind that My tasks does not list: "and 12 more policies to
    acknowledge", linked to the page that lists them all (None: no such page)."""

    kind: str
    count: int
    label: str  # "policy to acknowledge", "policies to acknowledge"
    url: str | None


@dataclass(frozen=True)
class MyTasks:
    tasks: list[Task]  # at most TASKS_PER_KIND of each kind, soonest due first
    more: list[More]  # the kinds with more tasks than that

    def __len__(self) -> int:
        """Every outstanding task, listed or not."""
        return len(self.tasks) + sum(more.count for more in self.more)


def _more(kind: str, rows, shown: int, labels: tuple[str, str], url: str | None, *, per_kind):
    """[More] when there are more `rows` (a queryset or a list) than were `shown`, else
    []. A COUNT only when the shown ones filled their `per_kind` places."""
    if shown < per_kind and not isinstance(rows, list):
        return []
    total = len(rows) if isinstance(rows, list) else rows.count()
    if total <= shown:
        return []
    rest = total - shown
    return [More(kind, rest, labels[0] if rest == 1 else labels[1], url)]


def _moment(at) -> str:
    """ "3 Mar 14:05" in the site's time zone, the month in the reader's language."""
    return date_format(timezone.localtime(at), "j M H:i")


def _my_post_review(review: PostReview) -> Task:
    url = reverse("prevention:review", args=[review.pk])
    sent = _moment(review.created_at)
    if review.status == PostReview.Status.PENDING:
        needed_by = timezone.localtime(review.needed_by)
        return Task(
            kind="my-post-review",
            title=_("Your post review is waiting for comms"),
            url=url,
            due=timezone.localdate(review.needed_by),
            action=_("Sent %(sent)s; needed by %(needed_by)s")
            % {"sent": sent, "needed_by": _moment(needed_by)},
        )
    return Task(
        kind="my-post-review",
        title=_("Comms answered your post review"),
        url=url,
        due=None,
        action=_("%(answer)s: the draft you sent %(sent)s")
        % {"answer": review.get_status_display(), "sent": sent},
    )


def my_tasks(user, *, per_kind: int = TASKS_PER_KIND) -> MyTasks:
    """Outstanding items for `user`: the first `per_kind` of each kind (soonest due
    first), with a count of the rest. A fixed number of queries however many there
    are: one page and one COUNT per kind."""
    now = timezone.now()
    tasks: list[Task] = []
    more: list[More] = []

    assignments = Assignment.objects.filter(person=user, status=Assignment.Status.OPEN)
    shown = list(
        assignments.select_related("policy", "version").order_by("due_date", "policy__title", "pk")[
            :per_kind
        ]
    )
    tasks += [
        Task(
            kind="policy",
            title=f"{a.policy.title} {a.version.number}",
            url=reverse("policies:detail", args=[a.policy.slug]),
            due=a.due_date,
            action=_("Read and acknowledge"),
        )
        for a in shown
    ]
    more += _more(
        "policy",
        assignments,
        len(shown),
        (_("policy to acknowledge"), _("policies to acknowledge")),
        reverse("policies:index"),
        per_kind=per_kind,
    )

    bookings = Booking.objects.filter(
        person=user,
        status__in=Booking.ACTIVE,
        session__status=Session.Status.SCHEDULED,
        session__ends_at__gt=now,
    )
    shown = list(bookings.select_related("session").order_by("session__starts_at", "pk")[:per_kind])
    tasks += [
        Task(
            kind="briefing",
            title=f"{b.session.title}, {_moment(b.session.starts_at)}",
            url=reverse("training:session", args=[b.session_id]),
            due=timezone.localdate(b.session.starts_at),
            action=_("Attend the briefing you booked")
            if b.status == Booking.Status.BOOKED
            else _("You are on the waitlist"),
        )
        for b in shown
    ]
    more += _more(
        "briefing",
        bookings,
        len(shown),
        (_("briefing booked or waitlisted"), _("briefings booked or waitlisted")),
        reverse("training:index") + "#my-bookings",
        per_kind=per_kind,
    )

    # The active requirements, a handful that policy admins define, are read in a
    # fixed number of queries whatever their number: counted here, not again.
    required = sorted(
        requirements_to_book(user, now=now),
        key=lambda status: (status.due_by is not None, status.due_by),
    )
    tasks += [
        Task(
            kind="requirement",
            title=status.requirement.name,
            url=reverse("training:index"),
            due=status.due_by,
            action=_("Book a briefing: you still have to attend"),
        )
        for status in required[:per_kind]
    ]
    more += _more(
        "requirement",
        required,
        min(len(required), per_kind),
        (_("briefing to book"), _("briefings to book")),
        reverse("training:index"),
        per_kind=per_kind,
    )

    actions = ActionItem.objects.filter(owner=user, status=ActionItem.Status.OPEN).exclude(
        incident__status=Incident.Status.CLOSED
    )
    shown = list(actions.select_related("incident").order_by("due_date", "pk")[:per_kind])
    tasks += [
        Task(
            kind="action",
            title=f"{action.title} ({action.incident.reference})",
            url=reverse("incidents:my_actions"),
            due=action.due_date,
            action=_("An incident action assigned to you"),
        )
        for action in shown
    ]
    more += _more(
        "action",
        actions,
        len(shown),
        (_("incident action"), _("incident actions")),
        reverse("incidents:my_actions"),
        per_kind=per_kind,
    )

    # Only the reviews of the user's own people: comms, HR/legal and leadership who
    # manage people owe their sign-offs too.
    reviews = awaiting_sign_off(user)
    shown = list(reviews.order_by("review__written_at", "pk")[:per_kind])
    tasks += [
        Task(
            kind="sign-off",
            title=_("Review of %(incident)s") % {"incident": incident.reference},
            url=reverse("incidents:detail", args=[incident.pk]),
            due=None,
            action=_("Read the review and sign it off"),
        )
        for incident in shown
    ]
    # No page lists only the reviews awaiting someone's sign-off: the rest are counted,
    # and come up here as the first ones are signed off.
    more += _more(
        "sign-off",
        reviews,
        len(shown),
        (_("review to sign off"), _("reviews to sign off")),
        None,
        per_kind=per_kind,
    )

    # Post reviews the user asked for: comms' answers not read yet (first), and the
    # drafts still waiting for comms. One query for both.
    answered = (
        PostReview.Status.APPROVED,
        PostReview.Status.APPROVED_WITH_EDITS,
        PostReview.Status.ADVISED_AGAINST,
    )
    mine = PostReview.objects.filter(requester=user).filter(
        Q(status=PostReview.Status.PENDING) | Q(status__in=answered, answer_seen_at__isnull=True)
    )
    shown = list(
        mine.only("pk", "status", "needed_by", "decided_at", "created_at").order_by(
            F("decided_at").desc(nulls_last=True), "needed_by", "pk"
        )[:per_kind]
    )
    tasks += [_my_post_review(review) for review in shown]
    more += _more(
        "my-post-review",
        mine,
        len(shown),
        (_("post review of yours"), _("post reviews of yours")),
        reverse("prevention:my_reviews"),
        per_kind=per_kind,
    )

    # Comms: the post reviews waiting for an answer (not their own), needed soonest first.
    if can_review_posts(user):
        waiting = PostReview.objects.filter(status=PostReview.Status.PENDING).exclude(
            requester=user
        )
        shown = list(
            waiting.select_related("requester")
            .only("pk", "needed_by", "requester__full_name")
            .order_by("needed_by", "pk")[:per_kind]
        )
        tasks += [
            Task(
                kind="post-review-waiting",
                title=_("Post review for %(name)s, needed by %(needed_by)s")
                % {
                    "name": review.requester.get_full_name(),
                    "needed_by": _moment(review.needed_by),
                },
                url=reverse("prevention:review", args=[review.pk]),
                due=timezone.localdate(review.needed_by),
                action=_("Post reviews waiting: read the draft and answer"),
            )
            for review in shown
        ]
        more += _more(
            "post-review-waiting",
            waiting,
            len(shown),
            (_("post review waiting"), _("post reviews waiting")),
            reverse("prevention:queue"),
            per_kind=per_kind,
        )

    # Dated tasks soonest first; "due now" requirements (no date) first of all.
    tasks.sort(key=lambda task: (task.due is not None, task.due))
    return MyTasks(tasks, more)
