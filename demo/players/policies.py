"""Plays the policies demo (demo/policies.json) through the policy services.

Three policies with a year of history: the social media policy (1.0 published about
eleven months ago, acknowledged by most in the weeks after and by stragglers over the
following months, and a material 2.0 published two days ago that the demo employee still
owes), speaking to the press (everyone, eight months ago, overdue for some) and the
acceptable use of company accounts (Communications and Customer Support, six weeks ago,
with a quiz). Compliance differs by department, and the share acknowledged at each month
end rises after each publication and dips at the next.

An acknowledgement's time is part of its chained hash, so it cannot be backdated
afterwards: every step is played in time order and given its moment (`now=`), so the
chain is valid and in time order. A policy that exists already is left alone, so a second
run duplicates nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from demo.players import Timeline, load_story, share
from people.models import Department, User
from policies import services
from policies.models import Assignment, Policy, PolicyVersion, QuizQuestion

STORY = load_story("policies")
SOCIAL_MEDIA, PRESS, ACCEPTABLE_USE = (policy["title"] for policy in STORY["policies"])


def _at(day: date, clock: str) -> datetime:
    hour, minute = (int(part) for part in clock.split(":"))
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


class _Player:
    def __init__(self, story: dict, now: datetime) -> None:
        self.story = story
        self.now = now
        self.today = timezone.localdate(now)
        self.people = list(
            User.objects.filter(is_active=True).select_related("department").order_by("email")
        )
        self.users = {user.email: user for user in self.people}
        self.author = self.users[story["author"]]
        self.approver = self.users[story["approver"]]
        self.departments = {department.name: department for department in Department.objects.all()}
        self.existing = set(Policy.objects.values_list("slug", flat=True))
        self.timeline = Timeline(now)
        self.created = 0

    def moment(self, spec: dict, anchors: dict) -> datetime:
        """`days_ago` at a local time, or `from` an anchor plus days/hours/minutes (on the
        anchor's day at a local time when `at` is given)."""
        if "days_ago" in spec:
            return _at(self.today - timedelta(days=spec["days_ago"]), spec["at"])
        anchor = anchors[spec["from"]] if spec["from"] != "now" else self.now
        shift = timedelta(
            days=spec.get("days", 0), hours=spec.get("hours", 0), minutes=spec.get("minutes", 0)
        )
        if "at" in spec:
            return _at(anchor + shift, spec["at"])
        return anchor + shift

    # --- a policy and its versions ------------------------------------------------------

    def policy(self, spec: dict) -> None:
        if slugify(spec["title"]) in self.existing:
            return
        self.created += 1
        policy_ref: dict = {}
        versions = spec["versions"]
        first_drafted = self.moment(versions[0]["drafted"], self._anchors(versions[0]))

        def create(at: datetime) -> None:
            departments = [self.departments[name] for name in spec.get("audience_departments", ())]
            policy_ref["p"] = services.create_policy(
                title=spec["title"],
                owner=self.author,
                category=spec["category"],
                audience=Policy.Audience.DEPARTMENTS if departments else Policy.Audience.EVERYONE,
                departments=departments,
                acknowledgement_window_days=spec["window_days"],
                now=at,
            )

        self.timeline.add(first_drafted - timedelta(minutes=5), create)
        for version in versions:
            self.version(policy_ref, version)

    def _anchors(self, spec: dict) -> dict:
        published = self.moment(spec["published"], {})
        effective = timezone.localdate(published) + timedelta(
            days=spec["effective_days_after_published"]
        )
        return {"published": published, "effective": effective}

    def version(self, policy_ref: dict, spec: dict) -> None:
        anchors = self._anchors(spec)
        version_ref = self.publish_steps(policy_ref, spec, anchors)
        chosen = self.chooser(spec["acknowledgements"])
        self.acknowledge_steps(version_ref, spec["acknowledgements"], chosen, anchors)
        if "decline" in spec:
            self.decline_step(version_ref, spec["decline"], chosen, anchors)
        if "overdue" in spec:
            self.overdue_step(version_ref, spec["overdue"], anchors)

    def publish_steps(self, policy_ref: dict, spec: dict, anchors: dict) -> dict:
        """Draft, review, approval and publication of one version, spread before it is
        published."""
        version_ref: dict = {}
        drafted = self.moment(spec["drafted"], anchors)
        published = anchors["published"]

        def draft(at: datetime) -> None:
            version_ref["v"] = services.create_draft(
                policy=policy_ref["p"],
                author=self.author,
                body=spec["body"],
                change_summary=spec.get("change_summary", ""),
                effective_from=anchors["effective"],
                now=at,
            )
            if "quiz" in spec:
                _add_quiz(version_ref["v"], spec["quiz"])

        self.timeline.add(drafted, draft)
        self.timeline.add(
            drafted + (published - drafted) / 3,
            lambda at: services.submit_for_review(
                version=version_ref["v"], user=self.author, note=self.story["review_note"], now=at
            ),
        )
        self.timeline.add(
            drafted + (published - drafted) * 2 / 3,
            lambda at: services.approve(
                version=version_ref["v"],
                user=self.approver,
                note=self.story["approve_note"],
                now=at,
            ),
        )
        self.timeline.add(
            published,
            lambda at: services.publish(version=version_ref["v"], user=self.author, now=at),
        )
        return version_ref

    # --- who acknowledged, declined or is overdue -----------------------------------------

    def chooser(self, spec: dict) -> Callable[[User], bool]:
        always, never = set(spec.get("always", ())), set(spec.get("never", ()))

        def chosen(person: User) -> bool:
            if person.email in always:
                return True
            if person.email in never:
                return False
            department = person.department.name if person.department else ""
            return share(person.email, spec["salt"]) < spec["rates"].get(department, 0.5)

        return chosen

    def in_department(self, name: str) -> list[User]:
        return [p for p in self.people if p.department and p.department.name == name]

    def on_behalf(self, spec: dict | None, chosen) -> dict[str, str]:
        """Who acknowledged through the author, with the reason she recorded."""
        if not spec:
            return {}
        pool = self.in_department(spec["department"])
        if spec["only_chosen"]:
            pool = [p for p in pool if chosen(p)]
        pool.sort(key=lambda p: share(p.email, spec["order_salt"]))
        return {
            p.email: spec["reason"] for p in pool[: spec["count"]] if p.email not in spec["except"]
        }

    def acknowledge_steps(self, version_ref: dict, spec: dict, chosen, anchors: dict) -> None:
        """Acknowledgements by the chosen people between `start` and `end`, most of them
        early on; a share of `stragglers` acknowledges later, up to `stragglers_until`."""
        salt = spec["salt"]
        on_behalf = self.on_behalf(spec.get("on_behalf"), chosen)
        start = self.moment(spec["start"], anchors)
        end = self.moment(spec["end"], anchors)
        until = (
            self.moment(spec["stragglers_until"], anchors) if "stragglers_until" in spec else end
        )
        span, late_span = (end - start).total_seconds(), (until - end).total_seconds()
        for person in self.people:
            if not chosen(person):
                continue
            when = share(person.email, f"{salt}-when")
            late = share(person.email, f"{salt}-late") < spec.get("stragglers", 0.0)
            if person.email not in on_behalf and late:
                at = end + timedelta(seconds=late_span * when)
            else:
                # Most people read a new policy in the first days: earlier times are likelier.
                at = start + timedelta(seconds=span * when**1.6)
            self.timeline.add(
                at,
                lambda at, person=person: self.acknowledge(
                    version_ref["v"], person, at, on_behalf.get(person.email), salt
                ),
            )

    def acknowledge(
        self, version: PolicyVersion, person: User, at: datetime, reason: str | None, salt: str
    ) -> None:
        if not Assignment.objects.filter(
            version=version, person=person, status=Assignment.Status.OPEN
        ).exists():
            return
        if reason is not None:
            services.acknowledge_on_behalf(
                version=version, person=person, by=self.author, reason=reason, now=at
            )
            return
        if version.questions.exists():
            _take_quiz(version, person, at, first_try=share(person.email, salt) > 0.3)
        ip_address = f"10.0.{person.pk // 250}.{person.pk % 250 + 1}"
        services.acknowledge(
            version=version,
            user=person,
            full_name=person.get_full_name(),
            request_meta={**self.story["request_meta"], "ip_address": ip_address},
            now=at,
        )

    def decline_step(self, version_ref: dict, spec: dict, chosen, anchors: dict) -> None:
        pool = [p for p in self.in_department(spec["department"]) if not chosen(p)]
        if not pool:
            return
        decliner = min(pool, key=lambda p: share(p.email, spec["order_salt"]))
        self.timeline.add(
            self.moment(spec["at"], anchors),
            lambda at: services.decline(
                version=version_ref["v"], user=decliner, reason=spec["reason"], now=at
            ),
        )

    def overdue_step(self, version_ref: dict, spec: dict, anchors: dict) -> None:
        def make_overdue(at: datetime) -> None:
            owing = (
                Assignment.objects.filter(version=version_ref["v"], status=Assignment.Status.OPEN)
                .exclude(person__email__in=self.story["demo_accounts"])
                .select_related("person")
            )
            owing = sorted(owing, key=lambda a: share(a.person.email, spec["order_salt"]))
            for assignment, days in zip(owing, spec["days_overdue"], strict=False):
                Assignment.objects.filter(pk=assignment.pk).update(
                    due_date=self.today - timedelta(days=days)
                )

        self.timeline.add(self.moment(spec["at"], anchors), make_overdue)


def _add_quiz(version: PolicyVersion, quiz: dict) -> None:
    version.pass_mark = quiz["pass_mark"]
    version.save(update_fields=["pass_mark"])
    QuizQuestion.objects.bulk_create(
        QuizQuestion(
            version=version,
            position=number,
            text=question["text"],
            choices=question["choices"],
            correct=question["correct"],
        )
        for number, question in enumerate(quiz["questions"], start=1)
    )


def _take_quiz(version: PolicyVersion, person: User, at: datetime, *, first_try: bool) -> None:
    """Pass the quiz before acknowledging, some people at the second attempt (attempts are
    kept)."""
    questions = list(version.questions.all())
    if not first_try:
        wrong = {q.pk: (q.correct + 1) % len(q.choices) for q in questions[:1]}
        wrong.update({q.pk: q.correct for q in questions[1:]})
        services.submit_quiz(
            version=version, user=person, answers=wrong, now=at - timedelta(minutes=9)
        )
    services.submit_quiz(
        version=version,
        user=person,
        answers={q.pk: q.correct for q in questions},
        now=at - timedelta(minutes=3),
    )


@transaction.atomic
def seed_demo_policies(*, now: datetime | None = None, story: dict | None = None) -> dict[str, int]:
    """Create the demo policies and their history; existing ones are left as they are."""
    player = _Player(story or STORY, now or timezone.now())
    for spec in player.story["policies"]:
        player.policy(spec)
    player.timeline.run()
    open_assignments = Assignment.objects.filter(status=Assignment.Status.OPEN)
    return {
        "policies": Policy.objects.count(),
        "created": player.created,
        "acknowledgements": services.verify_chain().checked,
        "outstanding": open_assignments.count(),
        "overdue": open_assignments.filter(due_date__lt=player.today).count(),
    }
