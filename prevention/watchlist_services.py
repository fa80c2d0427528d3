"""Everything that changes the watch list: add, change and delete an entry, and add one
from a lesson. Comms and policy admins keep it; every change writes a WatchTermChange
row (who, when, the entry's fields before and after), and sets `updated_at` so the
matcher's cached watch list is built again."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from incidents.models import Incident, Lesson
from policies.models import Policy, PolicyVersion
from policies.rendering import split_sections
from prevention import matching
from prevention.models import PreventionError, WatchTerm, WatchTermChange
from prevention.permissions import can_manage_watch_list

Kind = WatchTerm.Kind
Action = WatchTermChange.Action

TEXT_MAX_LENGTH = WatchTerm._meta.get_field("text").max_length
NAME_MAX_LENGTH = WatchTerm._meta.get_field("name").max_length
SECTION_MAX_LENGTH = WatchTerm._meta.get_field("policy_section").max_length
EXPLANATION_MAX_LENGTH = 2000
NOTE_MAX_LENGTH = 1000

# The fields an audit row records, in the order the history shows them.
AUDITED_FIELDS = (
    "kind",
    "text",
    "name",
    "category",
    "severity",
    "explanation",
    "policy",
    "policy_section",
    "expires_on",
    "active",
    "lesson",
)


def _site_today(now: datetime) -> date:
    """The site's day at `now`, as the matcher expires entries by it (not the viewer's)."""
    return timezone.localdate(now, timezone=timezone.get_default_timezone())


class WatchTermError(PreventionError):
    """A refused watch-list change; `field` names the entry's field it is about."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.field = field


def _require_keeper(user) -> None:
    if not can_manage_watch_list(user):
        raise WatchTermError(_("Only comms and policy admins keep the watch list."))


# --- the policy sections an entry may name ------------------------------------------------


def current_sections(policies=None) -> dict[int, tuple[Policy, list[str]]]:
    """Published policies (all, or those given) with the headings of their current
    version, in the order of the text: one query."""
    versions = PolicyVersion.objects.filter(status=PolicyVersion.Status.PUBLISHED)
    if policies is not None:
        versions = versions.filter(policy__in=policies)
    versions = versions.select_related("policy").only("body", "policy").order_by("policy__title")
    result = {}
    for version in versions:
        headings: list[str] = []
        for section in split_sections(version.body):
            if section.heading and section.heading not in headings:
                headings.append(section.heading)
        result[version.policy_id] = (version.policy, headings)
    return result


def _same_heading(one: str, other: str) -> bool:
    return " ".join(one.casefold().split()) == " ".join(other.casefold().split())


def _policy_section(policy: Policy | None, section: str) -> str:
    """The section as its policy's current version spells it; refused when it is not one
    of its headings, or the policy has no published version."""
    section = (section or "").strip()
    if policy is None:
        if section:
            raise WatchTermError(_("Choose the policy the section belongs to."), field="policy")
        return ""
    found = current_sections([policy]).get(policy.pk)
    if found is None:
        raise WatchTermError(
            _("“%(policy)s” has no published version: choose a published policy.")
            % {"policy": policy.title},
            field="policy",
        )
    if not section:
        return ""
    for heading in found[1]:
        if _same_heading(heading, section):
            return heading
    raise WatchTermError(
        _(
            "“%(section)s” is not a section of the current version of “%(policy)s”: "
            "choose one of its headings."
        )
        % {"section": section[:SECTION_MAX_LENGTH], "policy": policy.title},
        field="policy_section",
    )


# --- checking an entry --------------------------------------------------------------------


def _plain_text(value: str, *, label: str, field: str, max_length: int, required: bool) -> str:
    value = (value or "").strip()
    if "\x00" in value:
        raise WatchTermError(
            _("%(field)s cannot contain a null character.") % {"field": label}, field=field
        )
    if required and not value:
        raise WatchTermError(_("%(field)s is needed.") % {"field": label}, field=field)
    if len(value) > max_length:
        raise WatchTermError(
            _("%(field)s is too long: at most %(limit)s characters (it has %(count)s).")
            % {
                "field": label,
                "limit": number_format(max_length, force_grouping=True),
                "count": number_format(len(value), force_grouping=True),
            },
            field=field,
        )
    return value


def _normalised(kind: str, text: str) -> str:
    """What makes two entries the same: words or phrases that match the same texts
    ("Project  ÁTLAS", "project atlas", "#ProjectAtlas"), a regular expression exactly
    as written."""
    return matching.normalise_term(text) if kind == Kind.TERM else text


def _check_duplicate(kind: str, text: str, *, exclude_pk: int | None = None) -> None:
    same = _normalised(kind, text)
    others = WatchTerm.objects.filter(kind=kind)
    if exclude_pk is not None:
        others = others.exclude(pk=exclude_pk)
    if kind == Kind.PATTERN:
        others = others.filter(text=text)
    # Words and phrases are compared as the matcher reads them; the watch list is short
    # (hundreds of entries), so in Python.
    clash = next(
        (
            other
            for other in others.values_list("text", flat=True)
            if _normalised(kind, other) == same
        ),
        None,
    )
    if clash is not None:
        raise WatchTermError(
            _("“%(text)s” is already on the watch list.") % {"text": clash}, field="text"
        )


def _live(*, kind: str, active: bool, expires_on: date | None, today: date) -> bool:
    return kind == Kind.PATTERN and active and (expires_on is None or expires_on >= today)


def _check_pattern_room(
    entry, *, today: date, was_live: bool = False, exclude_pk: int | None = None
) -> None:
    """Each live regular expression runs on every text checked: at most
    matching.MAX_PATTERNS at once."""
    if was_live or not _live(
        kind=entry.kind, active=entry.active, expires_on=entry.expires_on, today=today
    ):
        return
    live = WatchTerm.objects.filter(kind=Kind.PATTERN, active=True).filter(
        Q(expires_on__isnull=True) | Q(expires_on__gte=today)
    )
    if exclude_pk is not None:
        live = live.exclude(pk=exclude_pk)
    if live.count() >= matching.MAX_PATTERNS:
        raise WatchTermError(
            _(
                "The watch list already has %(count)s regular expressions being watched, "
                "the most it checks at once. Untick or delete one first, or add this one "
                "unticked."
            )
            % {"count": matching.MAX_PATTERNS}
        )


@dataclass(frozen=True)
class TermFields:
    """What a keeper fills in for a watch-list entry: add_term, change_term and
    term_from_lesson take these as keyword arguments (a wrong or missing one is a
    TypeError, as for any keyword argument)."""

    kind: str
    text: str
    category: str
    severity: str
    explanation: str
    name: str = ""
    policy: Policy | None = None
    policy_section: str = ""
    expires_on: date | None = None
    active: bool = True


def _checked(
    fields: TermFields, *, today: date, expiry_unchanged_from: date | None = None
) -> TermFields:
    """The entry as it is saved (trimmed, headings spelt as the policy spells them), or
    WatchTermError naming the field that is wrong."""
    kind, text, name = fields.kind, fields.text, fields.name
    category, severity, policy = fields.category, fields.severity, fields.policy
    if kind not in Kind.values:
        raise WatchTermError(_("Choose a word or phrase, or a regular expression."), field="kind")
    label = _("The regular expression") if kind == Kind.PATTERN else _("The word or phrase")
    text = _plain_text(text, label=label, field="text", max_length=TEXT_MAX_LENGTH, required=True)
    try:
        if kind == Kind.PATTERN:
            matching.validate_pattern(text)
        else:
            matching.validate_term(text)
    except PreventionError as error:
        raise WatchTermError(str(error), field="text") from None
    if kind == Kind.TERM:
        text = " ".join(text.split())
    name = " ".join(
        _plain_text(
            name,
            label=_("The name shown to employees"),
            field="name",
            max_length=NAME_MAX_LENGTH,
            required=False,
        ).split()
    )
    if kind == Kind.PATTERN and not name:
        raise WatchTermError(
            _(
                "Give the regular expression a name employees see instead of it, e.g. "
                "“Unpublished quarterly figures”: the expression itself is shown on the "
                "watch list only, as it may name every secret it guards."
            ),
            field="name",
        )
    if category not in Incident.Information.values:
        raise WatchTermError(_("Choose what kind of information it is."), field="category")
    if severity not in Incident.Severity.values:
        raise WatchTermError(_("Choose a severity."), field="severity")
    explanation = _plain_text(
        fields.explanation,
        label=_("The explanation"),
        field="explanation",
        max_length=EXPLANATION_MAX_LENGTH,
        required=True,
    )
    policy_section = _plain_text(
        fields.policy_section,
        label=_("The policy section"),
        field="policy_section",
        max_length=SECTION_MAX_LENGTH,
        required=False,
    )
    policy_section = _policy_section(policy, policy_section)
    expires_on = fields.expires_on
    if expires_on is not None and expires_on != expiry_unchanged_from and expires_on < today:
        raise WatchTermError(
            _("The expiry date is in the past: give today or a later day, or leave it empty."),
            field="expires_on",
        )
    return replace(
        fields,
        text=text,
        name=name,
        explanation=explanation,
        policy_section=policy_section,
        active=bool(fields.active),
    )


def snapshot(term: WatchTerm) -> dict:
    """The audited fields of an entry as they are now (JSON: dates as ISO text, the
    policy and lesson by their title, which is what a reader of the history needs)."""
    return {
        "kind": term.kind,
        "text": term.text,
        "name": term.name,
        "category": term.category,
        "severity": term.severity,
        "explanation": term.explanation,
        "policy": term.policy.title if term.policy_id else "",
        "policy_section": term.policy_section,
        "expires_on": term.expires_on.isoformat() if term.expires_on else None,
        "active": term.active,
        "lesson": term.lesson.title if term.lesson_id else "",
    }


def _record(*, term: WatchTerm | None, text: str, action: str, before, after, by, at, note):
    return WatchTermChange.objects.create(
        term=term,
        term_text=text,
        action=action,
        before=before,
        after=after,
        by=by,
        at=at,
        note=note,
    )


def _note(note: str) -> str:
    return _plain_text(
        note, label=_("The note"), field="note", max_length=NOTE_MAX_LENGTH, required=False
    )


def _duplicate_error(text: str) -> WatchTermError:
    return WatchTermError(
        _("“%(text)s” is already on the watch list.") % {"text": text}, field="text"
    )


# --- the changes --------------------------------------------------------------------------


def add_term(
    *,
    by,
    lesson: Lesson | None = None,
    note: str = "",
    now: datetime | None = None,
    **fields,
) -> WatchTerm:
    """Put a word, phrase or regular expression on the watch list; `fields` are the
    TermFields."""
    _require_keeper(by)
    now = now or timezone.now()
    today = _site_today(now)
    entry = _checked(TermFields(**fields), today=today)
    note = _note(note)
    _check_duplicate(entry.kind, entry.text)
    _check_pattern_room(entry, today=today)
    try:
        with transaction.atomic():
            term = WatchTerm.objects.create(
                **vars(entry), lesson=lesson, created_by=by, created_at=now, updated_at=now
            )
            _record(
                term=term,
                text=term.text,
                action=Action.CREATED,
                before={},
                after=snapshot(term),
                by=by,
                at=now,
                note=note,
            )
    except IntegrityError:
        # Someone added the same entry a moment ago.
        raise _duplicate_error(entry.text) from None
    return term


def change_term(
    *, term: WatchTerm, by, note: str = "", now: datetime | None = None, **fields
) -> WatchTermChange | None:
    """Change an entry: the audit row with its fields before and after, or None when
    nothing changed (and nothing is written). An expiry already in the past may stay as
    it is; a new one may not be in the past. `fields` are the TermFields."""
    _require_keeper(by)
    fields = TermFields(**fields)
    now = now or timezone.now()
    today = _site_today(now)
    note = _note(note)
    try:
        with transaction.atomic():
            current = (
                WatchTerm.objects.select_for_update(of=("self",))
                .select_related("policy", "lesson")
                .filter(pk=term.pk)
                .first()
            )
            if current is None:
                raise WatchTermError(
                    _("This entry has been deleted from the watch list meanwhile.")
                )
            entry = _checked(fields, today=today, expiry_unchanged_from=current.expires_on)
            _check_duplicate(entry.kind, entry.text, exclude_pk=current.pk)
            _check_pattern_room(
                entry,
                today=today,
                was_live=_live(
                    kind=current.kind,
                    active=current.active,
                    expires_on=current.expires_on,
                    today=today,
                ),
                exclude_pk=current.pk,
            )
            before = snapshot(current)
            for field, value in vars(entry).items():
                setattr(current, field, value)
            after = snapshot(current)
            if after == before:
                return None
            current.updated_at = now
            current.save()
            change = _record(
                term=current,
                text=current.text,
                action=Action.CHANGED,
                before=before,
                after=after,
                by=by,
                at=now,
                note=note,
            )
    except IntegrityError:
        raise _duplicate_error(fields.text.strip()) from None
    # The caller's object shows what was saved.
    for field, value in vars(entry).items():
        setattr(term, field, value)
    term.updated_at = current.updated_at
    return change


def delete_term(
    *, term: WatchTerm, by, note: str = "", now: datetime | None = None
) -> WatchTermChange:
    """Take an entry off the watch list for good; its history stays, under its text."""
    _require_keeper(by)
    now = now or timezone.now()
    note = _note(note)
    with transaction.atomic():
        current = (
            WatchTerm.objects.select_for_update(of=("self",))
            .select_related("policy", "lesson")
            .filter(pk=term.pk)
            .first()
        )
        if current is None:
            raise WatchTermError(_("This entry has already been deleted from the watch list."))
        change = _record(
            term=current,
            text=current.text,
            action=Action.DELETED,
            before=snapshot(current),
            after={},
            by=by,
            at=now,
            note=note,
        )
        current.delete()  # its changes keep term_text; their link is cleared
    change.term = None
    return change


def term_from_lesson(*, lesson: Lesson, by, now: datetime | None = None, **fields) -> WatchTerm:
    """ "Add a term to the watch list" from a published lesson: the entry names the lesson
    it came from, and the lesson lists its entries. `fields` are the TermFields."""
    _require_keeper(by)
    if not lesson.published:
        raise WatchTermError(_("Only a published lesson can add a term to the watch list."))
    return add_term(
        by=by,
        lesson=lesson,
        note=f"From the lesson “{lesson.title}”.",
        now=now,
        **fields,
    )
