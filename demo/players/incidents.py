"""Plays the incidents demo (demo/incidents.json) through the incident services.

About thirty stories over the last twelve months, in every state of the workflow and on
both tracks. Most are honest mistakes (a screenshot showing a customer's name, a reply from
the company account instead of a personal one, a roadmap slide in a conference photo, a
figure said too early on a podcast); a few are at-risk behaviour; exactly one is deliberate
(an engineer leaking on purpose, on the accountability track, owned by HR). Several were
self-reported, one of them by the demo employee, closed on the learning track with a
thank-you. Chloe Summers (Communications) owns most, Hannah Brooks (HR/legal) the conduct
cases; reviews are signed off by line managers who do not own the incident, and three
lessons are published, anonymised.

Behind those stories, about forty more incidents fill the last twelve months (HISTORY,
built from the story's `past` and `scenarios`, demo/players/incident_history.py) so that
the remediation dashboard has trends.

Every step is played in time order and given its moment (`now=`), so references, the
history, the exposure window (posted → noticed → contained → closed), due dates and the
reminders planned are what the app itself would have made. Two pieces of evidence are
small generated screenshots, uploaded like any other. An incident whose story is already
in the database is left alone, so a second run duplicates nothing.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from demo.players import Step, Timeline
from demo.players.incident_history import (
    COMMS,
    HOURS,
    HR,
    NOTES,
    STORIES,
    STORY,
    Story,
    history,
)
from demo.players.screenshots import screenshot as draw_screenshot
from incidents import assessment as guide
from incidents import evidence as evidence_service
from incidents import services
from incidents.models import ActionItem, Assessment, Evidence, Incident, Lesson
from people.models import User
from policies.models import PolicyVersion
from training.models import Topic

__all__ = ["BRIEFING_TOPIC", "HISTORY", "STORIES", "seed_demo_incidents"]

BRIEFING_TOPIC = STORY["briefing_topic"]  # from the training demo, when it ran
SOCIAL_MEDIA_POLICY = STORY["social_media_policy"]  # from the policies demo, when it ran
HISTORY: tuple[Story, ...] = history()

Status = Incident.Status
ACCOUNTABLE = (Assessment.Outcome.DELIBERATE, Assessment.Outcome.RECKLESS)

ASSIGN, TRIAGE, EVIDENCE = HOURS["assign"], HOURS["triage"], HOURS["evidence"]
TAKEDOWN, STATEMENT, APPROVE = HOURS["takedown"], HOURS["statement"], HOURS["approve"]
RESOLVE, CONTAIN, RERUN_FROM = HOURS["resolve"], HOURS["contain"], HOURS["rerun_from"]
ASSESS, CLASSIFY, REMEDIATE = HOURS["assess"], HOURS["classify"], HOURS["remediate"]
CLOSE_AFTER, LESSON_AFTER = HOURS["close_after"], HOURS["lesson_after"]

ORDER = tuple(Status)  # reported, in triage, contained, ... closed: the workflow's order


def _reached(story: Story, status: str) -> bool:
    return ORDER.index(story.stage) >= ORDER.index(status)


def _closed(spec: dict | None) -> tuple[str, str] | None:
    return None if spec is None else (spec["status"], spec["note"])


def _capture(
    incident: Incident, by: User, at: datetime, *, screenshot: str = "", note: str
) -> Evidence:
    """Evidence as the team captures it: the link, with a screenshot when there is one."""
    upload = None
    if screenshot:
        upload = SimpleUploadedFile(
            f"capture-{incident.reference.lower()}.png",
            draw_screenshot(screenshot),
            content_type="image/png",
        )
    return evidence_service.capture(
        incident=incident,
        by=by,
        upload=upload,
        url=incident.url,
        platform=incident.platform,
        handle=incident.account_handle,
        note=note,
        now=at,
    )


class _Story:
    """Schedules one story's steps on the timeline, up to the state it ends in."""

    def __init__(self, story: Story, users: dict[str, User], timeline: Timeline, now):
        self.story = story
        self.users = users
        self.timeline = timeline
        self.incident: Incident | None = None
        if story.days_ago >= 2:
            day = timezone.localdate(now) - timedelta(days=round(story.days_ago))
            self.reported = timezone.make_aware(datetime.combine(day, time(story.hour, 12)))
        else:
            self.reported = (now - timedelta(days=story.days_ago)).replace(second=0)
        self.owner = users[story.owner]
        # The other handler approves holding statements (the author may not).
        self.second = users[HR if story.owner == COMMS else COMMS]

    def at(self, hours: float) -> datetime:
        """Offsets up to containment at the containment pace, the rest at `pace`."""
        story = self.story
        contain_pace = story.pace if story.contain_pace is None else story.contain_pace
        if hours <= CONTAIN:
            return self.reported + timedelta(hours=hours * contain_pace)
        offset = CONTAIN * contain_pace + (hours - CONTAIN) * story.pace
        return self.reported + timedelta(hours=offset)

    def add(self, hours: float, step: Step) -> None:
        self.timeline.add(self.at(hours), step)

    def fresh(self) -> Incident:
        self.incident = Incident.objects.get(pk=self.incident.pk)
        return self.incident

    def schedule(self) -> None:
        story = self.story
        self.add(0, self.report)
        if not _reached(story, Status.TRIAGE):
            return
        self.add(ASSIGN, self.assign)
        self.add(TRIAGE, self.triage)
        self.add(EVIDENCE, self.capture)
        if story.withdrawn_evidence:
            self.add(EVIDENCE + 3, self.withdraw)
        for number, takedown in enumerate(story.takedowns):
            self.add(TAKEDOWN + number * 0.2, lambda at, t=takedown: self.request(t, at))
        if story.statement:
            self.add(STATEMENT, self.draft_statement)
            if story.statement_approved:
                self.add(APPROVE, self.approve_statement)
        if not _reached(story, Status.CONTAINED):
            # Those already resolved (the author deleted it) are marked during triage.
            for number, takedown in enumerate(story.takedowns):
                if takedown[2]:
                    hours = TAKEDOWN + 0.1 + number * 0.2
                    self.add(hours, lambda at, t=takedown: self.resolve(t, at))
            return
        for number, takedown in enumerate(story.takedowns):
            self.add(RESOLVE + number * 3, lambda at, t=takedown: self.resolve(t, at))
        if story.no_takedown:
            self.add(RESOLVE, self.note_no_takedown)
        self.add(CONTAIN, lambda at: self.move(Status.CONTAINED, NOTES["contained"], at))
        if story.rerun_from:
            self.add(RERUN_FROM, lambda at: self.assess(story.rerun_from, at, finish=True))
        if story.outcome:
            finish = _reached(story, Status.CLASSIFIED)
            self.add(ASSESS, lambda at: self.assess(story.outcome, at, finish=finish))
        if not _reached(story, Status.CLASSIFIED):
            return
        if story.no_individual:
            self.add(ASSESS, self.choose_track)
        self.add(CLASSIFY, lambda at: self.move(Status.CLASSIFIED, "", at))
        if not _reached(story, Status.REMEDIATION):
            return
        self.add(REMEDIATE, self.plan)
        closing = self.closing_steps()
        for number, step in enumerate(closing):
            self.add(REMEDIATE + (number + 1) * story.action_gap, step)
        if not _reached(story, Status.REVIEW):
            return
        last = REMEDIATE + len(closing) * story.action_gap
        self.add(last + 1, lambda at: self.move(Status.REVIEW, NOTES["all_actions"], at))
        self.add(last + story.review_after, self.write_review)
        signed = last + story.review_after + story.sign_off_after
        if story.signer:
            self.add(signed, self.sign_off)
        if not _reached(story, Status.CLOSED):
            return
        self.add(signed + CLOSE_AFTER, self.close)
        if story.lesson:
            self.add(signed + CLOSE_AFTER + LESSON_AFTER, self.publish_lesson)

    # --- steps --------------------------------------------------------------------------

    def report(self, at: datetime) -> None:
        story = self.story
        noticed = at - timedelta(minutes=25 if not story.self_reported else 10)
        posted = None
        if story.posted_hours_before is not None:
            posted = noticed - timedelta(hours=story.posted_hours_before)
        # Other reporters name the colleague involved when they know them.
        named = () if story.self_reported else story.involved
        self.incident = services.report_incident(
            reporter=self.users[story.reporter],
            what_happened=story.what,
            self_reported=story.self_reported,
            platform=story.platform,
            url=story.url,
            account_handle=story.handle,
            posted_at=posted,
            noticed_at=noticed,
            information=story.information,
            estimated_reach=story.reach,
            people_involved=[self.users[email] for email in named],
            now=at,
        )

    def assign(self, at: datetime) -> None:
        # Communications picks incidents up and hands conduct cases to HR.
        services.assign_owner(incident=self.fresh(), owner=self.owner, by=self.users[COMMS], now=at)

    def triage(self, at: datetime) -> None:
        story = self.story
        self.move(Status.TRIAGE, NOTES["picked_up"], at)
        if story.severity != self.incident.severity:
            services.update_details(
                incident=self.fresh(), by=self.owner, severity=story.severity, now=at
            )
        if story.no_individual:
            services.set_people_involved(
                incident=self.fresh(), by=self.owner, people=[], no_individual=True, now=at
            )

    def capture(self, at: datetime) -> None:
        story = self.story
        if story.url:
            _capture(self.incident, self.owner, at, note=NOTES["captured"])
        if story.screenshot:
            _capture(
                self.incident,
                self.owner,
                at,
                screenshot=story.screenshot,
                note=NOTES["screenshot"],
            )
        if story.withdrawn_evidence:
            _capture(self.incident, self.owner, at, note=NOTES["copy"])

    def withdraw(self, at: datetime) -> None:
        """The capture of a copy turned out to be of another post: withdrawn, kept."""
        wrong = self.incident.evidence.get(note=NOTES["copy"])
        evidence_service.withdraw(
            evidence=wrong, by=self.owner, reason=self.story.withdrawn_evidence, now=at
        )

    def request(self, takedown, at: datetime) -> None:
        what, asked_of, _status, _note = takedown
        services.request_takedown(
            incident=self.incident, by=self.owner, what=what, asked_of=asked_of, now=at
        )

    def resolve(self, takedown, at: datetime) -> None:
        what, _asked_of, status, note = takedown
        pending = self.incident.takedowns.get(what=what)
        services.resolve_takedown(takedown=pending, by=self.owner, status=status, note=note, now=at)

    def draft_statement(self, at: datetime) -> None:
        services.draft_statement(
            incident=self.incident, by=self.owner, text=self.story.statement, now=at
        )

    def approve_statement(self, at: datetime) -> None:
        statement = self.incident.statements.get()
        services.approve_statement(statement=statement, by=self.second, now=at)

    def note_no_takedown(self, at: datetime) -> None:
        services.note_no_takedown(
            incident=self.fresh(), by=self.owner, note=self.story.no_takedown, now=at
        )

    def move(self, to: str, note: str, at: datetime) -> None:
        services.transition(incident=self.fresh(), to=to, user=self.owner, note=note, now=at)

    def assess(self, sheet: str, at: datetime, *, finish: bool) -> None:
        """One run per person involved, one answer every couple of minutes; an
        unfinished run stops after the first steps."""
        for person in self.fresh().people_involved.all():
            self._run_assessment(person, sheet, at, finish=finish)

    def _run_assessment(self, person: User, sheet: str, started: datetime, *, finish: bool):
        assessment = services.start_assessment(
            incident=self.incident, person=person, act=self.story.act, by=self.owner, now=started
        )
        answers = STORY["answer_sheets"][sheet]
        keys = guide.needed_keys(answers) if finish else list(answers)[:3]
        for minute, key in enumerate(keys, start=1):
            services.answer(
                assessment=assessment,
                by=self.owner,
                key=key,
                value=answers[key],
                now=started + timedelta(minutes=2 * minute),
            )
        if finish:
            services.finish_assessment(
                assessment=assessment,
                by=self.owner,
                now=started + timedelta(minutes=2 * len(keys) + 3),
            )

    def choose_track(self, at: datetime) -> None:
        services.choose_track(
            incident=self.fresh(), by=self.owner, track=Incident.Track.LEARNING, now=at
        )

    def plan(self, at: datetime) -> None:
        self.move(Status.REMEDIATION, NOTES["plan"], at)
        incident = self.fresh()
        services.fill_plan(incident=incident, by=self.owner, now=at)
        for title, owner, _note in self.story.extra_actions:
            services.add_action(
                incident=incident, by=self.owner, title=title, owner=self.users[owner], now=at
            )

    def closing_steps(self) -> list[Step]:
        """The plan's actions closed one after another; in remediation, the last
        `open_actions` of them are still open."""
        story = self.story
        if story.outcome in ACCOUNTABLE:
            closed = [_closed(spec) for spec in STORY["accountability_closed"]]
            if _reached(story, Status.REVIEW):
                # Past remediation, every action was done: the legal review too.
                done = [_closed(spec) for spec in STORY["accountability_done"]]
                closed = [early or later for early, later in zip(closed, done, strict=True)]
        else:
            closed = [_closed(spec) for spec in STORY["learning_closed"]]
            closed[1] = (ActionItem.Status.DONE, story.fix)
            if story.no_individual:
                closed[2] = (ActionItem.Status.WAIVED, NOTES["no_individual_waiver"])
            if story.waive_last:
                closed[4] = (ActionItem.Status.WAIVED, story.waive_last)
        steps: list[Step] = []
        template_count = len(closed)
        if story.stage == Status.REMEDIATION:
            closed = closed[: template_count - story.open_actions]
        for position, outcome in enumerate(closed):
            if outcome is None:
                continue
            steps.append(lambda at, p=position, o=outcome: self.close_action(p, *o, at=at))
        for title, owner, note in story.extra_actions:
            if note:
                steps.append(lambda at, t=title, o=owner, n=note: self.close_extra(t, o, n, at))
        return steps

    def close_action(self, position: int, status: str, note: str, *, at: datetime) -> None:
        action = self.incident.actions.order_by("id")[position]
        services.complete_action(action=action, by=self.owner, status=status, note=note, now=at)

    def close_extra(self, title: str, owner: str, note: str, at: datetime) -> None:
        action = self.incident.actions.get(title=title)
        services.complete_action(
            action=action, by=self.users[owner], status=ActionItem.Status.DONE, note=note, now=at
        )

    def write_review(self, at: datetime) -> None:
        summary, factors, sooner, well, check = self.story.review
        services.write_review(
            incident=self.fresh(),
            by=self.owner,
            summary=summary,
            contributing_factors=factors,
            spotted_sooner=sooner,
            went_well=well,
            effectiveness_check=check,
            now=at,
        )

    def sign_off(self, at: datetime) -> None:
        signer = self.users[self.story.signer]
        services.sign_off_review(review=self.fresh().review, by=signer, now=at)

    def close(self, at: datetime) -> None:
        note = NOTES["closed"]
        if self.story.self_reported:
            note += NOTES["self_report_thanks"]
        self.move(Status.CLOSED, note, at)

    def publish_lesson(self, at: datetime) -> None:
        title, text = self.story.lesson
        lesson = services.publish_lesson(
            incident=self.fresh(), by=self.owner, title=title, text=text, now=at
        )
        _link_lesson(lesson, self.story, self.owner, at)


def _link_lesson(lesson: Lesson, story: Story, by: User, at: datetime) -> None:
    """A lesson that fed the social media policy is linked to its current version (2.0
    added screenshots of internal tools); one became a talking point for the briefing on
    mistakes. Either is skipped when the policies or training demo did not run."""
    if story.feeds_policy:
        version = (
            PolicyVersion.objects.filter(policy__title=SOCIAL_MEDIA_POLICY, status="published")
            .order_by("-major", "-minor")
            .first()
        )
        if version is not None:
            lesson.policy_versions.add(version)
    if story.briefing_point:
        topic = Topic.objects.filter(name=BRIEFING_TOPIC).first()
        if topic is not None:
            services.add_to_briefing(
                lesson=lesson, topic=topic, by=by, text=story.briefing_point, now=at
            )


def _check_answer_sheets() -> None:
    for sheet, answers in STORY["answer_sheets"].items():
        outcome = guide.decide(answers).outcome
        if outcome != STORY["expected"].get(sheet, sheet):
            raise ValueError(f"The {sheet} answer sheet gives {outcome}.")


@transaction.atomic
def seed_demo_incidents(*, now: datetime | None = None) -> dict[str, int]:
    """Create the demo incidents and their history; stories already told are left alone."""
    now = now or timezone.now()
    _check_answer_sheets()
    users = {user.email: user for user in User.objects.filter(is_active=True)}
    stories = STORIES + HISTORY
    told = set(
        Incident.objects.filter(what_happened__in=[s.what for s in stories]).values_list(
            "what_happened", flat=True
        )
    )
    timeline = Timeline(now)
    created = 0
    for story in stories:
        if story.what in told:
            continue
        _Story(story, users, timeline, now).schedule()
        created += 1
    timeline.run()

    demo = Incident.objects.filter(what_happened__in=[s.what for s in stories])
    today = timezone.localdate(now)
    return {
        "incidents": demo.count(),
        "created": created,
        "open": demo.exclude(status=Status.CLOSED).count(),
        "overdue_actions": ActionItem.objects.filter(
            incident__in=demo, status=ActionItem.Status.OPEN, due_date__lt=today
        ).count(),
        "lessons": Lesson.objects.filter(incident__in=demo, published=True).count(),
    }
