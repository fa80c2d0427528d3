"""Read-only views across apps: what a person has to do."""

from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import Exists, F, OuterRef, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from incidents.models import ActionItem, Incident
from incidents.permissions import awaiting_sign_off
from people import audience, roles
from people.audience import department_and_ancestors
from policies.models import Assignment
from prevention.models import PostReview
from prevention.permissions import can_review_posts
from training.compliance import (
    CHECKIN_LEAD,
    Status,
    joiner_due_by,
    period,
)
from training.models import Booking, Requirement, Session

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


def _my_bookings(user, *, now: datetime) -> list:
    """The person's bookings My tasks reads, in one query: those on briefings still to come
    that they are booked or waitlisted on (listed), and those they were present at (when
    they last attended each topic, for their requirements: a handful a year)."""
    coming = Q(
        status__in=Booking.ACTIVE,
        session__status=Session.Status.SCHEDULED,
        session__ends_at__gt=now,
    )
    attended = Q(status__in=Booking.PRESENT, session__starts_at__lte=now + CHECKIN_LEAD) & ~Q(
        session__status=Session.Status.CANCELLED
    )
    return list(
        Booking.objects.filter(person=user)
        .filter(coming | attended)
        .order_by()
        .annotate(
            title=F("session__title"),
            starts_at=F("session__starts_at"),
            topic_id=F("session__topic_id"),
        )
        .values_list(
            "pk",
            "status",
            "session_id",
            "title",
            "starts_at",
            "topic_id",
            named=True,
        )
    )


_REQUIREMENT_FIELDS = (
    "id",
    "name",
    "audience",
    "every_months",
    "new_joiners_within_days",
    "active",
)


def _my_requirements(user) -> list[tuple[Requirement, set[int]]]:
    """The active requirements whose audience the person is in, as training.compliance
    decides it (a requirement for a department includes its sub-departments), each with the
    ids of its accepted topics, by name: the department tree, then one query, with the
    groups every page reads (people.roles)."""
    if not user.is_active:
        return []
    departments = department_and_ancestors(user.department_id) if user.department_id else ()
    mine = ~Q(audience__in=(audience.DEPARTMENTS, audience.GROUPS))
    for relation, kind, lookup, ids in (
        ("audience_departments", audience.DEPARTMENTS, "department_id__in", departments),
        ("audience_groups", audience.GROUPS, "group_id__in", roles.group_ids(user)),
    ):
        if ids:
            through = getattr(Requirement, relation).through.objects
            held = through.filter(requirement_id=OuterRef("pk"), **{lookup: ids})
            mine |= Q(audience=kind) & Q(Exists(held))
    rows = (
        Requirement.objects.filter(mine, active=True)
        .order_by("name", "pk")
        .values_list(*_REQUIREMENT_FIELDS, "accepted_topics")
    )
    found: dict[int, tuple[Requirement, set[int]]] = {}
    for *values, topic_id in rows:
        if values[0] not in found:
            requirement = Requirement.from_db(rows.db, _REQUIREMENT_FIELDS, values)
            found[values[0]] = (requirement, set())
        if topic_id is not None:
            found[values[0]][1].add(topic_id)
    return list(found.values())


def _requirements_to_book(user, bookings, *, now: datetime) -> list[Status]:
    """training.compliance.requirements_to_book for My tasks, from the bookings it has read
    already: the person's requirements not met, leaving out those they have a seat for on an
    upcoming session of an accepted topic (dashboards/tests/test_my_tasks_requirements.py
    holds the two to the same answers)."""
    requirements = _my_requirements(user)
    if not requirements:
        return []
    seated = {
        b.topic_id for b in bookings if b.status == Booking.Status.BOOKED and b.starts_at > now
    }
    last_by_topic: dict[int, datetime] = {}
    for b in bookings:
        if b.status in Booking.PRESENT:
            last_by_topic[b.topic_id] = max(b.starts_at, last_by_topic.get(b.topic_id, b.starts_at))
    today = timezone.localdate(now)
    statuses = []
    for requirement, topics in requirements:
        if topics & seated:
            continue
        last = max((last_by_topic[t] for t in topics if t in last_by_topic), default=None)
        if last is not None and last >= now - period(requirement):
            continue
        due_by = joiner_due_by(requirement, user.start_date, today)
        statuses.append(Status(requirement, False, last, due_by, None))
    return statuses


def my_tasks(user, *, per_kind: int = TASKS_PER_KIND) -> MyTasks:
    """Outstanding items for `user`: the first `per_kind` of each kind (soonest due
    first), with a count of the rest. A fixed number of queries however many there
    are: one page and one COUNT per kind."""
    now = timezone.now()
    tasks: list[Task] = []
    more: list[More] = []

    assignments = Assignment.objects.filter(person=user, status=Assignment.Status.OPEN)
    shown = list(
        assignments.select_related("policy", "version")
        .only("due_date", "policy__title", "policy__slug", "version__major", "version__minor")
        .order_by("due_date", "policy__title", "pk")[:per_kind]
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

    bookings = _my_bookings(user, now=now)
    coming = sorted(
        (b for b in bookings if b.status in Booking.ACTIVE), key=lambda b: (b.starts_at, b.pk)
    )
    shown = coming[:per_kind]
    tasks += [
        Task(
            kind="briefing",
            title=f"{b.title}, {_moment(b.starts_at)}",
            url=reverse("training:session", args=[b.session_id]),
            due=timezone.localdate(b.starts_at),
            action=_("Attend the briefing you booked")
            if b.status == Booking.Status.BOOKED
            else _("You are on the waitlist"),
        )
        for b in shown
    ]
    more += _more(
        "briefing",
        coming,
        len(shown),
        (_("briefing booked or waitlisted"), _("briefings booked or waitlisted")),
        reverse("training:index") + "#my-bookings",
        per_kind=per_kind,
    )

    # The active requirements, a handful that policy admins define, are read in a
    # fixed number of queries whatever their number: counted here, not again.
    required = sorted(
        _requirements_to_book(user, bookings, now=now),
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
    shown = list(
        actions.select_related("incident")
        .only("title", "due_date", "incident__reference")
        .order_by("due_date", "pk")[:per_kind]
    )
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
    # Only the columns shown: the query is DISTINCT, and sorting whole incidents (their
    # long texts) to drop the repeats cost five times as much.
    reviews = awaiting_sign_off(user).only("pk", "reference")
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
