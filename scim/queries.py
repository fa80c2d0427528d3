"""Reads for /scim/v2/: people and groups as SCIM lists them, a few queries per page
however many rows there are (a count, the page, and one query per related list)."""

from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db.models import Prefetch, Q

from people.models import User, normalise_email
from people.services import language_code
from scim import filters, schemas
from scim.errors import INVALID_FILTER, INVALID_VALUE, bad_request
from scim.ids import scim_id
from scim.models import ScimClient, ScimIdentity


def visible_groups():
    """Every group without Django permissions (see scim/groups.py)."""
    with_permissions = Group.permissions.through.objects.values("group_id")
    return Group.objects.exclude(pk__in=with_permissions)


def user_attributes(client: ScimClient) -> dict:
    def external_id(operator: str, value: str | None) -> Q:
        identities = ScimIdentity.objects.filter(client=client)
        if operator == "pr":
            return Q(pk__in=identities.exclude(external_id="").values("person_id"))
        if operator not in ("eq", "ne"):
            raise filters.unsupported_operator("externalId", operator)
        found = Q(pk__in=identities.filter(external_id=value).values("person_id"))
        return ~found if operator == "ne" else found

    any_text = filters.text_attribute("userName", "email")

    def user_name(operator: str, value: str | None) -> Q:
        # Addresses are stored normalised: eq finds one through the unique index.
        if operator in ("eq", "ne"):
            found = Q(email=normalise_email(value))
            return ~found if operator == "ne" else found
        return any_text(operator, value)

    def preferred_language(operator: str, value: str | None) -> Q:
        # Read as a request's preferredLanguage is: "de-DE" finds the people who have de.
        if operator == "pr":
            return Q()  # everyone has a language
        if operator not in ("eq", "ne"):
            raise filters.unsupported_operator("preferredLanguage", operator)
        try:
            code = language_code(value or "", label="preferredLanguage")
        except ValidationError as error:
            raise bad_request(error.messages[0], INVALID_FILTER) from None
        found = Q(language=code) if code else Q(pk__in=[])
        return ~found if operator == "ne" else found

    enterprise = schemas.ENTERPRISE_USER.lower()
    return {
        (None, "preferredlanguage", None): preferred_language,
        (None, "username", None): user_name,
        (None, "emails", None): user_name,
        (None, "emails", "value"): user_name,
        (None, "id", None): filters.id_attribute("id"),
        (None, "externalid", None): external_id,
        (None, "active", None): filters.boolean_attribute("active", "is_active"),
        (None, "displayname", None): filters.text_attribute("displayName", "full_name"),
        (None, "name", "formatted"): filters.text_attribute("name.formatted", "full_name"),
        (enterprise, "employeenumber", None): filters.text_attribute(
            "employeeNumber", "employee_id", case_exact=True
        ),
    }


def group_attributes() -> dict:
    memberships = User.groups.through.objects

    def member(operator: str, value: str | None) -> Q:
        if operator not in ("eq", "ne"):
            raise filters.unsupported_operator("members", operator)
        person = scim_id(value)
        found = Q(pk__in=memberships.filter(user_id=person).values("group_id"))
        return ~found if operator == "ne" else found

    return {
        (None, "displayname", None): filters.text_attribute("displayName", "name"),
        (None, "id", None): filters.id_attribute("id"),
        (None, "members", None): member,
        (None, "members", "value"): member,
    }


def people_for(client: ScimClient, *, with_groups: bool = True):
    people = (
        User.objects.select_related("department", "manager")
        .prefetch_related(
            Prefetch(
                "scim_identities",
                queryset=ScimIdentity.objects.filter(client=client),
                to_attr="client_identities",
            )
        )
        .order_by("pk")
    )
    if with_groups:
        people = people.prefetch_related(
            Prefetch("groups", queryset=visible_groups().order_by("name"), to_attr="visible_groups")
        )
    return people


def groups_for(*, with_members: bool = True):
    groups = visible_groups().order_by("pk")
    if with_members:
        members = User.objects.only("pk", "email", "full_name").order_by("pk")
        groups = groups.prefetch_related(Prefetch("user_set", queryset=members, to_attr="members"))
    return groups


def person_for(client: ScimClient, resource_id: str, *, with_groups: bool = True) -> User | None:
    pk = scim_id(resource_id)
    if pk is None:
        return None
    return people_for(client, with_groups=with_groups).filter(pk=pk).first()


def group_for(resource_id: str, *, with_members: bool = True) -> Group | None:
    pk = scim_id(resource_id)
    if pk is None:
        return None
    return groups_for(with_members=with_members).filter(pk=pk).first()


# The largest startIndex read (a 32-bit integer, as RFC 7643 §2.3.4 has them): beyond the
# last resource either way, and an offset every database takes.
MAX_START_INDEX = 2**31 - 1


def page_bounds(params) -> tuple[int, int]:
    """startIndex (1-based) and count, as RFC 7644 §3.4.2.4 reads them: below 1 means 1,
    a negative count means 0; at most MAX_PAGE_SIZE resources come back at once, and a
    startIndex past MAX_START_INDEX is read as MAX_START_INDEX."""

    def number(name: str, default: int) -> int:
        text = params.get(name)
        if text in (None, ""):
            return default
        try:
            return int(text)
        except ValueError:
            raise bad_request(
                f"{name} must be a whole number, not “{text}”.", INVALID_VALUE
            ) from None

    start = min(max(number("startIndex", 1), 1), MAX_START_INDEX)
    count = min(max(number("count", schemas.MAX_PAGE_SIZE), 0), schemas.MAX_PAGE_SIZE)
    return start, count
