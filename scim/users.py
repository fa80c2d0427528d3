"""SCIM Users ↔ people in the directory.

| SCIM                                   | PolicyHub                                         |
|----------------------------------------|---------------------------------------------------|
| id                                     | the person's id                                   |
| userName                               | email address (sign-in and mail)                  |
| displayName, name.formatted,           | full name: displayName wins, then name.formatted, |
|   name.givenName + name.familyName     |   then the given and family names joined          |
| emails                                 | returned as the userName; not kept (one address)  |
| active                                 | active (false deactivates, as the HR import does) |
| title, timezone                        | job title, time zone                              |
| preferredLanguage                      | language (en-gb, de, fr; "en", regional forms such |
|                                        |   as de-DE map as the HR import maps them)        |
| addresses[type eq "work"].formatted    | location (or the work address's locality)         |
| enterprise employeeNumber, department, | employee id, department (by name), manager        |
|   manager.value                        |                                                   |
| policyhub extension startDate          | start date                                        |
| externalId                             | kept per client (ScimIdentity)                    |
| groups                                 | read-only: change memberships through Groups      |

Attributes of the standard schemas that PolicyHub has no place for (password, phoneNumbers,
nickName, locale (formats, not the language: that is preferredLanguage), roles, costCenter,
...) are accepted and not kept, as RFC 7644 §3.3 allows, so identity providers' default
mappings work unchanged; PolicyHub never takes a password from an identity provider. An
attribute that no schema defines is refused: 400 invalidSyntax in a POST or PUT body, 400
invalidPath in a PATCH, so that a mistyped mapping shows up at once instead of silently
doing nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from django.core.exceptions import ValidationError

from people.models import normalise_email
from people.services import language_code
from scim import schemas
from scim.errors import (
    INVALID_PATH,
    INVALID_SYNTAX,
    INVALID_VALUE,
    MUTABILITY,
    NO_TARGET,
    bad_request,
)
from scim.filters import Path, matches, parse_path

# How the directory's fields are named to the identity provider, in error messages.
LABELS = {
    "email": "userName",
    "full_name": "displayName",
    "employee_id": "employeeNumber",
    "department": "department",
    "manager": "manager",
    "job_title": "title",
    "location": "addresses (work)",
    "time_zone": "timezone",
    "start_date": "startDate",
    "active": "active",
    "language": "preferredLanguage",
}

CORE = None  # the User schema's own attributes: no URI, or schemas.USER
ENTERPRISE = schemas.ENTERPRISE_USER.lower()
POLICYHUB = schemas.POLICYHUB_USER.lower()
EXTENSIONS = {ENTERPRISE: schemas.ENTERPRISE_USER, POLICYHUB: schemas.POLICYHUB_USER}

# Defined by the standard schemas, with no place in PolicyHub: accepted, not kept.
NOT_KEPT = {
    CORE: {
        "nickname",
        "profileurl",
        "usertype",
        "locale",
        "password",
        "phonenumbers",
        "ims",
        "photos",
        "entitlements",
        "roles",
        "x509certificates",
        "emails",
    },
    ENTERPRISE: {"costcenter", "organization", "division"},
    POLICYHUB: set(),
}
READ_ONLY = {"id", "meta", "groups", "schemas"}
NAME_PARTS_NOT_KEPT = {"middlename", "honorificprefix", "honorificsuffix"}
_TRUE_WORDS, _FALSE_WORDS = {"true"}, {"false"}


@dataclass
class UserDraft:
    """A person as SCIM sees them, while a request changes them."""

    email: str = ""
    full_name: str = ""
    external_id: str = ""
    given_name: str = ""
    family_name: str = ""
    active: bool = True
    job_title: str = ""
    location: str = ""
    time_zone: str = ""
    employee_id: str = ""
    department: str | None = None
    manager_id: str | None = None  # the manager's SCIM id
    start_date: str | None = None  # YYYY-MM-DD
    language: str = ""  # a code of settings.LANGUAGES; empty: the site's default
    # Where the request put a full name, if anywhere (None: it did not).
    display_name: str | None = None
    formatted: str | None = None
    name_parts_set: bool = False

    @classmethod
    def of(cls, person, identity) -> UserDraft:
        return cls(
            email=person.email,
            full_name=person.full_name,
            external_id=identity.external_id if identity else "",
            given_name=identity.given_name if identity else "",
            family_name=identity.family_name if identity else "",
            active=person.is_active,
            job_title=person.job_title,
            location=person.location,
            time_zone=person.time_zone,
            employee_id=person.employee_id,
            department=person.department.name if person.department_id else None,
            manager_id=str(person.manager_id) if person.manager_id else None,
            start_date=person.start_date.isoformat() if person.start_date else None,
            language=person.language,
        )

    def copy(self) -> UserDraft:
        return replace(self)

    def resolved_full_name(self) -> str:
        """displayName wins, then name.formatted, then the name parts, among those the
        request gave; a request that gave none keeps the full name."""
        parts = " ".join(p for p in (self.given_name.strip(), self.family_name.strip()) if p)
        given = [self.display_name, self.formatted, parts if self.name_parts_set else None]
        given = [name.strip() for name in given if name is not None]
        if not given:
            return self.full_name
        return next((name for name in given if name), "")

    def directory_values(self, before: UserDraft | None) -> dict[str, object]:
        """The directory fields that differ from `before` (all of them for a new person),
        in people.services' words; the manager still as a SCIM id."""
        after = {
            "email": self.email,
            "full_name": self.resolved_full_name(),
            "employee_id": self.employee_id,
            "department": self.department or None,
            "manager": self.manager_id or None,
            "job_title": self.job_title,
            "location": self.location,
            "time_zone": self.time_zone,
            "start_date": self.start_date or None,
            "active": self.active,
            "language": self.language,
        }
        if before is None:
            return after
        old = before.directory_values(None)
        return {key: value for key, value in after.items() if value != old[key]}

    def identity_values(self) -> dict[str, str]:
        return {
            "external_id": self.external_id,
            "given_name": self.given_name,
            "family_name": self.family_name,
        }


# Reading a request --------------------------------------------------------------------------------


def draft_from_resource(body: dict, draft: UserDraft | None = None) -> UserDraft:
    """A POST body (onto an empty draft) or a PUT body (onto the person as they are).
    An attribute the body leaves out is not asserted (RFC 7644 §3.5.1) and keeps its
    value, so an identity provider that does not send department or manager never wipes
    what the HR import set; null or an empty value clears it."""
    _check_schemas(body)
    draft = draft.copy() if draft else UserDraft()
    for key, value in body.items():
        lowered = key.lower()
        if lowered in READ_ONLY:
            continue  # RFC 7644 §3.3: read-only attributes in a request are ignored
        if lowered in EXTENSIONS:
            if not isinstance(value, dict):
                raise bad_request(f"{key} must be an object of its attributes.", INVALID_SYNTAX)
            for name, item in value.items():
                _assign(draft, "replace", _simple(lowered, name, key), item, in_patch=False)
            continue
        if not _is_attribute_name(key):
            raise bad_request(f"Unknown attribute “{key}”.", INVALID_SYNTAX)
        _assign(draft, "replace", _simple(CORE, key, key), value, in_patch=False)
    return draft


def apply_patch(draft: UserDraft, operations: list[dict], *, resource_id: str) -> UserDraft:
    """The PATCH operations in order, on a copy of the draft (RFC 7644 §3.5.2), in both
    Okta's and Microsoft Entra ID's shapes: op in any case, a path, or no path and an
    object of attribute paths (including extension URIs) to values."""
    draft = draft.copy()
    for op, path, value in read_operations(operations):
        if path is None:
            if not isinstance(value, dict):
                raise bad_request(
                    "An operation without a path needs an object of attributes as its value.",
                    INVALID_SYNTAX,
                )
            for key, item in value.items():
                for item_path, item_value in _paths_in_value(key, item):
                    if (
                        item_path.attr == "id"
                        and item_path.uri is None
                        and str(item_value) == resource_id
                    ):
                        continue  # Okta repeats the id in the value: it changes nothing
                    _assign(draft, op, item_path, item_value, in_patch=True)
        else:
            _assign(draft, op, path, value, in_patch=True)
    return draft


def read_operations(operations) -> list[tuple[str, Path | None, object]]:
    if not isinstance(operations, list) or not operations:
        raise bad_request("A PATCH needs a list of Operations.", INVALID_SYNTAX)
    read = []
    for operation in operations:
        if not isinstance(operation, dict):
            raise bad_request("Each operation must be an object.", INVALID_SYNTAX)
        entries = {key.lower(): value for key, value in operation.items()}
        op = entries.get("op")
        if not isinstance(op, str) or op.lower() not in ("add", "replace", "remove"):
            raise bad_request(
                f"Unknown PATCH op “{op}” (use add, replace or remove).", INVALID_SYNTAX
            )
        op = op.lower()
        path = entries.get("path")
        if path is None and op == "remove":
            raise bad_request("A remove operation needs a path.", NO_TARGET)
        if op != "remove" and "value" not in entries:
            raise bad_request(f"An {op} operation needs a value.", INVALID_SYNTAX)
        read.append((op, parse_path(path) if path is not None else None, entries.get("value")))
    return read


def _check_schemas(body) -> None:
    if not isinstance(body, dict):
        raise bad_request("The body must be a JSON object.", INVALID_SYNTAX)
    named = body.get("schemas")
    if not isinstance(named, list) or not all(isinstance(urn, str) for urn in named):
        raise bad_request(
            f"The body must list its schemas, including {schemas.USER}.", INVALID_SYNTAX
        )
    if schemas.USER.lower() not in {urn.lower() for urn in named}:
        raise bad_request(f"A User's schemas must include {schemas.USER}.", INVALID_SYNTAX)
    # Another schema may be named (Entra has named its own); attributes under one are
    # refused below like any attribute PolicyHub does not know.


def _is_attribute_name(key: str) -> bool:
    return bool(key) and key[0].isalpha() and all(c.isalnum() or c in "_-$" for c in key)


def _simple(uri: str | None, name: str, text: str) -> Path:
    return Path(uri, name.lower(), None, None, text)


def _paths_in_value(key: str, value):
    """A key of a path-less operation's value: an attribute, a path such as name.givenName,
    an extension attribute such as urn:…:enterprise:2.0:User:manager, or an extension's
    URI with an object of its attributes."""
    lowered = key.lower()
    if lowered in EXTENSIONS:
        if not isinstance(value, dict):
            raise bad_request(f"{key} must be an object of its attributes.", INVALID_PATH)
        return [(_simple(lowered, name, name), item) for name, item in value.items()]
    return [(parse_path(key), value)]


# Applying one attribute ---------------------------------------------------------------------------


def _assign(draft: UserDraft, op: str, path: Path, value, *, in_patch: bool) -> None:
    uri = None if path.uri in (None, schemas.USER.lower()) else path.uri
    attr = path.attr
    if uri is not None and uri not in EXTENSIONS:
        raise _unknown(path, in_patch)
    if uri is None and attr in READ_ONLY:
        if in_patch:
            raise bad_request(f"{path.text} is read-only.", MUTABILITY)
        return
    if attr in NOT_KEPT.get(uri, set()):
        return
    handler = _HANDLERS.get((uri, attr))
    if handler is None and uri is None:
        # Microsoft's examples name enterprise attributes without their URI ("manager").
        handler = _HANDLERS.get((ENTERPRISE, attr)) or _HANDLERS.get((POLICYHUB, attr))
    if handler is None:
        raise _unknown(path, in_patch)
    if path.value_filter is not None and attr != "addresses":
        raise bad_request(f"PolicyHub cannot select values of {path.text}.", INVALID_PATH)
    handler(draft, op, path, value)


def _unknown(path: Path, in_patch: bool):
    if in_patch:
        return bad_request(f"Unknown attribute path “{path.text}”.", INVALID_PATH)
    return bad_request(f"Unknown attribute “{path.text}”.", INVALID_SYNTAX)


def _text(path: Path, value, *, required: bool = False) -> str:
    if value is None:
        if required:
            raise bad_request(f"{path.text} is required.", INVALID_VALUE)
        return ""
    if not isinstance(value, str):
        raise bad_request(f"{path.text} must be a string.", INVALID_VALUE)
    return value.strip()


def _no_sub(path: Path) -> None:
    if path.sub is not None:
        raise bad_request(f"{path.attr} has no sub-attribute {path.sub}.", INVALID_PATH)


def _text_field(field: str, *, required: bool = False):
    def handle(draft: UserDraft, op: str, path: Path, value) -> None:
        _no_sub(path)
        if op == "remove":
            if required:
                raise bad_request(f"{path.text} is required; it cannot be removed.", INVALID_VALUE)
            value = None
        setattr(draft, field, _text(path, value, required=required))

    return handle


def _user_name(draft: UserDraft, op: str, path: Path, value) -> None:
    _no_sub(path)
    if op == "remove":
        raise bad_request("userName is required; it cannot be removed.", INVALID_VALUE)
    # Compared without regard to case (RFC 7643 §4.1.1), as PolicyHub compares emails.
    draft.email = normalise_email(_text(path, value, required=True))


def _display_name(draft: UserDraft, op: str, path: Path, value) -> None:
    _no_sub(path)
    draft.display_name = "" if op == "remove" else _text(path, value)


def _name(draft: UserDraft, op: str, path: Path, value) -> None:
    if path.sub is not None:
        _name_part(draft, path.sub, None if op == "remove" else value, path)
        return
    if op == "remove" or value is None:
        draft.given_name = draft.family_name = ""
        draft.formatted = ""
        draft.name_parts_set = True
        return
    if not isinstance(value, dict):
        raise bad_request(
            "name must be an object (givenName, familyName, formatted).", INVALID_VALUE
        )
    for sub, item in value.items():
        _name_part(draft, sub.lower(), item, path)


def _name_part(draft: UserDraft, sub: str, value, path: Path) -> None:
    shown = Path(path.uri, path.attr, sub, None, f"name.{sub}")
    if sub == "givenname":
        draft.given_name, draft.name_parts_set = _text(shown, value), True
    elif sub == "familyname":
        draft.family_name, draft.name_parts_set = _text(shown, value), True
    elif sub == "formatted":
        draft.formatted = _text(shown, value)
    elif sub not in NAME_PARTS_NOT_KEPT:
        raise bad_request(f"name has no sub-attribute {sub}.", INVALID_PATH)


def _active(draft: UserDraft, op: str, path: Path, value) -> None:
    _no_sub(path)
    if op == "remove":
        raise bad_request("active cannot be removed; set it to false.", INVALID_VALUE)
    # Microsoft Entra ID has sent "True" and "False" as strings: both are read.
    if isinstance(value, str) and value.strip().lower() in _TRUE_WORDS | _FALSE_WORDS:
        value = value.strip().lower() in _TRUE_WORDS
    if not isinstance(value, bool):
        raise bad_request("active must be true or false.", INVALID_VALUE)
    draft.active = value


def _addresses(draft: UserDraft, op: str, path: Path, value) -> None:
    """Only the work address is kept, as the location: its formatted value, or else its
    locality. Other addresses, and other parts of the work address, are not kept."""
    if path.value_filter is not None:
        if not matches(path.value_filter, {"type": "work", "primary": True}):
            return  # a home or other address: not kept
        if path.sub is None:
            draft.location = "" if op == "remove" else _location_of([value], path, default="")
        elif path.sub in ("formatted", "locality"):
            draft.location = "" if op == "remove" else _text(path, value)
        return
    if op == "remove":
        draft.location = ""
        return
    if path.sub is not None:
        if path.sub in ("formatted", "locality"):
            draft.location = _text(path, value)
        return
    entries = value if isinstance(value, list) else [value]
    keep = draft.location if op == "add" else ""
    draft.location = _location_of(entries, path, default=keep)


def _location_of(entries: list, path: Path, *, default: str) -> str:
    if any(entry is not None and not isinstance(entry, dict) for entry in entries):
        raise bad_request("Each address must be an object.", INVALID_VALUE)
    entries = [{k.lower(): v for k, v in entry.items()} for entry in entries if entry]
    typed = [e for e in entries if str(e.get("type", "")).lower() == "work"]
    chosen = typed or [e for e in entries if e.get("primary") is True]
    if not chosen and len(entries) == 1 and "type" not in entries[0]:
        chosen = entries
    if not chosen:
        return default
    entry = chosen[0]
    location = entry.get("formatted") or entry.get("locality") or ""
    return _text(path, location)


def _manager(draft: UserDraft, op: str, path: Path, value) -> None:
    """Microsoft Entra ID sends the manager's id as a string, an object with value, or a
    list of one; removing it, or an empty value, leaves the person without a manager."""
    if path.sub not in (None, "value"):
        return  # $ref and displayName are the manager's own, not set here
    if op == "remove":
        draft.manager_id = None
        return
    if isinstance(value, list):
        if len(value) > 1:
            raise bad_request("A person has one manager.", INVALID_VALUE)
        value = value[0] if value else None
    if isinstance(value, dict) and path.sub is None:
        value = {k.lower(): v for k, v in value.items()}.get("value")
    if value is None or value == "":
        draft.manager_id = None
        return
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise bad_request("manager must be the id of a User.", INVALID_VALUE)
    draft.manager_id = str(value).strip()


def _department(draft: UserDraft, op: str, path: Path, value) -> None:
    _no_sub(path)
    draft.department = None if op == "remove" else (_text(path, value) or None)


def _preferred_language(draft: UserDraft, op: str, path: Path, value) -> None:
    """The language of the person's pages and emails, read as the HR import reads its
    language column; removing it (or null, or "") gives the site's default."""
    _no_sub(path)
    text = "" if op == "remove" else _text(path, value)
    try:
        draft.language = language_code(text, label=path.text) or ""
    except ValidationError as error:
        raise bad_request(error.messages[0], INVALID_VALUE) from None


def _start_date(draft: UserDraft, op: str, path: Path, value) -> None:
    _no_sub(path)
    draft.start_date = None if op == "remove" else (_text(path, value) or None)


_HANDLERS = {
    (CORE, "username"): _user_name,
    (CORE, "name"): _name,
    (CORE, "displayname"): _display_name,
    (CORE, "active"): _active,
    (CORE, "title"): _text_field("job_title"),
    (CORE, "timezone"): _text_field("time_zone"),
    (CORE, "preferredlanguage"): _preferred_language,
    (CORE, "externalid"): _text_field("external_id"),
    (CORE, "addresses"): _addresses,
    (ENTERPRISE, "employeenumber"): _text_field("employee_id"),
    (ENTERPRISE, "department"): _department,
    (ENTERPRISE, "manager"): _manager,
    (POLICYHUB, "startdate"): _start_date,
}


# Writing a resource -------------------------------------------------------------------------------


def user_resource(person, *, identity, groups, base: str, group_base: str) -> dict:
    """The person as a SCIM User; `groups` None leaves them out (excludedAttributes)."""
    location = f"{base}/{person.pk}"
    resource: dict = {
        "schemas": [schemas.USER],
        "id": str(person.pk),
        "userName": person.email,
        "name": {"formatted": person.full_name},
        "displayName": person.full_name,
        "emails": [{"value": person.email, "type": "work", "primary": True}],
        "active": person.is_active,
    }
    if identity is not None:
        if identity.external_id:
            resource["externalId"] = identity.external_id
        if identity.given_name:
            resource["name"]["givenName"] = identity.given_name
        if identity.family_name:
            resource["name"]["familyName"] = identity.family_name
    if person.job_title:
        resource["title"] = person.job_title
    if person.time_zone:
        resource["timezone"] = person.time_zone
    if person.language:
        resource["preferredLanguage"] = person.language
    if person.location:
        resource["addresses"] = [{"type": "work", "formatted": person.location, "primary": True}]
    if groups is not None:
        resource["groups"] = [
            {"value": str(group.pk), "$ref": f"{group_base}/{group.pk}", "display": group.name}
            for group in groups
        ]
    enterprise: dict = {}
    if person.employee_id:
        enterprise["employeeNumber"] = person.employee_id
    if person.department_id:
        enterprise["department"] = person.department.name
    if person.manager_id:
        enterprise["manager"] = {
            "value": str(person.manager_id),
            "$ref": f"{base}/{person.manager_id}",
            "displayName": person.manager.full_name,
        }
    if enterprise:
        resource["schemas"].append(schemas.ENTERPRISE_USER)
        resource[schemas.ENTERPRISE_USER] = enterprise
    if person.start_date:
        resource["schemas"].append(schemas.POLICYHUB_USER)
        resource[schemas.POLICYHUB_USER] = {"startDate": person.start_date.isoformat()}
    resource["meta"] = {
        "resourceType": "User",
        "created": person.date_joined.isoformat(),
        "location": location,
    }
    return resource
