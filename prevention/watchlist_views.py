"""The watch list's pages (comms and policy admins): the list with its filters, add,
edit, delete with a confirmation, the history of an entry and of the whole list, and
"Add a term to the watch list" from a lesson.

Views are thin: `prevention.permissions.can_manage_watch_list` decides who comes in,
the forms read the input, `prevention.watchlist_services` makes the change and writes
the audit; a refusal becomes a form error and nothing changes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.contrib import messages
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_safe

from incidents.models import Incident, Lesson
from people.roles import role_required
from policyhub.paging import page_of
from prevention.links import section_url
from prevention.matching import UNNAMED_PATTERN
from prevention.models import PreventionError, WatchTerm, WatchTermChange
from prevention.permissions import can_manage_watch_list
from prevention.watchlist_forms import DeleteTermForm, WatchListFilterForm, WatchTermForm
from prevention.watchlist_services import (
    AUDITED_FIELDS,
    add_term,
    change_term,
    delete_term,
    term_from_lesson,
)

keepers_only = role_required(can_manage_watch_list)

TERMS_PER_PAGE = 25
CHANGES_PER_PAGE = 25


def _term_for(pk: int) -> WatchTerm:
    return get_object_or_404(WatchTerm.objects.select_related("policy", "lesson"), pk=pk)


# --- the list -----------------------------------------------------------------------------


def watch_terms(filters: dict | None, *, today: date):
    """The entries the filters ask for, with what a row shows; none when a filter is
    not valid (None)."""
    if filters is None:
        return WatchTerm.objects.none()
    terms = WatchTerm.objects.select_related("policy", "lesson").order_by("text", "id")
    if filters.get("q"):
        query = filters["q"]
        terms = terms.filter(
            Q(text__icontains=query)
            | Q(name__icontains=query)
            | Q(explanation__icontains=query)
            | Q(policy_section__icontains=query)
        )
    if filters.get("kind"):
        terms = terms.filter(kind=filters["kind"])
    if filters.get("category"):
        terms = terms.filter(category=filters["category"])
    state = filters.get("state")
    if state == "watched":
        terms = terms.filter(active=True).filter(
            Q(expires_on__isnull=True) | Q(expires_on__gte=today)
        )
    elif state == "expired":
        terms = terms.filter(expires_on__lt=today)
    elif state == "off":
        terms = terms.filter(active=False)
    return terms


@dataclass
class TermRow:
    term: WatchTerm
    today: date

    @property
    def expired(self) -> bool:
        return self.term.expires_on is not None and self.term.expires_on < self.today

    @property
    def watched(self) -> bool:
        return self.term.active and not self.expired

    @property
    def section_url(self) -> str:
        term = self.term
        return section_url(term.policy, term.policy_section) if term.policy_id else ""


@keepers_only
@require_safe
def watchlist(request):
    today = timezone.localdate()
    form = WatchListFilterForm(request.GET)
    problems = form.problems()
    filters = None if problems else form.filters()
    page = page_of(request, watch_terms(filters, today=today), per_page=TERMS_PER_PAGE)
    return render(
        request,
        "prevention/watchlist.html",
        {
            "form": form,
            "problems": problems,
            "filtered": bool(problems or filters),
            "page": page,
            "rows": [TermRow(term, today) for term in page.object_list],
            "unnamed_pattern": _(UNNAMED_PATTERN),
        },
    )


# --- add, edit, delete --------------------------------------------------------------------


def _form_page(request, form, *, term=None, lesson=None):
    return render(
        request,
        "prevention/watchlist_form.html",
        {"form": form, "term": term, "lesson": lesson},
    )


@keepers_only
@require_http_methods(["GET", "HEAD", "POST"])
def watchlist_add(request):
    form = WatchTermForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            term = add_term(by=request.user, **form.service_kwargs())
        except PreventionError as error:
            form.add_service_error(error)
        else:
            messages.success(request, _("“%(text)s” is on the watch list.") % {"text": term.text})
            return redirect("prevention:watchlist")
    return _form_page(request, form)


@keepers_only
@require_http_methods(["GET", "HEAD", "POST"])
def watchlist_edit(request, pk: int):
    term = _term_for(pk)
    form = WatchTermForm(request.POST or None, term=term)
    if request.method == "POST" and form.is_valid():
        try:
            change = change_term(term=term, by=request.user, **form.service_kwargs())
        except PreventionError as error:
            form.add_service_error(error)
        else:
            if change is None:
                messages.info(request, _("Nothing changed in “%(text)s”.") % {"text": term.text})
            else:
                messages.success(request, _("“%(text)s” is saved.") % {"text": term.text})
            return redirect("prevention:watchlist")
    return _form_page(request, form, term=term)


@keepers_only
@require_http_methods(["GET", "HEAD", "POST"])
def watchlist_delete(request, pk: int):
    term = _term_for(pk)
    form = DeleteTermForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            delete_term(term=term, by=request.user, note=form.cleaned_data["note"])
        except PreventionError as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request, _("“%(text)s” is no longer on the watch list.") % {"text": term.text}
            )
            return redirect("prevention:watchlist")
    return render(
        request,
        "prevention/watchlist_delete.html",
        {"term": term, "form": form, "row": TermRow(term, timezone.localdate())},
    )


# --- from a lesson ------------------------------------------------------------------------


def _published_lesson(pk: int) -> Lesson:
    return get_object_or_404(
        Lesson.objects.only("pk", "title", "text", "published"), pk=pk, published=True
    )


@keepers_only
@require_http_methods(["GET", "HEAD", "POST"])
def watchlist_from_lesson(request, lesson_pk: int):
    """ "Add a term to the watch list", prefilled from a published lesson."""
    lesson = _published_lesson(lesson_pk)
    initial = {
        "explanation": _("An earlier post taught us this: %(lesson)s.") % {"lesson": lesson.title}
    }
    form = WatchTermForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            term = term_from_lesson(lesson=lesson, by=request.user, **form.service_kwargs())
        except PreventionError as error:
            form.add_service_error(error)
        else:
            messages.success(
                request,
                _("“%(text)s” is on the watch list, from the lesson “%(lesson)s”.")
                % {"text": term.text, "lesson": lesson.title},
            )
            return redirect("incidents:lesson", lesson.pk)
    return _form_page(request, form, lesson=lesson)


def lesson_watch_terms(user, lesson) -> dict:
    """The context `prevention/_lesson_watch_terms.html` needs beside `lesson`: whether
    the viewer keeps the watch list, and then the lesson's entries (one query). The
    watch list names unreleased products, so nobody else sees them."""
    if not can_manage_watch_list(user):
        return {"may_keep_watch_list": False, "lesson_watch_terms": []}
    terms = list(lesson.watch_terms.order_by("text", "id"))
    return {"may_keep_watch_list": True, "lesson_watch_terms": terms}


# --- the history --------------------------------------------------------------------------


FIELD_LABELS = {
    "kind": gettext_lazy("Kind"),
    "text": gettext_lazy("Text"),
    "name": gettext_lazy("Name shown to employees"),
    "category": gettext_lazy("What kind of information"),
    "severity": gettext_lazy("Severity"),
    "explanation": gettext_lazy("Explanation"),
    "policy": gettext_lazy("Policy"),
    "policy_section": gettext_lazy("Policy section"),
    "expires_on": gettext_lazy("Watched until"),
    "active": gettext_lazy("Watched"),
    "lesson": gettext_lazy("From the lesson"),
}
_CHOICE_LABELS = {
    "kind": dict(WatchTerm.Kind.choices),
    "category": dict(Incident.Information.choices),
    "severity": dict(Incident.Severity.choices),
}


def _shown(name: str, value) -> str:
    if value is None or value == "":
        return "—"
    if name == "active":
        return _("Yes") if value else _("No")
    if name == "expires_on":
        day = parse_date(str(value))
        return date_format(day, "j M Y") if day else str(value)
    return str(_CHOICE_LABELS.get(name, {}).get(value, value))


@dataclass
class FieldChange:
    label: str
    before: str
    after: str


def field_changes(change: WatchTermChange) -> list[FieldChange]:
    """What an audit row changed, field by field, in the page's words: every field of
    an entry added or deleted, the fields that differ for a change."""
    before, after = change.before or {}, change.after or {}
    lines = []
    for name in AUDITED_FIELDS:
        old, new = before.get(name), after.get(name)
        if change.action == WatchTermChange.Action.CHANGED and old == new:
            continue
        if change.action != WatchTermChange.Action.CHANGED and (
            old in (None, "") and new in (None, "")
        ):
            continue
        lines.append(FieldChange(FIELD_LABELS[name], _shown(name, old), _shown(name, new)))
    return lines


def _history_page(request, changes, *, term=None):
    page = page_of(
        request,
        changes.select_related("by").order_by("-at", "-id"),
        per_page=CHANGES_PER_PAGE,
    )
    rows = [(change, field_changes(change)) for change in page.object_list]
    return render(
        request, "prevention/watchlist_history.html", {"page": page, "rows": rows, "term": term}
    )


@keepers_only
@require_safe
def watchlist_history(request):
    """Every change of the watch list, newest first, deleted entries included."""
    return _history_page(request, WatchTermChange.objects.all())


@keepers_only
@require_safe
def watchlist_term_history(request, pk: int):
    term = _term_for(pk)
    return _history_page(request, term.changes.all(), term=term)
