"""Reads for the reader's pages: what I owe, what I may read, what changed since I
last acknowledged. Each function runs a fixed number of queries, however many
policies, versions or assignments there are."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property

from django.conf import settings
from django.db.models import OuterRef, QuerySet, Subquery
from django.utils.safestring import SafeString, mark_safe

from policies.audience import published_for
from policies.models import (
    Acknowledgement,
    Assignment,
    Decline,
    Policy,
    PolicyTranslation,
    PolicyVersion,
    QuizAttempt,
    QuizQuestion,
    language_name,
    sha256_text,
)
from policies.permissions import can_manage
from policies.rendering import render_markdown, section_changes

PUBLISHED = PolicyVersion.Status.PUBLISHED


# --- the Policies page ---------------------------------------------------------------


def outstanding_assignments(user) -> QuerySet[Assignment]:
    """My open assignments, soonest due first; each with `translated_title` when its
    version has a translation into my language."""
    return (
        Assignment.objects.filter(person=user, status=Assignment.Status.OPEN)
        .select_related("version__policy")
        .annotate(translated_title=translated_title(user, "version_id"))
        .order_by("due_date", "policy__title", "id")
    )


def readable_policies_list(user) -> QuerySet[Policy]:
    """The same policies as `permissions.readable_policies`, found in a fixed number
    of queries rather than one audience computation per policy, for the paged list:
    all published ones for policy admins, else those whose audience includes `user`."""
    if can_manage(user):
        return Policy.objects.filter(versions__status=PUBLISHED).order_by("title")
    return published_for(user)


@dataclass
class PolicyRow:
    """One line of the Policies list: the policy, its current version, my status."""

    policy: Policy
    version: PolicyVersion | None
    assignment: Assignment | None  # my open one, else my latest
    today: date
    title: str = ""  # in my language when the current version has a translation into it

    @property
    def status(self) -> str:
        if self.assignment is None or self.assignment.status == Assignment.Status.CLOSED:
            return "not-assigned"
        return {
            Assignment.Status.OPEN: "outstanding",
            Assignment.Status.ACKNOWLEDGED: "acknowledged",
            Assignment.Status.DECLINED: "declined",
        }[self.assignment.status]

    @property
    def overdue(self) -> bool:
        return self.status == "outstanding" and self.assignment.due_date < self.today


def policy_rows(user, policies, *, today: date) -> list[PolicyRow]:
    """Rows for one page of policies: two queries, whatever the page size."""
    policies = list(policies)
    ids = [policy.pk for policy in policies]
    versions = {
        version.policy_id: version
        for version in PolicyVersion.objects.filter(policy_id__in=ids, status=PUBLISHED)
        .only("id", "policy_id", "major", "minor", "effective_from", "published_at")
        .annotate(translated_title=translated_title(user))
    }
    mine: dict[int, Assignment] = {}
    assignments = (
        Assignment.objects.filter(person=user, policy_id__in=ids)
        .select_related("version")
        .order_by("assigned_at", "id")
    )
    for assignment in assignments:
        # The open one is what I owe; otherwise the latest tells how it ended.
        current = mine.get(assignment.policy_id)
        if current is None or current.status != Assignment.Status.OPEN:
            mine[assignment.policy_id] = assignment
    rows = []
    for policy in policies:
        version = versions.get(policy.pk)
        title = getattr(version, "translated_title", None) or policy.title
        rows.append(PolicyRow(policy, version, mine.get(policy.pk), today, title))
    return rows


def translated_title(user, version_field: str = "pk"):
    """The title of the version's translation into the reader's language, if it has
    one, as a subquery: the lists show it without a query of their own."""
    return Subquery(
        PolicyTranslation.objects.filter(
            version_id=OuterRef(version_field), language=getattr(user, "language", "")
        ).values("title")[:1]
    )


# --- the policy page -------------------------------------------------------------------


def current_version(policy: Policy) -> PolicyVersion:
    return PolicyVersion.objects.select_related("policy__owner").get(
        policy=policy, status=PUBLISHED
    )


def safe_body(version: PolicyVersion) -> SafeString:
    """The version's body as HTML for the page: marked safe only once sanitised."""
    return safe_markdown(version.body)


def safe_markdown(text: str) -> SafeString:
    return mark_safe(render_markdown(text))  # noqa: S308 -- nh3 cleaned it


@dataclass(frozen=True)
class Text:
    """A version's text in one language, as the reader sees it: the version's own (the
    authoritative one) or a translation."""

    language: str
    title: str
    summary: str
    body: str
    sha256: str  # of `body`: what an acknowledgement of this text records
    authoritative: bool

    @property
    def language_name(self) -> str:
        return language_name(self.language)

    @property
    def native_name(self) -> str:
        """The language's name in itself (Deutsch), for the switcher on the page."""
        return dict(settings.LANGUAGES).get(self.language, self.language)


def version_texts(version: PolicyVersion, translations=None) -> dict[str, Text]:
    """Language -> text: the version's own first, then its translations (one query
    unless `translations` are given)."""
    if translations is None:
        translations = version.translations.all()
    texts = {
        version.language: Text(
            language=version.language,
            title=version.policy.title,
            summary=version.change_summary,
            body=version.body,
            sha256=version.body_sha256 or sha256_text(version.body),
            authoritative=True,
        )
    }
    for translation in sorted(translations, key=lambda t: t.language):
        texts[translation.language] = Text(
            language=translation.language,
            title=translation.title,
            # A translation without its own summary shows the authoritative one.
            summary=translation.change_summary or version.change_summary,
            body=translation.body,
            sha256=translation.text_sha256,
            authoritative=False,
        )
    return texts


def choose_language(texts: dict[str, Text], *, asked: str | None, preferred: str | None) -> str:
    """The language to show: the one the reader picked on the page, else their own,
    else the authoritative one (the first)."""
    for candidate in (asked, preferred):
        if candidate and candidate in texts:
            return candidate
    if preferred:
        # A reader of "de-at" still reads "de"; of "en-us", the "en-gb" text.
        primary = preferred.split("-")[0]
        for language in texts:
            if language.split("-")[0] == primary:
                return language
    return next(iter(texts))


@dataclass
class ChangedSection:
    heading: str
    status: str  # "added", "removed", "changed", "unchanged"
    blocks: list[tuple[str, SafeString]]  # ("+", "-" or " ", sanitised HTML)


def _blocks(diff_lines) -> list[tuple[str, SafeString]]:
    """Runs of consecutive added, removed or kept lines, each rendered as one piece of
    Markdown (and sanitised): a list item or paragraph that wraps over several lines
    reads as text, not as Markdown source, and no link or script slips through."""
    runs: list[tuple[str, list[str]]] = []
    for kind, line in diff_lines:
        if runs and runs[-1][0] == kind:
            runs[-1][1].append(line)
        else:
            runs.append((kind, [line]))
    return [
        (kind, mark_safe(render_markdown(_separate_lists(lines))))  # noqa: S308 -- nh3 cleaned it
        for kind, lines in runs
        if any(line.strip() for line in lines)
    ]


_LIST_ITEM = re.compile(r"^\s*([-*+]|\d+[.)])\s")


def _separate_lists(lines: list[str]) -> str:
    """A run can start inside a wrapped list item; its next item then follows a line of
    plain text, which Markdown would fold into that text. A blank line keeps it a list."""
    result: list[str] = []
    in_list = False
    for line in lines:
        if _LIST_ITEM.match(line):
            if result and result[-1].strip() and not in_list:
                result.append("")
            in_list = True
        elif not line.strip():
            in_list = False
        result.append(line)
    return "\n".join(result)


def what_changed(old_body: str, new_body: str) -> list[ChangedSection]:
    """Section by section (`rendering.section_changes`), with each changed section's
    difference as blocks of added, removed and kept text."""
    sections = []
    for change in section_changes(old_body, new_body):
        if change.status == "added":
            blocks = _blocks(("+", line) for line in change.new_text.split("\n"))
        elif change.status == "removed":
            blocks = _blocks(("-", line) for line in change.old_text.split("\n"))
        elif change.status == "changed":
            blocks = _blocks(change.diff_lines)
        else:
            blocks = []
        sections.append(ChangedSection(change.heading, change.status, blocks))
    return sections


@dataclass
class ReaderState:
    """Everything the policy page shows about one reader and the current version."""

    version: PolicyVersion
    assignment: Assignment | None  # open: there is something to do
    acknowledgement: Acknowledgement | None  # latest for this version's line (same major)
    declined: Decline | None  # of this version
    earlier: Acknowledgement | None  # latest of an earlier version, for What changed
    questions: list[QuizQuestion] = field(default_factory=list)
    attempts: list[QuizAttempt] = field(default_factory=list)  # newest first
    today: date | None = None
    texts: dict[str, Text] = field(default_factory=dict)  # this version's, by language
    earlier_texts: dict[str, Text] = field(default_factory=dict)  # the earlier version's
    language: str = ""  # the language shown

    @property
    def shown(self) -> Text:
        return self.texts[self.language]

    @property
    def authoritative(self) -> Text:
        return self.texts[self.version.language]

    @property
    def languages(self) -> list[Text]:
        """Every language the reader can switch to, the authoritative one first."""
        return list(self.texts.values())

    @cached_property
    def compared_language(self) -> str | None:
        """What changed compares within one language: the one shown when both versions
        have it, else the authoritative text's."""
        if self.earlier is None:
            return None
        for language in (self.language, self.version.language, self.earlier.version.language):
            if language in self.texts and language in self.earlier_texts:
                return language
        return None

    @property
    def compared_language_name(self) -> str:
        return language_name(self.compared_language or self.version.language)

    @cached_property
    def changes(self) -> list[ChangedSection]:
        """What changed since the reader's last acknowledged version, when they owe
        this one; nothing otherwise."""
        if self.assignment is None or self.earlier is None:
            return []
        language = self.compared_language
        if language is None:  # no language in common: the two authoritative texts
            return what_changed(self.earlier.version.body, self.version.body)
        return what_changed(self.earlier_texts[language].body, self.texts[language].body)

    @property
    def changed_sections(self) -> list[ChangedSection]:
        return [section for section in self.changes if section.status != "unchanged"]

    @property
    def unchanged_sections(self) -> list[ChangedSection]:
        return [section for section in self.changes if section.status == "unchanged"]

    @property
    def last_attempt(self) -> QuizAttempt | None:
        return self.attempts[0] if self.attempts else None

    @property
    def quiz_passed(self) -> bool:
        # The service judges by the latest attempt, so the page does too.
        return bool(self.last_attempt and self.last_attempt.passed)

    @property
    def may_acknowledge(self) -> bool:
        return self.assignment is not None and (not self.questions or self.quiz_passed)

    @property
    def overdue(self) -> bool:
        return self.assignment is not None and self.assignment.due_date < self.today

    @property
    def acknowledged_at(self) -> datetime | None:
        return self.acknowledgement.acknowledged_at if self.acknowledgement else None


def reader_state(user, policy: Policy, *, today: date, language: str | None = None) -> ReaderState:
    """The page for `user`, in `language` if the version has it (the reader's choice on
    the page), else in the reader's own language if it has that, else the authoritative."""
    version = current_version(policy)
    assignment = Assignment.objects.filter(
        policy=policy, person=user, status=Assignment.Status.OPEN
    ).first()
    mine = Acknowledgement.objects.filter(person=user, version__policy=policy).select_related(
        "version"
    )
    acknowledgement = mine.filter(version__major=version.major).order_by("-sequence").first()
    # What changed compares with the last text the reader acknowledged, if it was not
    # this one (an acknowledgement reopened after the re-acknowledgement period was).
    latest = mine.order_by("-sequence").first()
    earlier = latest if latest is not None and latest.version_id != version.pk else None
    declined = Decline.objects.filter(person=user, version=version).first()
    version_ids = [version.pk] + ([earlier.version_id] if earlier is not None else [])
    translations = list(PolicyTranslation.objects.filter(version_id__in=version_ids))
    texts = version_texts(version, [t for t in translations if t.version_id == version.pk])
    earlier_texts = {}
    if earlier is not None:
        earlier.version.policy = policy
        earlier_texts = version_texts(
            earlier.version, [t for t in translations if t.version_id == earlier.version_id]
        )
    questions = list(version.questions.all())
    attempts = list(version.quiz_attempts.filter(person=user)) if questions else []
    return ReaderState(
        version=version,
        assignment=assignment,
        acknowledgement=acknowledgement,
        declined=declined,
        earlier=earlier,
        questions=questions,
        attempts=attempts,
        today=today,
        texts=texts,
        earlier_texts=earlier_texts,
        language=choose_language(texts, asked=language, preferred=getattr(user, "language", None)),
    )


def posted_version(policy: Policy, version_id: int | None) -> PolicyVersion | None:
    """The version a form was filled in for: it may no longer be the current one."""
    if version_id is None:
        return None
    return policy.versions.filter(pk=version_id).first()
