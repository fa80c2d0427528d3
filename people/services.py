"""The directory service: how people are checked, created, changed and deactivated.

Two ways in use it. The HR import (people/importer.py) checks a whole file and writes it in
bulk; SCIM provisioning (scim/) changes one person at a time through `create_person`,
`update_person` and `deactivate_person`. Both read values with `clean_value`, find departments
with `DepartmentNames`, refuse management loops found by `manager_cycles`, never deactivate a
site admin (`deactivation_forbidden`), and end with `directory_changed`, which brings policy
assignments in line: a leaver's open assignments close the same way whichever way they left.
"""

import re
from collections.abc import Hashable, Iterable, Mapping
from datetime import date

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from people import audience, signals
from people.models import Department, User, known_time_zones, normalise_email

# What a person has in the directory, in the import's words (its columns, with the
# manager as a person rather than an email address).
FIELDS = (
    "email",
    "full_name",
    "employee_id",
    "department",
    "manager",
    "job_title",
    "location",
    "time_zone",
    "start_date",
    "active",
    "language",
)
TEXT_FIELDS = ("full_name", "employee_id", "job_title", "location", "time_zone")
MAX_LENGTHS = {
    "email": User._meta.get_field("email").max_length,
    "manager_email": User._meta.get_field("email").max_length,
    "department": Department._meta.get_field("name").max_length,
    **{name: User._meta.get_field(name).max_length for name in TEXT_FIELDS},
}
# Changes after which the policy audiences may differ (joiners, leavers, movers).
AUDIENCE_FIELDS = frozenset({"department", "active"})

_TRUE = {"", "true", "yes", "1", "y"}  # an empty cell means active
_FALSE = {"false", "no", "0", "n"}
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_ATTRIBUTES = {"active": "is_active"}  # fields whose User attribute has another name


class DirectoryError(Exception):
    """A directory change that cannot be made; the message is for people.

    `field` names the field at fault (one of FIELDS) when there is one; `code` says what
    kind of refusal it is, so that an API can answer with the right status.
    """

    INVALID = "invalid"
    DUPLICATE = "duplicate"  # an email address or employee id someone else has
    PROTECTED = "protected"  # a site admin account

    def __init__(self, message: str, *, field: str | None = None, code: str = INVALID):
        super().__init__(message)
        self.message = message
        self.field = field
        self.code = code


# Values ---------------------------------------------------------------------------------------


def clean_value(column: str, text: str, *, label: str | None = None) -> object:
    """One value as text (a CSV cell, a SCIM string) → the value stored, or ValidationError
    with a message naming it as `label` (the column's name unless the caller calls it
    something else)."""
    label = label or column
    if len(text) > MAX_LENGTHS.get(column, len(text)):
        raise ValidationError(
            _("%(label)s is longer than %(limit)s characters.")
            % {"label": label, "limit": MAX_LENGTHS[column]}
        )
    if "\x00" in text:  # only a corrupt file has one, and PostgreSQL cannot store it
        raise ValidationError(_("%(label)s contains a NUL character.") % {"label": label})
    if column in ("email", "manager_email"):
        email = normalise_email(text)
        if not email and column == "email":
            raise ValidationError(_("%(label)s is empty.") % {"label": label})
        if email:
            try:
                validate_email(email)
            except ValidationError:
                raise ValidationError(
                    _("%(label)s “%(value)s” is not a valid email address.")
                    % {"label": label, "value": text}
                ) from None
        return email or None
    if column == "full_name" and not text:
        raise ValidationError(_("%(label)s is empty.") % {"label": label})
    if column == "time_zone" and text and text not in known_time_zones():
        raise ValidationError(
            _("“%(value)s” is not a known time zone (use a name like Europe/London).")
            % {"value": text}
        )
    if column == "start_date":
        if not text:
            return None
        # fromisoformat alone would also take 20240131 or 2024-W05: ask for one format.
        if _ISO_DATE.fullmatch(text):
            try:
                return date.fromisoformat(text)
            except ValueError:
                pass
        raise ValidationError(
            _("%(label)s “%(value)s” is not a date (use YYYY-MM-DD).")
            % {"label": label, "value": text}
        )
    if column == "active":
        if text.lower() not in _TRUE | _FALSE:
            raise ValidationError(
                _("%(label)s “%(value)s” is not understood (use true/false, yes/no, 1/0 or y/n).")
                % {"label": label, "value": text}
            )
        return text.lower() in _TRUE
    if column == "language":
        return language_code(text, label=label)
    if column == "department":
        return text or None
    return text


def supported_languages() -> list[str]:
    """The codes of settings.LANGUAGES, as stored in User.language (en-gb, de, fr)."""
    return [code for code, _name in settings.LANGUAGES]


def language_code(text: str, *, label: str = "language") -> str | None:
    """A language as an HR export or an identity provider writes it → the code stored in
    User.language, or None for an empty value. Case does not matter, "_" reads as "-",
    a regional form means its language when that region is not offered itself (de-DE,
    fr-CH → de, fr; en-US → en-gb, as "en" does), and anything else is refused."""
    wanted = text.strip().replace("_", "-").lower()
    if not wanted:
        return None
    codes = supported_languages()
    if wanted in codes:
        return wanted
    base = wanted.split("-", 1)[0]
    for code in codes:
        if code == base or code.split("-", 1)[0] == base:
            return code
    raise ValidationError(
        _("%(label)s “%(value)s” is not a language PolicyHub offers (use %(allowed)s).")
        % {"label": label, "value": text, "allowed": allowed_languages_text()}
    )


def allowed_languages_text() -> str:
    """The values a language column or attribute takes, for messages and help."""
    return ", ".join(supported_languages())


class DepartmentNames:
    """Departments found by name as the directory finds them: the exact spelling first,
    otherwise without regard to case."""

    def __init__(self, departments: Iterable[Department]):
        departments = list(departments)
        self._by_name = {d.name.casefold(): d for d in departments}
        self._by_name |= {d.name: d for d in departments}  # an exact spelling wins

    def find(self, name: str) -> Department | None:
        return self._by_name.get(name) or self._by_name.get(name.casefold())

    def add(self, department: Department) -> None:
        self._by_name[department.name.casefold()] = department


def manager_cycles(manager_of: Mapping[Hashable, Hashable | None], starts: Iterable[Hashable]):
    """The loops in a management chain: `manager_of` maps each person (by any key) to their
    manager's key; every loop reachable from `starts` is yielded once, as the people in it
    in reporting order (a person who is their own manager is a loop of one). Each person
    is walked once, however long the chains."""
    visited: set = set()
    for start in starts:
        path: list = []
        key = start
        while key and key not in visited:
            visited.add(key)
            path.append(key)
            key = manager_of.get(key)
        if key in path:  # the walk came back to itself rather than ending at the top
            yield path[path.index(key) :]


def describe_manager_cycle(cycle: list[str], *, seen_from: str) -> str:
    """The message for a loop, read from one of the people in it."""
    if len(cycle) == 1:
        return _("%(person)s cannot be their own manager.") % {"person": seen_from}
    i = cycle.index(seen_from)
    return _("Manager cycle: %(chain)s.") % {
        "chain": " → ".join(cycle[i:] + cycle[:i] + [seen_from])
    }


def deactivation_forbidden(person: User) -> bool:
    """Site admin accounts are never deactivated by an import or by provisioning: they are
    not in an HR export or an identity provider's app, and locking them out would leave
    nobody able to fix the directory."""
    return person.is_superuser


def directory_changed() -> None:
    """After people were created, moved or deactivated (an import, a provisioning request),
    tell whoever follows the directory (people.signals), once the change has committed."""
    transaction.on_commit(lambda: signals.directory_changed.send(sender=User))


# One person at a time ---------------------------------------------------------------------------


def create_person(*, values: Mapping[str, object], labels: Mapping[str, str] | None = None) -> User:
    """A new person from `values` (keys from FIELDS; email and full_name required; the
    manager as a User, the department by name, created if the directory has none by that
    name). They sign in with single sign-on or set a password through the reset link."""
    missing = [name for name in ("email", "full_name") if name not in values]
    if missing:
        name = missing[0]
        raise DirectoryError(
            _("%(label)s is required.") % {"label": _label(name, labels)}, field=name
        )
    with transaction.atomic():
        person = User(email="")
        person.set_unusable_password()
        _apply(person, values, labels=labels, creating=True)
    return person


def update_person(
    *, person: User, values: Mapping[str, object], labels: Mapping[str, str] | None = None
) -> list[str]:
    """Change the fields named in `values` (keys from FIELDS, as for `create_person`);
    the others stay as they are. Returns the names of the fields that changed."""
    with transaction.atomic():
        # FOR UPDATE, not NO KEY: the change may be to the email, a key, and taking the
        # stronger lock later could deadlock with a write that refers to the person.
        locked = User.objects.select_for_update().get(pk=person.pk)
        changed = _apply(locked, values, labels=labels, creating=False)
    person.refresh_from_db()
    return changed


def deactivate_person(*, person: User) -> bool:
    """A leaver: they can no longer sign in and their open policy assignments close, as
    when the HR import deactivates them. False if they were already inactive."""
    return bool(update_person(person=person, values={"active": False}))


def _label(field: str, labels: Mapping[str, str] | None) -> str:
    return (labels or {}).get(field, field)


def _clean(values: Mapping[str, object], labels: Mapping[str, str] | None) -> dict[str, object]:
    unknown = sorted(set(values) - set(FIELDS))
    if unknown:
        raise ValueError(f"Not a directory field: {', '.join(unknown)}.")
    cleaned: dict[str, object] = {}
    for field, value in values.items():
        label = _label(field, labels)
        if field == "manager":
            if value is not None and not isinstance(value, User):
                raise ValueError("The manager is a person (User) or None.")
            cleaned[field] = value
            continue
        if field == "active":
            if not isinstance(value, bool):
                raise DirectoryError(
                    _("%(label)s must be true or false.") % {"label": label}, field=field
                )
            cleaned[field] = value
            continue
        if field == "start_date" and (value is None or isinstance(value, date)):
            cleaned[field] = value
            continue
        if field == "department" and value is None:
            cleaned[field] = None
            continue
        if not isinstance(value, str):
            raise DirectoryError(_("%(label)s must be text.") % {"label": label}, field=field)
        try:
            cleaned[field] = clean_value(field, value.strip(), label=label)
        except ValidationError as error:
            raise DirectoryError(error.messages[0], field=field) from None
        if field == "language" and cleaned[field] is None:
            # One person at a time, an empty language is a cleared one: the site's default.
            cleaned[field] = settings.LANGUAGE_CODE
    return cleaned


def _apply(person: User, values, *, labels, creating: bool) -> list[str]:
    cleaned = _clean(values, labels)
    changed: list[str] = []
    for field, value in cleaned.items():
        if field == "department":
            value = _department(value)
            if value != person.department:
                person.department = value
                changed.append(field)
        elif field == "manager":
            if (value.pk if value else None) != person.manager_id:
                person.manager = value
                changed.append(field)
        elif getattr(person, _ATTRIBUTES.get(field, field)) != value:
            setattr(person, _ATTRIBUTES.get(field, field), value)
            changed.append(field)
    if not changed and not creating:
        return []
    if "manager" in changed:
        _check_management_chain(person, person.manager)
    if "email" in changed:
        _check_email_free(person)
    if "employee_id" in changed and person.employee_id:
        holder = User.objects.filter(employee_id=person.employee_id).exclude(pk=person.pk).first()
        if holder is not None:
            raise DirectoryError(
                _("Employee id “%(employee_id)s” already belongs to %(email)s.")
                % {"employee_id": person.employee_id, "email": holder.email},
                field="employee_id",
                code=DirectoryError.DUPLICATE,
            )
    if "active" in changed and not person.is_active and deactivation_forbidden(person):
        raise DirectoryError(
            _(
                "%(email)s is a site admin account; neither an import nor provisioning "
                "deactivates one (use the Django admin)."
            )
            % {"email": person.email},
            field="active",
            code=DirectoryError.PROTECTED,
        )
    try:
        with transaction.atomic():
            if creating:
                person.save()
            else:
                person.save(update_fields=[_ATTRIBUTES.get(f, f) for f in changed])
    except IntegrityError:
        # Someone took the address or the employee id between the check and the write.
        raise DirectoryError(
            _("The directory changed while this change was made; nothing was changed. Try again."),
            code=DirectoryError.DUPLICATE,
        ) from None
    if creating or AUDIENCE_FIELDS.intersection(changed):
        directory_changed()
    return changed


def _check_email_free(person: User) -> None:
    if User.objects.filter(email__iexact=person.email).exclude(pk=person.pk).exists():
        raise DirectoryError(
            _("Another person in the directory already has the address %(email)s.")
            % {"email": person.email},
            field="email",
            code=DirectoryError.DUPLICATE,
        )


def _department(name: str | None) -> Department | None:
    if not name:
        return None
    departments = DepartmentNames(Department.objects.only("id", "name"))
    return departments.find(name) or Department.objects.create(name=name)


def _check_management_chain(person: User, manager: User | None) -> None:
    """Refuse a manager who already reports to `person`, directly or not: one lookup of
    the reporting line (`audience.reports_to`), however big the company. Only to name
    the loop does it read who manages whom. (A loop already in the directory that does
    not pass through `person`, which only raw SQL can write, is not this change's: it is
    no longer a reason to refuse it.)"""
    if manager is None:
        return
    if person.pk is None:
        return  # nobody reports to a person not yet created
    if manager.pk != person.pk and not audience.reports_to(manager, person):
        return  # the new manager is not below them: no loop
    manager_of = dict(User.objects.values_list("pk", "manager_id"))
    manager_of[person.pk] = manager.pk
    for cycle in manager_cycles(manager_of, [person.pk]):
        emails = dict(User.objects.filter(pk__in=cycle).values_list("pk", "email"))
        emails[person.pk] = person.email  # as it will be, if this change also sets it
        seen_from = person.pk if person.pk in cycle else cycle[0]
        raise DirectoryError(
            describe_manager_cycle([emails[pk] for pk in cycle], seen_from=emails[seen_from]),
            field="manager",
        )


# A person's own settings ---------------------------------------------------------------------


def set_language(*, person: User, language: str) -> bool:
    """The person chooses the language of their pages and emails. `language` is one of
    settings.LANGUAGES' codes exactly (the language page offers only those); anything else
    is refused with DirectoryError and changes nothing. False if it was already theirs."""
    if language not in supported_languages():
        raise DirectoryError(
            _("“%(value)s” is not a language PolicyHub offers (choose one of %(allowed)s).")
            % {"value": language, "allowed": allowed_languages_text()},
            field="language",
        )
    with transaction.atomic():
        # NO KEY: the language is not a key, so a write referring to the person (an
        # acknowledgement, a booking) need not wait for this one.
        locked = User.objects.select_for_update(no_key=True).get(pk=person.pk)
        if locked.language == language:
            person.language = language
            return False
        locked.language = language
        locked.save(update_fields=["language"])
    person.language = language
    return True
