"""/scim/v2/: SCIM 2.0 (RFC 7643, 7644) for identity providers such as Okta and Microsoft
Entra ID. Every endpoint takes a client's bearer token instead of a login (no session, no
CSRF token) and answers in application/scim+json, errors included (RFC 7644 §3.12)."""

import json
from functools import wraps

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import RequestDataTooBig
from django.http import HttpResponse
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from scim import groups, queries, schemas, services, users
from scim.auth import authenticate
from scim.errors import CONTENT_TYPE, INVALID_SYNTAX, ScimError, bad_request, not_found
from scim.filters import parse_filter, to_q


def scim_endpoint(*methods: str):
    """Token first (401 before anything else is said), then the method, then the view;
    a ScimError anywhere becomes its SCIM error response."""

    def decorator(view):
        @login_not_required
        @csrf_exempt
        @never_cache
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            try:
                client = authenticate(request)
                if request.method not in methods:
                    raise ScimError(405, f"{request.method} is not supported here.")
                return view(request, client, *args, **kwargs)
            except ScimError as error:
                return error.response()

        return wrapper

    return decorator


def _response(document: dict, *, status: int = 200, location: str | None = None) -> HttpResponse:
    response = HttpResponse(json.dumps(document), content_type=CONTENT_TYPE, status=status)
    if location:
        response["Location"] = location
    return response


def _body(request) -> object:
    try:
        raw = request.body
    except RequestDataTooBig:
        # Django's own refusal is an HTML page; the provider's log shows this instead.
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raise ScimError(413, f"The body is larger than {limit:,} bytes.") from None
    try:
        return json.loads(raw.decode("utf-8") or "null")
    except (UnicodeDecodeError, ValueError):
        raise bad_request("The body is not valid JSON.", INVALID_SYNTAX) from None
    except RecursionError:
        raise bad_request("The body is nested too deeply to read.", INVALID_SYNTAX) from None


def _bases() -> tuple[str, str, str]:
    """Absolute URLs of the Users and Groups endpoints and of the service root."""
    user_base = settings.SITE_URL + reverse("scim:users")
    group_base = settings.SITE_URL + reverse("scim:groups")
    return user_base, group_base, user_base.rsplit("/", 1)[0]


class _Projection:
    """attributes= and excludedAttributes= (RFC 7644 §3.4.2.5), for top-level attributes
    and extensions; id and schemas always come back."""

    def __init__(self, params):
        def names(key: str) -> set[str]:
            return {n.strip().lower() for n in params.get(key, "").split(",") if n.strip()}

        self.only, self.excluded = names("attributes"), names("excludedAttributes")

    def wants(self, attribute: str) -> bool:
        attribute = attribute.lower()
        if attribute in ("id", "schemas"):
            return True
        if attribute in self.excluded:
            return False
        if not self.only:
            return True
        return any(
            name == attribute
            or name.startswith(attribute + ".")
            or name.startswith(attribute + ":")
            for name in self.only
        )

    def apply(self, resource: dict) -> dict:
        return {key: value for key, value in resource.items() if self.wants(key)}


def _list(request, queryset, *, attributes, default_uri, to_resource, projection) -> HttpResponse:
    start, count = queries.page_bounds(request.GET)
    text = request.GET.get("filter")
    if text:
        queryset = queryset.filter(to_q(parse_filter(text), attributes, default_uri=default_uri))
    total = queryset.count()
    rows = list(queryset[start - 1 : start - 1 + count]) if count else []
    return _response(
        {
            "schemas": [schemas.LIST_RESPONSE],
            "totalResults": total,
            "startIndex": start,
            "itemsPerPage": len(rows),
            "Resources": [projection.apply(to_resource(row)) for row in rows],
        }
    )


def _patch_operations(body):
    if not isinstance(body, dict):
        raise bad_request("The body must be a JSON object.", INVALID_SYNTAX)
    named = body.get("schemas")
    if not isinstance(named, list) or schemas.PATCH_OP.lower() not in {
        urn.lower() for urn in named if isinstance(urn, str)
    }:
        raise bad_request(
            f"A PATCH body's schemas must include {schemas.PATCH_OP}.", INVALID_SYNTAX
        )
    # Attribute names are case-insensitive (RFC 7643 §2.1): Entra sends "Operations".
    return next((value for key, value in body.items() if key.lower() == "operations"), None)


# Users --------------------------------------------------------------------------------------------


def _user_document(client, person, projection: _Projection) -> dict:
    user_base, group_base, _ = _bases()
    identities = getattr(person, "client_identities", [])
    resource = users.user_resource(
        person,
        identity=identities[0] if identities else None,
        groups=getattr(person, "visible_groups", None) if projection.wants("groups") else None,
        base=user_base,
        group_base=group_base,
    )
    return projection.apply(resource)


def _person(client, resource_id: str, projection: _Projection | None = None):
    wants_groups = projection.wants("groups") if projection else True
    person = queries.person_for(client, resource_id, with_groups=wants_groups)
    if person is None:
        raise not_found("User", resource_id)
    return person


@scim_endpoint("GET", "POST")
def users_endpoint(request, client):
    if request.method == "POST":
        draft = users.draft_from_resource(_body(request))
        person = services.create_user(client=client, draft=draft)
        document = _user_document(client, _person(client, str(person.pk)), _Projection({}))
        return _response(document, status=201, location=document["meta"]["location"])
    projection = _Projection(request.GET)
    user_base, group_base, _ = _bases()
    people = queries.people_for(client, with_groups=projection.wants("groups"))
    return _list(
        request,
        people,
        attributes=queries.user_attributes(client),
        default_uri=schemas.USER,
        to_resource=lambda person: _user_document(client, person, projection),
        projection=projection,
    )


@scim_endpoint("GET", "PUT", "PATCH", "DELETE")
def user_endpoint(request, client, resource_id: str):
    if request.method == "GET":
        projection = _Projection(request.GET)
        person = _person(client, resource_id, projection)
        document = _user_document(client, person, projection)
        return _response(document, location=f"{_bases()[0]}/{person.pk}")
    person = _person(client, resource_id)
    if request.method == "DELETE":
        services.deactivate_user(client=client, person=person)
        return HttpResponse(status=204)
    identities = person.client_identities
    before = users.UserDraft.of(person, identities[0] if identities else None)
    body = _body(request)
    if request.method == "PUT":
        after = users.draft_from_resource(body, before)
    else:
        after = users.apply_patch(before, _patch_operations(body), resource_id=resource_id)
    services.update_user(client=client, person=person, before=before, after=after)
    document = _user_document(client, _person(client, resource_id), _Projection({}))
    return _response(document, location=document["meta"]["location"])


# Groups -------------------------------------------------------------------------------------------


def _group_document(group, projection: _Projection) -> dict:
    user_base, group_base, _ = _bases()
    members = getattr(group, "members", None) if projection.wants("members") else None
    return projection.apply(
        groups.group_resource(group, members=members, base=group_base, user_base=user_base)
    )


def _group(resource_id: str, projection: _Projection | None = None):
    wants_members = projection.wants("members") if projection else True
    group = queries.group_for(resource_id, with_members=wants_members)
    if group is None:
        raise not_found("Group", resource_id)
    return group


def _group_draft(group) -> groups.GroupDraft:
    return groups.GroupDraft(group.name, {str(person.pk) for person in group.members})


@scim_endpoint("GET", "POST")
def groups_endpoint(request, client):
    if request.method == "POST":
        draft = groups.draft_from_resource(_body(request))
        group = services.create_group(client=client, draft=draft)
        document = _group_document(_group(str(group.pk)), _Projection({}))
        return _response(document, status=201, location=document["meta"]["location"])
    projection = _Projection(request.GET)
    return _list(
        request,
        queries.groups_for(with_members=projection.wants("members")),
        attributes=queries.group_attributes(),
        default_uri=schemas.GROUP,
        to_resource=lambda group: _group_document(group, projection),
        projection=projection,
    )


@scim_endpoint("GET", "PUT", "PATCH", "DELETE")
def group_endpoint(request, client, resource_id: str):
    if request.method == "GET":
        projection = _Projection(request.GET)
        group = _group(resource_id, projection)
        document = _group_document(group, projection)
        return _response(document, location=f"{_bases()[1]}/{group.pk}")
    group = _group(resource_id)
    if request.method == "DELETE":
        services.delete_group(client=client, group=group)
        return HttpResponse(status=204)
    before = _group_draft(group)
    body = _body(request)
    if request.method == "PUT":
        after = groups.draft_from_resource(body, before)
    else:
        after = groups.apply_patch(before, _patch_operations(body), resource_id=resource_id)
    services.update_group(client=client, group=group, before=before, after=after)
    document = _group_document(_group(resource_id), _Projection({}))
    return _response(document, location=document["meta"]["location"])


# Discovery ----------------------------------------------------------------------------------------


@scim_endpoint("GET")
def service_provider_config(request, client):
    return _response(schemas.service_provider_config(_bases()[2]))


@scim_endpoint("GET")
def resource_types(request, client, resource_id: str | None = None):
    found = schemas.resource_types(_bases()[2])
    return _one_or_list(found, resource_id, "ResourceType")


@scim_endpoint("GET")
def schemas_endpoint(request, client, resource_id: str | None = None):
    found = schemas.all_schemas(_bases()[2])
    return _one_or_list(found, resource_id, "Schema")


def _one_or_list(documents: list[dict], resource_id: str | None, what: str) -> HttpResponse:
    if resource_id is None:
        return _response(
            {
                "schemas": [schemas.LIST_RESPONSE],
                "totalResults": len(documents),
                "startIndex": 1,
                "itemsPerPage": len(documents),
                "Resources": documents,
            }
        )
    for document in documents:
        if document["id"].lower() == resource_id.lower():
            return _response(document)
    raise not_found(what, resource_id)


@scim_endpoint("GET", "POST", "PUT", "PATCH", "DELETE")
def not_supported(request, client, rest: str = ""):
    raise ScimError(501, "PolicyHub does not support this SCIM endpoint (no Bulk, Me or .search).")


@scim_endpoint("GET", "POST", "PUT", "PATCH", "DELETE")
def unknown_endpoint(request, client, rest: str = ""):
    raise ScimError(404, f"There is no SCIM endpoint at {request.path}.")
