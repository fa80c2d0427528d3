"""The demo incidents that `manage.py seed_demo` adds (never in production).

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
built from PAST below) so that the remediation dashboard has trends: a few a month,
recurring kinds of slip on the same platforms, contained in days a year ago and in hours
lately, some actions done late or still overdue, some reviews signed off late, and every
outcome of the assessment over the quarters, reckless ones included. Marcus Reid's team
(the demo manager) is involved in several, on the learning track.

Everything goes through the services with their clock set to when it happened in the
story, so references, the history, the exposure window (posted → noticed → contained →
closed), due dates and the reminders planned are what the app itself would have made.
Two pieces of evidence are small generated screenshots, uploaded like any other. An
incident whose story is already in the database is left alone, so a second run
duplicates nothing.
"""

from __future__ import annotations

import hashlib
import struct
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from unittest import mock

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from incidents import assessment as guide
from incidents import evidence as evidence_service
from incidents import services
from incidents.models import (
    ActionItem,
    Assessment,
    Evidence,
    Incident,
    Lesson,
    Takedown,
)
from people.models import User

COMMS = "comms@example.com"  # Chloe Summers, Head of Communications: owns most incidents
HR = "hr@example.com"  # Hannah Brooks, HR/legal: owns the conduct cases
DEMO_EMPLOYEE = "employee@example.com"  # Emily Carter
DEMO_MANAGER = "manager@example.com"  # Marcus Reid, Emily's line manager
BRIEFING_TOPIC = "Handling a mistake online"  # from training/demo.py, when it ran
SOCIAL_MEDIA_POLICY = "Social media policy"  # from policies/demo.py, when it ran

Status = Incident.Status
Platform = Incident.Platform
Info = Incident.Information
Severity = Incident.Severity
Outcome = Assessment.Outcome
YES, NO, UNSURE = guide.YES, guide.NO, guide.UNSURE

# One answer sheet per outcome, checked against the decision logic before use.
ANSWER_SHEETS: dict[str, dict[str, str]] = {
    Outcome.HUMAN_ERROR: {
        "intended_actions": NO,
        "impairment": NO,
        "rule_broken_knowingly": NO,
        "substitution": YES,
        "gaps": YES,
        "history": NO,
    },
    # "Unsure" at the first step is read in the person's favour: a slip (the question
    # about harm is still asked, and answered no).
    "human_error_unsure": {
        "intended_actions": UNSURE,
        "intended_harm": NO,
        "impairment": NO,
        "rule_broken_knowingly": NO,
        "substitution": UNSURE,
        "gaps": NO,
        "history": NO,
    },
    Outcome.AT_RISK: {
        "intended_actions": YES,
        "intended_harm": NO,
        "impairment": NO,
        "rule_broken_knowingly": YES,
        "rules_workable": NO,
        "substitution": YES,
        "gaps": YES,
        "history": NO,
    },
    # A known, workable rule broken where a colleague would not have: reckless.
    Outcome.RECKLESS: {
        "intended_actions": YES,
        "intended_harm": NO,
        "impairment": NO,
        "rule_broken_knowingly": YES,
        "rules_workable": YES,
        "substitution": NO,
        "gaps": NO,
        "history": NO,
    },
    # An honest slip, but the same kind again, where others would not have: at risk.
    "at_risk_again": {
        "intended_actions": NO,
        "impairment": NO,
        "rule_broken_knowingly": NO,
        "substitution": NO,
        "gaps": NO,
        "history": YES,
    },
    Outcome.DELIBERATE: {"intended_actions": YES, "intended_harm": YES},
}
EXPECTED = {"human_error_unsure": Outcome.HUMAN_ERROR, "at_risk_again": Outcome.AT_RISK}

# How each template action of a plan was closed: (status, note); the second step's note
# is the story's own fix.
LEARNING_CLOSED = (
    (ActionItem.Status.DONE, "The post is gone; nothing left in search results a day later."),
    None,  # the story's fix
    (
        ActionItem.Status.DONE,
        "Talked it through with their line manager: support, not blame. They suggested "
        "part of the fix themselves.",
    ),
    (
        ActionItem.Status.DONE,
        "Added as an anonymised example to the “Handling a mistake online” briefing.",
    ),
    (
        ActionItem.Status.DONE,
        "They tried the new step on their next posts and suggested a wording change.",
    ),
)
COPY = "A copy of the post elsewhere."
NO_INDIVIDUAL_WAIVER = "No individual involved: the cause was a tool and a process."
ACCOUNTABILITY_CLOSED = (
    (
        ActionItem.Status.DONE,
        "Screenshots, the archived thread and the platform's confirmation kept with HR; "
        "hashes recorded.",
    ),
    (
        ActionItem.Status.DONE,
        "HR case opened; the employee was told in writing and offered a companion.",
    ),
    None,  # legal review: still open
    (
        ActionItem.Status.DONE,
        "Access to company social accounts, the wiki and the shared drives suspended "
        "pending the case.",
    ),
    None,
)
# How the accountability actions left open above were closed, when a case got that far.
ACCOUNTABILITY_DONE = (
    None,
    None,
    (
        ActionItem.Status.DONE,
        "Legal reviewed the case and the evidence; no claim against the company, nothing "
        "further to report.",
    ),
    None,
    (
        ActionItem.Status.DONE,
        "Every copy found was removed or refused in writing; monitoring for reposts ended.",
    ),
)

# Offsets, in hours after the report, of each step of a story (scaled by its pace).
ASSIGN, TRIAGE, EVIDENCE, TAKEDOWN, STATEMENT, APPROVE, RESOLVE, CONTAIN = (
    0.4,
    0.6,
    0.8,
    1.0,
    1.5,
    2.5,
    5,
    8,
)
RERUN_FROM, ASSESS, CLASSIFY, REMEDIATE, ACTION_GAP = 10, 26, 27, 28, 40
REVIEW_AFTER, SIGN_OFF_AFTER, CLOSE_AFTER, LESSON_AFTER = 24, 30, 4, 20


@dataclass(frozen=True)
class Story:
    what: str  # what happened, in the reporter's words: also how a second run knows it
    reporter: str
    days_ago: float
    stage: str
    platform: str = Platform.LINKEDIN
    information: str = Info.CONFIDENTIAL
    severity: str = Severity.MEDIUM
    reach: int | None = None
    url: str = ""
    handle: str = ""
    posted_hours_before: float | None = 3
    self_reported: bool = False
    involved: tuple[str, ...] = ()
    no_individual: bool = False
    owner: str = COMMS
    outcome: str = ""  # an ANSWER_SHEETS key; empty with no individual involved
    rerun_from: str = ""  # an earlier run's answer sheet, superseded by `outcome`
    act: str = ""
    takedowns: tuple[tuple[str, str, str, str], ...] = ()  # what, asked of, status, note
    no_takedown: str = ""
    statement: str = ""
    statement_approved: bool = True
    screenshot: str = ""  # a generated PNG: "post" or "thread"
    withdrawn_evidence: str = ""  # a second capture, withdrawn with this reason
    fix: str = "The checklist for this kind of post now has the missing step."
    open_actions: int = 0  # in remediation: how many of the plan are still open
    waive_last: str = ""  # the last template action waived, with this reason
    extra_actions: tuple[tuple[str, str, str], ...] = ()  # title, owner, note when done
    review: tuple[str, str, str, str, str] = ()  # summary, factors, sooner, well, check
    signer: str = ""
    lesson: tuple[str, str] = ()
    briefing_point: str = ""  # the lesson becomes a talking point for the briefing
    feeds_policy: bool = False  # the lesson is linked to the social media policy's version
    pace: float = 1.0
    hour: int = 10
    # The history adds its own timings; the stories keep the defaults.
    contain_pace: float | None = None  # pace up to containment (`pace` when None)
    action_gap: float = ACTION_GAP  # hours (at `pace`) between one action closed and the next
    review_after: float = REVIEW_AFTER  # hours (at `pace`) from the last action to the review
    sign_off_after: float = SIGN_OFF_AFTER  # hours (at `pace`) from the review to its sign-off


STORIES: tuple[Story, ...] = (
    # --- closed -----------------------------------------------------------------------
    Story(
        what="A colleague's LinkedIn post about a busy week on the support desk has a "
        "screenshot of our ticket queue. The customer's full name and email address can be "
        "read in the first row.",
        reporter="leila.haddad@example.com",
        days_ago=345,
        stage=Status.CLOSED,
        information=Info.PERSONAL,
        severity=Severity.HIGH,
        reach=2300,
        url="https://www.linkedin.com/posts/lucia-walsh_support-team-life-activity-7140",
        handle="lucia-walsh",
        posted_hours_before=20,
        involved=("lucia.walsh@example.com",),
        outcome=Outcome.HUMAN_ERROR,
        act="Posted a screenshot of the ticket queue that showed a customer's name and email.",
        takedowns=(
            ("The LinkedIn post with the screenshot", "The author", Takedown.Status.REMOVED, ""),
        ),
        screenshot="post",
        fix="The ticket tool now has a “presentation mode” that blurs customer columns; "
        "support leads showed it to every shift.",
        review=(
            "A support specialist shared a screenshot of the ticket queue to celebrate a busy "
            "week. One row showed a customer's name and email address. The post was up for "
            "about a day and was removed within two hours of being reported.",
            "The ticket tool had no way to hide customer details on screen; screenshots of "
            "internal tools were not mentioned in the policy (1.0) or the briefing; the "
            "screenshot was cropped on a phone, where the row was too small to notice.",
            "A preview step before posting images of work, and colleagues knowing that a "
            "quick “could you check this?” to Communications is welcome.",
            "A colleague spotted it and reported it the same morning; the author removed it "
            "at once and helped write the new guidance.",
            "Three months later, no screenshots with customer data in the weekly scan of "
            "staff posts that mention the company.",
        ),
        signer="support.head@example.com",
        lesson=(
            "Screenshots of internal tools show more than you think",
            "A proud post about a busy week included a screenshot of an internal tool. "
            "Cropped on a phone, it looked harmless; at full size, a customer's name and "
            "email address could be read. Nobody meant any harm, and the person who posted "
            "it helped fix what made the mistake easy to make: the tool now has a "
            "presentation mode that hides customer details, and the social media policy now "
            "says screenshots of internal tools stay internal. Before you post a picture of "
            "your work, look at it at full size, or ask Communications to have a look.",
        ),
        feeds_policy=True,
    ),
    Story(
        what="I meant to reply to a friend's post from my own X account, but the app was "
        "still logged in to the company support account. The reply (a joke about Monday "
        "mornings) went out from @ExampleCoHelp. I deleted it after about ten minutes.",
        reporter="tariq.johansson@example.com",
        days_ago=318,
        stage=Status.CLOSED,
        platform=Platform.X,
        information=Info.OTHER,
        severity=Severity.LOW,
        reach=900,
        url="https://x.com/ExampleCoHelp/status/1734",
        handle="@ExampleCoHelp",
        posted_hours_before=0.5,
        self_reported=True,
        outcome=Outcome.HUMAN_ERROR,
        act="Replied to a personal contact from the company support account by mistake.",
        takedowns=(
            (
                "The reply from @ExampleCoHelp",
                "Deleted by the author",
                Takedown.Status.REMOVED,
                "Deleted ten minutes after posting.",
            ),
        ),
        statement="Sorry, that reply was meant for a personal account. Normal service "
        "resumes: our team is here for your questions.",
        fix="Company accounts now live in the scheduling tool only, not in the phone apps "
        "people also use privately; the phone apps were signed out.",
        review=(
            "A reply meant for a personal account went out from the company support account "
            "on X. It was harmless in content and deleted within ten minutes by the person "
            "who posted it, who reported it straight away.",
            "The company account was logged in on a personal phone next to personal "
            "accounts; switching accounts in the app is one tap and easy to miss.",
            "Nothing would have: the person noticed and reported it themselves within "
            "minutes, which is exactly what we want.",
            "Self-reported within minutes; a short, friendly holding reply was ready.",
            "No company account is signed in on a personal phone app any more (checked by "
            "the support leads).",
        ),
        signer="support.head@example.com",
        lesson=(
            "Two accounts, one phone",
            "A reply meant for a personal account went out from a company account, because "
            "both were signed in to the same app on the same phone. The person noticed, "
            "deleted it and told us within minutes: thank you. Company accounts are now used "
            "only through the scheduling tool, never in the apps on our own phones. If you "
            "run a company account, check that it is not signed in on your phone.",
        ),
    ),
    Story(
        what="Photos from the DevDays conference on LinkedIn show our talk with the "
        "internal roadmap slide in the background: the Q3 release date for the new "
        "reporting product can be read.",
        reporter=COMMS,
        days_ago=290,
        stage=Status.CLOSED,
        information=Info.PRODUCT,
        severity=Severity.HIGH,
        reach=5400,
        url="https://www.linkedin.com/posts/owen-ito_devdays-talk-activity-7152",
        handle="owen-ito",
        posted_hours_before=26,
        involved=("owen.ito@example.com",),
        outcome=Outcome.HUMAN_ERROR,
        act="Posted conference photos in which the internal roadmap slide could be read.",
        takedowns=(
            ("The speaker's own LinkedIn post", "The author", Takedown.Status.REMOVED, ""),
            (
                "The organiser's photo gallery",
                "DevDays organisers",
                Takedown.Status.REFUSED,
                "They keep galleries as published; the slide is unreadable at gallery size.",
            ),
        ),
        fix="Talks now use a deck built from the public template; the internal roadmap "
        "deck has a CONFIDENTIAL watermark on every slide.",
        review=(
            "A speaker shared photos of their conference talk. An internal roadmap slide, "
            "shown by mistake during questions, was readable in one photo, including a "
            "release quarter that had not been announced.",
            "The talk was given from the internal deck rather than a public one; nothing on "
            "the slide said it was confidential; photos are taken by the audience anyway.",
            "A public deck template for talks, and a rehearsal with Communications before "
            "external talks.",
            "Communications' monitoring found it within a day; the speaker removed the post "
            "within the hour.",
            "Every external talk since then used the public template (five talks).",
        ),
        signer="engineering.head@example.com",
        lesson=(
            "Check the background before you post a photo",
            "Photos from a conference talk showed an internal slide with a release date that "
            "had not been announced. The speaker had no reason to think twice: the slide was "
            "only on screen for a moment. Talks now use a public deck template, and internal "
            "decks are marked confidential on every slide. Before you post a photo from work "
            "(a talk, a desk, a whiteboard), look at what is behind you.",
        ),
        briefing_point="A roadmap slide in a conference photo: check what is behind you "
        "before posting, and give external talks from the public deck template.",
        pace=1.5,
    ),
    Story(
        what="A colleague reshared a meme mocking an accent on X. His profile says he works "
        "here and several customers follow him.",
        reporter="ruby.walsh@example.com",
        days_ago=262,
        stage=Status.CLOSED,
        platform=Platform.X,
        information=Info.OFFENSIVE,
        severity=Severity.MEDIUM,
        reach=1200,
        url="https://x.com/gcosta_sales/status/1750",
        handle="@gcosta_sales",
        posted_hours_before=30,
        involved=("george.costa@example.com",),
        owner=HR,
        rerun_from=Outcome.HUMAN_ERROR,
        outcome=Outcome.AT_RISK,
        act="Reshared an offensive meme from a personal account that names the company.",
        takedowns=(("The reshare", "The author", Takedown.Status.REMOVED, ""),),
        fix="The briefing now says plainly that a reshare is a post, with two examples.",
        review=(
            "An account manager reshared a meme that mocked an accent, from a personal "
            "account that says where he works. Two colleagues raised it; he removed it the "
            "same day and apologised to the team.",
            "He knew the policy asks us to be respectful, but believed a reshare was not his "
            "own post. The briefing did not cover reshares, and the policy (1.0) did not "
            "either. The first assessment missed that he knew the rule; it was re-run.",
            "Reshares covered in the briefing; the team talking about where the line is.",
            "Colleagues felt able to report it; he took it down at once.",
            "The Sales team's briefing in the spring covered reshares; no repeat since.",
        ),
        signer=DEMO_MANAGER,
    ),
    Story(
        what="On an industry podcast released this morning, one of our analysts mentioned "
        "that quarterly revenue was “just over 41 million”. The results are only published "
        "next week.",
        reporter=COMMS,
        days_ago=231,
        stage=Status.CLOSED,
        platform=Platform.OTHER,
        information=Info.FINANCIAL,
        severity=Severity.CRITICAL,
        reach=8000,
        url="https://podcasts.example.net/fintalk/episode-112",
        handle="FinTalk podcast",
        posted_hours_before=4,
        involved=("jonas.rossi@example.com",),
        outcome=Outcome.HUMAN_ERROR,
        act="Said an unpublished revenue figure on a podcast.",
        takedowns=(
            (
                "The revenue figure in episode 112",
                "FinTalk producers",
                Takedown.Status.REMOVED,
                "They cut the sentence and re-published the episode within three hours.",
            ),
        ),
        statement="We publish our quarterly results on the date announced on our investor "
        "page. Figures mentioned elsewhere before then are not confirmed.",
        fix="Finance staff invited to podcasts or panels now get a one-page brief from "
        "Communications on what is public and what is not.",
        review=(
            "An analyst, invited to talk about the industry, quoted the quarter's revenue a "
            "week before the results. The episode was edited within three hours.",
            "The figure was on every internal dashboard, so it felt public; nobody briefed "
            "the analyst before the recording; the press policy did not mention podcasts.",
            "A brief from Communications before any external appearance.",
            "Found within four hours of release; the producers cooperated at once; the "
            "holding statement was approved within the hour.",
            "All external appearances by Finance since then were briefed first.",
        ),
        signer="finance.head@example.com",
        pace=0.8,
    ),
    Story(
        what="I posted a photo of our team celebrating the Northwind deal on LinkedIn. The "
        "customer's logo is on the screen behind us, and they have not agreed to be named "
        "yet. I have taken the post down.",
        reporter=DEMO_EMPLOYEE,
        days_ago=201,
        stage=Status.CLOSED,
        information=Info.CONFIDENTIAL,
        severity=Severity.MEDIUM,
        reach=650,
        url="https://www.linkedin.com/posts/emily-carter_teamwork-activity-7175",
        handle="emily-carter",
        posted_hours_before=2,
        self_reported=True,
        outcome="human_error_unsure",
        act="Posted a team photo in which a customer's logo could be seen.",
        takedowns=(
            (
                "The LinkedIn photo",
                "Removed by the author",
                Takedown.Status.REMOVED,
                "Removed before reporting.",
            ),
        ),
        fix="The deal-celebration checklist now starts with “Has the customer agreed to be "
        "named?”, with the list of customers who have.",
        extra_actions=(
            (
                "Share the customer-naming list with the Sales team",
                DEMO_MANAGER,
                "Shared in the team meeting and pinned in the team channel.",
            ),
        ),
        review=(
            "A team celebration photo showed a customer's logo before the customer had "
            "agreed to be named. The person who posted it removed it and reported it "
            "herself within two hours.",
            "Sales had no easy way to know which customers may be named; celebrating deals "
            "in public is encouraged, so the situation comes up often.",
            "A quick check against the list of customers who agreed to be named.",
            "Self-reported and removed within two hours: exactly the behaviour we want.",
            "The list is used: three deal posts since, all checked first.",
        ),
        signer="sales.head@example.com",
    ),
    Story(
        what="The company LinkedIn page published a draft post at 06:00 with “[INSERT PRICE]” "
        "in the middle of the announcement. Nobody scheduled it for today.",
        reporter="olivia.hughes@example.com",
        days_ago=176,
        stage=Status.CLOSED,
        information=Info.OTHER,
        severity=Severity.LOW,
        reach=3100,
        url="https://www.linkedin.com/company/example-co/posts/7180",
        handle="Example Co (company page)",
        posted_hours_before=3,
        no_individual=True,
        takedowns=(
            (
                "The draft announcement",
                "Communications (company page)",
                Takedown.Status.REMOVED,
                "",
            ),
        ),
        statement="This morning a draft of an upcoming announcement went out early by "
        "mistake. The full announcement follows soon.",
        fix="Drafts in the scheduling tool now need a second person's approval before they "
        "can be given a date; the vendor fixed the default time bug.",
        waive_last=NO_INDIVIDUAL_WAIVER,
        review=(
            "A draft post was published by the scheduling tool at a default time nobody had "
            "set. It was removed within three hours of publication.",
            "The tool gave new drafts a default publication time; drafts had no approval "
            "step; nobody checks the page before 9:00.",
            "An alert when the company page publishes outside the planned calendar.",
            "Found by a Communications officer on her way in; removed in minutes.",
            "No unplanned post since; the vendor confirmed the fix.",
        ),
        signer="leader@example.com",
    ),
    Story(
        what="I answered a question on a public developer forum and pasted a configuration "
        "snippet. I realised later that it contains the hostname of our internal build "
        "server. I have edited the answer.",
        reporter="kenji.rossi@example.com",
        days_ago=150,
        stage=Status.CLOSED,
        platform=Platform.FORUM,
        information=Info.CONFIDENTIAL,
        severity=Severity.MEDIUM,
        reach=400,
        url="https://forum.devtalk.example.org/t/ci-cache-keys/4411",
        handle="kenji_r",
        posted_hours_before=28,
        self_reported=True,
        outcome=Outcome.HUMAN_ERROR,
        act="Pasted a configuration snippet with an internal hostname on a public forum.",
        takedowns=(
            (
                "The hostname in the forum answer",
                "Edited by the author",
                Takedown.Status.NOT_NEEDED,
                "Already edited by the author; the forum keeps no public edit history.",
            ),
        ),
        fix="Security added the internal domain to the secret scanner used on the "
        "engineering laptops; it warns when the name is pasted into a browser form.",
        review=(
            "An engineer helping others on a public forum pasted a snippet that included an "
            "internal hostname. He noticed the next day, edited it and reported it.",
            "Helping on public forums is encouraged; examples are usually copied from real "
            "configuration; nothing warned him.",
            "A warning from the secret scanner when internal names are pasted.",
            "Self-reported the next day; security confirmed the host is not reachable "
            "from outside.",
            "The scanner caught two similar pastes in the first month, before posting.",
        ),
        signer="engineering.head@example.com",
    ),
    Story(
        what="An Instagram account called “examplecocareers” is posting our job adverts "
        "with a different application link. It is not ours.",
        reporter="freya.silva@example.com",
        days_ago=122,
        stage=Status.CLOSED,
        platform=Platform.INSTAGRAM,
        information=Info.OTHER,
        severity=Severity.HIGH,
        reach=1500,
        url="https://www.instagram.com/examplecocareers/",
        handle="@examplecocareers",
        posted_hours_before=72,
        no_individual=True,
        takedowns=(
            (
                "The impersonating account",
                "Instagram (impersonation report)",
                Takedown.Status.REMOVED,
                "Instagram removed the account after four days.",
            ),
        ),
        statement="Our only careers account is @exampleco. Please apply only through the "
        "careers page on our website.",
        fix="The careers page lists our official accounts; Communications checks for "
        "look-alike accounts each month.",
        waive_last=NO_INDIVIDUAL_WAIVER,
        review=(
            "An account impersonating our careers page posted our job adverts with a "
            "phishing link for about three days before it was reported.",
            "Nobody was looking for look-alike accounts; the careers page did not list our "
            "official accounts.",
            "A monthly search for look-alike accounts, and applicants knowing where to check.",
            "An HR advisor recognised it quickly; the platform removed it.",
            "Two monthly checks done; nothing found.",
        ),
        signer="leader@example.com",
        pace=2.5,
    ),
    Story(
        what="A TikTok video from our office (“a week in sales”) shows the whiteboard with "
        "this quarter's pipeline: customer names and deal sizes.",
        reporter=COMMS,
        days_ago=97,
        stage=Status.CLOSED,
        platform=Platform.TIKTOK,
        information=Info.CONFIDENTIAL,
        severity=Severity.HIGH,
        reach=12000,
        url="https://www.tiktok.com/@jacknovak/video/7301",
        handle="@jacknovak",
        posted_hours_before=9,
        involved=("jack.novak@example.com",),
        outcome=Outcome.HUMAN_ERROR,
        act="Filmed a video in the office with the pipeline whiteboard in view.",
        takedowns=(("The TikTok video", "The author", Takedown.Status.REMOVED, ""),),
        fix="The pipeline moved from the whiteboard to a screen that locks; the office has "
        "a “filming corner” with nothing confidential in view.",
        review=(
            "A light-hearted video about working in sales was filmed in front of the "
            "pipeline whiteboard. Customer names and deal sizes could be read.",
            "The whiteboard was in the busiest part of the office; filming at work is "
            "encouraged by our employer-brand campaign; nobody had thought about the "
            "background.",
            "A place to film with nothing confidential in view.",
            "Removed within an hour of Communications asking.",
            "Three videos filmed since, all in the filming corner.",
        ),
        signer=DEMO_MANAGER,
    ),
    Story(
        what="In a public Facebook group for customer service workers, one of our support "
        "specialists vented about “a customer from a big retailer in Leeds” with enough "
        "detail to identify them.",
        reporter="kofi.costa@example.com",
        days_ago=74,
        stage=Status.CLOSED,
        platform=Platform.FACEBOOK,
        information=Info.PERSONAL,
        severity=Severity.MEDIUM,
        reach=300,
        url="https://www.facebook.com/groups/servicedesklife/posts/5521",
        handle="Anya C.",
        posted_hours_before=40,
        involved=("anya.campbell@example.com",),
        outcome=Outcome.HUMAN_ERROR,
        act="Described a difficult customer in a public group in a way that identifies them.",
        takedowns=(("The Facebook group post", "The author", Takedown.Status.REMOVED, ""),),
        fix="Support now has a weekly “tough calls” debrief, so there is a place to talk "
        "about hard days inside the team.",
        waive_last="She preferred not to take part in designing the fix; that is her choice.",
        review=(
            "After a difficult call, a support specialist described it in a public group. "
            "The customer could be identified from the details.",
            "Hard calls had no outlet inside the team; the group felt private but is "
            "public; nothing in the briefing covered groups.",
            "A team debrief for difficult calls; groups covered in the briefing.",
            "A colleague noticed it and reported it kindly; the post came down at once.",
            "The weekly debrief is well attended; no repeat.",
        ),
        signer="support.head@example.com",
    ),
    # --- in review ------------------------------------------------------------------------
    Story(
        what="I posted a photo of the new reception on our Instagram, and the visitor "
        "sign-in sheet on the desk is readable: names and companies of today's visitors.",
        reporter="amelia.dubois@example.com",
        days_ago=62,
        stage=Status.REVIEW,
        platform=Platform.INSTAGRAM,
        information=Info.PERSONAL,
        severity=Severity.MEDIUM,
        reach=2100,
        url="https://www.instagram.com/p/exampleco-reception",
        handle="@exampleco",
        posted_hours_before=5,
        self_reported=True,
        outcome=Outcome.HUMAN_ERROR,
        act="Posted a reception photo in which the visitor sign-in sheet could be read.",
        takedowns=(("The Instagram photo", "Communications", Takedown.Status.REMOVED, ""),),
        fix="Reception uses a tablet sign-in now; the paper sheet is gone.",
        review=(
            "A photo of the new reception on the company Instagram showed the visitor "
            "sign-in sheet. The person who posted it saw it the same afternoon and reported "
            "it.",
            "Visitor names were on paper on the desk; photos of the office are part of the "
            "employer-brand plan.",
            "A photo check for company account posts; no personal data on open desks.",
            "Self-reported within hours; visitors were told and nobody objected.",
            "",
        ),
    ),
    Story(
        what="A blog post by one of our engineers about scaling the database names the "
        "customer whose traffic caused the outage in March.",
        reporter="mateo.nguyen@example.com",
        days_ago=55,
        stage=Status.REVIEW,
        platform=Platform.BLOG,
        information=Info.CONFIDENTIAL,
        severity=Severity.MEDIUM,
        reach=4200,
        url="https://blog.saoirse.dev/scaling-postgres-lessons",
        handle="saoirse.dev",
        posted_hours_before=50,
        involved=("saoirse.byrne@example.com",),
        outcome=Outcome.HUMAN_ERROR,
        act="Named a customer in a personal blog post about an outage.",
        takedowns=(
            (
                "The customer's name in the blog post",
                "The author",
                Takedown.Status.REMOVED,
                "Edited to “a large customer”.",
            ),
        ),
        fix="Engineering's blogging guide has a “before you publish” section; posts about "
        "incidents go past the post-mortem owner.",
        review=(
            "A good technical blog post about an outage named the customer involved. The "
            "name was edited out the same day.",
            "Post-mortems inside the company name customers freely; the blog post was "
            "written from the post-mortem; nobody reviews personal technical posts.",
            "Running incident write-ups past the post-mortem owner before publishing.",
            "The author's team lead spotted it and the author edited it within the hour.",
            "Two technical posts since were checked first.",
        ),
        signer="engineering.head@example.com",
    ),
    Story(
        what="Under a partner's LinkedIn post, one of our account managers commented “can't "
        "wait to announce what we're building together next month!”. The partnership is "
        "not public and is under NDA.",
        reporter=COMMS,
        days_ago=47,
        stage=Status.REVIEW,
        information=Info.CONFIDENTIAL,
        severity=Severity.HIGH,
        reach=700,
        url="https://www.linkedin.com/feed/update/urn:li:activity:7250",
        handle="lily-haddad",
        posted_hours_before=6,
        involved=("lily.haddad@example.com",),
        outcome=Outcome.HUMAN_ERROR,
        act="Hinted at a partnership under NDA in a public comment.",
        takedowns=(("The comment", "The author", Takedown.Status.REMOVED, ""),),
        fix="Deals under NDA are flagged in the CRM with “do not mention in public”.",
        review=(
            "An enthusiastic comment under a partner's post hinted at a partnership that "
            "is still under NDA. The partner noticed first and asked us about it.",
            "Nothing in our tools showed that the deal was under NDA; the partner's own "
            "post invited comments.",
            "A visible NDA flag on deals; partners' posts are a common place for slips.",
            "Removed within minutes; the partner was relaxed about it.",
            "",
        ),
        pace=0.8,
    ),
    # --- in remediation -------------------------------------------------------------------
    Story(
        what="A Reddit thread posted from an anonymous account has our internal salary "
        "bands and a screenshot of the leadership memo about the reorganisation. Earlier "
        "posts from the same account talk about “making them pay” for a missed promotion.",
        reporter="nora.ward@example.com",
        days_ago=52,
        stage=Status.REMEDIATION,
        platform=Platform.REDDIT,
        information=Info.CONFIDENTIAL,
        severity=Severity.CRITICAL,
        reach=48000,
        url="https://www.reddit.com/r/cscareerquestions/comments/1x7aq",
        handle="u/throwaway_payback",
        posted_hours_before=14,
        involved=("yusuf.patel@example.com",),
        owner=HR,
        outcome=Outcome.DELIBERATE,
        act="Published internal salary bands and a leadership memo on purpose.",
        takedowns=(
            (
                "The Reddit thread",
                "Reddit (content policy report)",
                Takedown.Status.REMOVED,
                "Removed by Reddit's safety team.",
            ),
            (
                "A copy of the memo on a mirror forum",
                "Forum administrators",
                Takedown.Status.REFUSED,
                "They refuse without a court order; legal is considering it.",
            ),
        ),
        statement="We are aware of a post sharing internal documents. We are looking into "
        "it and will not comment further while we do.",
        screenshot="thread",
        withdrawn_evidence="Captured from the wrong thread (a similar post about another company).",
        pace=0.6,
    ),
    Story(
        what="Replying to a customer on our X support account, a colleague pasted the wrong "
        "template: it contains a colleague's personal mobile number.",
        reporter="support.head@example.com",
        days_ago=38,
        stage=Status.REMEDIATION,
        platform=Platform.X,
        information=Info.PERSONAL,
        severity=Severity.MEDIUM,
        reach=150,
        url="https://x.com/ExampleCoHelp/status/1850",
        handle="@ExampleCoHelp",
        posted_hours_before=1,
        involved=("dev.novak@example.com",),
        outcome=Outcome.HUMAN_ERROR,
        act="Pasted a template with a colleague's personal number into a public reply.",
        takedowns=(("The reply on @ExampleCoHelp", "Communications", Takedown.Status.REMOVED, ""),),
        open_actions=3,
    ),
    Story(
        what="A LinkedIn post by one of our account managers (“best quarter ever!”) has a "
        "screenshot of the CRM dashboard with customer names and deal values.",
        reporter="grace.campbell@example.com",
        days_ago=31,
        stage=Status.REMEDIATION,
        information=Info.CONFIDENTIAL,
        severity=Severity.HIGH,
        reach=3300,
        url="https://www.linkedin.com/posts/samir-mensah_best-quarter-activity-7261",
        handle="samir-mensah",
        posted_hours_before=18,
        involved=("samir.mensah@example.com",),
        outcome=Outcome.AT_RISK,
        act="Posted a CRM screenshot with customer names and deal values.",
        takedowns=(("The LinkedIn post", "The author", Takedown.Status.REMOVED, ""),),
        open_actions=2,
        extra_actions=(
            (
                "Talk through screenshots of internal tools with the Sales team",
                DEMO_MANAGER,
                "",
            ),
        ),
    ),
    Story(
        what="I filmed an office tour for TikTok and only noticed afterwards that my second "
        "screen shows the code name and the launch date of the next product.",
        reporter="hana.silva@example.com",
        days_ago=24,
        stage=Status.REMEDIATION,
        platform=Platform.TIKTOK,
        information=Info.PRODUCT,
        severity=Severity.HIGH,
        reach=5100,
        url="https://www.tiktok.com/@hanacodes/video/7322",
        handle="@hanacodes",
        posted_hours_before=20,
        self_reported=True,
        outcome=Outcome.HUMAN_ERROR,
        act="Filmed an office tour with an unreleased product's code name on screen.",
        takedowns=(("The TikTok video", "The author", Takedown.Status.REMOVED, ""),),
        open_actions=4,
    ),
    Story(
        what="One of our finance analysts congratulated a partner on X on “renewing with us "
        "for three more years”. The renewal is confidential until the partner announces it.",
        reporter=COMMS,
        days_ago=16,
        stage=Status.REMEDIATION,
        platform=Platform.X,
        information=Info.CONFIDENTIAL,
        severity=Severity.LOW,
        reach=400,
        url="https://x.com/sanaward/status/1861",
        handle="@sanaward",
        posted_hours_before=2,
        involved=("sana.ward@example.com",),
        outcome=Outcome.HUMAN_ERROR,
        act="Congratulated a partner in public on a renewal that was still confidential.",
        takedowns=(("The post on X", "The author", Takedown.Status.REMOVED, ""),),
        open_actions=4,
    ),
    Story(
        what="A quote from our internal support chat (“this release is a mess, brace "
        "yourselves”) was posted in a public Discord community for our product.",
        reporter="astrid.kaur@example.com",
        days_ago=9,
        stage=Status.REMEDIATION,
        platform=Platform.OTHER,
        information=Info.CONFIDENTIAL,
        severity=Severity.MEDIUM,
        reach=900,
        url="https://discord.com/channels/example-community/general",
        handle="bruno_m",
        posted_hours_before=10,
        involved=("bruno.mensah@example.com",),
        outcome=Outcome.HUMAN_ERROR,
        act="Shared a quote from an internal chat in a public community.",
        takedowns=(("The Discord message", "Community moderators", Takedown.Status.REMOVED, ""),),
        open_actions=4,
        pace=0.7,
    ),
    # --- classified -----------------------------------------------------------------------
    Story(
        what="A Mastodon post by a finance analyst shows their desk; a printed customer "
        "contract with prices is readable next to the keyboard.",
        reporter=COMMS,
        days_ago=7,
        stage=Status.CLASSIFIED,
        platform=Platform.MASTODON,
        information=Info.CONFIDENTIAL,
        severity=Severity.MEDIUM,
        reach=250,
        url="https://mastodon.social/@ciaran_n/1133",
        handle="@ciaran_n@mastodon.social",
        posted_hours_before=30,
        involved=("ciaran.nguyen@example.com",),
        outcome=Outcome.HUMAN_ERROR,
        act="Posted a desk photo with a printed customer contract in view.",
        takedowns=(("The Mastodon post", "The author", Takedown.Status.REMOVED, ""),),
    ),
    Story(
        what="A YouTube review of a competitor's product by one of our sales people uses our "
        "logo in the thumbnail and says “we at Example Co think…”.",
        reporter="sales.head@example.com",
        days_ago=6,
        stage=Status.CLASSIFIED,
        platform=Platform.YOUTUBE,
        information=Info.OTHER,
        severity=Severity.MEDIUM,
        reach=2600,
        url="https://www.youtube.com/watch?v=hj-review-01",
        handle="Harry J Reviews",
        posted_hours_before=60,
        involved=("harry.johansson@example.com",),
        outcome=Outcome.AT_RISK,
        act="Used the company logo and spoke for the company in a personal video.",
        takedowns=(
            (
                "The thumbnail and the opening line",
                "The author",
                Takedown.Status.REMOVED,
                "Thumbnail replaced; the opening re-recorded.",
            ),
        ),
    ),
    # --- contained ------------------------------------------------------------------------
    Story(
        what="Our Facebook page replied to a complaint with a template that still had "
        "another customer's order number and postcode in it.",
        reporter="support.head@example.com",
        days_ago=5,
        stage=Status.CONTAINED,
        platform=Platform.FACEBOOK,
        information=Info.PERSONAL,
        severity=Severity.HIGH,
        reach=600,
        url="https://www.facebook.com/exampleco/posts/8810",
        handle="Example Co (page)",
        posted_hours_before=2,
        involved=("leila.haddad@example.com",),
        outcome=Outcome.HUMAN_ERROR,  # started, not finished
        act="Replied from the company page with a template holding another customer's details.",
        takedowns=(("The reply on the page", "Communications", Takedown.Status.REMOVED, ""),),
        statement="We replied to a message with details that were not meant for it. We "
        "removed the reply and have contacted the customer concerned.",
    ),
    Story(
        what="A job advert our engineering lead posted on a developer forum lists features "
        "of the product we have not announced yet.",
        reporter=COMMS,
        days_ago=4,
        stage=Status.CONTAINED,
        platform=Platform.FORUM,
        information=Info.PRODUCT,
        severity=Severity.LOW,
        reach=350,
        url="https://forum.devtalk.example.org/jobs/2219",
        handle="mateo_n",
        posted_hours_before=8,
        involved=("mateo.nguyen@example.com",),
        no_takedown="The author edited the advert within the hour; nothing is left to take "
        "down and the forum shows no history.",
    ),
    Story(
        what="I uploaded my meetup slides to SlideShare; the architecture diagram on slide "
        "14 has our internal hostnames and the VPN address range.",
        reporter="felix.murphy@example.com",
        days_ago=3,
        stage=Status.CONTAINED,
        platform=Platform.OTHER,
        information=Info.CONFIDENTIAL,
        severity=Severity.MEDIUM,
        reach=180,
        url="https://www.slideshare.net/felixm/scaling-queues",
        handle="felixm",
        posted_hours_before=26,
        self_reported=True,
        takedowns=(
            (
                "Slide 14 of the deck",
                "The author (re-uploaded)",
                Takedown.Status.REMOVED,
                "Re-uploaded without slide 14.",
            ),
        ),
    ),
    # --- in triage ------------------------------------------------------------------------
    Story(
        what="A support colleague reshared a meme on LinkedIn that makes fun of a religious "
        "holiday. Their headline says they work in our support team.",
        reporter="tariq.johansson@example.com",
        days_ago=2,
        stage=Status.TRIAGE,
        information=Info.OFFENSIVE,
        severity=Severity.MEDIUM,
        reach=800,
        url="https://www.linkedin.com/posts/astrid-kaur_activity-7290",
        handle="astrid-kaur",
        posted_hours_before=16,
        involved=("astrid.kaur@example.com",),
        owner=HR,
        takedowns=(("The reshare", "The author", "", ""),),
        statement="We do not share the views in a post reshared by one of our employees; "
        "we are talking to them.",
        statement_approved=False,
    ),
    Story(
        what="A review on a job review site says “the Berlin office closes in March, they "
        "just haven't told anyone”. The closure has not been announced.",
        reporter=COMMS,
        days_ago=1.5,
        stage=Status.TRIAGE,
        platform=Platform.OTHER,
        information=Info.CONFIDENTIAL,
        severity=Severity.HIGH,
        reach=1000,
        url="https://jobreviews.example.com/example-co/reviews/9912",
        handle="Anonymous employee",
        posted_hours_before=48,
        takedowns=(
            (
                "The review mentioning the Berlin office",
                "The review site (moderation request)",
                "",
                "",
            ),
        ),
    ),
    Story(
        what="I pasted a customer's meeting link, passcode included, into a LinkedIn "
        "comment instead of our chat. I deleted the comment after a few minutes.",
        reporter="zara.price@example.com",
        days_ago=1,
        stage=Status.TRIAGE,
        information=Info.PERSONAL,
        severity=Severity.MEDIUM,
        reach=60,
        url="https://www.linkedin.com/feed/update/urn:li:activity:7301",
        handle="zara-price",
        posted_hours_before=0.2,
        self_reported=True,
        takedowns=(
            (
                "The comment with the meeting link",
                "Deleted by the author",
                Takedown.Status.REMOVED,
                "The customer also changed the passcode.",
            ),
        ),
    ),
    # --- reported, waiting for triage -----------------------------------------------------
    Story(
        what="A colleague's Instagram story shows the new hardware prototype on their desk, "
        "with its label readable.",
        reporter="maya.dubois@example.com",
        days_ago=0.5,
        stage=Status.REPORTED,
        platform=Platform.INSTAGRAM,
        information=Info.PRODUCT,
        reach=300,
        handle="@luca.g",
        posted_hours_before=5,
        involved=("luca.gallagher@example.com",),
    ),
    Story(
        what="I replied to a prospect's post from the company LinkedIn page instead of my "
        "own profile, and the reply mentions our discount for them.",
        reporter="ella.kaur@example.com",
        days_ago=0.2,
        stage=Status.REPORTED,
        information=Info.FINANCIAL,
        reach=100,
        url="https://www.linkedin.com/feed/update/urn:li:activity:7310",
        handle="Example Co (company page)",
        posted_hours_before=0.5,
        self_reported=True,
    ),
    Story(
        what="A customer posted a screenshot of our email reply on X. The quoted thread "
        "below it includes an internal note about their account (“high churn risk”).",
        reporter="ibrahim.bennett@example.com",
        days_ago=0.04,
        stage=Status.REPORTED,
        platform=Platform.X,
        information=Info.CONFIDENTIAL,
        reach=2000,
        url="https://x.com/angrycustomer42/status/1870",
        handle="@angrycustomer42",
        posted_hours_before=1,
    ),
)

# --- the year behind the stories ---------------------------------------------------------
# About forty more incidents over the last twelve months, so that the remediation
# dashboard has trends: two to five a month, on many platforms and kinds of information,
# the same kind of slip on the same platform more than once, most closed, contained and
# closed more quickly as the year went on, some actions done late and some reviews
# signed off late, and a few still open with overdue actions. People from every
# department are involved, Marcus Reid's sales team among them (he signs off their
# reviews). They are told like the stories, through the services with the clock set.


@dataclass(frozen=True)
class Scenario:
    """A kind of slip that happens more than once: what, where, and how it was fixed."""

    platform: str
    information: str
    severity: str
    reach: int
    what: str  # "{detail}" makes each telling its own
    act: str
    takedown: tuple[str, str]  # what is taken down, and who is asked
    fix: str
    review: tuple[str, str, str, str, str]  # summary, factors, sooner, well, check
    statement: str = ""


SCENARIOS: dict[str, Scenario] = {
    "crm": Scenario(
        Platform.LINKEDIN,
        Info.CONFIDENTIAL,
        Severity.HIGH,
        1800,
        "A LinkedIn post celebrating {detail} includes a screenshot of the CRM pipeline: "
        "customer names and deal values can be read.",
        "Posted a CRM screenshot with customer names and deal values.",
        ("The LinkedIn post", "The author"),
        "The CRM's presentation view hides customer names and values; the team was shown "
        "how to use it for screenshots.",
        (
            "A proud post about the team's results included a screenshot of the CRM "
            "pipeline with customer names and deal values readable. It was removed the "
            "same day.",
            "A CRM screenshot is the quickest way to show results; nothing on screen marks "
            "the pipeline as confidential; the team celebrates wins in public.",
            "A presentation view in the CRM, and a word about it in the weekly sales meeting.",
            "Removed quickly; the author asked how to share good news safely.",
            "No CRM screenshots in the monthly scan of staff posts since.",
        ),
    ),
    "support-reply": Scenario(
        Platform.X,
        Info.PERSONAL,
        Severity.MEDIUM,
        300,
        "A reply from @ExampleCoHelp about {detail} quoted the customer's order number and "
        "home town in public instead of moving to a private message.",
        "Replied in public with a customer's order details.",
        ("The reply on @ExampleCoHelp", "Communications"),
        "Support replies start with a move to private messages; the tool warns when a "
        "public reply contains an order number.",
        (
            "A public reply from the support account included a customer's order details. "
            "It was deleted within the hour and the customer was contacted.",
            "Public and private replies look alike in the support tool; the customer asked "
            "in public; replies are written under time pressure.",
            "A warning in the tool when a public reply contains an order number.",
            "The support lead saw it in the queue review and it was removed at once.",
            "No order numbers in public replies in the weekly sample since.",
        ),
        statement="We removed a reply that included a customer's order details and have "
        "apologised to them directly.",
    ),
    "roadmap": Scenario(
        Platform.LINKEDIN,
        Info.PRODUCT,
        Severity.HIGH,
        2500,
        "Photos from {detail} on LinkedIn show a slide from the internal roadmap deck with "
        "the next release's features.",
        "Shared photos of a talk in which an internal roadmap slide could be read.",
        ("The photos on LinkedIn", "The author"),
        "External talks use the public deck template; Communications goes through every "
        "deck with the speaker beforehand.",
        (
            "Photos of a talk showed an internal roadmap slide, readable at full size. They "
            "were replaced with cropped ones the same day.",
            "Internal and public decks look alike; the slide came up during questions; the "
            "photos were posted straight from a phone.",
            "A deck check before every external talk; photos looked at full size first.",
            "The speaker replaced the photos within an hour of being asked.",
            "Every external talk since used the public template.",
        ),
    ),
    "figures": Scenario(
        Platform.OTHER,
        Info.FINANCIAL,
        Severity.CRITICAL,
        6000,
        "On {detail}, a member of the finance team mentioned this quarter's margin before "
        "the results were published.",
        "Mentioned an unpublished financial figure in public.",
        ("The recording with the figure", "The organisers"),
        "Everyone speaking in public during the quiet period gets a one-page brief from "
        "Investor Relations on what may be said.",
        (
            "An unpublished margin figure was mentioned in public a few weeks before the "
            "results. The organisers cut it from the recording the same day.",
            "Nobody had told the speaker that the quiet period had started; the figure was "
            "already in an internal newsletter.",
            "A quiet-period brief for everyone who speaks in public, sent automatically.",
            "The organisers were quick and understanding; Investor Relations was told "
            "within the hour.",
            "No figures mentioned early at the two results since.",
        ),
    ),
    "reshare": Scenario(
        Platform.X,
        Info.OFFENSIVE,
        Severity.MEDIUM,
        900,
        "A colleague whose X profile names the company reshared {detail}. Several "
        "customers follow the account.",
        "Reshared offensive content from an account that names the company.",
        ("The reshare", "The author"),
        "The briefing covers reshares and quote posts with examples; the policy says a "
        "reshare is a post.",
        (
            "An offensive post was reshared from an account that says where its owner "
            "works. Colleagues raised it; it was removed the same day.",
            "A reshare feels like someone else's post; the profile names the company; the "
            "post was shared late in the evening.",
            "Talking about reshares in the briefing, with real examples.",
            "Colleagues felt able to report it.",
            "Reshares are part of every briefing since.",
        ),
    ),
    "office-photo": Scenario(
        Platform.INSTAGRAM,
        Info.CONFIDENTIAL,
        Severity.MEDIUM,
        400,
        "An Instagram post of {detail} shows a screen in the background with an internal "
        "dashboard readable.",
        "Posted an office photo with an internal screen readable.",
        ("The Instagram post", "The author"),
        "Screens in the open areas lock after a minute; the office photo guide says to "
        "check the background.",
        (
            "A cheerful office photo showed an internal dashboard on a screen behind. The "
            "author replaced it with a cropped photo.",
            "Screens stay unlocked in open areas; photos are taken quickly at team moments.",
            "Locking screens, and a look at the background before posting.",
            "Spotted and fixed within hours.",
            "Screen locks checked by IT in every office.",
        ),
    ),
    "forum-config": Scenario(
        Platform.FORUM,
        Info.CONFIDENTIAL,
        Severity.MEDIUM,
        500,
        "A post on a developer forum asking about {detail} includes a configuration file "
        "with our internal hostnames and a test API key.",
        "Posted a configuration file with internal hostnames and a key on a public forum.",
        ("The forum post", "Forum moderators"),
        "The key was rotated; public questions go through a snippet scrubber in the "
        "developer tools first.",
        (
            "A public question on a developer forum included internal hostnames and a test "
            "key. The key was rotated and the moderators removed the file.",
            "Asking in public is often the quickest help; configuration files mix secrets "
            "with settings; nothing checks a snippet before it leaves.",
            "A scrubber that removes hostnames and keys from snippets.",
            "The security team rotated the key within the hour.",
            "The secret scanner found nothing in public posts since.",
        ),
    ),
    "blog": Scenario(
        Platform.BLOG,
        Info.CONFIDENTIAL,
        Severity.MEDIUM,
        3000,
        "A personal blog post about {detail} names the customer whose project it was; the "
        "customer has not agreed to be named.",
        "Named a customer in a personal blog post without their agreement.",
        ("The customer's name in the post", "The author"),
        "Technical posts about customer work go past the account manager first.",
        (
            "A good technical post named a customer who had not agreed to be named. The "
            "author edited the name out the same day.",
            "Internal write-ups name customers freely; the post was written from one.",
            "A quick check with the account manager before publishing.",
            "The author edited it at once and told the account manager.",
            "Later posts about customer work were checked first.",
        ),
    ),
    "video": Scenario(
        Platform.TIKTOK,
        Info.PRODUCT,
        Severity.MEDIUM,
        7000,
        "A TikTok video about {detail} shows a whiteboard with the code name and launch "
        "month of an unannounced product.",
        "Posted a video in which an unannounced product's code name could be read.",
        ("The TikTok video", "The author"),
        "Whiteboards in the project rooms are wiped after each planning session; filming "
        "happens in the open areas.",
        (
            "A short video from the office showed a whiteboard with an unannounced "
            "product's code name. The video was re-cut without it.",
            "Project rooms double as filming spots; whiteboards stay up for weeks.",
            "Filming away from project rooms.",
            "Re-cut and re-posted within a day.",
            "Nothing unannounced in the office videos checked since.",
        ),
    ),
    "page-reply": Scenario(
        Platform.FACEBOOK,
        Info.PERSONAL,
        Severity.MEDIUM,
        500,
        "A reply on our Facebook page to {detail} named the customer's street and delivery slot.",
        "Replied on the company page with a customer's address details.",
        ("The reply on the page", "Communications"),
        "The page's reply templates have no address fields any more; replies with "
        "delivery details go by private message.",
        (
            "A reply on the company page included a customer's street and delivery slot. "
            "It was removed and the customer was called.",
            "The reply template pulled in delivery details automatically.",
            "Templates without personal details.",
            "Removed within the hour.",
            "No personal details in page replies in the monthly sample.",
        ),
    ),
    "demo-video": Scenario(
        Platform.YOUTUBE,
        Info.PRODUCT,
        Severity.MEDIUM,
        1500,
        "A YouTube video, {detail}, shows a feature behind a flag that has not been announced.",
        "Published a video showing an unannounced feature.",
        ("The video", "The author"),
        "Demo accounts used for recordings have unreleased features switched off.",
        (
            "A product video showed a feature that is still behind a flag. It was "
            "re-recorded on a demo account without it.",
            "The recording used an internal account with every flag on.",
            "Demo accounts for recordings, without unreleased features.",
            "Re-recorded within two days.",
            "Recordings since were made on demo accounts.",
        ),
    ),
    "outage-thread": Scenario(
        Platform.MASTODON,
        Info.CONFIDENTIAL,
        Severity.HIGH,
        800,
        "A Mastodon thread about {detail} describes which internal system failed and how, "
        "before the public post-mortem was approved.",
        "Described an internal outage in public before the post-mortem was approved.",
        ("The thread", "The author"),
        "The incident channel says when a post-mortem is public; engineers can share it "
        "from then on.",
        (
            "An engineer described an outage in public, with internal system names, "
            "before the post-mortem was approved. The thread was deleted.",
            "Engineers want to explain outages to customers quickly; nobody said when the "
            "post-mortem would be public.",
            "A clear signal when the post-mortem is public.",
            "The author deleted the thread when asked and shared the post-mortem later.",
            "The last outages were discussed in public only after the post-mortem.",
        ),
    ),
    "early-post": Scenario(
        Platform.LINKEDIN,
        Info.PRODUCT,
        Severity.HIGH,
        4000,
        "The scheduling tool published our draft post about {detail} from the company "
        "LinkedIn page two weeks early, with a placeholder price in it.",
        "",
        ("The early post", "Communications"),
        "Drafts in the scheduling tool need a second person's approval before they get a date.",
        (
            "A draft post went out early from the company page with a placeholder price. "
            "It was removed within an hour.",
            "The tool publishes anything with a date; drafts got placeholder dates.",
            "Approval before scheduling.",
            "Spotted by the team at once and removed.",
            "No early posts since the approval step.",
        ),
    ),
    "leak": Scenario(
        Platform.REDDIT,
        Info.CONFIDENTIAL,
        Severity.CRITICAL,
        20000,
        "An anonymous Reddit account posted {detail}, saying the company “deserves what "
        "is coming”. The file's metadata points to one of our engineers.",
        "Published internal documents on purpose to harm the company.",
        ("The Reddit post", "Reddit (content policy report)"),
        "",
        (
            "Internal documents were posted on Reddit on purpose. The post was removed by "
            "Reddit and the case was handled by HR and legal.",
            "The documents were on a shared drive open to everyone; exports were not logged.",
            "Access to sensitive folders by need, and export logs.",
            "Evidence was preserved before the takedown; the statement was ready within two hours.",
            "Sensitive folders reviewed; exports are logged.",
        ),
        statement="We are aware of a post sharing internal documents and are looking into "
        "it. We will not comment further while we do.",
    ),
    "after-warning": Scenario(
        Platform.X,
        Info.CONFIDENTIAL,
        Severity.HIGH,
        1500,
        "A colleague posted {detail} on X, after Communications had asked the team that "
        "morning not to share anything about it.",
        "Posted confidential information after being asked not to.",
        ("The post on X", "The author"),
        "",
        (
            "Confidential information was posted after the team had been asked not to. "
            "The post was removed and HR handled the case.",
            "The request not to post came by email only; the person disagreed with it.",
            "Saying why, not only what, when asking people not to post.",
            "Removed within the hour; evidence kept.",
            "Requests not to post now come with a reason and a contact.",
        ),
    ),
}


@dataclass(frozen=True)
class Past:
    """One incident of the year: when, which scenario, who, and how it went."""

    days_ago: float
    scenario: str
    detail: str
    involved: str = ""  # "" when no individual is involved
    reporter: str = COMMS  # "self" for a self-report
    sheet: str = Outcome.HUMAN_ERROR
    stage: str = Status.CLOSED
    severity: str = ""  # the scenario's unless given
    late_actions: bool = False
    late_review: bool = False
    open_actions: int = 0
    manager_action: str = ""  # an action for the person's line manager
    hour: int = 11


TEAM_ACTION = "Go through the CRM presentation view with the team"
PAST: tuple[Past, ...] = (
    Past(358, "crm", "the end of the year", "jack.novak@example.com", hour=9),
    Past(349, "support-reply", "a delayed parcel", "kofi.costa@example.com", "self"),
    Past(
        337,
        "forum-config",
        "a message queue timeout",
        "kenji.rossi@example.com",
        "mateo.nguyen@example.com",
        late_actions=True,
    ),
    Past(
        328,
        "reshare",
        "a joke about a national holiday",
        "ruby.walsh@example.com",
        "ella.kaur@example.com",
        Outcome.AT_RISK,
    ),
    Past(316, "figures", "a panel about hiring in fintech", "mei.price@example.com"),
    Past(
        305,
        "office-photo",
        "the new desks",
        "olivia.hughes@example.com",
        "self",
        severity=Severity.LOW,
        late_review=True,
    ),
    Past(296, "roadmap", "a meetup talk in Lisbon", "rafael.yilmaz@example.com"),
    Past(
        284,
        "leak",
        "the enterprise price list",
        "ines.hughes@example.com",
        "kenji.rossi@example.com",
        Outcome.DELIBERATE,
    ),
    Past(
        275,
        "crm",
        "a new customer in the Nordics",
        "george.costa@example.com",
        "grace.campbell@example.com",
        manager_action=TEAM_ACTION,
    ),
    Past(
        266,
        "support-reply",
        "a refund",
        "anya.campbell@example.com",
        "ibrahim.bennett@example.com",
        late_actions=True,
    ),
    Past(255, "video", "a day in the life of the team", "isla.kowalski@example.com", "self"),
    Past(244, "forum-config", "an SDK error", "elif.kowalski@example.com", sheet=Outcome.AT_RISK),
    Past(
        236,
        "page-reply",
        "a complaint about a delivery",
        "lucia.walsh@example.com",
        "support.head@example.com",
    ),
    Past(224, "early-post", "the spring launch", reporter="noah.murphy@example.com"),
    Past(
        213,
        "after-warning",
        "the office move to Berlin",
        "harry.johansson@example.com",
        sheet=Outcome.RECKLESS,
    ),
    Past(204, "figures", "a payments podcast", "sana.ward@example.com", sheet=Outcome.AT_RISK),
    Past(193, "roadmap", "a customer webinar", "maya.dubois@example.com", "self"),
    Past(
        184,
        "crm",
        "a record month for the team",
        "samir.mensah@example.com",
        "manager@example.com",
        late_review=True,
        manager_action=TEAM_ACTION,
    ),
    Past(
        172,
        "office-photo",
        "the whiteboard after the planning day",
        "theo.gallagher@example.com",
        "self",
        severity=Severity.LOW,
    ),
    Past(163, "outage-thread", "the database outage", "nora.ward@example.com", late_actions=True),
    Past(
        154,
        "support-reply",
        "a password reset",
        "dev.novak@example.com",
        "ibrahim.bennett@example.com",
        Outcome.AT_RISK,
    ),
    Past(141, "blog", "a data migration", "kenji.rossi@example.com", sheet="at_risk_again"),
    Past(
        133,
        "crm",
        "the team hitting its target early",
        "lily.haddad@example.com",
        "zara.price@example.com",
        manager_action=TEAM_ACTION,
    ),
    Past(122, "demo-video", "a tutorial on dashboards", "owen.ito@example.com"),
    Past(
        111,
        "after-warning",
        "a screenshot of the incident channel",
        "chiara.evans@example.com",
        "luca.gallagher@example.com",
        Outcome.RECKLESS,
    ),
    Past(103, "support-reply", "a broken invoice link", "tariq.johansson@example.com", "self"),
    Past(
        92,
        "video",
        "the office move",
        "liam.yilmaz@example.com",
        late_actions=True,
        late_review=True,
    ),
    Past(
        84,
        "office-photo",
        "a team lunch",
        "jonas.rossi@example.com",
        "finance.head@example.com",
        severity=Severity.LOW,
    ),
    Past(76, "figures", "an investor day rehearsal", "olivia.patel@example.com", late_review=True),
    Past(
        68,
        "crm",
        "a renewal signed on a Friday",
        "zara.price@example.com",
        "self",
        manager_action=TEAM_ACTION,
    ),
    Past(63, "early-post", "the autumn campaign", reporter="amelia.dubois@example.com"),
    Past(
        57,
        "page-reply",
        "a question about an order",
        "kofi.costa@example.com",
        "support.head@example.com",
        "at_risk_again",
    ),
    Past(49, "roadmap", "a careers fair", "rafael.yilmaz@example.com", sheet="at_risk_again"),
    Past(
        44,
        "reshare",
        "a meme about a customer's outage",
        "ella.kaur@example.com",
        sheet=Outcome.RECKLESS,
        stage=Status.REVIEW,
    ),
    Past(
        40,
        "crm",
        "the quarter's biggest deal",
        "george.costa@example.com",
        "samir.mensah@example.com",
        "at_risk_again",
        stage=Status.REMEDIATION,
        open_actions=2,
        manager_action=TEAM_ACTION,
    ),
    Past(
        35,
        "support-reply",
        "a billing question",
        "leila.haddad@example.com",
        "ibrahim.bennett@example.com",
        stage=Status.REVIEW,
        late_review=True,
    ),
    Past(
        28,
        "forum-config",
        "rate limits",
        "nora.ward@example.com",
        "self",
        stage=Status.REMEDIATION,
        open_actions=3,
    ),
    Past(
        21, "office-photo", "a birthday cake", "mia.evans@example.com", "self", stage=Status.REVIEW
    ),
    Past(17, "figures", "a radio interview", "mei.price@example.com", hour=8),
    Past(12, "blog", "a conference recap", "elif.kowalski@example.com", stage=Status.CLASSIFIED),
)

# Paces by months ago (0 is this month): a year ago it took days to contain a post and
# weeks to close; since the briefing on mistakes and the self-report button, hours and
# days. Each incident varies a little around its month's pace.
CONTAIN_PACE = (0.4, 0.6, 0.5, 0.9, 0.7, 1.4, 1.1, 2.4, 3.5, 5.5, 4.0, 7.0)
CLOSE_PACE = (0.7, 0.8, 0.7, 1.1, 0.9, 1.4, 1.2, 1.8, 2.2, 1.6, 2.4, 2.1)
HANDLES = {
    Platform.LINKEDIN: ("https://www.linkedin.com/posts/{name}-activity-75{n:02d}", "{name}"),
    Platform.X: ("https://x.com/{short}/status/19{n:02d}", "@{short}"),
    Platform.INSTAGRAM: ("https://www.instagram.com/p/{short}-{n:02d}", "@{short}"),
    Platform.TIKTOK: ("https://www.tiktok.com/@{short}/video/74{n:02d}", "@{short}"),
    Platform.YOUTUBE: ("https://www.youtube.com/watch?v={short}-{n:02d}", "{name}"),
    Platform.FORUM: ("https://forum.devtalk.example.org/t/{n:02d}", "{short}"),
    Platform.BLOG: ("https://{short}.example.net/posts/{n:02d}", "{short}.example.net"),
    Platform.MASTODON: ("https://mastodon.social/@{short}/11{n:02d}", "@{short}@mastodon.social"),
    Platform.REDDIT: ("https://www.reddit.com/r/technology/comments/{n:02d}x", "u/throwaway_{n}"),
    Platform.FACEBOOK: ("https://www.facebook.com/exampleco/posts/88{n:02d}", "Example Co (page)"),
    Platform.OTHER: ("https://events.example.net/recordings/{n:02d}", "Event recording"),
}


def _jitter(key: str, salt: str) -> float:
    """A stable factor between 0.75 and 1.25 per incident."""
    digest = hashlib.sha256(f"{salt}:{key}".encode()).hexdigest()
    return 0.75 + int(digest[:8], 16) / 0x1_0000_0000 / 2


def _managers() -> dict[str, str]:
    from people.demo import DEMO_ACCOUNTS, HEADS, staff_rows

    managers = {email: manager for email, _n, _d, _t, manager in staff_rows()}
    managers.update({email: "leader@example.com" for email, *_ in HEADS})
    managers.update({email: manager for email, _n, _d, _t, manager, *_ in DEMO_ACCOUNTS})
    return managers


def _past_story(past: Past, number: int, managers: dict[str, str]) -> Story:
    scenario = SCENARIOS[past.scenario]
    what = scenario.what.format(detail=past.detail)
    severity = past.severity or scenario.severity
    accountable = past.sheet in (Outcome.RECKLESS, Outcome.DELIBERATE)
    owner = HR if accountable or scenario.information == Info.OFFENSIVE else COMMS
    months = min(int(past.days_ago // 30.44), len(CLOSE_PACE) - 1)
    contain_pace = CONTAIN_PACE[months] * _jitter(what, "contain")
    pace = CLOSE_PACE[months] * _jitter(what, "close")
    # Actions closed within their due date, or well after it.
    due_hours = settings.INCIDENT_ACTION_DUE_DAYS[severity] * 24
    spread = due_hours * (2.2 if past.late_actions else 0.7)
    extra = ()
    person = past.involved
    manager = managers.get(person, "")
    if past.manager_action:
        done = "" if past.stage == Status.REMEDIATION else "Done at the next team meeting."
        extra = ((past.manager_action, manager, done),)
    steps = 5 + len(extra)
    # The review is due five working days after the last action: some came weeks late.
    review_hours = 24 * (11 + 6 * _jitter(what, "review")) if past.late_review else 30
    sign_off_hours = 24 * 5 if past.late_review else 26
    signer = manager if manager not in ("", COMMS, HR, owner) else "leader@example.com"
    if not person:
        signer = "support.head@example.com" if number % 2 else "sales.head@example.com"
    local = person.split("@")[0]
    first, _, last = local.partition(".")
    url, handle = HANDLES[scenario.platform]
    fields = {
        "name": local.replace(".", "-") or "exampleco",
        "short": first + last[:1],
        "n": number,
    }
    return Story(
        what=what,
        reporter=person if past.reporter == "self" else past.reporter,
        days_ago=past.days_ago,
        stage=past.stage,
        platform=scenario.platform,
        information=scenario.information,
        severity=severity,
        reach=round(scenario.reach * _jitter(what, "reach")),
        url=url.format(**fields),
        handle=handle.format(**fields),
        posted_hours_before=round(2 + 30 * (_jitter(what, "posted") - 0.75), 1),
        self_reported=past.reporter == "self",
        involved=(person,) if person else (),
        no_individual=not person,
        owner=owner,
        outcome=past.sheet if person else "",
        act=scenario.act,
        takedowns=(scenario.takedown + (Takedown.Status.REMOVED, ""),),
        statement=scenario.statement,
        fix=scenario.fix
        or "Access to the documents reviewed; the case is closed with HR's findings on file.",
        open_actions=past.open_actions,
        waive_last="No individual involved: the fix was in the tool." if not person else "",
        extra_actions=extra,
        review=scenario.review,
        signer=signer if past.stage == Status.CLOSED else "",
        pace=pace,
        contain_pace=contain_pace,
        action_gap=spread / steps / pace,
        review_after=review_hours / pace,
        sign_off_after=sign_off_hours / pace,
        hour=past.hour,
    )


def _history() -> tuple[Story, ...]:
    managers = _managers()
    return tuple(_past_story(past, n, managers) for n, past in enumerate(PAST, start=1))


HISTORY: tuple[Story, ...] = _history()


ORDER = (
    Status.REPORTED,
    Status.TRIAGE,
    Status.CONTAINED,
    Status.CLASSIFIED,
    Status.REMEDIATION,
    Status.REVIEW,
    Status.CLOSED,
)


def _reached(story: Story, status: str) -> bool:
    return ORDER.index(story.stage) >= ORDER.index(status)


@contextmanager
def _clock(at: datetime) -> Iterator[None]:
    """The services' clock (and the reminders they plan) at `at`, when it happened."""
    with mock.patch.object(timezone, "now", return_value=at):
        yield


class _Timeline:
    """Steps of all the stories, run in time order so that references are sequential."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self._steps: list[tuple[datetime, int, Callable[[], None]]] = []

    def add(self, at: datetime, step: Callable[[], None]) -> None:
        if at >= self.now:
            raise ValueError(f"A demo step would happen in the future ({at:%Y-%m-%d %H:%M}).")
        self._steps.append((at, len(self._steps), step))

    def run(self) -> None:
        for at, _order, step in sorted(self._steps, key=lambda item: item[:2]):
            with _clock(at):
                step()


# --- evidence ---------------------------------------------------------------------------


def _png(width: int, height: int, boxes) -> bytes:
    """A small PNG drawn from filled boxes ((x, y, w, h), (r, g, b)) on white."""
    pixels = [bytearray(b"\xff" * (width * 3)) for _ in range(height)]
    for (x, y, w, h), colour in boxes:
        for row in pixels[y : y + h]:
            row[x * 3 : (x + w) * 3] = bytes(colour) * w
    raw = b"".join(b"\x00" + bytes(row) for row in pixels)

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def _screenshot(kind: str) -> bytes:
    """A stylised capture of a post: a card, an avatar, lines of text, the picture
    attached, and a red box where the sensitive detail is."""
    grey, dark, light, red = (236, 238, 241), (60, 64, 72), (180, 186, 194), (214, 40, 40)
    accent = (10, 102, 194) if kind == "post" else (255, 69, 0)
    boxes = [
        ((0, 0, 320, 200), grey),
        ((0, 0, 320, 18), accent),
        ((20, 28, 280, 164), (255, 255, 255)),
        ((30, 38, 22, 22), accent),
        ((60, 40, 90, 6), dark),
        ((60, 52, 60, 4), light),
    ]
    boxes += [((30, 70 + 9 * line, 250 - 30 * (line % 3), 4), dark) for line in range(4)]
    boxes += [((30, 110, 260, 72), (222, 226, 230))]  # the attached picture
    boxes += [((36, 118 + 10 * row, 200, 5), light) for row in range(6)]
    target = (34, 114, 140, 13)
    x, y, w, h = target
    boxes += [((x, y, w, 2), red), ((x, y + h - 2, w, 2), red)]
    boxes += [((x, y, 2, h), red), ((x + w - 2, y, 2, h), red)]
    return _png(320, 200, boxes)


def _capture(incident: Incident, by: User, *, screenshot: str = "", note: str) -> Evidence:
    """Evidence as the team captures it: the link, with a screenshot when there is one."""
    upload = None
    if screenshot:
        upload = SimpleUploadedFile(
            f"capture-{incident.reference.lower()}.png",
            _screenshot(screenshot),
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
    )


# --- the stories ------------------------------------------------------------------------


class _Story:
    """Schedules one story's steps on the timeline, up to the state it ends in."""

    def __init__(self, story: Story, users: dict[str, User], timeline: _Timeline, now):
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

    def add(self, hours: float, step: Callable[[], None]) -> None:
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
            self.add(TAKEDOWN + number * 0.2, lambda t=takedown: self.request(t))
        if story.statement:
            self.add(STATEMENT, self.draft_statement)
            if story.statement_approved:
                self.add(APPROVE, self.approve_statement)
        if not _reached(story, Status.CONTAINED):
            # Those already resolved (the author deleted it) are marked during triage.
            for number, takedown in enumerate(story.takedowns):
                if takedown[2]:
                    self.add(TAKEDOWN + 0.1 + number * 0.2, lambda t=takedown: self.resolve(t))
            return
        for number, takedown in enumerate(story.takedowns):
            self.add(RESOLVE + number * 3, lambda t=takedown: self.resolve(t))
        if story.no_takedown:
            self.add(RESOLVE, self.note_no_takedown)
        self.add(CONTAIN, lambda: self.move(Status.CONTAINED, "Contained."))
        if story.rerun_from:
            self.add(RERUN_FROM, lambda: self.assess(story.rerun_from, finish=True))
        if story.outcome:
            finish = _reached(story, Status.CLASSIFIED)
            self.add(ASSESS, lambda: self.assess(story.outcome, finish=finish))
        if not _reached(story, Status.CLASSIFIED):
            return
        if story.no_individual:
            self.add(ASSESS, self.choose_track)
        self.add(CLASSIFY, lambda: self.move(Status.CLASSIFIED, ""))
        if not _reached(story, Status.REMEDIATION):
            return
        self.add(REMEDIATE, self.plan)
        closing = self.closing_steps()
        for number, step in enumerate(closing):
            self.add(REMEDIATE + (number + 1) * story.action_gap, step)
        if not _reached(story, Status.REVIEW):
            return
        last = REMEDIATE + len(closing) * story.action_gap
        self.add(last + 1, lambda: self.move(Status.REVIEW, "All actions done or waived."))
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

    def report(self) -> None:
        story = self.story
        now = timezone.now()
        noticed = now - timedelta(minutes=25 if not story.self_reported else 10)
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
        )

    def assign(self) -> None:
        # Communications picks incidents up and hands conduct cases to HR.
        services.assign_owner(incident=self.fresh(), owner=self.owner, by=self.users[COMMS])

    def triage(self) -> None:
        story = self.story
        self.move(Status.TRIAGE, "Picked up.")
        if story.severity != self.incident.severity:
            services.update_details(incident=self.fresh(), by=self.owner, severity=story.severity)
        if story.no_individual:
            services.set_people_involved(
                incident=self.fresh(), by=self.owner, people=[], no_individual=True
            )

    def capture(self) -> None:
        story = self.story
        if story.url:
            _capture(self.incident, self.owner, note="The post as it was when captured.")
        if story.screenshot:
            _capture(
                self.incident,
                self.owner,
                screenshot=story.screenshot,
                note="Screenshot taken before the post was removed.",
            )
        if story.withdrawn_evidence:
            _capture(self.incident, self.owner, note=COPY)

    def withdraw(self) -> None:
        """The capture of a copy turned out to be of another post: withdrawn, kept."""
        wrong = self.incident.evidence.get(note=COPY)
        evidence_service.withdraw(
            evidence=wrong, by=self.owner, reason=self.story.withdrawn_evidence
        )

    def request(self, takedown) -> None:
        what, asked_of, _status, _note = takedown
        services.request_takedown(
            incident=self.incident, by=self.owner, what=what, asked_of=asked_of
        )

    def resolve(self, takedown) -> None:
        what, _asked_of, status, note = takedown
        pending = self.incident.takedowns.get(what=what)
        services.resolve_takedown(takedown=pending, by=self.owner, status=status, note=note)

    def draft_statement(self) -> None:
        services.draft_statement(incident=self.incident, by=self.owner, text=self.story.statement)

    def approve_statement(self) -> None:
        statement = self.incident.statements.get()
        services.approve_statement(statement=statement, by=self.second)

    def note_no_takedown(self) -> None:
        services.note_no_takedown(incident=self.fresh(), by=self.owner, note=self.story.no_takedown)

    def move(self, to: str, note: str) -> None:
        services.transition(incident=self.fresh(), to=to, user=self.owner, note=note)

    def assess(self, sheet: str, *, finish: bool) -> None:
        """One run per person involved, one answer every couple of minutes; an
        unfinished run stops after the first steps."""
        for person in self.fresh().people_involved.all():
            self._run_assessment(person, sheet, finish=finish)

    def _run_assessment(self, person: User, sheet: str, *, finish: bool) -> None:
        started = timezone.now()
        assessment = services.start_assessment(
            incident=self.incident, person=person, act=self.story.act, by=self.owner
        )
        answers = ANSWER_SHEETS[sheet]
        keys = guide.needed_keys(answers) if finish else list(answers)[:3]
        for minute, key in enumerate(keys, start=1):
            with _clock(started + timedelta(minutes=2 * minute)):
                services.answer(assessment=assessment, by=self.owner, key=key, value=answers[key])
        if finish:
            with _clock(started + timedelta(minutes=2 * len(keys) + 3)):
                services.finish_assessment(assessment=assessment, by=self.owner)

    def choose_track(self) -> None:
        services.choose_track(incident=self.fresh(), by=self.owner, track=Incident.Track.LEARNING)

    def plan(self) -> None:
        self.move(Status.REMEDIATION, "Plan from the track's template.")
        incident = self.fresh()
        services.fill_plan(incident=incident, by=self.owner)
        for title, owner, _note in self.story.extra_actions:
            services.add_action(
                incident=incident, by=self.owner, title=title, owner=self.users[owner]
            )

    def closing_steps(self) -> list[Callable[[], None]]:
        """The plan's actions closed one after another; in remediation, the last
        `open_actions` of them are still open."""
        story = self.story
        if story.outcome in (Outcome.DELIBERATE, Outcome.RECKLESS):
            closed = list(ACCOUNTABILITY_CLOSED)
            if _reached(story, Status.REVIEW):
                # Past remediation, every action was done: the legal review too.
                pairs = zip(closed, ACCOUNTABILITY_DONE, strict=True)
                closed = [done or finished for done, finished in pairs]
        else:
            closed = list(LEARNING_CLOSED)
            closed[1] = (ActionItem.Status.DONE, story.fix)
            if story.no_individual:
                closed[2] = (ActionItem.Status.WAIVED, NO_INDIVIDUAL_WAIVER)
            if story.waive_last:
                closed[4] = (ActionItem.Status.WAIVED, story.waive_last)
        steps: list[Callable[[], None]] = []
        template_count = len(closed)
        if story.stage == Status.REMEDIATION:
            closed = closed[: template_count - story.open_actions]
        for position, outcome in enumerate(closed):
            if outcome is None:
                continue
            steps.append(lambda p=position, o=outcome: self.close_action(p, *o))
        for title, owner, note in story.extra_actions:
            if note:
                steps.append(lambda t=title, o=owner, n=note: self.close_extra(t, o, n))
        return steps

    def close_action(self, position: int, status: str, note: str) -> None:
        action = self.incident.actions.order_by("id")[position]
        services.complete_action(action=action, by=self.owner, status=status, note=note)

    def close_extra(self, title: str, owner: str, note: str) -> None:
        action = self.incident.actions.get(title=title)
        services.complete_action(
            action=action, by=self.users[owner], status=ActionItem.Status.DONE, note=note
        )

    def write_review(self) -> None:
        summary, factors, sooner, well, check = self.story.review
        services.write_review(
            incident=self.fresh(),
            by=self.owner,
            summary=summary,
            contributing_factors=factors,
            spotted_sooner=sooner,
            went_well=well,
            effectiveness_check=check,
        )

    def sign_off(self) -> None:
        signer = self.users[self.story.signer]
        services.sign_off_review(review=self.fresh().review, by=signer)

    def close(self) -> None:
        note = "Review signed off; every action done or waived."
        if self.story.self_reported:
            note += " Thank you for telling us yourself: it made putting it right quick."
        self.move(Status.CLOSED, note)

    def publish_lesson(self) -> None:
        title, text = self.story.lesson
        lesson = services.publish_lesson(
            incident=self.fresh(), by=self.owner, title=title, text=text
        )
        _link_lesson(lesson, self.story, self.owner)


def _link_lesson(lesson: Lesson, story: Story, by: User) -> None:
    """A lesson that fed the social media policy is linked to its current version (2.0
    added screenshots of internal tools); one became a talking point for the briefing on
    mistakes. Either is skipped when the policies or training demo did not run."""
    from policies.models import PolicyVersion
    from training.models import Topic

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
            services.add_to_briefing(lesson=lesson, topic=topic, by=by, text=story.briefing_point)


def _check_answer_sheets() -> None:
    for sheet, answers in ANSWER_SHEETS.items():
        outcome = guide.decide(answers).outcome
        if outcome != EXPECTED.get(sheet, sheet):
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
    timeline = _Timeline(now)
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
