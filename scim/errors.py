"""SCIM's domain error and how it reads on the wire (RFC 7644 §3.12)."""

import json

from django.http import HttpResponse

from scim import schemas

CONTENT_TYPE = "application/scim+json"

# scimType values (RFC 7644 §3.12, table 9).
INVALID_FILTER = "invalidFilter"
TOO_MANY = "tooMany"
UNIQUENESS = "uniqueness"
MUTABILITY = "mutability"
INVALID_SYNTAX = "invalidSyntax"
INVALID_PATH = "invalidPath"
NO_TARGET = "noTarget"
INVALID_VALUE = "invalidValue"


class ScimError(Exception):
    """A provisioning request that cannot be done: nothing was changed. The detail is
    for the identity provider's administrator, who reads it in their provisioning log."""

    def __init__(self, status: int, detail: str, scim_type: str | None = None):
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.scim_type = scim_type

    def response(self) -> HttpResponse:
        body = {"schemas": [schemas.ERROR], "status": str(self.status), "detail": self.detail}
        if self.scim_type:
            body["scimType"] = self.scim_type
        response = HttpResponse(json.dumps(body), content_type=CONTENT_TYPE, status=self.status)
        if self.status == 401:
            response["WWW-Authenticate"] = 'Bearer realm="PolicyHub SCIM"'
        return response


def bad_request(detail: str, scim_type: str) -> ScimError:
    return ScimError(400, detail, scim_type)


def not_found(what: str, resource_id: str) -> ScimError:
    return ScimError(404, f"No {what} with id “{resource_id}”.")


def forbidden(detail: str) -> ScimError:
    return ScimError(403, detail)
