"""What provisioning changes: SCIM clients and their tokens, and people and groups as an
identity provider asks.

People change only through the directory service (people/services.py) that the HR import
uses, with its checks (unique email and employee id, known time zones, dates, no loops in
the management chain) and its follow-up: a leaver's open policy assignments close exactly
as when the import deactivates them.

What a SCIM client may never do, whatever it sends:
- make anyone a superuser or staff member (those are not attributes or groups here), give
  a group Django permissions, or see a group that has some;
- set a password (PolicyHub never takes one from an identity provider);
- change the email address or the active flag of a superuser or staff account (a changed
  address would let whoever reads the new mailbox reset the password);
- without "may assign roles": add people to or remove them from a role group, create or
  rename a group into one, or change the address of someone who holds a role;
- rename or delete a role group, or delete a group that a policy or training requirement
  has as its audience.
"""

import logging
import secrets

from django.contrib.auth.models import Group
from django.db import IntegrityError, transaction
from django.db.models import ManyToManyRel
from django.utils import timezone

from people import services as directory
from people.models import User
from people.roles import ROLE_GROUPS
from scim.errors import (
    INVALID_VALUE,
    MUTABILITY,
    UNIQUENESS,
    ScimError,
    bad_request,
    forbidden,
)
from scim.groups import GroupDraft
from scim.ids import scim_id
from scim.models import PREFIX_LENGTH, ScimClient, ScimIdentity, hash_token
from scim.users import LABELS, UserDraft

log = logging.getLogger(__name__)
TOKEN_PREFIX = "scim_"


class ClientError(Exception):
    """A SCIM client that cannot be made or revoked; the message is for the site admin."""


# Clients ------------------------------------------------------------------------------------------


def create_client(*, name: str, may_assign_roles: bool, by: User) -> tuple[ScimClient, str]:
    """A client and its token: the token is returned once and only its hash is kept."""
    name = " ".join(name.split())
    if not name:
        raise ClientError("Give the client a name, such as “Okta” or “Microsoft Entra ID”.")
    if len(name) > ScimClient._meta.get_field("name").max_length:
        raise ClientError("Keep the name to 150 characters.")
    for _ in range(5):  # a prefix is 11 random characters: a clash is all but impossible
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        if not ScimClient.objects.filter(prefix=token[:PREFIX_LENGTH]).exists():
            break
    client = ScimClient.objects.create(
        name=name,
        prefix=token[:PREFIX_LENGTH],
        token_hash=hash_token(token),
        may_assign_roles=may_assign_roles,
        created_by=by,
        created_at=timezone.now(),
    )
    log.info("SCIM client %s made by %s.", client, by.email)
    return client, token


def revoke_client(*, client: ScimClient, by: User) -> None:
    """From now on requests with the client's token are refused (401)."""
    with transaction.atomic():
        locked = ScimClient.objects.select_for_update().get(pk=client.pk)
        if locked.revoked_at is not None:
            raise ClientError(f"“{client.name}” was already revoked.")
        locked.revoked_at = timezone.now()
        locked.revoked_by = by
        locked.save(update_fields=["revoked_at", "revoked_by"])
    client.revoked_at, client.revoked_by = locked.revoked_at, by
    log.info("SCIM client %s revoked by %s.", client, by.email)


# People -------------------------------------------------------------------------------------------


def create_user(*, client: ScimClient, draft: UserDraft) -> User:
    values = draft.directory_values(None)
    values["manager"] = _manager(values["manager"])
    if values["full_name"] == "":
        raise bad_request("displayName (or name) is required.", INVALID_VALUE)
    with transaction.atomic():
        try:
            person = directory.create_person(values=values, labels=LABELS)
        except directory.DirectoryError as error:
            raise _refusal(error) from None
        _save_identity(client, person, draft, None)
    log.info("SCIM client %s created %s.", client.name, person.email)
    return person


def update_user(
    *, client: ScimClient, person: User, before: UserDraft, after: UserDraft
) -> list[str]:
    """Save what a PUT or PATCH changed; the fields that changed in the directory."""
    values = after.directory_values(before)
    if "manager" in values:
        values["manager"] = _manager(values["manager"])
    _check_may_change(client, person, values)
    identities = getattr(person, "client_identities", None)
    identity = identities[0] if identities else None
    with transaction.atomic():
        changed = []
        if values:
            try:
                changed = directory.update_person(person=person, values=values, labels=LABELS)
            except directory.DirectoryError as error:
                raise _refusal(error) from None
        _save_identity(client, person, after, identity)
    if changed:
        log.info("SCIM client %s changed %s: %s.", client.name, person.email, ", ".join(changed))
    return changed


def deactivate_user(*, client: ScimClient, person: User) -> None:
    """DELETE: the person is deactivated, never deleted, so that their acknowledgements and
    history stay (and a rehire is matched by userName and reactivated)."""
    if not person.is_active:
        return
    _check_may_change(client, person, {"active": False})
    try:
        directory.deactivate_person(person=person)
    except directory.DirectoryError as error:
        raise _refusal(error) from None
    log.info("SCIM client %s deactivated %s.", client.name, person.email)


def _manager(resource_id: str | None) -> User | None:
    if resource_id is None:
        return None
    pk = scim_id(resource_id)
    manager = User.objects.filter(pk=pk).first() if pk is not None else None
    if manager is None:
        raise bad_request(f"manager: there is no User with id “{resource_id}”.", INVALID_VALUE)
    return manager


def _check_may_change(client: ScimClient, person: User, values: dict) -> None:
    guarded = [LABELS[field] for field in ("email", "active") if field in values]
    if guarded and (person.is_superuser or person.is_staff):
        raise forbidden(
            f"{person.email} is a site admin or staff account: provisioning never changes "
            f"its {' or '.join(guarded)} (a site admin does, in the Django admin)."
        )
    if "email" in values and not client.may_assign_roles:
        roles = sorted(person.groups.filter(name__in=ROLE_GROUPS).values_list("name", flat=True))
        if roles:
            raise forbidden(
                f"{person.email} holds a PolicyHub role ({', '.join(roles)}); only a SCIM "
                "client that may assign roles changes their userName."
            )


_IDENTITY_LABELS = {
    "external_id": "externalId",
    "given_name": "name.givenName",
    "family_name": "name.familyName",
}


def _save_identity(client, person, draft: UserDraft, identity: ScimIdentity | None) -> None:
    values = draft.identity_values()
    for field, value in values.items():
        limit = ScimIdentity._meta.get_field(field).max_length
        if len(value) > limit or "\x00" in value:
            label = _IDENTITY_LABELS[field]
            raise bad_request(f"{label} is longer than {limit} characters.", INVALID_VALUE)
    if identity is None:
        identity = ScimIdentity.objects.filter(client=client, person=person).first()
    if identity is None:
        if any(values.values()):
            ScimIdentity.objects.create(client=client, person=person, **values)
        return
    if any(getattr(identity, field) != value for field, value in values.items()):
        for field, value in values.items():
            setattr(identity, field, value)
        identity.updated_at = timezone.now()
        identity.save()


def _refusal(error: directory.DirectoryError) -> ScimError:
    if error.code == directory.DirectoryError.DUPLICATE:
        return ScimError(409, error.message, UNIQUENESS)
    if error.code == directory.DirectoryError.PROTECTED:
        return forbidden(error.message)
    return bad_request(error.message, INVALID_VALUE)


# Groups -------------------------------------------------------------------------------------------


def is_role_group(name: str) -> bool:
    return name in ROLE_GROUPS


def create_group(*, client: ScimClient, draft: GroupDraft) -> Group:
    _check_name(draft.name)
    if is_role_group(draft.name) and not client.may_assign_roles:
        raise _roles_refused(draft.name)
    with transaction.atomic():
        _check_name_free(draft.name, None)
        members = _people(draft.member_ids)
        try:
            with transaction.atomic():
                group = Group.objects.create(name=draft.name)
        except IntegrityError:
            raise _name_taken(draft.name) from None
        group.user_set.add(*members)
        if members:
            directory.directory_changed()
    log.info("SCIM client %s created group %s (%d members).", client.name, group, len(members))
    return group


def update_group(
    *, client: ScimClient, group: Group, before: GroupDraft, after: GroupDraft
) -> None:
    """Rename and add or remove members as the request said, relative to the group as the
    request found it, so that two clients changing different members both count."""
    added_ids = after.member_ids - before.member_ids
    removed = {int(pk) for pk in before.member_ids - after.member_ids}
    renamed = after.name != before.name
    if renamed:
        if is_role_group(before.name):
            raise bad_request(
                f"“{before.name}” is a PolicyHub role group: its name is what grants the role, "
                "so it never changes.",
                MUTABILITY,
            )
        _check_name(after.name)
        if is_role_group(after.name) and not client.may_assign_roles:
            raise _roles_refused(after.name)
    if (added_ids or removed) and is_role_group(after.name) and not client.may_assign_roles:
        raise _roles_refused(after.name)
    with transaction.atomic():
        locked = Group.objects.select_for_update().get(pk=group.pk)
        added = _people(added_ids)
        if renamed:
            _check_name_free(after.name, locked)
            locked.name = after.name
            try:
                with transaction.atomic():
                    locked.save(update_fields=["name"])
            except IntegrityError:
                raise _name_taken(after.name) from None
        memberships = User.groups.through.objects.filter(group=locked)
        if removed:
            memberships.filter(user_id__in=removed).delete()
        if added:
            locked.user_set.add(*added)
        if added or removed:
            directory.directory_changed()
    group.name = after.name
    if added or removed or renamed:
        log.info(
            "SCIM client %s changed group %s: %d added, %d removed%s.",
            client.name,
            group,
            len(added),
            len(removed),
            ", renamed" if renamed else "",
        )


def delete_group(*, client: ScimClient, group: Group) -> None:
    if is_role_group(group.name):
        raise bad_request(
            f"“{group.name}” is a PolicyHub role group and is never deleted by provisioning; "
            "remove its members instead.",
            MUTABILITY,
        )
    used_by = _audiences_of(group)
    if used_by:
        raise ScimError(
            409,
            f"“{group.name}” is the audience of {' and '.join(used_by)}; take it out of "
            "those audiences in PolicyHub first.",
        )
    with transaction.atomic():
        had_members = group.user_set.exists()
        group.delete()
        if had_members:
            directory.directory_changed()
    log.info("SCIM client %s deleted group %s.", client.name, group.name)


def _check_name(name: str) -> None:
    limit = Group._meta.get_field("name").max_length
    if len(name) > limit or "\x00" in name:
        raise bad_request(f"displayName is longer than {limit} characters.", INVALID_VALUE)


def _check_name_free(name: str, group: Group | None) -> None:
    # Case apart, two groups by one name would read as one in every audience picker.
    others = Group.objects.filter(name__iexact=name)
    if group is not None:
        others = others.exclude(pk=group.pk)
    if others.exists():
        raise _name_taken(name)


def _name_taken(name: str) -> ScimError:
    return ScimError(409, f"There is already a group called “{name}”.", UNIQUENESS)


def _roles_refused(name: str) -> ScimError:
    return forbidden(
        f"“{name}” is a PolicyHub role group; this SCIM client may not assign roles "
        "(a site admin can allow it on the client in the PolicyHub admin)."
    )


def _people(ids: set[str]) -> list[int]:
    """The people named by SCIM id, all of whom must exist."""
    wanted = {scim_id(pk) for pk in ids} - {None}
    found = set(User.objects.filter(pk__in=wanted).values_list("pk", flat=True))
    missing = sorted(pk for pk in ids if scim_id(pk) not in found)
    if missing:
        shown = ", ".join(f"“{pk}”" for pk in missing[:5])
        raise bad_request(f"members: there is no User with id {shown}.", INVALID_VALUE)
    return sorted(found)


def _audiences_of(group: Group) -> list[str]:
    """What refers to the group, other than its members: policy and training audiences
    (found from the models, so that a new kind of audience counts too)."""
    used_by = []
    for relation in Group._meta.get_fields(include_hidden=True):
        if not isinstance(relation, ManyToManyRel) or relation.related_model is User:
            continue
        through = relation.through
        column = relation.field.m2m_reverse_field_name()
        if through.objects.filter(**{column: group.pk}).exists():
            used_by.append(f"a {relation.related_model._meta.verbose_name}")
    return used_by
