"""The SCIM attributes idstore serves, and where each lives in the domain: one table per schema.

These tables are the single statement of the SCIM surface. `resources.py` maps requests and
records through them, `patch.py` resolves paths against them, and `discovery.py` publishes them
as `/Schemas`, so what is published is exactly what is served (RFC 7643 §7).

They hold what AWS IAM Identity Center keeps (its SCIM guide, docs/behaviour.md#other-fields): no
`password`, `ims`, `photos`, `x509Certificates`, `entitlements` or `groups`; no `display`
sub-attributes. `member` is where a value lives: a member of the profile document in the botocore
model's spelling (`UserName`, `Name.GivenName`, `Emails[0].Value`), a key of the enterprise
extension document (`Extensions["aws:identitystore:enterprise"]`), or None for what is not in a
document (`active` is the user's status, `members` are memberships).

Flags follow what the store enforces: `userName` and a group's `displayName` are unique and
matched case-insensitively (`uniqueness: server`, `caseExact: false`), so is an e-mail address.
`name`, `displayName` and `active` are published as required because Identity Center requires
the first two and refuses to remove `active`; a create without `active` still succeeds (true).
"""

from __future__ import annotations

from dataclasses import dataclass, field

CORE_USER = "urn:ietf:params:scim:schemas:core:2.0:User"
CORE_GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE_USER = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

LIST_RESPONSE = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
SEARCH_REQUEST = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
SERVICE_PROVIDER_CONFIG = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
RESOURCE_TYPE = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Schema"


@dataclass(frozen=True)
class Attribute:
    """One attribute (or sub-attribute) as RFC 7643 §7 describes it, and where it is kept."""

    name: str
    member: str | None
    description: str
    type: str = "string"
    multi_valued: bool = False
    required: bool = False
    case_exact: bool = False
    mutability: str = "readWrite"
    returned: str = "default"
    uniqueness: str = "none"
    sub_attributes: tuple[Attribute, ...] = ()
    canonical_values: tuple[str, ...] = ()
    reference_types: tuple[str, ...] = ()
    _by_name: dict[str, Attribute] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._by_name.update({a.name.lower(): a for a in self.sub_attributes})

    def sub(self, name: str) -> Attribute | None:
        """The sub-attribute called `name`, in any case."""
        return self._by_name.get(name.lower())


@dataclass(frozen=True)
class Schema:
    """A schema: its URN, names and attributes."""

    id: str
    name: str
    description: str
    attributes: tuple[Attribute, ...]
    _by_name: dict[str, Attribute] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._by_name.update({a.name.lower(): a for a in self.attributes})

    def attribute(self, name: str) -> Attribute | None:
        """The attribute called `name`, in any case (RFC 7643 §2.1)."""
        return self._by_name.get(name.lower())


def _string(name: str, member: str, description: str, **flags: object) -> Attribute:
    return Attribute(name, member, description, **flags)  # type: ignore[arg-type]


def _multi(
    name: str, member: str, description: str, *subs: Attribute, types: tuple[str, ...]
) -> Attribute:
    type_ = Attribute(
        "type", "Type", "A label indicating the attribute's function.", canonical_values=types
    )
    primary = Attribute("primary", "Primary", "Whether this is the primary value.", type="boolean")
    return Attribute(
        name,
        member,
        description,
        type="complex",
        multi_valued=True,
        sub_attributes=(*subs, type_, primary),
    )


USER = Schema(
    CORE_USER,
    "User",
    "User Account",
    (
        _string(
            "userName",
            "UserName",
            "Unique identifier for the User, used to sign in. Unique in the identity store, "
            "compared case-insensitively.",
            required=True,
            uniqueness="server",
        ),
        Attribute(
            "name",
            "Name",
            "The components of the user's name.",
            type="complex",
            required=True,
            sub_attributes=(
                _string("formatted", "Formatted", "The full name, formatted for display."),
                _string("familyName", "FamilyName", "The family name.", required=True),
                _string("givenName", "GivenName", "The given name.", required=True),
                _string("middleName", "MiddleName", "The middle name(s)."),
                _string("honorificPrefix", "HonorificPrefix", "The honorific prefix(es)."),
                _string("honorificSuffix", "HonorificSuffix", "The honorific suffix(es)."),
            ),
        ),
        _string("displayName", "DisplayName", "The name displayed to end users.", required=True),
        _string("nickName", "NickName", "The casual way to address the user."),
        _string(
            "profileUrl",
            "ProfileUrl",
            "A URI of the user's online profile.",
            type="reference",
            reference_types=("external",),
        ),
        _string("title", "Title", "The user's title, such as 'Vice President'."),
        _string("userType", "UserType", "The relationship between the organization and the user."),
        _string("preferredLanguage", "PreferredLanguage", "The user's preferred language."),
        _string("locale", "Locale", "The user's default location, for localization."),
        _string("timezone", "Timezone", "The user's time zone, in IANA format."),
        Attribute(
            "active",
            None,
            "The user's administrative status (UserStatus ENABLED or DISABLED). It cannot be "
            "removed; a user created without it is active.",
            type="boolean",
            required=True,
        ),
        _multi(
            "emails",
            "Emails",
            "The user's e-mail address. Identity Center keeps one; it is unique in the "
            "identity store, compared case-insensitively.",
            _string("value", "Value", "The e-mail address.", uniqueness="server"),
            types=("work", "home", "other"),
        ),
        _multi(
            "phoneNumbers",
            "PhoneNumbers",
            "The user's phone number. Identity Center keeps one.",
            _string("value", "Value", "The phone number."),
            types=("work", "home", "mobile", "fax", "pager", "other"),
        ),
        _multi(
            "addresses",
            "Addresses",
            "The user's physical mailing address. Identity Center keeps one.",
            _string("formatted", "Formatted", "The full mailing address, formatted for display."),
            _string("streetAddress", "StreetAddress", "The full street address."),
            _string("locality", "Locality", "The city or locality."),
            _string("region", "Region", "The state or region."),
            _string("postalCode", "PostalCode", "The zip code or postal code."),
            _string("country", "Country", "The country name."),
            types=("work", "home", "other"),
        ),
        _multi(
            "roles",
            "Roles",
            "The user's role. Identity Center keeps one.",
            _string("value", "Value", "The role."),
            types=(),
        ),
    ),
)

ENTERPRISE = Schema(
    ENTERPRISE_USER,
    "EnterpriseUser",
    "Enterprise User (kept as the user's aws:identitystore:enterprise extension)",
    (
        _string("employeeNumber", "employeeNumber", "A numeric or alphanumeric employee id."),
        _string("costCenter", "costCenter", "The name of a cost center."),
        _string("organization", "organization", "The name of an organization."),
        _string("division", "division", "The name of a division."),
        _string("department", "department", "The name of a department."),
        Attribute(
            "manager",
            "manager",
            "The user's manager (a string is taken as the manager's id).",
            type="complex",
            sub_attributes=(_string("value", "value", "The id of the manager's User."),),
        ),
    ),
)

GROUP = Schema(
    CORE_GROUP,
    "Group",
    "Group",
    (
        _string(
            "displayName",
            "DisplayName",
            "A human-readable name for the group. Unique in the identity store, compared "
            "case-insensitively.",
            required=True,
            uniqueness="server",
        ),
        Attribute(
            "members",
            None,
            "The users in the group (AWS groups hold users only).",
            type="complex",
            multi_valued=True,
            sub_attributes=(
                Attribute(
                    "value",
                    None,
                    "The id of the member User.",
                    mutability="immutable",
                    case_exact=True,
                ),
                Attribute(
                    "$ref",
                    None,
                    "The URI of the member User.",
                    type="reference",
                    mutability="immutable",
                    case_exact=True,
                    reference_types=("User",),
                ),
            ),
        ),
    ),
)


@dataclass(frozen=True)
class ResourceKind:
    """A resource type: its endpoint, core schema and extensions."""

    name: str
    endpoint: str
    description: str
    schema: Schema
    extensions: tuple[Schema, ...] = ()

    def extension(self, urn: str) -> Schema | None:
        lowered = urn.lower()
        return next((s for s in self.extensions if s.id.lower() == lowered), None)


USERS = ResourceKind("User", "/Users", "User Account", USER, (ENTERPRISE,))
GROUPS = ResourceKind("Group", "/Groups", "Group", GROUP)
RESOURCE_KINDS = (USERS, GROUPS)
SCHEMAS = (USER, GROUP, ENTERPRISE)
