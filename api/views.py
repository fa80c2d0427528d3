"""The REST API, version 1. Every request is made with an integration token and acts as
the token's owner: each endpoint loads through the same permission helpers and queries
as the pages (see api.permissions), and changes things only through the services.

Views are thin: check who may, validate with a serializer, call a query or a service,
and turn a domain error into a 400 with its message.

The API speaks English, whatever language the caller's Accept-Language asks for: its
messages are for the developers of integrations, as its schema is, and a script may
match them. (The pages speak each person's language; the documentation page, /api/docs/,
is a page.)
"""

from __future__ import annotations

import zoneinfo

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db.models import QuerySet
from django.utils import timezone, translation
from drf_spectacular.settings import spectacular_settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework import exceptions, generics, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from api import queries, serializers
from api.authentication import IntegrationTokenAuthentication
from api.parsers import JSONBodyParser
from api.permissions import (
    ON_BEHALF_REFUSED,
    PEOPLE_REFUSED,
    can_acknowledge_on_behalf,
    people_scope,
)
from dashboards.compliance import NONE
from incidents import permissions as incident_permissions
from incidents import services as incident_services
from incidents.models import IncidentError
from policies import services as policy_services
from policies.models import PolicyError

REFUSALS = {
    401: OpenApiResponse(
        serializers.ProblemSerializer,
        description="No token, or one that is not valid, was revoked, or whose owner has left.",
    ),
    403: OpenApiResponse(
        serializers.ProblemSerializer,
        description="The token's owner may not do this, or the token only reads.",
    ),
}
NOT_FOUND = OpenApiResponse(
    serializers.ProblemSerializer,
    description="No such thing, or not one the token's owner may open.",
)
INVALID = OpenApiResponse(
    OpenApiTypes.OBJECT,
    description='What is wrong: a message for each field (`{"field": ["message"]}`), or '
    '`{"detail": "message"}`. Nothing was changed.',
)


TOO_LARGE = OpenApiResponse(
    serializers.ProblemSerializer, description="A body over the server's limit (2.5 MB)."
)


class TooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request is too large."
    default_code = "too_large"


def _problem(message: str) -> dict:
    return {"detail": message}


class InEnglish:
    """An API view whose answers, DRF's own messages and the domain errors included, are
    in English (see the module's docstring)."""

    def dispatch(self, request, *args, **kwargs):
        with translation.override(settings.LANGUAGE_CODE):
            response = super().dispatch(request, *args, **kwargs)
            # Rendered here, not after the view returns: a label that is translated when
            # it is written out (a choice's, say) is written out in English too.
            if hasattr(response, "render"):
                response.render()
        # LocaleMiddleware names the page's language only where the view did not.
        response.headers.setdefault("Content-Language", settings.LANGUAGE_CODE)
        return response


class TokenView(InEnglish, generics.GenericAPIView):
    # Acts as the token's owner, in the owner's time zone (times without an offset are
    # read in it, and times are written in it). Requests and answers are JSON: a browser
    # cannot send a token, so DRF's browsable pages would only ever show a 401 (the
    # documentation page, /api/docs/, is where people try the API).

    parser_classes = [JSONBodyParser]
    renderer_classes = [JSONRenderer]

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        name = getattr(request.user, "time_zone", "")
        if name:
            try:
                timezone.activate(zoneinfo.ZoneInfo(name))
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                pass

    def handle_exception(self, exc):
        # Django refuses a body over DATA_UPLOAD_MAX_MEMORY_SIZE with an HTML page; an
        # integration gets JSON like every other refusal.
        if isinstance(exc, RequestDataTooBig):
            exc = TooLarge()
        return super().handle_exception(exc)

    def paged(self, queryset, prepare, serialize) -> Response:
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(serialize(prepare(page)))


# --- people ----------------------------------------------------------------------------


def _scope(user):
    scope = people_scope(user)
    if scope is None:
        raise exceptions.PermissionDenied(PEOPLE_REFUSED)
    return scope


@extend_schema(tags=["people"])
class PeopleList(TokenView, generics.ListAPIView):
    """People's acknowledgement and training status: everyone for site admins, policy
    admins and leadership; a line manager's team (direct and indirect reports)."""

    serializer_class = serializers.PersonSerializer

    @extend_schema(
        summary="People with their acknowledgement and training status",
        parameters=[serializers.PeopleFilterSerializer],
        responses={
            200: serializers.PersonSerializer(many=True),
            400: INVALID,
            **REFUSALS,
        },
    )
    def get(self, request, *args, **kwargs):
        scope = _scope(request.user)
        filters = serializers.PeopleFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        department = filters.validated_data.get("department")
        people = queries.people_in(
            scope,
            email=filters.validated_data.get("email", ""),
            department_ids=None
            if department in (None, NONE)
            else queries.department_ids(department),
            no_department=department == NONE,
        )
        now = timezone.now()
        return self.paged(
            people,
            lambda page: queries.with_status(page, now=now),
            lambda rows: self.get_serializer(rows, many=True).data,
        )


@extend_schema(tags=["people"])
class PersonDetail(TokenView, generics.RetrieveAPIView):
    """One person in the same scope as the list, with each open acknowledgement and
    where they stand against each training requirement (as on My team's page of a
    report)."""

    serializer_class = serializers.PersonDetailSerializer

    @extend_schema(
        summary="One person: open acknowledgements and training standing",
        responses={200: serializers.PersonDetailSerializer, 404: NOT_FOUND, **REFUSALS},
    )
    def get(self, request, pk: int, *args, **kwargs):
        scope = _scope(request.user)
        person = queries.people_in(scope).filter(pk=pk).first()
        if person is None:
            raise exceptions.NotFound("No such person, or not one whose status you may read.")
        now = timezone.now()
        person = queries.with_status([person], now=now)[0]
        person.items = queries.person_items(person, now=now, viewer=request.user)
        return Response(self.get_serializer(person).data)


# --- policies --------------------------------------------------------------------------


@extend_schema(tags=["policies"])
class PolicyList(TokenView, generics.ListAPIView):
    """The policies the token's owner may read, with their versions (without bodies)."""

    serializer_class = serializers.PolicySerializer

    @extend_schema(
        summary="Policies and their versions",
        responses={200: serializers.PolicySerializer(many=True), **REFUSALS},
    )
    def get(self, request, *args, **kwargs):
        return self.paged(
            queries.policies_for(request.user),
            list,
            lambda rows: self.get_serializer(rows, many=True).data,
        )


@extend_schema(tags=["policies"])
class PolicyDetail(TokenView, generics.RetrieveAPIView):
    """A policy the token's owner may read, with the Markdown body of each version shown
    (the published one; every version for a policy admin)."""

    serializer_class = serializers.PolicyDetailSerializer

    @extend_schema(
        summary="One policy, with its versions' bodies",
        responses={200: serializers.PolicyDetailSerializer, 404: NOT_FOUND, **REFUSALS},
    )
    def get(self, request, pk: int, *args, **kwargs):
        policy = queries.policies_for(request.user, with_bodies=True).filter(pk=pk).first()
        if policy is None:
            raise exceptions.NotFound("No such policy, or not one you may read.")
        return Response(self.get_serializer(policy).data)


# --- compliance ------------------------------------------------------------------------


@extend_schema(tags=["compliance"])
class PolicyComplianceList(TokenView, generics.ListAPIView):
    """Per policy, its current version's acknowledgement figures, overall and per
    department, as the compliance pages count them: everyone for site admins, policy
    admins and leadership; a line manager's team only."""

    serializer_class = serializers.PolicyComplianceSerializer

    @extend_schema(
        summary="Acknowledgement figures per policy and department",
        responses={200: serializers.PolicyComplianceSerializer(many=True), **REFUSALS},
    )
    def get(self, request, *args, **kwargs):
        scope = _scope(request.user)
        today = timezone.localdate()
        return self.paged(
            queries.published_versions(),
            lambda page: queries.compliance(page, scope=scope, today=today),
            lambda rows: self.get_serializer(rows, many=True).data,
        )


# --- incidents -------------------------------------------------------------------------


@extend_schema(tags=["incidents"])
class IncidentList(TokenView, generics.ListAPIView):
    """Incidents as the token's owner may see them: the incident team and leadership in
    full; an action owner or a line manager a summary; a reporter their own report."""

    serializer_class = serializers.ReporterViewSerializer  # each row: its level's

    def get_queryset(self) -> QuerySet:
        return queries.incidents_for(self.request.user)

    @extend_schema(
        summary="Incidents the token's owner may open",
        responses={200: serializers.IncidentSchema, **REFUSALS},
    )
    def get(self, request, *args, **kwargs):
        user = request.user

        def prepare(page):
            page = list(page)
            levels = queries.access_levels(user, page)
            queries.prepare_incidents(user, page, levels)
            return page, levels

        return self.paged(
            self.get_queryset(),
            prepare,
            lambda found: serializers.present_incidents(found[0], found[1], user=user),
        )

    @extend_schema(
        summary="Report an incident (read-write token)",
        description="As “Report an incident” on the pages; the token's owner is the reporter.",
        request=serializers.ReportSerializer,
        responses={
            201: serializers.IncidentDetailSchema,
            400: INVALID,
            413: TOO_LARGE,
            **REFUSALS,
        },
    )
    def post(self, request, *args, **kwargs):
        form = serializers.ReportSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        try:
            incident = incident_services.report_incident(
                reporter=request.user, **form.validated_data
            )
        except IncidentError as error:
            raise exceptions.ValidationError(_problem(str(error))) from error
        data = _incident_detail(request.user, incident.pk)
        return Response(data, status=status.HTTP_201_CREATED)


def _incident_detail(user, pk: int) -> dict:
    incident, level = incident_permissions.get_incident_for(user, pk)
    levels = {incident.pk: level}
    queries.prepare_incidents(user, [incident], levels, detail=True)
    return serializers.present_incidents([incident], levels, user=user, detail=True)[0]


@extend_schema(tags=["incidents"])
class IncidentDetail(TokenView, generics.RetrieveAPIView):
    """One incident the token's owner may open, as its page shows it to them. In full:
    the people involved unless restricted, the actions, and the individual assessments
    for HR/legal and the incident's owner only."""

    serializer_class = serializers.FullDetailSerializer

    @extend_schema(
        summary="One incident, at the level of detail its page shows the token's owner",
        responses={200: serializers.IncidentDetailSchema, 404: NOT_FOUND, **REFUSALS},
    )
    def get(self, request, pk: int, *args, **kwargs):
        return Response(_incident_detail(request.user, pk))


# --- acknowledging on someone's behalf ---------------------------------------------------


@extend_schema(tags=["acknowledgements"])
class OnBehalf(TokenView):
    """Record an acknowledgement given another way (on paper, say)."""

    serializer_class = serializers.OnBehalfSerializer

    @extend_schema(
        summary="Acknowledge on someone's behalf (read-write token, policy admins)",
        description="As on a version's compliance page: for someone who still has to "
        "acknowledge the published version, with the reason (kept in the record).",
        request=serializers.OnBehalfSerializer,
        responses={
            201: serializers.AcknowledgementSerializer,
            400: INVALID,
            413: TOO_LARGE,
            **REFUSALS,
        },
    )
    def post(self, request, *args, **kwargs):
        if not can_acknowledge_on_behalf(request.user):
            raise exceptions.PermissionDenied(ON_BEHALF_REFUSED)
        form = serializers.OnBehalfSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        version = queries.version_with_figures(data["version"])
        if version is None:
            raise exceptions.ValidationError(
                {"version": [f"There is no published version with id {data['version']}."]}
            )
        person = queries.outstanding_person(version, email=data["email"])
        if person is None:
            raise exceptions.ValidationError(
                {"email": ["That person has nothing outstanding for this version."]}
            )
        try:
            acknowledgement = policy_services.acknowledge_on_behalf(
                version=version, person=person, by=request.user, reason=data["reason"]
            )
        except PolicyError as error:
            raise exceptions.ValidationError(_problem(str(error))) from error
        return Response(
            serializers.AcknowledgementSerializer(acknowledgement).data,
            status=status.HTTP_201_CREATED,
        )


# --- the schema and its documentation ----------------------------------------------------


class SchemaView(InEnglish, SpectacularAPIView):
    """The OpenAPI 3 schema: for any token, or anyone logged in."""

    authentication_classes = [IntegrationTokenAuthentication, SessionAuthentication]
    permission_classes = [IsAuthenticated]

    def finalize_response(self, request, response, *args, **kwargs):
        # A refusal is JSON, as everywhere in the API, whatever format was asked for.
        if getattr(response, "exception", False):
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)


class DocsView(SpectacularSwaggerView):
    """Swagger UI for logged-in people, from this server's own static files. Swagger UI
    would otherwise send the schema's address to an online validator."""

    authentication_classes = [SessionAuthentication]
    permission_classes = [IsAuthenticated]
    url_name = "api:schema"
    title = "PolicyHub API"

    @extend_schema(exclude=True)
    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        configured = spectacular_settings.SWAGGER_UI_SETTINGS
        if isinstance(configured, dict):
            response.data["settings"] = self._dump({**configured, "validatorUrl": None})
        return response
