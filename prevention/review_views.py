"""Check a post (everyone), Ask comms and My post reviews (the employee), the review
queue and answers (comms), and kept examples (comms and policy admins).

A draft is private: the check is a POST whose draft is neither stored, logged (the
fields are marked sensitive for error reports) nor cached (no-store); review pages,
which show a stored draft, are not cached either.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from incidents.models import Incident
from policies.models import Policy
from policyhub.paging import page_of
from prevention import links
from prevention import review_services as services
from prevention.matching import shown_explanation, shown_label
from prevention.models import PostReview, PreventionError, ReviewExample
from prevention.permissions import can_keep_examples, can_review_posts, get_review_for
from prevention.review_forms import (
    AttachExampleForm,
    CheckForm,
    DecisionForm,
    KeepExampleForm,
    initial_section,
    section_choices,
)
from training.models import Topic

Status = PostReview.Status
REVIEWS_PER_PAGE = 20
QUEUE_PER_PAGE = 25
EXAMPLES_PER_PAGE = 20
RECENT_EXAMPLES = 3
# The queue shows the answers of the last few weeks below the reviews waiting.
RECENT_DECISIONS = timedelta(days=30)
SEVERITY_ORDER = [value for value, _label in reversed(Incident.Severity.choices)]


# --- what the check found, ready to show ---------------------------------------------------


@dataclass
class ShownFinding:
    number: int
    rule: str
    label: str
    found: str
    explanation: str
    category: str
    severity: str
    where: str  # "draft" or "image"
    policy: Policy | None = None
    policy_section: str = ""

    @property
    def severity_label(self) -> str:
        return Incident.Severity(self.severity).label if self.severity in SEVERITY_ORDER else ""

    @property
    def category_label(self) -> str:
        values = Incident.Information.values
        return Incident.Information(self.category).label if self.category in values else ""

    @property
    def shows_found(self) -> bool:
        """Whether the words found say more than the label ("Email address": yes)."""
        return self.found.casefold() != self.label.casefold()

    @property
    def section_url(self) -> str:
        return links.section_url(self.policy, self.policy_section) if self.policy else ""


@dataclass
class SeverityGroup:
    severity: str
    label: str
    findings: list[ShownFinding] = field(default_factory=list)


def _shown(findings: list[dict]) -> list[ShownFinding]:
    """Findings (as dicts: a check's, or a review's snapshot) with their policies loaded
    in one query, numbered in the order they appear."""
    ids = {f.get("policy_id") for f in findings if f.get("policy_id")}
    policies = Policy.objects.in_bulk(ids) if ids else {}
    return [
        ShownFinding(
            number=number,
            rule=f.get("rule", ""),
            label=shown_label(f.get("rule", ""), f.get("label", "")),
            found=f.get("found", ""),
            explanation=shown_explanation(f.get("rule", ""), f.get("explanation", "")),
            category=f.get("category", ""),
            severity=f.get("severity", ""),
            where=f.get("where", "draft"),
            policy=policies.get(f.get("policy_id")),
            policy_section=f.get("policy_section", ""),
        )
        for number, f in enumerate(findings, start=1)
    ]


def _by_severity(findings: list[ShownFinding]) -> list[SeverityGroup]:
    groups = {value: SeverityGroup(value, label) for value, label in Incident.Severity.choices}
    other = SeverityGroup("", _("Other"))
    for finding in findings:
        groups.get(finding.severity, other).findings.append(finding)
    ordered = [groups[value] for value in SEVERITY_ORDER] + [other]
    return [group for group in ordered if group.findings]


def _marked(text: str, findings: list[ShownFinding], spans: dict[int, tuple[int, int]]) -> list:
    """The text cut into pieces: (piece, finding or None). A finding that overlaps an
    earlier one is listed, not marked again."""
    pieces, position = [], 0
    for finding in findings:
        start, end = spans[finding.number]
        if not (position <= start < end <= len(text)):
            continue
        if start > position:
            pieces.append((text[position:start], None))
        pieces.append((text[start:end], finding))
        position = end
    if position < len(text):
        pieces.append((text[position:], None))
    return pieces


def _ordered(findings: list[dict]) -> list[dict]:
    return sorted(findings, key=lambda f: (f.get("where") != "draft", f["start"], -f["end"]))


def _presented(text: str, raw: list[dict]) -> dict:
    """Template context for a draft and what was found in it."""
    raw = _ordered(raw)
    shown = _shown(raw)
    spans = {
        finding.number: (f["start"], f["end"])
        for finding, f in zip(shown, raw, strict=True)
        if finding.where == "draft"
    }
    in_draft = [finding for finding in shown if finding.where == "draft"]
    return {
        "findings": shown,
        "groups": _by_severity(shown),
        "pieces": _marked(text, in_draft, spans),
    }


# --- the suggested text as a difference ----------------------------------------------------

_TOKENS = re.compile(r"\s+|[^\s]+")


def word_diff(before: str, after: str) -> list[tuple[str, str]]:
    """(kind, text) pieces, kind "=" kept, "-" removed, "+" added: word by word, with
    line breaks kept as they were. A change of several words reads as one removal and
    one addition, not word by word in turn."""
    old, new = _TOKENS.findall(before), _TOKENS.findall(after)
    ops: list[tuple[str, str, str]] = []  # (kind, removed text, added text)
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        removed, added = "".join(old[i1:i2]), "".join(new[j1:j2])
        ops.append(("=" if op == "equal" else "~", removed, added))
    pieces: list[tuple[str, str]] = []
    removed, added = [], []
    for index, (kind, old_text, new_text) in enumerate(ops):
        between_changes = 0 < index < len(ops) - 1 and ops[index + 1][0] == "~"
        if kind == "~" or (between_changes and removed and not old_text.strip()):
            removed.append(old_text)
            added.append(new_text)
            continue
        if removed:
            pieces += [(k, t) for k, t in (("-", "".join(removed)), ("+", "".join(added))) if t]
            removed, added = [], []
        pieces.append(("=", old_text))
    if removed:
        pieces += [(k, t) for k, t in (("-", "".join(removed)), ("+", "".join(added))) if t]
    return pieces


# --- how long until (or since) a review is due ---------------------------------------------


def _span(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 60:
        # Translators: a short span of minutes, as in "due in 20 min".
        return _("%(count)s min") % {"count": max(minutes, 1)}
    if minutes < 48 * 60:
        # Translators: a span of hours, as in "due in 3 h".
        return _("%(count)s h") % {"count": minutes // 60}
    days = minutes // (24 * 60)
    return ngettext("%(count)s day", "%(count)s days", days) % {"count": days}


def sla(needed_by: datetime, now: datetime) -> tuple[str, bool]:
    """("due in 3 h", False) or ("late by 2 h", True)."""
    if needed_by >= now:
        return _("due in %(span)s") % {"span": _span(needed_by - now)}, False
    return _("late by %(span)s") % {"span": _span(now - needed_by)}, True


def answered_in_time(review: PostReview) -> str:
    if review.decided_at is None:
        return ""
    if review.decided_at <= review.needed_by:
        return _("on time")
    return _("%(span)s late") % {"span": _span(review.decided_at - review.needed_by)}


# --- Check a post ----------------------------------------------------------------------


def _recent_examples():
    return ReviewExample.objects.select_related("policy", "topic")[:RECENT_EXAMPLES]


@never_cache
@sensitive_post_parameters("draft", "image_text")
@require_http_methods(["GET", "HEAD", "POST"])
def check(request):
    """Paste a draft, see at once what the policy says about it. Nothing is kept unless
    the employee chooses Ask comms."""
    asking = request.method == "POST" and request.POST.get("action") == "ask"
    form = CheckForm(request.POST if request.method == "POST" else None, asking=asking)
    result = None
    if request.method == "POST":
        valid = form.is_valid()
        data = form.cleaned_data
        if "draft" in data and "image_text" in data:
            # The draft may be checked even when "Needed by" was refused.
            try:
                result = services.check_draft(draft=data["draft"], image_text=data["image_text"])
            except PreventionError as error:
                form.add_error(None, str(error))
        if valid and result is not None and asking:
            try:
                review = services.ask_comms(
                    requester=request.user,
                    draft=data["draft"],
                    platform=data["platform"],
                    image_text=data["image_text"],
                    needed_by=data["needed_by"],
                )
            except PreventionError as error:
                form.add_error(None, str(error))
            else:
                messages.success(
                    request,
                    _(
                        "Sent to comms. You will hear from them by %(when)s; the answer "
                        "also comes up on My tasks."
                    )
                    % {"when": date_format(timezone.localtime(review.needed_by), "j F, H:i")},
                )
                return redirect("prevention:review", pk=review.pk)
    context = {
        "form": form,
        "checked": result is not None,
        "examples": _recent_examples(),
        "can_keep_examples": can_keep_examples(request.user),
    }
    if result is not None:
        context |= _presented(form.cleaned_data["draft"], services.findings_snapshot(result))
    return render(request, "prevention/check.html", context)


# --- the employee's own reviews ---------------------------------------------------------


@never_cache
@require_safe
def my_reviews(request):
    reviews = (
        PostReview.objects.filter(requester=request.user)
        .select_related("decided_by")
        .defer("findings", "suggested_text")
        .order_by("-created_at", "-pk")
    )
    return render(
        request,
        "prevention/review_list.html",
        {
            "page": page_of(request, reviews, per_page=REVIEWS_PER_PAGE),
            "now": timezone.now(),
        },
    )


# --- one review -----------------------------------------------------------------------


def _review_page(request, review: PostReview, *, decision_form=None, keep_form=None, status=200):
    user = request.user
    now = timezone.now()
    mine = review.requester_id == user.pk
    reviewer = can_review_posts(user)
    pending = review.status == Status.PENDING
    answered = review.status in services.ANSWERED
    example = ReviewExample.objects.filter(review=review).select_related("policy", "topic").first()
    may_decide = reviewer and pending and not mine
    may_keep = can_keep_examples(user) and reviewer and answered and example is None
    if may_decide and decision_form is None:
        decision_form = DecisionForm(initial={"suggested_text": review.draft})
    if may_keep and keep_form is None:
        keep_form = KeepExampleForm(initial={"text": review.draft, "reason": review.reason})
    due_text, late = sla(review.needed_by, now)
    context = {
        "review": review,
        "mine": mine,
        "reviewer": reviewer,
        "due_text": due_text,
        "late": late,
        "decision_form": decision_form if may_decide else None,
        "keep_form": keep_form if may_keep else None,
        "example": example,
        "may_withdraw": mine and pending,
        "diff": word_diff(review.draft, review.suggested_text) if review.suggested_text else [],
        "answered_in_time": answered_in_time(review),
        **_presented(review.draft, review.findings),
    }
    return render(request, "prevention/review_detail.html", context, status=status)


@never_cache
@require_safe
def review(request, pk):
    review = get_review_for(request.user, pk)
    services.mark_answer_seen(review=review, by=request.user)
    return _review_page(request, review)


@never_cache
@sensitive_post_parameters("suggested_text", "reason")
@require_POST
def decide(request, pk):
    review = get_review_for(request.user, pk)
    if not can_review_posts(request.user):
        raise PermissionDenied
    form = DecisionForm(request.POST)
    if form.is_valid():
        try:
            services.decide(
                review=review,
                by=request.user,
                decision=form.cleaned_data["decision"],
                suggested_text=form.cleaned_data["suggested_text"],
                reason=form.cleaned_data["reason"],
            )
        except PreventionError as error:
            review.refresh_from_db()
            if review.status != Status.PENDING:
                messages.error(request, services.answered_meanwhile(review))
                return redirect("prevention:review", pk=review.pk)
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Your answer was sent. The employee is told at once."))
            return redirect("prevention:review", pk=review.pk)
    elif review.status != Status.PENDING:
        # Answered (or withdrawn) before this incomplete answer came: say so, show it.
        messages.error(request, services.answered_meanwhile(review))
        return redirect("prevention:review", pk=review.pk)
    return _review_page(request, review, decision_form=form, status=400)


@never_cache
@require_POST
def withdraw(request, pk):
    review = get_review_for(request.user, pk)
    try:
        services.withdraw(review=review, by=request.user)
    except PreventionError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("You withdrew the review. Comms will not answer it."))
    return redirect("prevention:review", pk=review.pk)


@never_cache
@sensitive_post_parameters("text", "reason")
@require_POST
def keep_example(request, pk):
    review = get_review_for(request.user, pk)
    if not can_keep_examples(request.user):
        raise PermissionDenied
    form = KeepExampleForm(request.POST)
    if form.is_valid():
        try:
            services.keep_example(
                review=review,
                by=request.user,
                text=form.cleaned_data["text"],
                reason=form.cleaned_data["reason"],
                **form.attachment(),
            )
        except PreventionError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Kept as an example."))
            return redirect("prevention:examples")
    return _review_page(request, review, keep_form=form, status=400)


# --- the comms queue --------------------------------------------------------------------


@never_cache
@require_safe
def queue(request):
    """Comms: the reviews waiting, oldest due first, then the answers of recent weeks."""
    if not can_review_posts(request.user):
        raise PermissionDenied
    now = timezone.now()
    waiting = (
        PostReview.objects.filter(status=Status.PENDING)
        .select_related("requester")
        .defer("findings", "suggested_text", "reason")
        .order_by("needed_by", "pk")
    )
    answered = (
        PostReview.objects.filter(
            status__in=services.ANSWERED, decided_at__gte=now - RECENT_DECISIONS
        )
        .select_related("requester", "decided_by")
        .defer("findings", "suggested_text", "reason")
        .order_by("-decided_at", "-pk")
    )
    waiting_page = page_of(request, waiting, per_page=QUEUE_PER_PAGE, anchor="waiting")
    answered_page = page_of(
        request, answered, per_page=QUEUE_PER_PAGE, param="answered", anchor="answered"
    )
    return render(
        request,
        "prevention/review_queue.html",
        {
            "waiting": [(review, *sla(review.needed_by, now)) for review in waiting_page],
            "waiting_page": waiting_page,
            "answered": [(review, answered_in_time(review)) for review in answered_page],
            "answered_page": answered_page,
            "can_keep_examples": can_keep_examples(request.user),
        },
    )


# --- examples ------------------------------------------------------------------------------


def _examples_page(request, *, posted=None, posted_pk=None, status=200):
    examples = ReviewExample.objects.select_related("policy", "topic", "created_by")
    page = page_of(request, examples, per_page=EXAMPLES_PER_PAGE)
    sections, topics = section_choices(), list(Topic.objects.all())
    rows = []
    for example in page.object_list:
        form = (
            posted
            if example.pk == posted_pk
            else AttachExampleForm(
                prefix=f"example-{example.pk}",
                sections=sections,
                topics=topics,
                initial={"section": initial_section(example), "topic": example.topic_id},
            )
        )
        rows.append({"example": example, "form": form})
    return render(
        request,
        "prevention/examples.html",
        {"page": page, "rows": rows, "reviewer": can_review_posts(request.user)},
        status=status,
    )


def _example_for(request, pk) -> ReviewExample:
    if not can_keep_examples(request.user):
        raise PermissionDenied
    example = ReviewExample.objects.filter(pk=pk).first()
    if example is None:
        raise Http404("No such example.")
    return example


@require_safe
def examples(request):
    if not can_keep_examples(request.user):
        raise PermissionDenied
    return _examples_page(request)


MAX_PAGE_DIGITS = 6


def _back_to_examples(request) -> str:
    """The page of examples the person came from: its number when it is one (ASCII
    digits: "²" and "٣" pass isdigit), else the first page, as page_of reads it. Worked
    out before anything changes, so that a bad number cannot fail after the change."""
    number = request.GET.get("page", "")
    url = reverse("prevention:examples")
    if number.isascii() and number.isdigit() and len(number) <= MAX_PAGE_DIGITS:
        return f"{url}?page={int(number)}"
    return url


@require_POST
def attach_example(request, pk):
    example = _example_for(request, pk)
    back = _back_to_examples(request)
    form = AttachExampleForm(request.POST, prefix=f"example-{pk}")
    if form.is_valid():
        try:
            services.attach_example(example=example, by=request.user, **form.attachment())
        except PreventionError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("The example is shown where you chose."))
            return redirect(back)
    return _examples_page(request, posted=form, posted_pk=pk, status=400)


@require_POST
def remove_example(request, pk):
    example = _example_for(request, pk)
    back = _back_to_examples(request)
    services.remove_example(example=example, by=request.user)
    messages.success(request, _("The example was removed. The review it came from stays."))
    return redirect(back)
