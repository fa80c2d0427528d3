"""Check a post and Ask comms: everything that changes state about a post review.

The check itself changes nothing and keeps nothing (`check_draft`); a draft is stored
only when its author asks comms (`ask_comms`). Comms answer it (`decide`), the author
may withdraw it while it waits, and an answered review may be kept as an anonymised
example (`keep_example`). Every function raises PreventionError with a message for
people, and changes nothing when it does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from incidents.models import Incident
from notifications.services import notify, notify_many
from people import roles
from policies.models import Policy, PolicyVersion
from policies.rendering import split_sections
from prevention.matching import Finding, check_text, current_watch_list, generic_findings
from prevention.models import PostReview, PreventionError, ReviewExample
from prevention.permissions import can_keep_examples, can_review_posts

Status = PostReview.Status

MAX_DRAFT_CHARACTERS = 10_000
MAX_IMAGE_TEXT_CHARACTERS = 500
# How far ahead a review may be asked for: comms plan their week, not their quarter.
MAX_NEEDED_BY_DAYS = 14
# Without a time, comms have one working day (the reminder settings' working days).
DEFAULT_WORKING_DAYS = 1
# A needed-by time this close is not worth asking for: comms could not answer in time.
MIN_NOTICE = timedelta(minutes=15)

DECISIONS = (Status.APPROVED, Status.APPROVED_WITH_EDITS, Status.ADVISED_AGAINST)
ANSWERED = DECISIONS
# The generic checks that find a person's details: an example keeps none of them.
PERSONAL_RULES = frozenset({"email", "phone", "iban", "card"})


# --- the check: nothing stored ------------------------------------------------------------


@dataclass(frozen=True)
class CheckResult:
    draft: list[Finding]
    image: list[Finding]

    @property
    def all(self) -> list[Finding]:
        return [*self.draft, *self.image]

    def __bool__(self) -> bool:
        return bool(self.draft or self.image)


# The texts clean_text() checks, by the `label` its callers give: (the text as the
# subject of a sentence, "Paste it first").
_TEXTS = {
    "draft": (gettext_lazy("The draft"), gettext_lazy("Paste the draft first.")),
    "image text": (gettext_lazy("The image text"), gettext_lazy("Paste the image text first.")),
    "suggested text": (
        gettext_lazy("The suggested text"),
        gettext_lazy("Paste the suggested text first."),
    ),
    "reason": (gettext_lazy("The reason"), gettext_lazy("Paste the reason first.")),
    "example": (gettext_lazy("The example"), gettext_lazy("Paste the example first.")),
}


def clean_text(text: str, *, label: str, limit: int, required: bool) -> str:
    """The text as it will be checked and kept: line endings made one, no NUL bytes,
    within `limit` characters. The forms use this too, so a page and a service refuse
    the same things with the same words. `label` is one of _TEXTS' keys ("draft")."""
    text = (text or "").replace("\r\n", "\n").replace("\r", "\n")
    subject, paste_first = _TEXTS.get(label, (f"The {label}", f"Paste the {label} first."))
    if "\x00" in text:
        raise PreventionError(
            _(
                "%(text)s contains a null character (often left by copying from a file). "
                "Paste it again as plain text."
            )
            % {"text": subject}
        )
    if required and not text.strip():
        raise PreventionError(str(paste_first))
    if len(text) > limit:
        raise PreventionError(
            _(
                "%(text)s is %(count)s characters long; at most %(limit)s can be checked. "
                "Check it in parts."
            )
            % {
                "text": subject,
                "count": number_format(len(text), force_grouping=True),
                "limit": number_format(limit, force_grouping=True),
            }
        )
    return text


def check_draft(*, draft: str, image_text: str = "") -> CheckResult:
    """What the policy says about a draft and its image's alt text or file name. Reads
    the watch list; writes nothing."""
    draft = clean_text(draft, label="draft", limit=MAX_DRAFT_CHARACTERS, required=True)
    image_text = clean_text(
        image_text, label="image text", limit=MAX_IMAGE_TEXT_CHARACTERS, required=False
    )
    watch_list = current_watch_list()
    return CheckResult(
        draft=check_text(draft, watch_list=watch_list),
        image=check_text(image_text, watch_list=watch_list) if image_text.strip() else [],
    )


def findings_snapshot(result: CheckResult) -> list[dict]:
    """The findings as kept on a review: what the check showed the employee when it was
    sent (not the watch-list entry as its keepers know it)."""
    snapshot = []
    for where, findings in (("draft", result.draft), ("image", result.image)):
        for finding in findings:
            shown = finding.as_dict()
            del shown["entry"]
            snapshot.append({**shown, "where": where})
    return snapshot


# --- asking comms ---------------------------------------------------------------------------


def default_needed_by(now: datetime) -> datetime:
    """The same time on the next working day."""
    local = timezone.localtime(now)
    day = local.date()
    for _day in range(DEFAULT_WORKING_DAYS):
        day += timedelta(days=1)
        while day.weekday() not in settings.NOTIFICATIONS_WORKING_DAYS:
            day += timedelta(days=1)
    return local.replace(year=day.year, month=day.month, day=day.day)


def checked_needed_by(needed_by: datetime | None, *, now: datetime) -> datetime:
    """When comms should answer by: at least 15 minutes and at most 14 days ahead;
    the next working day when it is not given."""
    if needed_by is None:
        return default_needed_by(now)
    if needed_by < now + MIN_NOTICE:
        raise PreventionError(
            _("That time has passed or is too close: choose a time at least 15 minutes from now.")
        )
    latest = now + timedelta(days=MAX_NEEDED_BY_DAYS)
    if needed_by > latest:
        raise PreventionError(
            _("Comms answer within %(days)s days: choose a time before %(latest)s.")
            % {
                "days": MAX_NEEDED_BY_DAYS,
                "latest": date_format(timezone.localtime(latest), "j F Y, H:i"),
            }
        )
    return needed_by


def reviewers(*, excluding=None):
    """Everyone who answers post reviews (comms and the comms lead), active."""
    people = (
        get_user_model()
        .objects.filter(is_active=True, groups__name__in=(roles.COMMS, roles.COMMS_LEAD))
        .distinct()
    )
    if excluding is not None:
        people = people.exclude(pk=excluding.pk)
    return people


def comms_leads():
    """Whom a late review escalates to: the comms lead(s), or, when there is none,
    everyone in comms."""
    people = get_user_model().objects.filter(is_active=True)
    leads = people.filter(groups__name=roles.COMMS_LEAD)
    return leads if leads.exists() else people.filter(groups__name=roles.COMMS)


def ask_comms(
    *,
    requester,
    draft: str,
    platform: str = "",
    image_text: str = "",
    needed_by: datetime | None = None,
    now: datetime | None = None,
) -> PostReview:
    """Send a draft to comms for review: the one time a draft is stored. Comms hear of
    it at once; the findings of the check are kept with it as they were."""
    now = now or timezone.now()
    draft = clean_text(draft, label="draft", limit=MAX_DRAFT_CHARACTERS, required=True)
    image_text = clean_text(
        image_text, label="image text", limit=MAX_IMAGE_TEXT_CHARACTERS, required=False
    ).strip()
    if platform and platform not in Incident.Platform.values:
        raise PreventionError(_("Choose the platform from the list, or leave it empty."))
    needed_by = checked_needed_by(needed_by, now=now)
    findings = findings_snapshot(check_draft(draft=draft, image_text=image_text))
    with transaction.atomic():
        recipients = list(reviewers(excluding=requester).values_list("pk", flat=True))
        if not recipients:
            raise PreventionError(
                _(
                    "Nobody in the communications team can review a post right now. "
                    "Ask your manager instead."
                )
            )
        review = PostReview.objects.create(
            requester=requester,
            draft=draft,
            platform=platform,
            image_text=image_text,
            findings=findings,
            needed_by=needed_by,
            created_at=now,
        )
        notify_many(
            kind="post-review-requested",
            items=[(review, pk) for pk in recipients],
            stage="requested",
        )
    return review


def withdraw(*, review: PostReview, by, now: datetime | None = None) -> PostReview:
    """The requester takes back a review comms have not answered yet."""
    now = now or timezone.now()
    if review.requester_id != by.pk:
        raise PreventionError(_("Only the person who asked can withdraw a review."))
    with transaction.atomic():
        locked = PostReview.objects.select_for_update().get(pk=review.pk)
        if locked.status != Status.PENDING:
            raise PreventionError(
                _("This review can no longer be withdrawn: it is %(status)s.")
                % {"status": status_in_sentence(locked.status)}
            )
        locked.status = Status.WITHDRAWN
        locked.save(update_fields=["status"])
    return locked


# --- comms answer ---------------------------------------------------------------------------


def decide(
    *,
    review: PostReview,
    by,
    decision: str,
    suggested_text: str = "",
    reason: str = "",
    now: datetime | None = None,
) -> PostReview:
    """Comms answer a review: approve, approve with edits (with the suggested text), or
    advise against (with a reason). The first answer wins: a second reviewer acting on
    the same review at the same time is told it was answered meanwhile."""
    now = now or timezone.now()
    if not can_review_posts(by):
        raise PreventionError(_("Only the communications team answers post reviews."))
    if review.requester_id == by.pk:
        raise PreventionError(
            _("You cannot review your own draft: another member of comms will answer it.")
        )
    if decision not in DECISIONS:
        raise PreventionError(_("Choose approve, approve with edits or advise against."))
    reason = clean_text(reason, label="reason", limit=MAX_DRAFT_CHARACTERS, required=False).strip()
    suggested = ""
    if decision == Status.APPROVED_WITH_EDITS:
        suggested = clean_text(
            suggested_text, label="suggested text", limit=MAX_DRAFT_CHARACTERS, required=True
        ).strip()
        if _same_words(suggested, review.draft):
            raise PreventionError(
                _("The suggested text is the same as the draft: edit it, or choose Approve.")
            )
    if decision == Status.ADVISED_AGAINST and not reason:
        raise PreventionError(
            _("Say why you advise against posting it: the employee will read it.")
        )
    with transaction.atomic():
        locked = PostReview.objects.select_for_update().get(pk=review.pk)
        if locked.status != Status.PENDING:
            raise PreventionError(answered_meanwhile(locked))
        locked.status = decision
        locked.suggested_text = suggested
        locked.reason = reason
        locked.decided_by = by
        locked.decided_at = now
        locked.save(
            update_fields=["status", "suggested_text", "reason", "decided_by", "decided_at"]
        )
        notify(
            kind="post-review-answered",
            subject=locked,
            recipient=locked.requester,
            stage="answered",
        )
    return locked


def answered_meanwhile(review: PostReview) -> str:
    """What a reviewer is told whose answer came second."""
    if review.status == Status.WITHDRAWN:
        return _("The employee withdrew this review: there is nothing to answer.")
    status = status_in_sentence(review.status)
    if review.decided_by is None:
        return _(
            "Someone answered this review meanwhile (%(status)s); your answer was not sent."
        ) % {"status": status}
    return _("%(name)s answered this review meanwhile (%(status)s); your answer was not sent.") % {
        "name": review.decided_by.get_full_name(),
        "status": status,
    }


# A review's status inside a sentence ("it is approved"): lower case in English.
_STATUS_IN_SENTENCE = {
    Status.PENDING: pgettext_lazy("review status in a sentence", "waiting for comms"),
    Status.APPROVED: pgettext_lazy("review status in a sentence", "approved"),
    Status.APPROVED_WITH_EDITS: pgettext_lazy("review status in a sentence", "approved with edits"),
    Status.ADVISED_AGAINST: pgettext_lazy("review status in a sentence", "advised against"),
    Status.WITHDRAWN: pgettext_lazy("review status in a sentence", "withdrawn"),
}


def status_in_sentence(status: str) -> str:
    """ "This review ... is approved": the status as a sentence says it."""
    return str(_STATUS_IN_SENTENCE.get(status, status))


def _same_words(first: str, second: str) -> bool:
    return first.split() == second.split()


def mark_answer_seen(*, review: PostReview, by, now: datetime | None = None) -> bool:
    """The requester has read the answer: My tasks stops showing it. True the first
    time; a conditional UPDATE, so two tabs opening it at once mark it once."""
    if review.requester_id != by.pk or review.status not in ANSWERED:
        return False
    now = now or timezone.now()
    marked = PostReview.objects.filter(
        pk=review.pk, status__in=ANSWERED, answer_seen_at__isnull=True
    ).update(answer_seen_at=now)
    if marked:
        review.answer_seen_at = now
    return bool(marked)


# --- examples -------------------------------------------------------------------------------


def policy_sections(policy: Policy) -> list[str]:
    """The section headings of the policy's current (published) version."""
    version = (
        policy.versions.filter(status=PolicyVersion.Status.PUBLISHED)
        .order_by("-published_at", "-pk")
        .only("body")
        .first()
    )
    if version is None:
        return []
    return [section.heading for section in split_sections(version.body) if section.heading]


def identifying_details(review: PostReview, text: str) -> list[str]:
    """What in `text` could tell who wrote the draft: the requester's names and email,
    and any email address, phone number, bank account or card number."""
    person = review.requester
    names = [person.get_full_name(), *person.get_full_name().split(), person.email]
    names.append(person.email.split("@", 1)[0])
    found = {
        name
        for name in names
        if len(name) > 2
        and re.search(rf"(?<!\w){re.escape(name)}(?!\w)", text, flags=re.IGNORECASE)
    }
    found |= {finding.found for finding in generic_findings(text) if finding.rule in PERSONAL_RULES}
    return sorted(found, key=str.casefold)


def watched_words(*texts: str) -> list[str]:
    """The words in `texts` that the current watch list flags, each once, as written."""
    watch_list = current_watch_list()
    found: dict[str, str] = {}
    for text in texts:
        for finding in watch_list.match(text):
            found.setdefault(finding.found.casefold(), finding.found)
    return list(found.values())


def keep_example(
    *,
    review: PostReview,
    by,
    text: str,
    reason: str = "",
    policy: Policy | None = None,
    policy_section: str = "",
    topic=None,
    now: datetime | None = None,
) -> ReviewExample:
    """Keep an answered review as an anonymised example, optionally on a policy section
    or a briefing topic. The text must have been edited from the draft, may name nobody
    and may hold nothing the watch list flags: examples are shown to everyone."""
    now = now or timezone.now()
    if not can_keep_examples(by):
        raise PreventionError(_("Only comms and policy admins keep examples."))
    if review.status not in ANSWERED:
        raise PreventionError(_("Only an answered review can be kept as an example."))
    text = clean_text(text, label="example", limit=MAX_DRAFT_CHARACTERS, required=True).strip()
    reason = clean_text(reason, label="reason", limit=MAX_DRAFT_CHARACTERS, required=False).strip()
    if _same_words(text, review.draft):
        raise PreventionError(
            _("The example is the draft as it was sent: take out names and details first.")
        )
    details = identifying_details(review, f"{text}\n{reason}")
    if details:
        raise PreventionError(
            _("Take these out first, the example must not tell who wrote it: %(details)s.")
            % {"details": ", ".join(details)}
        )
    watched = watched_words(text, reason)
    if watched:
        raise PreventionError(
            _(
                "Everyone sees examples, so they cannot hold what the watch list flags: "
                "replace %(words)s with a description such as “[unreleased product]”."
            )
            % {"words": ", ".join(f"“{words}”" for words in watched)}
        )
    policy_section = _checked_section(policy, policy_section)
    with transaction.atomic():
        locked = PostReview.objects.select_for_update().get(pk=review.pk)
        if ReviewExample.objects.filter(review=locked).exists():
            raise PreventionError(_("This review is already kept as an example."))
        return ReviewExample.objects.create(
            review=locked,
            text=text,
            decision=locked.status,
            reason=reason,
            policy=policy,
            policy_section=policy_section,
            topic=topic,
            created_by=by,
            created_at=now,
        )


def _checked_section(policy: Policy | None, policy_section: str) -> str:
    """The section's heading as the policy's current version spells it."""
    policy_section = " ".join(policy_section.split())
    if policy_section and policy is None:
        raise PreventionError(_("Choose the policy the section belongs to."))
    if policy is None or not policy_section:
        return policy_section
    headings = policy_sections(policy)
    match = next((h for h in headings if h.casefold() == policy_section.casefold()), None)
    if match is None:
        if headings:
            message = _(
                "“%(policy)s” has no section called “%(section)s” in its current version. "
                "Its sections are: %(sections)s."
            )
        else:
            message = _(
                "“%(policy)s” has no section called “%(section)s” in its current version. "
                "Its sections are: none."
            )
        raise PreventionError(
            message
            % {"policy": policy.title, "section": policy_section, "sections": ", ".join(headings)}
        )
    return match


def attach_example(
    *, example: ReviewExample, by, policy: Policy | None, policy_section: str = "", topic=None
) -> ReviewExample:
    """Show a kept example on a policy section and/or as a talking point of a briefing
    topic (or on neither)."""
    if not can_keep_examples(by):
        raise PreventionError(_("Only comms and policy admins attach examples."))
    example.policy_section = _checked_section(policy, policy_section)
    example.policy = policy
    example.topic = topic
    with transaction.atomic():
        example.save(update_fields=["policy", "policy_section", "topic"])
    return example


def remove_example(*, example: ReviewExample, by) -> None:
    """Take an example down (it told too much, or no longer helps). The review stays."""
    if not can_keep_examples(by):
        raise PreventionError(_("Only comms and policy admins remove examples."))
    with transaction.atomic():
        ReviewExample.objects.filter(pk=example.pk).delete()
