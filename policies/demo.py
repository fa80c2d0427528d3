"""The demo policies that `manage.py seed_demo` adds to the demo organisation.

Three policies with a year of history: the social media policy (1.0 published about
eleven months ago, acknowledged by most in the weeks after and by stragglers over the
following months, and a material 2.0 published two days ago that the demo employee still
owes), speaking to the press (everyone, eight months ago, overdue for some) and the
acceptable use of company accounts (Communications and Customer Support, six weeks ago,
with a quiz). Compliance differs by department, and the share acknowledged at each month
end rises after each publication and dips at the next.

Everything goes through the services. An acknowledgement's time is part of its chained
hash, so it cannot be backdated afterwards: each step runs with the services' clock set
to the moment it happened in the story, in order, so the chain is valid and in time order.
A policy that exists already is left alone, so a second run duplicates nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from unittest import mock

from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from people.models import Department, User
from policies import services
from policies.models import Assignment, Policy, PolicyVersion, QuizQuestion

AUTHOR = "policyadmin@example.com"  # Priya Shah, policy admin: writes and owns them
APPROVER = "leader@example.com"  # Leo Fischer: the author may not approve her own draft
DEMO_EMPLOYEE = "employee@example.com"
DEMO_META = {"user_agent": "Mozilla/5.0 (PolicyHub demo data)"}

SOCIAL_MEDIA = "Social media policy"
ACCEPTABLE_USE = "Acceptable use of company social media accounts"
PRESS = "Speaking to the press"

SOCIAL_MEDIA_1 = """\
## Purpose

Many of us talk about our work in public: on LinkedIn, X, Bluesky or Mastodon, in forums,
on blogs, in podcasts and at conferences. We want that. It is how people find out what we
do and what it is like to work here. This policy sets out what you are responsible for
when you discuss the company or its information in any public place, so that you can take
part without worrying about it.

It is short on purpose. When something is not covered, use your judgement, and ask
Communications (comms@example.com) when in doubt.

## Who this policy applies to

Everyone who works for the company: employees, contractors, temporary staff and interns,
in every country. It covers what you post in public or semi-public places (social
networks, forums, blogs, podcasts, comments under articles, public chat groups), on work
and personal accounts, in and outside working hours, whenever it is about the company,
our customers, our partners or our work.

## Speaking about the company

- You may say where you work and what your job is, share our public announcements and
  talk about your own work in general terms.
- Make clear that your views are your own. When you discuss the company or our industry,
  say that you work here; "Views my own" in your profile is enough.
- Only the people Communications names speak *for* the company: official statements,
  results, incidents, legal matters. If a journalist, analyst or influencer contacts you
  about the company, thank them and pass the request to Communications (see "Speaking to
  the press").
- Be respectful. Do not post anything about colleagues, customers or competitors that you
  would not say to them in person.

## Confidential information

Never share information that is not already public, including:

- financial results before we publish them, forecasts and prices under negotiation;
- product plans, roadmaps and release dates that have not been announced;
- anything about our customers, including the fact that they are a customer, unless they
  have agreed to be named;
- personal data about colleagues;
- security details: our systems and tools, incidents, where equipment is kept.

If you are not sure whether something is public, treat it as confidential and ask.

## Personal accounts

Your personal accounts are yours. We do not ask for access to them and we do not monitor
them. Three things still apply: keep confidential information off them, do not present a
personal opinion as the company's, and do not use the company's name or logo in a way
that suggests the account is official.

## Company accounts

The company's own accounts, on every platform, are run by Communications and Customer
Support under the policy "Acceptable use of company social media accounts". Do not open
an account in the name of the company, a product, a team or an event without
Communications' agreement.

## Mistakes and self-reporting

Everyone makes mistakes online. If you post something you should not have, take it down
if you can and tell Communications straight away, or use "Report my own mistake" in
PolicyHub. The sooner we know, the less it costs to put right.

## If you see a problem

If you see a post by a colleague, or about the company, that worries you (confidential
information, something hurtful, an account pretending to be us), do not reply to it or
share it. Report it with "Report an incident" in PolicyHub, or tell Communications. You
do not need to be certain: a report that turns out to be nothing is still welcome.
"""

SOCIAL_MEDIA_2 = SOCIAL_MEDIA_1.replace(
    """\
- anything about our customers, including the fact that they are a customer, unless they
  have agreed to be named;
- personal data about colleagues;
- security details: our systems and tools, incidents, where equipment is kept.

If you are not sure whether something is public, treat it as confidential and ask.
""",
    """\
- anything about our customers, including the fact that they are a customer, unless they
  have agreed to be named, and anything a customer or partner told us in confidence
  (information we hold under a non-disclosure agreement is confidential for as long as
  that agreement says);
- personal data about colleagues;
- security details: our systems and tools, incidents, where equipment is kept;
- screenshots of internal tools, chats, documents or dashboards, even when what they show
  seems harmless, and photos taken at work where screens, whiteboards or badges can be
  read.

If you are not sure whether something is public, treat it as confidential and ask
Communications before you post. Asking is quick; taking a post back is not.
""",
).replace(
    """\
## Mistakes and self-reporting

Everyone makes mistakes online. If you post something you should not have, take it down
if you can and tell Communications straight away, or use "Report my own mistake" in
PolicyHub. The sooner we know, the less it costs to put right.
""",
    """\
## AI-generated content

You may use AI tools to help you write or illustrate a post. You remain responsible for
what you publish, as if you had written every word yourself.

- Never paste confidential information into an AI tool to draft a post, unless it is a
  tool the company provides for that information.
- Check facts, figures and quotes an AI tool produces before you publish them.
- Label AI-generated images, audio and video that could be mistaken for real photos or
  recordings of our people, offices, products or events.
- Never use AI to imitate a colleague, a customer or a spokesperson, even as a joke.

## Mistakes and self-reporting

Everyone makes mistakes online. When you make one, tell us: self-reporting is welcomed,
and an honest mistake is treated as something to learn from, not as a disciplinary
matter.

1. Take the post down or correct it if you can.
2. Use "Report my own mistake" in PolicyHub, or tell Communications, straight away. The
   sooner we know, the less it costs to put right.
3. Communications helps you with what comes next: a correction, a takedown request, a
   reply. You are often the best person to help fix what happened.

Afterwards we look at what made the mistake easy to make (an unclear rule, a missing
check, a tool) and fix that. What we learn is shared, anonymised, so that nobody else
makes the same mistake. Deliberately causing harm is a different matter and is handled
differently; a mistake only becomes a bigger problem when it is hidden.
""",
)

SOCIAL_MEDIA_2_SUMMARY = """\
- New section "AI-generated content": you are responsible for what an AI tool helped you \
write; never paste confidential information into one; label AI images and video.
- "Confidential information" now covers screenshots of internal tools and photos of \
screens, and information a customer or partner gave us in confidence.
- "Mistakes and self-reporting" says plainly what happens when you report your own \
mistake: it is welcomed and treated as learning, not discipline."""

ACCEPTABLE_USE_1 = """\
## Purpose

Our company accounts on LinkedIn, X, Bluesky, Instagram, YouTube and the review sites are
the company speaking in public. This policy says how the people who run them keep them
safe, accurate and kind.

## Who this policy applies to

Everyone who can post from, reply from or manage a company account: today the
Communications and Customer Support teams, and anyone they give temporary access to (an
agency, a colleague covering an event).

## Access and passwords

- Every account has two named owners in Communications.
- Passwords live in the company password manager, never in a document, chat or email.
  Every account has two-factor authentication turned on.
- Access is personal: it is given to named people, and removed the day they change role
  or leave. Owners review the list of people with access every quarter.

## What we post

- Posts follow the content calendar that Communications agrees each week. Anything
  outside it (a reaction to news, a celebration) is checked by a second person first.
- We correct our own mistakes openly: edit or delete, and say what changed.
- We say when a post is sponsored, when we work with a partner, and when an image was
  made with AI.

## Replying to customers

- Thank people, apologise when we got something wrong, and move the conversation to a
  private message or a support ticket.
- Never post a customer's personal details, order or account information in public, even
  if they posted it first.
- If a complaint is going viral, or mentions safety, legal action or a journalist, tell
  the Communications lead before replying.

## What we never do from a company account

Share personal opinions, take sides in politics, argue with people, like or repost things
without checking their source, buy followers or reviews, or reply to a post about a
colleague.

## If something goes wrong

If something was posted by mistake, or you think an account has been taken over, tell the
Communications lead straight away and report it in PolicyHub ("Report my own mistake" or
"Report an incident"). Do not wait to be sure: we would rather hear ten false alarms than
miss one real problem.
"""

QUIZ = (
    (
        "A customer complains in public about a late refund, under one of our posts. "
        "What do you do?",
        [
            "Reply in public with their order details so that everyone sees we care",
            "Thank them, apologise and move the conversation to a private message or ticket",
            "Leave it: replying only draws attention to it",
        ],
        1,
    ),
    (
        "Where is the password of a company account kept?",
        [
            "In the team's shared document, so nobody is locked out",
            "In an email to the two account owners",
            "In the company password manager, for the named people who need it",
        ],
        2,
    ),
    (
        "You posted something from a company account by mistake. What now?",
        [
            "Tell the Communications lead straight away and report it in PolicyHub",
            "Delete it quietly and hope nobody noticed",
            "Wait to see whether anyone complains",
        ],
        0,
    ),
)

PRESS_1 = """\
## Purpose

Journalists, analysts, bloggers and podcasters sometimes contact people who work here.
Speaking with one voice keeps what we say accurate and consistent, and protects you from
being quoted on something you were never meant to answer. This policy says what to do
when that happens.

## Who this policy applies to

Everyone who works for the company, whatever their role, and whether the contact comes
by phone, email, social media or in person at an event.

## If a journalist contacts you

Be polite, do not comment, and pass it on:

1. Say something like: "Thanks for getting in touch. I'm not the right person to answer,
   but our Communications team will get back to you today."
2. Note their name, publication, question and deadline.
3. Send those to Communications (comms@example.com) straight away.

"No comment" sounds like we are hiding something; a friendly hand-over does not.

## Speaking as an expert

We are glad when you speak at conferences, on podcasts or to trade press about your
field. If you will be introduced as working here, tell Communications beforehand: they
can help you prepare and tell you about anything sensitive at the moment. Speak about
your own work and your field, not about the company's plans, customers or results.

## Off the record

There is no "off the record" or "background only" for anyone but our named spokespeople.
Assume that anything you tell a journalist may be published with your name.

## Incidents and crises

During an incident, only the named spokespeople speak for the company. Pass every
question on, including from people you know well.

## If you said too much

If you think you said something you should not have, tell Communications at once. They
can often fix it with the journalist before anything is published. As with any honest
mistake, telling us is what counts.
"""


@dataclass(frozen=True)
class Story:
    """One demo policy: how it is set up, and who acknowledged it, by department."""

    title: str
    category: str
    body: str
    drafted: datetime
    published: datetime
    effective: date
    window_days: int
    rates: dict[str, float]  # department → share of people who acknowledged
    audience_departments: tuple[str, ...] = ()


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


def _share(email: str, salt: str) -> float:
    """A stable number in [0, 1) per person and purpose: the same people every run."""
    digest = hashlib.sha256(f"{salt}:{email}".encode()).hexdigest()
    return int(digest[:8], 16) / 0x1_0000_0000


@contextmanager
def _clock(at: datetime) -> Iterator[None]:
    """The services' clock at `at` (see the module docstring for why)."""
    with mock.patch.object(timezone, "now", return_value=at):
        yield


class _Timeline:
    """Steps of the story, run in time order whatever order they were added in."""

    def __init__(self) -> None:
        self._steps: list[tuple[datetime, int, Callable[[], None]]] = []

    def add(self, at: datetime, step: Callable[[], None]) -> None:
        self._steps.append((at, len(self._steps), step))

    def run(self) -> None:
        for at, _order, step in sorted(self._steps, key=lambda item: item[:2]):
            with _clock(at):
                step()


def _publish_steps(
    timeline: _Timeline,
    *,
    policy_ref: dict,
    author: User,
    approver: User,
    body: str,
    change_summary: str = "",
    drafted: datetime,
    published: datetime,
    effective: date,
    setup: Callable[[PolicyVersion], None] | None = None,
) -> dict:
    """Draft, review, approval and publication of one version, spread before `published`."""
    version_ref: dict = {}

    def draft():
        version_ref["v"] = services.create_draft(
            policy=policy_ref["p"],
            author=author,
            body=body,
            change_summary=change_summary,
            effective_from=effective,
        )
        if setup:
            setup(version_ref["v"])

    review_at = drafted + (published - drafted) / 3
    approve_at = drafted + (published - drafted) * 2 / 3
    timeline.add(drafted, draft)
    timeline.add(
        review_at,
        lambda: services.submit_for_review(
            version=version_ref["v"], user=author, note="Ready for review."
        ),
    )
    timeline.add(
        approve_at,
        lambda: services.approve(
            version=version_ref["v"], user=approver, note="Clear and fair. Approved."
        ),
    )
    timeline.add(published, lambda: services.publish(version=version_ref["v"], user=author))
    return version_ref


def _acknowledge_steps(
    timeline: _Timeline,
    *,
    version_ref: dict,
    people: list[User],
    chosen: Callable[[User], bool],
    start: datetime,
    end: datetime,
    salt: str,
    quiz: bool = False,
    on_behalf: dict[str, tuple[User, str]] | None = None,
    stragglers: float = 0.0,
    stragglers_until: datetime | None = None,
) -> None:
    """Acknowledgements by the chosen people between `start` and `end`, most of them
    early on; a share of `stragglers` acknowledges later, up to `stragglers_until`."""
    on_behalf = on_behalf or {}
    span = (end - start).total_seconds()
    late_span = ((stragglers_until or end) - end).total_seconds()
    for person in people:
        if not chosen(person):
            continue
        when = _share(person.email, f"{salt}-when")
        if person.email not in on_behalf and _share(person.email, f"{salt}-late") < stragglers:
            at = end + timedelta(seconds=late_span * when)
        else:
            # Most people read a new policy in the first days: earlier times are likelier.
            at = start + timedelta(seconds=span * when**1.6)
        meta = {**DEMO_META, "ip_address": f"10.0.{person.pk // 250}.{person.pk % 250 + 1}"}

        def step(person=person, meta=meta):
            version = version_ref["v"]
            if not Assignment.objects.filter(
                version=version, person=person, status=Assignment.Status.OPEN
            ).exists():
                return
            if person.email in on_behalf:
                by, reason = on_behalf[person.email]
                services.acknowledge_on_behalf(version=version, person=person, by=by, reason=reason)
                return
            if quiz:
                _take_quiz(version, person, first_try=_share(person.email, salt) > 0.3)
            services.acknowledge(
                version=version,
                user=person,
                full_name=person.get_full_name(),
                request_meta=meta,
            )

        timeline.add(at, step)


def _take_quiz(version: PolicyVersion, person: User, *, first_try: bool) -> None:
    """Pass the quiz, some people at the second attempt (attempts are kept)."""
    questions = list(version.questions.all())
    now = timezone.now()
    if not first_try:
        wrong = {q.pk: (q.correct + 1) % len(q.choices) for q in questions[:1]}
        wrong.update({q.pk: q.correct for q in questions[1:]})
        with _clock(now - timedelta(minutes=9)):
            services.submit_quiz(version=version, user=person, answers=wrong)
    with _clock(now - timedelta(minutes=3)):
        services.submit_quiz(
            version=version, user=person, answers={q.pk: q.correct for q in questions}
        )


def _people() -> list[User]:
    return list(User.objects.filter(is_active=True).select_related("department").order_by("email"))


def _rate_chooser(story_rates: dict[str, float], salt: str, *, always=(), never=()):
    def chosen(person: User) -> bool:
        if person.email in always:
            return True
        if person.email in never:
            return False
        department = person.department.name if person.department else ""
        return _share(person.email, salt) < story_rates.get(department, 0.5)

    return chosen


@transaction.atomic
def seed_demo_policies(*, now: datetime | None = None) -> dict[str, int]:
    """Create the demo policies and their history; existing ones are left as they are."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    users = {user.email: user for user in _people()}
    author, approver = users[AUTHOR], users[APPROVER]
    departments = {department.name: department for department in Department.objects.all()}
    people = list(users.values())
    existing = set(Policy.objects.values_list("slug", flat=True))
    demo_accounts = {DEMO_EMPLOYEE, AUTHOR, APPROVER, "comms@example.com", "hr@example.com"}
    timeline = _Timeline()
    created = 0

    def policy_steps(story: Story) -> dict | None:
        nonlocal created
        if slugify(story.title) in existing:
            return None
        created += 1
        policy_ref: dict = {}

        def create():
            policy_ref["p"] = services.create_policy(
                title=story.title,
                owner=author,
                category=story.category,
                audience=(
                    Policy.Audience.DEPARTMENTS
                    if story.audience_departments
                    else Policy.Audience.EVERYONE
                ),
                departments=[departments[name] for name in story.audience_departments],
                acknowledgement_window_days=story.window_days,
            )

        timeline.add(story.drafted - timedelta(minutes=5), create)
        return policy_ref

    # --- the social media policy: 1.0 (eleven months ago) and a material 2.0 (this week)
    social_1_published = _at(today - timedelta(days=341), 10)
    social_1 = Story(
        title=SOCIAL_MEDIA,
        category=Policy.Category.SOCIAL_MEDIA,
        body=SOCIAL_MEDIA_1,
        drafted=social_1_published - timedelta(days=14, minutes=30),
        published=social_1_published,
        effective=timezone.localdate(social_1_published) + timedelta(days=7),
        window_days=14,
        rates={
            "Executive": 1.0,
            "Communications": 1.0,
            "HR & Legal": 1.0,
            "Policy & Compliance": 1.0,
            "Sales": 0.9,
            "Engineering": 0.8,
            "Customer Support": 0.95,
            "Finance": 0.95,
        },
    )
    social_2_published = _at(today - timedelta(days=2), 9)
    social_2_rates = {
        "Executive": 0.5,
        "Communications": 0.8,
        "HR & Legal": 0.6,
        "Policy & Compliance": 1.0,
        "Sales": 0.35,
        "Engineering": 0.25,
        "Customer Support": 0.45,
        "Finance": 0.2,
    }
    policy_ref = policy_steps(social_1)
    if policy_ref is not None:
        version_1 = _publish_steps(
            timeline,
            policy_ref=policy_ref,
            author=author,
            approver=approver,
            body=social_1.body,
            drafted=social_1.drafted,
            published=social_1.published,
            effective=social_1.effective,
        )
        paper = "Signed a paper copy at the induction session; the signed copy is in the HR file."
        support = sorted(
            (p for p in people if p.department and p.department.name == "Customer Support"),
            key=lambda p: _share(p.email, "paper"),
        )
        _acknowledge_steps(
            timeline,
            version_ref=version_1,
            people=people,
            chosen=_rate_chooser(social_1.rates, "social-1", always=(DEMO_EMPLOYEE, AUTHOR)),
            start=social_1.published + timedelta(hours=1),
            end=_at(social_1.effective + timedelta(days=25), 17),
            salt="social-1",
            on_behalf={p.email: (author, paper) for p in support[:2]},
            stragglers=0.15,
            stragglers_until=_at(social_1.effective + timedelta(days=240), 16),
        )
        version_2 = _publish_steps(
            timeline,
            policy_ref=policy_ref,
            author=author,
            approver=approver,
            body=SOCIAL_MEDIA_2,
            change_summary=SOCIAL_MEDIA_2_SUMMARY,
            drafted=social_2_published - timedelta(days=22),
            published=social_2_published,
            effective=timezone.localdate(social_2_published),
        )
        _acknowledge_steps(
            timeline,
            version_ref=version_2,
            people=people,
            chosen=_rate_chooser(
                social_2_rates,
                "social-2",
                always=(AUTHOR, APPROVER, "comms@example.com", "manager@example.com"),
                never=(DEMO_EMPLOYEE,),
            ),
            start=social_2_published + timedelta(minutes=20),
            end=now - timedelta(minutes=10),
            salt="social-2",
        )

        def make_overdue():
            # A few people who still owe 2.0 past its due date, so that the compliance
            # page and the managers' escalations have something to show this week.
            owing = (
                Assignment.objects.filter(version=version_2["v"], status=Assignment.Status.OPEN)
                .exclude(person__email__in=demo_accounts)
                .select_related("person")
            )
            owing = sorted(owing, key=lambda a: _share(a.person.email, "late"))[:3]
            for assignment, days in zip(owing, (10, 4, 1), strict=False):
                Assignment.objects.filter(pk=assignment.pk).update(
                    due_date=today - timedelta(days=days)
                )

        timeline.add(now - timedelta(minutes=1), make_overdue)

    # --- speaking to the press: everyone, eight months ago, overdue for some
    press = Story(
        title=PRESS,
        category=Policy.Category.COMMUNICATIONS,
        body=PRESS_1,
        drafted=_at(today - timedelta(days=262), 11),
        published=_at(today - timedelta(days=248), 9, 30),
        effective=today - timedelta(days=248),
        window_days=14,
        rates={
            "Executive": 1.0,
            "Communications": 1.0,
            "HR & Legal": 1.0,
            "Policy & Compliance": 1.0,
            "Sales": 0.75,
            "Engineering": 0.55,
            "Customer Support": 0.85,
            "Finance": 0.9,
        },
    )
    policy_ref = policy_steps(press)
    if policy_ref is not None:
        press_version = _publish_steps(
            timeline,
            policy_ref=policy_ref,
            author=author,
            approver=approver,
            body=press.body,
            drafted=press.drafted,
            published=press.published,
            effective=press.effective,
        )
        chosen = _rate_chooser(
            press.rates, "press", always=("manager@example.com",), never=(DEMO_EMPLOYEE,)
        )
        sales = sorted(
            (p for p in people if p.department and p.department.name == "Sales" and chosen(p)),
            key=lambda p: _share(p.email, "email"),
        )
        _acknowledge_steps(
            timeline,
            version_ref=press_version,
            people=people,
            chosen=chosen,
            start=press.published + timedelta(hours=2),
            end=_at(press.effective + timedelta(days=30), 16),
            salt="press",
            stragglers=0.2,
            stragglers_until=_at(press.effective + timedelta(days=120), 16),
            on_behalf={
                p.email: (
                    author,
                    "Confirmed by email while travelling without a laptop; the email is on "
                    "file with Policy & Compliance.",
                )
                for p in sales[:1]
                if p.email not in (DEMO_EMPLOYEE, "manager@example.com")
            },
        )
        engineers = sorted(
            (
                p
                for p in people
                if p.department and p.department.name == "Engineering" and not chosen(p)
            ),
            key=lambda p: _share(p.email, "decline"),
        )
        if engineers:
            decliner = engineers[0]

            def decline():
                services.decline(
                    version=press_version["v"],
                    user=decliner,
                    reason=(
                        "I maintain an open-source library in my own time, and tech "
                        "journalists ask me about it now and then. As written, this policy "
                        "would have me send every one of those requests to Communications, "
                        "even when they have nothing to do with the company. Could it say "
                        "that personal projects are out of scope unless the company comes up?"
                    ),
                )

            timeline.add(press.published + timedelta(days=6, hours=3), decline)

    # --- acceptable use of company accounts: the teams that run them, with a quiz
    accounts = Story(
        title=ACCEPTABLE_USE,
        category=Policy.Category.ACCEPTABLE_USE,
        body=ACCEPTABLE_USE_1,
        drafted=_at(today - timedelta(days=55), 14),
        published=_at(today - timedelta(days=40), 9),
        effective=today - timedelta(days=40),
        window_days=21,
        rates={"Communications": 0.85, "Customer Support": 0.6},
        audience_departments=("Communications", "Customer Support"),
    )
    policy_ref = policy_steps(accounts)
    if policy_ref is not None:

        def add_quiz(version: PolicyVersion) -> None:
            version.pass_mark = 100  # three questions: all of them right
            version.save(update_fields=["pass_mark"])
            QuizQuestion.objects.bulk_create(
                QuizQuestion(version=version, position=n, text=text, choices=choices, correct=c)
                for n, (text, choices, c) in enumerate(QUIZ, start=1)
            )

        accounts_version = _publish_steps(
            timeline,
            policy_ref=policy_ref,
            author=author,
            approver=approver,
            body=accounts.body,
            drafted=accounts.drafted,
            published=accounts.published,
            effective=accounts.effective,
            setup=add_quiz,
        )
        _acknowledge_steps(
            timeline,
            version_ref=accounts_version,
            people=people,
            chosen=_rate_chooser(accounts.rates, "accounts", always=("comms@example.com",)),
            start=accounts.published + timedelta(hours=3),
            end=_at(accounts.effective + timedelta(days=28), 16),
            salt="accounts",
            quiz=True,
        )

    timeline.run()
    open_assignments = Assignment.objects.filter(status=Assignment.Status.OPEN)
    return {
        "policies": Policy.objects.count(),
        "created": created,
        "acknowledgements": services.verify_chain().checked,
        "outstanding": open_assignments.count(),
        "overdue": open_assignments.filter(due_date__lt=today).count(),
    }
