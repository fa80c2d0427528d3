"""Schema URIs and the discovery documents (RFC 7643 §5–7): what PolicyHub keeps of a
User and a Group, so that an identity provider can read which attributes to map."""

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE_USER = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
# PolicyHub's own extension: the start date new-joiner training counts from.
POLICYHUB_USER = "urn:ietf:params:scim:schemas:extension:policyhub:2.0:User"
LIST_RESPONSE = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
SERVICE_PROVIDER_CONFIG = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
RESOURCE_TYPE = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Schema"

USER_EXTENSIONS = (ENTERPRISE_USER, POLICYHUB_USER)

# At most this many resources in one list response (clients ask with `count`).
MAX_PAGE_SIZE = 200


def _attribute(
    name: str,
    description: str,
    *,
    type: str = "string",
    required: bool = False,
    mutability: str = "readWrite",
    returned: str = "default",
    uniqueness: str = "none",
    case_exact: bool = False,
    multi_valued: bool = False,
    sub_attributes: list[dict] | None = None,
) -> dict:
    attribute = {
        "name": name,
        "type": type,
        "multiValued": multi_valued,
        "description": description,
        "required": required,
        "mutability": mutability,
        "returned": returned,
    }
    if type in ("string", "reference"):
        attribute["caseExact"] = case_exact
        attribute["uniqueness"] = uniqueness
    if sub_attributes:
        attribute["subAttributes"] = sub_attributes
    return attribute


def _reference(description: str, *, mutability: str = "readWrite") -> dict:
    return _attribute("$ref", description, type="reference", mutability=mutability)


_USER_ATTRIBUTES = [
    _attribute(
        "userName",
        "The person's email address: they sign in with it and PolicyHub mails them at it.",
        required=True,
        uniqueness="server",
    ),
    _attribute(
        "name",
        "The parts the full name is made from when displayName is not given.",
        type="complex",
        sub_attributes=[
            _attribute("formatted", "The full name."),
            _attribute("givenName", "Given name."),
            _attribute("familyName", "Family name."),
        ],
    ),
    _attribute("displayName", "The full name, as PolicyHub shows it; wins over name."),
    _attribute(
        "emails",
        "Returned as the userName; PolicyHub keeps one address, the userName, so values "
        "sent here are not kept.",
        type="complex",
        multi_valued=True,
        sub_attributes=[
            _attribute("value", "The address."),
            _attribute("type", "Always work."),
            _attribute("primary", "Always true.", type="boolean"),
        ],
    ),
    _attribute("title", "Job title."),
    _attribute("timezone", "Time zone, an IANA name such as Europe/London."),
    _attribute(
        "preferredLanguage",
        "The language of the person's pages and emails: en-gb, de or fr (en and regional "
        "forms such as de-DE or fr-CH are read as their language; empty means the default).",
    ),
    _attribute(
        "addresses",
        "The work address's formatted value (or its locality) is the person's location; "
        "other addresses are not kept.",
        type="complex",
        multi_valued=True,
        sub_attributes=[
            _attribute("type", "work is the one kept."),
            _attribute("formatted", "The location."),
            _attribute("locality", "The location, when formatted is not given."),
        ],
    ),
    _attribute(
        "active",
        "false deactivates the person: they can no longer sign in and their open policy "
        "assignments close, exactly as when the HR import deactivates them.",
        type="boolean",
    ),
    _attribute(
        "groups",
        "The PolicyHub groups the person is in (change them through Groups).",
        type="complex",
        multi_valued=True,
        mutability="readOnly",
        sub_attributes=[
            _attribute("value", "The group's id.", mutability="readOnly"),
            _reference("The group's URI.", mutability="readOnly"),
            _attribute("display", "The group's name.", mutability="readOnly"),
        ],
    ),
]

_ENTERPRISE_ATTRIBUTES = [
    _attribute("employeeNumber", "Employee id, unique in the directory.", uniqueness="server"),
    _attribute("department", "Department, by name; a new name makes a new department."),
    _attribute(
        "manager",
        "The person's line manager, by their id here; a loop in the chain is refused.",
        type="complex",
        sub_attributes=[
            _attribute("value", "The manager's id."),
            _reference("The manager's URI.", mutability="readOnly"),
            _attribute("displayName", "The manager's name.", mutability="readOnly"),
        ],
    ),
]

_POLICYHUB_ATTRIBUTES = [
    _attribute(
        "startDate",
        "First working day (YYYY-MM-DD): new-joiner training is due from it.",
    ),
]

_GROUP_ATTRIBUTES = [
    _attribute(
        "displayName",
        "The group's name. PolicyHub's role groups (Comms, HR/Legal, Policy admin, "
        "Leadership, Comms lead) grant roles; other groups are policy and training audiences.",
        required=True,
        uniqueness="server",
    ),
    _attribute(
        "members",
        "The people in the group.",
        type="complex",
        multi_valued=True,
        sub_attributes=[
            _attribute("value", "The person's id.", mutability="immutable"),
            _reference("The person's URI.", mutability="immutable"),
            _attribute("display", "The person's name.", mutability="readOnly"),
            _attribute("type", "Always User.", mutability="immutable"),
        ],
    ),
]


def _schema(urn: str, name: str, description: str, attributes: list[dict], base: str) -> dict:
    return {
        "schemas": [SCHEMA],
        "id": urn,
        "name": name,
        "description": description,
        "attributes": attributes,
        "meta": {"resourceType": "Schema", "location": f"{base}/Schemas/{urn}"},
    }


def all_schemas(base: str) -> list[dict]:
    return [
        _schema(USER, "User", "A person in the PolicyHub directory.", _USER_ATTRIBUTES, base),
        _schema(
            ENTERPRISE_USER,
            "EnterpriseUser",
            "Employee id, department and manager.",
            _ENTERPRISE_ATTRIBUTES,
            base,
        ),
        _schema(
            POLICYHUB_USER,
            "PolicyHubUser",
            "What PolicyHub needs beyond the standard schemas.",
            _POLICYHUB_ATTRIBUTES,
            base,
        ),
        _schema(GROUP, "Group", "A PolicyHub group.", _GROUP_ATTRIBUTES, base),
    ]


def resource_types(base: str) -> list[dict]:
    return [
        {
            "schemas": [RESOURCE_TYPE],
            "id": "User",
            "name": "User",
            "endpoint": "/Users",
            "description": "A person in the PolicyHub directory.",
            "schema": USER,
            "schemaExtensions": [
                {"schema": ENTERPRISE_USER, "required": False},
                {"schema": POLICYHUB_USER, "required": False},
            ],
            "meta": {"resourceType": "ResourceType", "location": f"{base}/ResourceTypes/User"},
        },
        {
            "schemas": [RESOURCE_TYPE],
            "id": "Group",
            "name": "Group",
            "endpoint": "/Groups",
            "description": "A PolicyHub group: a role or an audience.",
            "schema": GROUP,
            "meta": {"resourceType": "ResourceType", "location": f"{base}/ResourceTypes/Group"},
        },
    ]


def service_provider_config(base: str) -> dict:
    return {
        "schemas": [SERVICE_PROVIDER_CONFIG],
        "patch": {"supported": True},
        "bulk": {"supported": False, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": True, "maxResults": MAX_PAGE_SIZE},
        "changePassword": {"supported": False},
        "sort": {"supported": False},
        "etag": {"supported": False},
        "authenticationSchemes": [
            {
                "type": "oauthbearertoken",
                "name": "Bearer token",
                "description": (
                    "Authorization: Bearer <token>, with a token a site admin made for this "
                    "identity provider in the PolicyHub admin (SCIM clients)."
                ),
                "primary": True,
            }
        ],
        "meta": {
            "resourceType": "ServiceProviderConfig",
            "location": f"{base}/ServiceProviderConfig",
        },
    }
