"""What drf-spectacular cannot guess about the API: how a token is sent, and a name of
its own for each set of choices (an incident's status and a version's status are both
called "status", and are different lists)."""

from drf_spectacular.extensions import (
    OpenApiAuthenticationExtension,
    OpenApiSerializerFieldExtension,
)
from drf_spectacular.plumbing import build_bearer_security_scheme_object


class IntegrationTokenScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.IntegrationTokenAuthentication"
    name = "integrationToken"

    def get_security_definition(self, auto_schema):
        scheme = build_bearer_security_scheme_object(
            header_name="Authorization", token_prefix="Bearer", bearer_format="ph_…"
        )
        scheme["description"] = (
            "An integration token made by a site admin on the API tokens page: "
            "`Authorization: Bearer ph_…`. It acts as its owner, read only or read and write."
        )
        return scheme


class NamedChoices(OpenApiSerializerFieldExtension):
    """Each `NamedChoiceField` is one schema component, named by the field."""

    target_class = "api.serializers.NamedChoiceField"

    def get_name(self):
        return self.target.enum_name

    def map_serializer_field(self, auto_schema, direction):
        choices = self.target.choices
        return {
            "type": "string",
            "enum": list(choices),
            "description": "\n".join(f"* `{value}`: {label}" for value, label in choices.items()),
        }
