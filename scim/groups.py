"""SCIM Groups ↔ Django groups.

Which groups: every group that carries no Django permissions. PolicyHub's role groups
(people/roles.py) grant roles; the others are audiences of policies and training
requirements. A group with Django permissions is an admin-site construct: it is not
visible through SCIM at all, so provisioning never hands out admin rights. Superuser and
staff status are not groups, so no SCIM request can grant them.

A group keeps its name and its members; externalId is not kept (PolicyHub has no field for
it, and identity providers find groups by displayName).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from scim import schemas
from scim.errors import INVALID_PATH, INVALID_SYNTAX, INVALID_VALUE, MUTABILITY, bad_request
from scim.filters import Path, matches
from scim.users import read_operations

READ_ONLY = {"id", "meta", "schemas"}
NOT_KEPT = {"externalid"}


@dataclass
class GroupDraft:
    name: str = ""
    member_ids: set[str] = field(default_factory=set)  # SCIM ids, checked when saved
    members_set: bool = False  # whether the request said who the members are


def draft_from_resource(body, draft: GroupDraft | None = None) -> GroupDraft:
    """A POST body, or a PUT body onto the group as it is: members left out are not
    asserted and stay; an empty list empties the group."""
    if not isinstance(body, dict):
        raise bad_request("The body must be a JSON object.", INVALID_SYNTAX)
    named = body.get("schemas")
    if not isinstance(named, list) or schemas.GROUP.lower() not in {
        urn.lower() for urn in named if isinstance(urn, str)
    }:
        # Another schema may be named too (Microsoft's examples name their own).
        raise bad_request(f"A Group's schemas must include {schemas.GROUP}.", INVALID_SYNTAX)
    draft = GroupDraft(draft.name, set(draft.member_ids)) if draft else GroupDraft()
    for key, value in body.items():
        lowered = key.lower()
        if lowered in READ_ONLY or lowered in NOT_KEPT:
            continue
        if lowered == "displayname":
            draft.name = _name(value)
        elif lowered == "members":
            draft.member_ids = _member_ids(value)
            draft.members_set = True
        else:
            raise bad_request(f"Unknown attribute “{key}”.", INVALID_SYNTAX)
    if not draft.name:
        raise bad_request("displayName is required.", INVALID_VALUE)
    return draft


def apply_patch(draft: GroupDraft, operations, *, resource_id: str) -> GroupDraft:
    """Okta's and Microsoft Entra ID's shapes: members added and removed by value, removed
    by a filter (members[value eq "…"]), replaced; the name replaced, with or without a
    path (Okta repeats the group's id in a path-less value)."""
    draft = GroupDraft(draft.name, set(draft.member_ids))
    for op, path, value in read_operations(operations):
        if path is None:
            if not isinstance(value, dict):
                raise bad_request(
                    "An operation without a path needs an object of attributes as its value.",
                    INVALID_SYNTAX,
                )
            for key, item in value.items():
                lowered = key.lower()
                if lowered == "id" and str(item) == resource_id:
                    continue
                _apply(draft, op, Path(None, lowered, None, None, key), item)
        else:
            _apply(draft, op, path, value)
    return draft


def _apply(draft: GroupDraft, op: str, path: Path, value) -> None:
    if path.uri not in (None, schemas.GROUP.lower()):
        raise bad_request(f"Unknown attribute path “{path.text}”.", INVALID_PATH)
    if path.attr in READ_ONLY:
        raise bad_request(f"{path.text} is read-only.", MUTABILITY)
    if path.attr in NOT_KEPT:
        return
    if path.attr == "displayname":
        if path.sub is not None or path.value_filter is not None:
            raise bad_request(f"Unknown attribute path “{path.text}”.", INVALID_PATH)
        if op == "remove":
            raise bad_request("displayName is required; it cannot be removed.", INVALID_VALUE)
        draft.name = _name(value)
        return
    if path.attr != "members":
        raise bad_request(f"Unknown attribute path “{path.text}”.", INVALID_PATH)
    if path.sub is not None:
        raise bad_request(f"Members are added and removed whole, not {path.text}.", INVALID_PATH)
    draft.members_set = True
    if path.value_filter is not None:
        if op != "remove":
            raise bad_request(
                "Select members only to remove them; add them by value.", INVALID_PATH
            )
        draft.member_ids -= {
            member
            for member in draft.member_ids
            if matches(path.value_filter, {"value": member, "type": "User"})
        }
        return
    if op == "remove":
        # Without a value every member goes (RFC 7644 §3.5.2.2); with one, those listed.
        draft.member_ids -= draft.member_ids.copy() if value is None else _member_ids(value)
    elif op == "add":
        draft.member_ids |= _member_ids(value)
    else:
        draft.member_ids = _member_ids(value)


def _name(value) -> str:
    if not isinstance(value, str) or not value.strip():
        raise bad_request("displayName must be a non-empty string.", INVALID_VALUE)
    return value.strip()


def _member_ids(value) -> set[str]:
    if value is None:
        return set()
    entries = value if isinstance(value, list) else [value]
    ids = set()
    for entry in entries:
        if not isinstance(entry, dict):
            raise bad_request("Each member must be an object with a value.", INVALID_VALUE)
        member = {k.lower(): v for k, v in entry.items()}.get("value")
        if not isinstance(member, str | int) or isinstance(member, bool) or str(member) == "":
            raise bad_request("Each member needs the value of a User's id.", INVALID_VALUE)
        ids.add(str(member).strip())
    return ids


def group_resource(group, *, members, base: str, user_base: str) -> dict:
    """The group as a SCIM Group; `members` None leaves them out (excludedAttributes)."""
    resource: dict = {
        "schemas": [schemas.GROUP],
        "id": str(group.pk),
        "displayName": group.name,
    }
    if members is not None:
        resource["members"] = [
            {
                "value": str(person.pk),
                "$ref": f"{user_base}/{person.pk}",
                "display": person.full_name or person.email,
                "type": "User",
            }
            for person in members
        ]
    resource["meta"] = {"resourceType": "Group", "location": f"{base}/{group.pk}"}
    return resource
