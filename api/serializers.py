"""What the API shows and accepts. Output serializers read objects the queries have
loaded (never a query per row); input serializers validate, and the services act."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.utils import timezone
from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema_field
from rest_framework import serializers

from dashboards.compliance import NONE, department_problem, parse_id
from incidents.forms import CLOCK_LEEWAY
from incidents.models import ActionItem, Assessment, Incident
from incidents.permissions import sees_people_involved
from incidents.queries import summary_line
from incidents.wording import RESTRICTED_NAME
from people.models import Department, normalise_email
from policies.models import Acknowledgement, Policy, PolicyVersion

# An incident report's text: the page's form has no limit, the API has one, so that an
# intake tool cannot store a megabyte by mistake.
WHAT_HAPPENED_MAX_LENGTH = 20_000
PEOPLE_INVOLVED_MAX = 50
REASON_MAX_LENGTH = 2000


class NamedChoiceField(serializers.ChoiceField):
    """A choice of a TextChoices class, with a name of its own in the schema."""

    def __init__(self, choices_class, *, enum_name: str, **kwargs):
        self.enum_name = enum_name
        super().__init__(choices=choices_class.choices, **kwargs)

    def to_representation(self, value):
        # A choice not made yet (stored empty) is null, never an empty string.
        if value == "" and self.allow_null:
            return None
        return super().to_representation(value)


# --- small references ------------------------------------------------------------------


class ProblemSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="What is wrong, in words for people.")


class DepartmentRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class PersonRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    full_name = serializers.CharField(source="get_full_name")


class PolicyRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()


class VersionRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField(help_text="Major.minor, e.g. 2.1.")


# --- people ----------------------------------------------------------------------------


class PeopleFilterSerializer(serializers.Serializer):
    """The people list's filters (query parameters). A value that is not valid is a 400:
    never a list wider than was asked for."""

    email = serializers.EmailField(
        required=False, max_length=254, help_text="One person, by email address (any case)."
    )
    department = serializers.CharField(
        required=False,
        help_text="A department's id (its sub-departments included), or `none` for people "
        "without a department.",
    )

    def validate_email(self, value: str) -> str:
        return normalise_email(value)

    def validate_department(self, value: str) -> int | str:
        if value == NONE:
            return value
        pk = parse_id(value)
        if pk is None or not Department.objects.filter(pk=pk).exists():
            raise serializers.ValidationError(department_problem(value))
        return pk


class AcknowledgementStatusSerializer(serializers.Serializer):
    outstanding = serializers.IntegerField(
        source="policies_open", help_text="Policies still to acknowledge."
    )
    overdue = serializers.IntegerField(source="policies_overdue", help_text="Of those, past due.")
    earliest_due = serializers.DateField(source="policies_earliest_due", allow_null=True)


class TrainingStatusSerializer(serializers.Serializer):
    not_attended = serializers.IntegerField(
        source="training_unmet",
        help_text="Training requirements not met (no briefing attended within the period).",
    )
    booked = serializers.IntegerField(
        source="training_booked", help_text="Of those, with a seat on an upcoming briefing."
    )
    to_book = serializers.IntegerField(source="training_to_book")
    overdue = serializers.IntegerField(
        source="training_overdue",
        help_text="Not met, and not a new joiner still within their first days.",
    )


class PersonSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    full_name = serializers.CharField(source="get_full_name")
    employee_id = serializers.CharField()
    job_title = serializers.CharField()
    department = DepartmentRefSerializer(allow_null=True)
    manager = PersonRefSerializer(allow_null=True)
    acknowledgements = AcknowledgementStatusSerializer(source="outstanding")
    training = TrainingStatusSerializer(source="outstanding")


class OpenAssignmentSerializer(serializers.Serializer):
    policy = PolicyRefSerializer()
    version = VersionRefSerializer()
    due_date = serializers.DateField()
    overdue = serializers.BooleanField()


class SessionRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    starts_at = serializers.DateTimeField()


class RequirementRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class TrainingStandingSerializer(serializers.Serializer):
    requirement = RequirementRefSerializer()
    compliant = serializers.BooleanField(source="status.compliant")
    last_attended = serializers.DateTimeField(source="status.last_attended", allow_null=True)
    due_by = serializers.DateField(
        source="status.due_by",
        allow_null=True,
        help_text="When not compliant: a new joiner's deadline; null means due now.",
    )
    valid_until = serializers.DateField(source="status.valid_until", allow_null=True)
    overdue = serializers.BooleanField(source="status.overdue")
    booked_session = SessionRefSerializer(
        source="seat", allow_null=True, help_text="When not compliant: the seat booked."
    )


class PersonDetailSerializer(PersonSerializer):
    open_assignments = OpenAssignmentSerializer(source="items.assignments", many=True)
    training_requirements = TrainingStandingSerializer(source="items.briefings", many=True)


# --- policies --------------------------------------------------------------------------


class VersionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField(help_text="Major.minor, e.g. 2.1.")
    status = NamedChoiceField(PolicyVersion.Status, enum_name="VersionStatusEnum")
    change = NamedChoiceField(PolicyVersion.Change, enum_name="VersionChangeEnum")
    change_summary = serializers.CharField()
    effective_from = serializers.DateField(allow_null=True)
    published_at = serializers.DateTimeField(allow_null=True)


class VersionWithBodySerializer(VersionSerializer):
    body = serializers.CharField(help_text="Markdown, as written.")
    body_sha256 = serializers.CharField(
        help_text="SHA-256 of the body, fixed at publication (empty for a draft)."
    )


class PolicySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    slug = serializers.CharField()
    category = NamedChoiceField(Policy.Category, enum_name="PolicyCategoryEnum")
    owner = PersonRefSerializer()
    audience = NamedChoiceField(Policy.Audience, enum_name="PolicyAudienceEnum")
    acknowledgement_window_days = serializers.IntegerField()
    reacknowledge_months = serializers.IntegerField(allow_null=True)
    versions = VersionSerializer(
        source="shown_versions",
        many=True,
        help_text="Newest first. The published version only, unless the token's owner is "
        "a policy admin (then every version, drafts included).",
    )


class PolicyDetailSerializer(PolicySerializer):
    versions = VersionWithBodySerializer(
        source="shown_versions",
        many=True,
        help_text="Newest first, with their bodies. The published version only, unless the "
        "token's owner is a policy admin (then every version, drafts included).",
    )


# --- compliance ------------------------------------------------------------------------


class FiguresSerializer(serializers.Serializer):
    total = serializers.IntegerField(help_text="People who have to acknowledge.")
    acknowledged = serializers.IntegerField()
    percent = serializers.IntegerField(allow_null=True, help_text="% acknowledged, rounded.")
    outstanding = serializers.IntegerField()
    overdue = serializers.IntegerField()
    declined = serializers.IntegerField()


class DepartmentFiguresSerializer(FiguresSerializer):
    department = serializers.SerializerMethodField()

    @extend_schema_field(DepartmentRefSerializer(allow_null=True))
    def get_department(self, figures) -> dict | None:
        if figures.department_id is None:
            return None
        return {"id": figures.department_id, "name": figures.name}


class ComplianceVersionSerializer(VersionRefSerializer):
    published_at = serializers.DateTimeField(allow_null=True)


class PolicyComplianceSerializer(serializers.Serializer):
    policy = PolicyRefSerializer(source="version.policy")
    version = ComplianceVersionSerializer()
    overall = FiguresSerializer()
    departments = DepartmentFiguresSerializer(
        many=True, help_text="By department; people without one have a null department."
    )


# --- incidents: what each level shows ----------------------------------------------------

ACCESS_HELP = (
    "How much of the incident the token's owner may see, as on the incident's page: "
    "reporter (their own report), summary (an action owner, or a line manager), full."
)


class ReporterViewSerializer(serializers.Serializer):
    """A reporter's own report: what they told us and where it stands."""

    access = serializers.CharField(help_text=ACCESS_HELP)
    id = serializers.IntegerField()
    reference = serializers.CharField()
    status = NamedChoiceField(Incident.Status, enum_name="IncidentStatusEnum")
    self_reported = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    what_happened = serializers.CharField()
    platform = NamedChoiceField(Incident.Platform, enum_name="PlatformEnum")
    url = serializers.CharField()
    account_handle = serializers.CharField()
    posted_at = serializers.DateTimeField(allow_null=True)
    noticed_at = serializers.DateTimeField()


class MyActionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    status = NamedChoiceField(ActionItem.Status, enum_name="ActionStatusEnum")
    due_date = serializers.DateField()
    note = serializers.CharField()


class SummaryViewSerializer(serializers.Serializer):
    """An action owner's, or a line manager's: the reference, the status, a line that
    names nobody, and one's own actions."""

    access = serializers.CharField(help_text=ACCESS_HELP)
    id = serializers.IntegerField()
    reference = serializers.CharField()
    status = NamedChoiceField(Incident.Status, enum_name="IncidentStatusEnum")
    summary = serializers.SerializerMethodField()
    my_actions = MyActionSerializer(many=True)

    def get_summary(self, incident) -> str:
        return summary_line(incident)


class FullViewSerializer(serializers.Serializer):
    """The incident team's and leadership's view."""

    access = serializers.CharField(help_text=ACCESS_HELP)
    id = serializers.IntegerField()
    reference = serializers.CharField()
    status = NamedChoiceField(Incident.Status, enum_name="IncidentStatusEnum")
    severity = NamedChoiceField(Incident.Severity, enum_name="SeverityEnum")
    track = NamedChoiceField(Incident.Track, enum_name="TrackEnum")
    self_reported = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    what_happened = serializers.CharField()
    platform = NamedChoiceField(Incident.Platform, enum_name="PlatformEnum")
    url = serializers.CharField()
    account_handle = serializers.CharField()
    posted_at = serializers.DateTimeField(allow_null=True)
    noticed_at = serializers.DateTimeField()
    information = NamedChoiceField(Incident.Information, enum_name="InformationEnum")
    estimated_reach = serializers.IntegerField(allow_null=True)
    reported_by = serializers.SerializerMethodField(
        help_text=f"“{RESTRICTED_NAME}” when the reporter is one of the people involved in "
        "an accountability-track case and the token's owner may not see who they are."
    )
    owner = serializers.SerializerMethodField()
    contained_at = serializers.DateTimeField(allow_null=True)
    closed_at = serializers.DateTimeField(allow_null=True)

    def _sees_people(self, incident) -> bool:
        return sees_people_involved(self.context["user"], incident)

    def _shown(self, incident, person) -> str:
        """A name, or the restricted label for someone involved whom the viewer may not
        see (the page's rule)."""
        involved = {p.pk for p in incident.people_involved.all()}
        if person.pk in involved and not self._sees_people(incident):
            return RESTRICTED_NAME
        return person.get_full_name()

    def get_reported_by(self, incident) -> str:
        return self._shown(incident, incident.reporter)

    def get_owner(self, incident) -> str | None:
        return incident.owner.get_full_name() if incident.owner else None


class ActionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    owner = serializers.CharField(help_text="A name, or the restricted label.")
    status = NamedChoiceField(ActionItem.Status, enum_name="ActionStatusEnum")
    due_date = serializers.DateField()
    completed_at = serializers.DateTimeField(allow_null=True)


class AssessmentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    person = PersonRefSerializer()
    act = serializers.CharField()
    suggested_outcome = NamedChoiceField(
        Assessment.Outcome,
        enum_name="OutcomeEnum",
        allow_null=True,
        help_text="Null until every question is answered.",
    )
    final_outcome = NamedChoiceField(
        Assessment.Outcome,
        enum_name="OutcomeEnum",
        allow_null=True,
        help_text="Null until the assessment is finished.",
    )
    referral = serializers.BooleanField()
    started_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    current = serializers.BooleanField()


class FullDetailSerializer(FullViewSerializer):
    no_individual_involved = serializers.BooleanField()
    people_involved = serializers.SerializerMethodField(
        help_text="Null when restricted: on the accountability track only HR/legal and the "
        "incident owner see who was involved."
    )
    actions = serializers.SerializerMethodField()
    assessments = serializers.SerializerMethodField(
        help_text="The restricted individual assessments: null unless the token's owner is "
        "HR/legal, or the incident's owner in the incident team."
    )

    @extend_schema_field(PersonRefSerializer(many=True, allow_null=True))
    def get_people_involved(self, incident):
        if not self._sees_people(incident):
            return None
        people = sorted(incident.people_involved.all(), key=lambda p: (p.full_name, p.pk))
        return PersonRefSerializer(people, many=True).data

    @extend_schema_field(ActionSerializer(many=True))
    def get_actions(self, incident):
        return [
            {
                "id": action.pk,
                "title": action.title,
                "owner": self._shown(incident, action.owner),
                "status": action.status,
                "due_date": action.due_date,
                "completed_at": action.completed_at,
            }
            for action in incident.all_actions
        ]

    @extend_schema_field(AssessmentSerializer(many=True, allow_null=True))
    def get_assessments(self, incident):
        if incident.shown_assessments is None:
            return None
        return AssessmentSerializer(incident.shown_assessments, many=True).data


LEVELS = {
    "reporter": ReporterViewSerializer,
    "summary": SummaryViewSerializer,
    "full": FullViewSerializer,
}
DETAIL_LEVELS = {**LEVELS, "full": FullDetailSerializer}

IncidentSchema = PolymorphicProxySerializer(
    component_name="Incident",
    serializers={
        "reporter": ReporterViewSerializer,
        "summary": SummaryViewSerializer,
        "full": FullViewSerializer,
    },
    resource_type_field_name="access",
)
IncidentDetailSchema = PolymorphicProxySerializer(
    component_name="IncidentDetail",
    serializers={
        "reporter": ReporterViewSerializer,
        "summary": SummaryViewSerializer,
        "full": FullDetailSerializer,
    },
    resource_type_field_name="access",
)


def present_incidents(incidents, levels: dict[int, str], *, user, detail: bool = False) -> list:
    """Each incident through the serializer of its level."""
    table = DETAIL_LEVELS if detail else LEVELS
    shown = []
    for incident in incidents:
        incident.access = levels[incident.pk]
        shown.append(table[incident.access](incident, context={"user": user}).data)
    return shown


# --- reporting an incident ---------------------------------------------------------------


class ReportSerializer(serializers.Serializer):
    """ "Report an incident", as the page's form asks it; the token's owner is the reporter."""

    what_happened = serializers.CharField(
        max_length=WHAT_HAPPENED_MAX_LENGTH,
        error_messages={
            "required": "Tell us what happened, in a sentence or two.",
            "blank": "Tell us what happened, in a sentence or two.",
        },
    )
    platform = NamedChoiceField(
        Incident.Platform, enum_name="PlatformEnum", required=False, default="other"
    )
    url = serializers.URLField(max_length=500, required=False, allow_blank=True, default="")
    account_handle = serializers.CharField(
        max_length=200, required=False, allow_blank=True, default=""
    )
    posted_at = serializers.DateTimeField(
        required=False,
        allow_null=True,
        default=None,
        help_text="ISO 8601; without an offset, in the token owner's time zone.",
    )
    noticed_at = serializers.DateTimeField(
        required=False, allow_null=True, default=None, help_text="Default: now."
    )
    information = NamedChoiceField(
        Incident.Information, enum_name="InformationEnum", required=False, default="other"
    )
    estimated_reach = serializers.IntegerField(
        min_value=0, max_value=2_000_000_000, required=False, allow_null=True, default=None
    )
    people_involved = serializers.ListField(
        child=serializers.EmailField(max_length=254),
        required=False,
        default=list,
        max_length=PEOPLE_INVOLVED_MAX,
        help_text="Email addresses of active people in the directory.",
    )

    def validate_what_happened(self, value: str) -> str:
        if not value.strip():
            raise serializers.ValidationError("Tell us what happened, in a sentence or two.")
        return value

    def validate_people_involved(self, value: list[str]) -> list:
        emails = []
        for email in (normalise_email(item) for item in value):
            if email not in emails:
                emails.append(email)
        if not emails:
            return []
        people = list(get_user_model().objects.filter(is_active=True, email__in=emails))
        unknown = sorted(set(emails) - {person.email for person in people})
        if unknown:
            raise serializers.ValidationError(
                f"No active person has the email address {', '.join(unknown)}."
            )
        return people

    def validate(self, data: dict) -> dict:
        limit = timezone.now() + CLOCK_LEEWAY
        errors = {}
        for name in ("posted_at", "noticed_at"):
            if data.get(name) and data[name] > limit:
                errors[name] = "That is in the future: give the date and time it happened."
        posted, noticed = data.get("posted_at"), data.get("noticed_at")
        if not errors and posted and posted > (noticed or timezone.now()):
            errors["posted_at"] = "It cannot have been noticed before it was posted."
        if errors:
            raise serializers.ValidationError(errors)
        data["account_handle"] = data["account_handle"].strip()
        return data


# --- acknowledging on someone's behalf ---------------------------------------------------


class OnBehalfSerializer(serializers.Serializer):
    version = serializers.IntegerField(
        min_value=1, max_value=2**31 - 1, help_text="The published version's id."
    )
    email = serializers.EmailField(
        max_length=254, help_text="Someone who still has to acknowledge this version."
    )
    reason = serializers.CharField(
        max_length=REASON_MAX_LENGTH,
        help_text="How they acknowledged (a signed paper copy, say). Kept in the record.",
        error_messages={"blank": "Say why you are acknowledging on someone's behalf."},
    )

    def validate_email(self, value: str) -> str:
        return normalise_email(value)


class AcknowledgementSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    sequence = serializers.IntegerField()
    person = PersonRefSerializer()
    policy = PolicyRefSerializer(source="version.policy")
    version = VersionRefSerializer()
    acknowledged_at = serializers.DateTimeField()
    method = NamedChoiceField(Acknowledgement.Method, enum_name="AcknowledgementMethodEnum")
    on_behalf_by = PersonRefSerializer()
    on_behalf_reason = serializers.CharField()
    record_hash = serializers.CharField(help_text="The record's SHA-256 in the chain.")
