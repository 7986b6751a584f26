"""The discovery documents: /ServiceProviderConfig, /Schemas and /ResourceTypes (RFC 7643 §5-7).

Generated from the tables in `schema.py`, so they publish exactly the attributes idstore serves,
with the `caseExact`, `uniqueness`, `required` and `mutability` the store enforces. The service
provider configuration states AWS's feature set: PATCH and filtering (at most 100 results a
page), index and cursor paging (RFC 9865's `pagination`), no bulk, sort, ETags or password
change, bearer-token authentication.
"""

from __future__ import annotations

from idstore.model import Json
from idstore.scim.schema import (
    LIST_RESPONSE,
    RESOURCE_KINDS,
    RESOURCE_TYPE,
    SCHEMA,
    SCHEMAS,
    SERVICE_PROVIDER_CONFIG,
    Attribute,
    ResourceKind,
    Schema,
)

MAX_RESULTS = 100


def service_provider_config(base: str) -> Json:
    return {
        "schemas": [SERVICE_PROVIDER_CONFIG],
        "patch": {"supported": True},
        "bulk": {"supported": False, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": True, "maxResults": MAX_RESULTS},
        # RFC 9865 §4: both methods; index stays the default, for the clients that expect it.
        "pagination": {
            "cursor": True,
            "index": True,
            "defaultPaginationMethod": "index",
            "defaultPageSize": MAX_RESULTS,
            "maxPageSize": MAX_RESULTS,
        },
        "changePassword": {"supported": False},
        "sort": {"supported": False},
        "etag": {"supported": False},
        "authenticationSchemes": [
            {
                "type": "oauthbearertoken",
                "name": "Bearer token",
                "description": "A token made with `idstore scim-tokens create --store <id>`, sent "
                "as 'Authorization: Bearer <token>'.",
                "specUri": "https://www.rfc-editor.org/rfc/rfc6750",
                "primary": True,
            }
        ],
        "meta": {
            "resourceType": "ServiceProviderConfig",
            "location": f"{base}/ServiceProviderConfig",
        },
    }


def _attribute(attr: Attribute) -> Json:
    document: Json = {
        "name": attr.name,
        "type": attr.type,
        "multiValued": attr.multi_valued,
        "description": attr.description,
        "required": attr.required,
        "caseExact": attr.case_exact,
        "mutability": attr.mutability,
        "returned": attr.returned,
        "uniqueness": attr.uniqueness,
    }
    if attr.canonical_values:
        document["canonicalValues"] = list(attr.canonical_values)
    if attr.reference_types:
        document["referenceTypes"] = list(attr.reference_types)
    if attr.sub_attributes:
        document["subAttributes"] = [_attribute(a) for a in attr.sub_attributes]
    return document


def schema(base: str, item: Schema) -> Json:
    return {
        "schemas": [SCHEMA],
        "id": item.id,
        "name": item.name,
        "description": item.description,
        "attributes": [_attribute(a) for a in item.attributes],
        "meta": {"resourceType": "Schema", "location": f"{base}/Schemas/{item.id}"},
    }


def resource_type(base: str, kind: ResourceKind) -> Json:
    return {
        "schemas": [RESOURCE_TYPE],
        "id": kind.name,
        "name": kind.name,
        "endpoint": kind.endpoint,
        "description": kind.description,
        "schema": kind.schema.id,
        "schemaExtensions": [{"schema": s.id, "required": False} for s in kind.extensions],
        "meta": {"resourceType": "ResourceType", "location": f"{base}/ResourceTypes/{kind.name}"},
    }


def _list(resources: list[Json]) -> Json:
    return {
        "schemas": [LIST_RESPONSE],
        "totalResults": len(resources),
        "itemsPerPage": len(resources),
        "startIndex": 1,
        "Resources": resources,
    }


def schemas(base: str) -> Json:
    return _list([schema(base, s) for s in SCHEMAS])


def resource_types(base: str) -> Json:
    return _list([resource_type(base, k) for k in RESOURCE_KINDS])


def find_schema(urn: str) -> Schema | None:
    return next((s for s in SCHEMAS if s.id.lower() == urn.lower()), None)


def find_resource_type(name: str) -> ResourceKind | None:
    return next((k for k in RESOURCE_KINDS if k.name.lower() == name.lower()), None)
